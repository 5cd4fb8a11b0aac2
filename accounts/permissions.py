"""Who may do what in the API: the permission classes every app uses.

Anonymous callers get 401 and authenticated callers who are not allowed get
403 (DRF decides which from the authenticators). Someone else's private
object is 404, not 403: views that hold private objects scope their queryset
to the caller (`for_user`), so another user's object is simply not found;
`IsOwnerOrStaff` is the second line of defence.
"""

from rest_framework.permissions import (
    SAFE_METHODS,
    BasePermission,
    DjangoModelPermissions,
)


class DenyAll(BasePermission):
    """The default permission: a view that names no permission serves no one."""

    def has_permission(self, request, view):
        return False


def is_staff(user):
    return bool(user and user.is_authenticated and user.is_staff)


class IsStaff(BasePermission):
    """Staff only: user management, the back office's API."""

    def has_permission(self, request, view):
        return is_staff(request.user)


class HasAdminPermissions(DjangoModelPermissions):
    """Staff holding the model's permissions, as the admin asks for them.

    Reading needs `view_<model>`, adding `add_`, changing `change_` and
    deleting `delete_`: someone the admin refuses a page is refused its
    API too (a staff member who may edit products but not run sales).
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        return is_staff(request.user) and super().has_permission(request, view)


class IsStaffOrReadOnly(BasePermission):
    """Anyone may read; only staff may write (the catalog)."""

    # The OpenAPI schema lists these methods as open to anonymous callers
    # (core.api.AutoSchema).
    anonymous_methods = SAFE_METHODS

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or is_staff(request.user)


class IsOwnerOrStaff(BasePermission):
    """Authenticated callers reach their own objects; staff reach all.

    An object's owner is its `user` attribute, or the object itself for a
    user. Views scope their querysets so that others' objects are 404.
    """

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        owner = getattr(obj, "user", obj)
        return is_staff(request.user) or owner == request.user


class IsStaffOrSelfReadOnly(BasePermission):
    """User management: staff reach every user; a customer only reads their own.

    Decided from the URL, before any lookup, so a customer gets 403 for any
    other id, existing or not, as the contract asks. Only a superuser may
    change or delete a superuser: otherwise staff could take over the owner's
    account (change its email, then reset the password).
    """

    def has_permission(self, request, view):
        user = request.user
        if is_staff(user):
            return True
        if not (user and user.is_authenticated):
            return False
        lookup = view.lookup_url_kwarg or view.lookup_field
        return request.method in SAFE_METHODS and view.kwargs.get(lookup) == str(
            user.pk
        )

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS or not obj.is_superuser:
            return True
        return request.user.is_superuser
