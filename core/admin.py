"""What the apps' admins share."""


class ReadOnlyAdminMixin:
    """An admin (or inline) that shows rows and never adds, changes or deletes one.

    For records that only the store's services write, such as the stock ledger
    and the carts.
    """

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
