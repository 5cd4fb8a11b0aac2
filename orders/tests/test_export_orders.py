import csv
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.tests.factories import StaffFactory, UserFactory
from catalog.tests.factories import (
    ProductFactory,
    TeeFactory,
    variant_row,
)
from orders import services
from orders.exports import CSV_COLUMNS
from orders.models import Order
from orders.tests.factories import OrderFactory, PaidOrderFactory, address

pytestmark = pytest.mark.django_db


def placed_on(order, moment):
    """Move an order's creation time (auto_now_add) to a chosen moment."""
    Order.objects.filter(pk=order.pk).update(created_at=moment)
    order.refresh_from_db()
    return order


def at(day, hour=12, minute=0):
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def export_orders(*args):
    out, err = StringIO(), StringIO()
    call_command("export_orders", *args, stdout=out, stderr=err)
    return list(csv.reader(StringIO(out.getvalue()))), err.getvalue().splitlines()


def failed_export(*args):
    with pytest.raises(CommandError) as error:
        call_command("export_orders", *args, stdout=StringIO(), stderr=StringIO())
    return str(error.value)


def test_export_writes_one_row_per_line_of_the_orders_since_the_date():
    mug = ProductFactory(sku="MUG-1", name="Blue Mug", price=Decimal("12.50"))
    tea = ProductFactory(sku="TEA-1", name="=HYPERLINK(1)", price=Decimal("4.00"))
    ada = UserFactory(email="ada@example.com")
    first = placed_on(
        OrderFactory(
            user=ada,
            lines=[(mug, 2), (tea, 1)],
            shipping_address=address(full_name="@Ada", city="London"),
        ),
        at(2, 9, 30),
    )
    second = placed_on(PaidOrderFactory(user=ada), at(3))
    placed_on(OrderFactory(), at(1, 23, 59))  # the day before

    rows, messages = export_orders("--since", "2025-03-02")

    assert rows[0] == CSV_COLUMNS
    assert [row[0] for row in rows[1:]] == [first.number, first.number, second.number]
    line = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert line == {
        "order": first.number,
        "created_at": "2025-03-02T09:30:00+00:00",
        "status": "pending",
        "customer": "ada@example.com",
        "ship_to": "'@Ada",
        "city": "London",
        "postal_code": "SW1Y 4JH",
        "country": "GB",
        "currency": "USD",
        "subtotal": "29.00",
        "shipping_cost": "5.00",
        "total": "34.00",
        "product_id": str(mug.pk),
        "sku": "MUG-1",
        "name": "Blue Mug",
        "options": "",
        "unit_price": "12.50",
        "quantity": "2",
        "line_total": "25.00",
    }
    assert rows[2][CSV_COLUMNS.index("name")] == "'=HYPERLINK(1)"
    assert rows[3][CSV_COLUMNS.index("status")] == "paid"
    assert messages == [
        "Exporting 2 orders placed from 2025-03-02 to standard output…",
        "Exported 2 orders (3 lines) to standard output.",
    ]


def test_until_includes_its_whole_day_and_status_filters():
    staff = StaffFactory()
    early = placed_on(PaidOrderFactory(), at(5, 0, 0))
    late = placed_on(PaidOrderFactory(), at(6, 23, 59))
    shipped = services.change_order_status(
        order=placed_on(PaidOrderFactory(), at(6)), status="shipped", user=staff
    )
    placed_on(OrderFactory(), at(6))  # pending
    placed_on(PaidOrderFactory(), at(7, 0, 0))  # after --until

    rows, messages = export_orders(
        "--since=2025-03-05",
        "--until=2025-03-06",
        "--status=paid",
        "--status=shipped",
    )

    assert [row[0] for row in rows[1:]] == [early.number, shipped.number, late.number]
    assert messages[0] == (
        "Exporting 3 orders placed from 2025-03-05 to 2025-03-06, status paid or "
        "shipped to standard output…"
    )


def test_export_to_a_file_prints_progress_and_a_summary(tmp_path):
    for day in (1, 2, 3):
        placed_on(OrderFactory(), at(day))
    path = tmp_path / "orders.csv"
    out = StringIO()

    call_command(
        "export_orders",
        "--since=2025-03-01",
        f"--output={path}",
        "--progress-every=2",
        stdout=out,
    )

    assert out.getvalue().splitlines() == [
        f"Exporting 3 orders placed from 2025-03-01 to {path}…",
        "  wrote 2 of 3 orders",
        f"Exported 3 orders (3 lines) to {path}.",
    ]
    with open(path, newline="", encoding="utf-8") as file:
        assert len(list(csv.reader(file))) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--since=01/03/2025"],
            "--since must be a date such as 2025-01-31, not '01/03/2025'.",
        ),
        (
            ["--since=2025-03-01", "--until=2025-02-30"],
            "--until must be a date such as 2025-01-31, not '2025-02-30'.",
        ),
        (
            ["--since=2025-03-02", "--until=2025-03-01"],
            "--until 2025-03-01 is before --since 2025-03-02: nothing to export.",
        ),
        (
            ["--since=2025-03-01", "--status=lost"],
            "Error: argument --status: invalid choice: 'lost' (choose from "
            "'pending', 'paid', 'shipped', 'delivered', 'cancelled')",
        ),
        ([], "Error: the following arguments are required: --since"),
        (
            ["--since=2025-03-01", "--progress-every=0"],
            "--progress-every must be 1 or more.",
        ),
    ],
)
def test_bad_input_fails_with_a_clear_message(args, message):
    assert failed_export(*args) == message


def test_an_unwritable_output_fails_clearly(tmp_path):
    path = tmp_path / "missing" / "orders.csv"

    assert failed_export("--since=2025-03-01", f"--output={path}") == (
        f"Cannot write {path}: No such file or directory."
    )


def test_a_variants_line_carries_its_options():
    tee = TeeFactory(
        option_types={"Size": ["S", "M"]},
        variants=[
            variant_row("S", price="9.00", stock=5),
            variant_row("M", price="9.00", stock=5),
        ],
    )
    placed_on(OrderFactory(lines=[(tee.variants.get(sku="TEE-M"), 1)]), at(2))

    rows, _ = export_orders("--since", "2025-03-02")

    line = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert (line["sku"], line["options"]) == ("TEE-M", "Size: M")
