from django.contrib import admin, messages
from django.contrib.admin import forms as admin_forms
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    UserChangeForm,
)
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.html import format_html, format_html_join

from accounts import services
from accounts.exceptions import PrivilegeError
from accounts.models import User

# The change form's fields that update_user applies; the rest are the
# password (its own page), the ranks' many-to-many fields (saved by Django
# once save_model has checked them) and read-only dates.
UPDATABLE_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "is_active",
    "is_staff",
    "is_superuser",
)


class UserCreationForm(AdminUserCreationForm):
    """Django's admin add-user form for the email-only user."""

    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class SetPasswordForm(AdminPasswordChangeForm):
    """The admin's form for another user's password.

    Saved by the service, so that the user's refresh tokens and sessions end
    and they are told, as with every password change; the admin offers no
    other hook between the form and its log entry.
    """

    def save(self, commit=True):
        password = (
            self.cleaned_data["password1"]
            if self.cleaned_data["set_usable_password"]
            else None
        )
        return services.set_password(user=self.user, password=password)


class OwnPasswordChangeForm(admin_forms.AdminPasswordChangeForm):
    """The admin's "Change password" for the logged-in user (asks the old one)."""

    def save(self, commit=True):
        return services.set_password(
            user=self.user, password=self.cleaned_data["new_password1"]
        )


# The site's own password page, which PasswordChangeView saves with this form.
admin.site.password_change_form = OwnPasswordChangeForm


def _may_change(actor, target, fields=()):
    try:
        services.check_user_change(actor=actor, target=target, fields=fields)
    except PrivilegeError:
        return False
    return True


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users, under services.check_user_change: staff manage customers only.

    Another staff account or a superuser opens read-only for staff, and its
    password page is refused; the ranks (staff, superuser, groups,
    permissions) are read-only to all but superusers, and everyone's own
    email, which the account page changes with the current password.
    """

    form = UserEditForm
    add_form = UserCreationForm
    change_password_form = SetPasswordForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ),
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
        # The customer keeps it from their account; staff read it (support).
        ("Address book", {"fields": ("address_book",)}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "first_name",
                    "last_name",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    list_display = (
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "date_joined",
    )
    list_filter = ("is_staff", "is_active", "is_superuser", "groups")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("-date_joined",)
    date_hierarchy = "date_joined"
    actions = ["make_staff", "remove_staff", "deactivate", "activate"]

    def get_readonly_fields(self, request, obj=None):
        readonly = ["last_login", "date_joined", "address_book"]
        if obj is None:
            return readonly
        if not request.user.is_superuser:
            readonly += sorted(services.PRIVILEGE_FIELDS)
        if obj.pk == request.user.pk:
            readonly.append("email")
        return readonly

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or _may_change(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or _may_change(request.user, obj)

    def has_grant_permission(self, request):
        """Only superusers are offered the actions that grant or revoke staff."""
        return request.user.is_superuser

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        if user is not None:
            try:
                services.check_user_change(
                    actor=request.user, target=user, fields=["password"]
                )
            except PrivilegeError as error:
                raise PermissionDenied(str(error)) from error
        return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Checked against the stored account, not the form's edited copy;
        # the many-to-many ranks are saved after this, by save_related.
        stored = User.objects.get(pk=obj.pk)
        try:
            services.check_user_change(
                actor=request.user, target=stored, fields=form.changed_data
            )
            services.update_user(
                user=stored,
                changed_by=request.user,
                **{
                    name: form.cleaned_data[name]
                    for name in form.changed_data
                    if name in UPDATABLE_FIELDS
                },
            )
        except PrivilegeError as error:
            raise PermissionDenied(str(error)) from error

    @admin.display(description="Addresses")
    def address_book(self, obj):
        addresses = obj.addresses.all() if obj.pk else []
        if not addresses:
            return "None saved."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}{}</li>",
                (
                    (
                        address,
                        " (default shipping)" if address.is_default_shipping else "",
                    )
                    for address in addresses
                ),
            ),
        )

    @admin.action(description="Make the selected users staff", permissions=["grant"])
    def make_staff(self, request, queryset):
        self._update(request, queryset, "made staff", is_staff=True)

    @admin.action(
        description="Remove the selected users from staff", permissions=["grant"]
    )
    def remove_staff(self, request, queryset):
        self._update(request, queryset, "removed from staff", is_staff=False)

    @admin.action(
        description="Deactivate the selected users (they can no longer log in)",
        permissions=["change"],
    )
    def deactivate(self, request, queryset):
        self._update(request, queryset, "deactivated", is_active=False)

    @admin.action(description="Activate the selected users", permissions=["change"])
    def activate(self, request, queryset):
        self._update(request, queryset, "activated", is_active=True)

    def _update(self, request, queryset, done, **changes):
        # All or none: one refusal leaves every selected user as they were.
        try:
            with transaction.atomic():
                for user in queryset:
                    services.update_user(user=user, changed_by=request.user, **changes)
        except PrivilegeError as error:
            self.message_user(
                request, f"No users were changed: {error}", messages.ERROR
            )
            return
        count = len(queryset)
        noun = "user" if count == 1 else "users"
        self.message_user(request, f"{count} {noun} {done}.", messages.SUCCESS)
