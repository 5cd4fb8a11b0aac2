"""Who may do what in the API: the permission classes every app uses."""

from rest_framework.permissions import BasePermission


class DenyAll(BasePermission):
    """The default permission: a view that names no permission serves no one."""

    def has_permission(self, request, view):
        return False
