"""The accounts' refusals, shown by the API as the contract's problem+json."""

from core.exceptions import ShopError


class PrivilegeError(ShopError):
    """The caller's rank does not allow this change to this account.

    The admin shows it as its 403 page or as a message; the API as 403
    `permission_denied` with the reason in `detail`.
    """

    status = 403
    code = "permission_denied"
    default_detail = "You may not change this account."
