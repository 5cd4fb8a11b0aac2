from collections.abc import Iterable
from dataclasses import asdict, dataclass

from core.exceptions import ShopError


@dataclass(frozen=True)
class Shortage:
    """One line of a stock request that the stock on hand cannot cover."""

    product_id: int
    sku: str
    requested: int
    available: int
    # An inactive product or variant is not for sale, whatever its stock.
    is_active: bool = True
    # The variant short of stock; its product is `product_id`.
    variant_id: int | None = None


class InsufficientStock(ShopError):
    """Stock cannot be taken: one or more products have too few units.

    `shortages` lists every short line, not only the first, so that a
    checkout can tell the shopper about all of them at once.
    """

    status = 409
    code = "insufficient_stock"

    def __init__(self, shortages: Iterable[Shortage]) -> None:
        self.shortages = list(shortages)
        messages: dict[str, list[str]] = {}
        for line in self.shortages:
            # Two variants of one product are two messages under its key.
            messages.setdefault(f"products.{line.product_id}", []).append(
                self._message(line)
            )
        if len(self.shortages) == 1:
            detail = self._message(self.shortages[0])
        else:
            detail = f"{len(self.shortages)} lines have too little stock."
        super().__init__(
            detail,
            errors=messages,
            extra={"shortages": [asdict(line) for line in self.shortages]},
        )

    @property
    def product_id(self) -> int:
        """The first short product (the only one for a single-product change)."""
        return self.shortages[0].product_id

    @property
    def available(self) -> int:
        return self.shortages[0].available

    @staticmethod
    def _message(line: Shortage) -> str:
        if not line.is_active:
            return f"{line.sku} is no longer for sale."
        return (
            f"Only {line.available} of {line.sku} in stock; {line.requested} requested."
        )


@dataclass(frozen=True, order=True)
class RowError:
    """Why one line of an imported file cannot be imported."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRejected(ShopError):
    """An import refused as a whole: `errors` lists every bad row."""

    code = "import_rejected"

    def __init__(self, errors: Iterable[RowError]) -> None:
        self.row_errors = sorted(errors)
        count = len(self.row_errors)
        super().__init__(
            f"{count} row{'s' if count != 1 else ''} cannot be imported; "
            "nothing was imported."
        )


class LastVariant(ShopError):
    """A product's only variant cannot be deleted: a product is sold as one."""

    status = 409
    code = "conflict"
