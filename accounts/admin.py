from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts import services
from accounts.models import User


class UserCreationForm(AdminUserCreationForm):
    """Django's admin add-user form for the email-only user."""

    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # Unticking "active" ends the user's API sessions too.
            services.blacklist_refresh_tokens(user=obj)

    @admin.action(description="Make the selected users staff", permissions=["change"])
    def make_staff(self, request, queryset):
        self._update(request, queryset, "made staff", is_staff=True)

    @admin.action(
        description="Remove the selected users from staff", permissions=["change"]
    )
    def remove_staff(self, request, queryset):
        self._update(request, queryset, "removed from staff", is_staff=False)

    @admin.action(
        description="Deactivate the selected users (they can no longer log in)",
        permissions=["change"],
    )
    def deactivate(self, request, queryset):
        for user in queryset:
            services.set_active(user=user, is_active=False)
        self._report(request, queryset, "deactivated")

    @admin.action(description="Activate the selected users", permissions=["change"])
    def activate(self, request, queryset):
        for user in queryset:
            services.set_active(user=user, is_active=True)
        self._report(request, queryset, "activated")

    def _update(self, request, queryset, done, **changes):
        for user in queryset:
            services.update_user(user=user, **changes)
        self._report(request, queryset, done)

    def _report(self, request, queryset, done):
        count = len(queryset)
        noun = "user" if count == 1 else "users"
        self.message_user(request, f"{count} {noun} {done}.", messages.SUCCESS)
