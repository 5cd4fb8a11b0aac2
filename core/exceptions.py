from typing import Any


class ShopError(Exception):
    """A business rule refused the request; the API shows it as problem+json.

    Domain exceptions in the apps' exceptions.py subclass this with their own
    status and code from the contract, so services stay free of HTTP types
    while the API maps every refusal the same way.
    """

    status = 400
    code = "validation_error"
    default_detail = "The request was refused."

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.default_detail
        self.errors = errors
        # Further members of the problem body, such as the current figures.
        self.extra = extra or {}
        super().__init__(self.detail)
