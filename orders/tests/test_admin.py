import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from accounts.tests.factories import StaffFactory, UserFactory
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from orders.models import Order
from orders.tests.factories import OrderFactory, PaidOrderFactory, address

pytestmark = pytest.mark.django_db

ORDERS = "/admin/orders/order/"


@pytest.fixture
def clerk():
    """A staff member holding the orders' permissions (not a superuser)."""
    staff = StaffFactory(email="clerk@example.com")
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label="orders")
    )
    return staff


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


def run_action(client, action, *orders):
    return client.post(
        ORDERS,
        {"action": action, "_selected_action": [order.pk for order in orders]},
        follow=True,
    )


def messages_of(response):
    """The messages shown on the changelist the action led back to."""
    return [str(message) for message in response.context["messages"]]


def stock_of(product):
    return Product.objects.get(pk=product.pk).stock


def test_a_customer_cannot_reach_the_order_console(client):
    client.force_login(UserFactory())

    response = client.get(ORDERS)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_changelist_shows_number_customer_status_total_without_a_query_per_row(
    clerk_client, django_assert_max_num_queries
):
    order = OrderFactory(user=UserFactory(email="ada@example.com"))
    for _ in range(10):
        OrderFactory()

    with django_assert_max_num_queries(10):
        response = clerk_client.get(ORDERS)

    assert response.status_code == 200
    page = response.content.decode()
    assert order.number in page
    assert "ada@example.com" in page
    assert "Pending payment" in page
    assert "24.99" in page


def test_the_console_searches_by_number_and_email_and_filters_by_status(clerk_client):
    ada = OrderFactory(user=UserFactory(email="ada@example.com"))
    bob = PaidOrderFactory(user=UserFactory(email="bob@example.com"))

    by_number = clerk_client.get(ORDERS, {"q": ada.number}).context["cl"].result_list
    by_email = clerk_client.get(ORDERS, {"q": "bob@"}).context["cl"].result_list
    paid = clerk_client.get(ORDERS, {"status__exact": "paid"}).context["cl"].result_list

    assert list(by_number) == [ada]
    assert list(by_email) == [bob]
    assert list(paid) == [bob]


def test_an_orders_page_shows_lines_history_and_payments_read_only(clerk_client):
    order = PaidOrderFactory(
        lines=[(ProductFactory(sku="MUG-1", name="Blue Mug"), 2)],
        shipping_address=address(full_name="Ada <b>Lovelace</b>"),
    )

    response = clerk_client.get(f"{ORDERS}{order.pk}/change/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "MUG-1" in page
    assert "Blue Mug" in page
    assert "status history" in page.lower()
    assert "4242" in page
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in page
    assert 'name="_save"' not in page
    assert 'name="status"' not in page


def test_orders_cannot_be_added_or_deleted_in_the_console(clerk_client):
    order = OrderFactory()

    assert clerk_client.get(f"{ORDERS}add/").status_code == 403
    assert clerk_client.get(f"{ORDERS}{order.pk}/delete/").status_code == 403


def test_a_changed_order_posted_back_changes_nothing(clerk_client):
    order = OrderFactory()

    response = clerk_client.post(
        f"{ORDERS}{order.pk}/change/", {"status": "delivered", "total": "0.01"}
    )

    assert response.status_code == 403
    order.refresh_from_db()
    assert (order.status, order.total) == ("pending", Decimal("24.99"))


def test_marking_orders_paid_shipped_and_delivered_goes_through_the_lifecycle(
    clerk, clerk_client
):
    order = OrderFactory()

    paid = run_action(clerk_client, "mark_paid", order)
    run_action(clerk_client, "mark_shipped", order)
    run_action(clerk_client, "mark_delivered", order)

    assert paid.redirect_chain == [(ORDERS, 302)]
    assert messages_of(paid) == [f"Marked paid: {order.number}."]
    order.refresh_from_db()
    assert order.status == "delivered"
    assert [(c.status, c.by) for c in order.history.all()] == [
        ("pending", order.user),
        ("paid", clerk),
        ("shipped", clerk),
        ("delivered", clerk),
    ]
    assert list(order.payments.values_list("gateway", "by")) == [("manual", clerk.pk)]


def test_an_illegal_move_in_the_console_is_reported_and_not_applied(clerk_client):
    pending = OrderFactory()
    paid = PaidOrderFactory()

    response = run_action(clerk_client, "mark_shipped", pending, paid)

    assert messages_of(response) == [
        f"Not changed: Order {pending.number} is pending: it cannot become shipped.",
        f"Marked shipped: {paid.number}.",
    ]
    pending.refresh_from_db()
    paid.refresh_from_db()
    assert (pending.status, paid.status) == ("pending", "shipped")


def test_cancelling_in_the_console_puts_the_stock_back_once(clerk_client):
    mug = ProductFactory(stock=5)
    paid = PaidOrderFactory(lines=[(mug, 2)])
    pending = OrderFactory(lines=[(mug, 1)])

    first = run_action(clerk_client, "cancel", paid, pending)
    second = run_action(clerk_client, "cancel", paid)

    assert messages_of(first) == [f"Cancelled: {paid.number}, {pending.number}."]
    assert messages_of(second) == [
        f"Not changed: Order {paid.number} is cancelled: it cannot become cancelled."
    ]
    assert stock_of(mug) == 5


def test_export_writes_one_csv_row_per_order_line(clerk_client):
    mug = ProductFactory(sku="MUG-1", name="Blue Mug", price=Decimal("12.50"))
    tea = ProductFactory(sku="TEA-1", name="=HYPERLINK(1)", price=Decimal("4.00"))
    first = OrderFactory(
        user=UserFactory(email="ada@example.com"), lines=[(mug, 2), (tea, 1)]
    )
    second = PaidOrderFactory(user=UserFactory(email="bob@example.com"))
    OrderFactory()  # not selected

    response = run_action(clerk_client, "export_csv", second, first)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["order", "created_at", "status"]
    assert [row[0] for row in rows[1:]] == [first.number, first.number, second.number]
    header = rows[0]
    line = dict(zip(header, rows[1], strict=True))
    assert {key: line[key] for key in header if key != "created_at"} == {
        "order": first.number,
        "status": "pending",
        "customer": "ada@example.com",
        "ship_to": "Ada Lovelace",
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
    assert rows[2][header.index("name")] == "'=HYPERLINK(1)"
    assert rows[3][header.index("status")] == "paid"
    assert Order.objects.count() == 3
