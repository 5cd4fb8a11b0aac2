"""Vouchers through their services: saving, checking, redeeming, releasing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from catalog.tests.factories import CategoryFactory, ProductFactory
from pricing import services
from pricing.exceptions import VoucherExhausted, VoucherInvalid
from pricing.models import Voucher, VoucherUse
from pricing.pipeline import Line

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def voucher(
    code="SUMMER10",
    *,
    starts=-HOUR,
    ends=None,
    categories=None,
    products=None,
    **fields,
):
    """A voucher saved through the service: 10 % off, from an hour ago
    (`starts`, `ends`: from now)."""
    now = timezone.now()
    fields = {
        "kind": Voucher.Kind.PERCENTAGE,
        "value": Decimal("10.00"),
        "starts_at": now + starts,
        "ends_at": None if ends is None else now + ends,
        **fields,
    }
    return services.save_voucher(
        voucher=Voucher(code=code, **fields), categories=categories, products=products
    )


def lines_of(*products):
    """Cart lines of one unit of each product at its price."""
    return [
        Line(
            key=number,
            unit_price=product.price,
            quantity=1,
            product_id=product.pk,
            category_id=product.category_id,
            tax_class="standard",
        )
        for number, product in enumerate(products, start=1)
    ]


def redeem(saved, order_number, *, user=None, email="ada@example.com"):
    """Take a use as checkout does: inside the order's transaction."""
    with transaction.atomic():
        services.redeem_voucher(
            saved, order_number=order_number, user=user, email=email
        )


def used_count(saved):
    return Voucher.objects.get(pk=saved.pk).used_count


# --- Saving ---------------------------------------------------------------------------


def test_save_voucher_keeps_the_code_upper_case_with_what_it_covers():
    teas = CategoryFactory(slug="tea")
    mug = ProductFactory(slug="mug")

    saved = voucher(" Summer10 ", categories=[teas], products=[mug])

    saved.refresh_from_db()
    assert saved.code == "SUMMER10"
    assert list(saved.categories.all()) == [teas]
    assert list(saved.products.all()) == [mug]


def test_a_code_another_voucher_has_in_another_case_is_refused():
    voucher("SUMMER10")

    with pytest.raises(ValidationError) as refusal:
        voucher("summer10")

    assert list(refusal.value.message_dict) == ["code"]
    assert Voucher.objects.count() == 1


def test_a_code_taken_between_the_check_and_the_save_is_refused_naming_code(
    monkeypatch,
):
    voucher("SUMMER10")
    # As if the other voucher had been saved after this one was checked.
    monkeypatch.setattr(Voucher, "validate_unique", lambda self, exclude=None: None)

    with pytest.raises(ValidationError) as refusal:
        voucher("summer10")

    assert refusal.value.message_dict == {"code": ["Another voucher has this code."]}
    assert Voucher.objects.count() == 1


def test_saving_a_voucher_read_before_a_checkout_keeps_the_use_taken():
    stale = voucher(usage_limit=5)
    redeem(Voucher.objects.get(pk=stale.pk), "SS-0001")

    stale.value = Decimal("15.00")
    services.save_voucher(voucher=stale)

    saved = Voucher.objects.get(pk=stale.pk)
    assert (saved.value, saved.used_count) == (Decimal("15.00"), 1)


def test_a_usage_limit_below_the_uses_taken_is_refused():
    saved = voucher(usage_limit=5)
    redeem(saved, "SS-0001")
    redeem(saved, "SS-0002")

    saved.usage_limit = 1
    with pytest.raises(ValidationError) as refusal:
        services.save_voucher(voucher=saved)

    assert refusal.value.message_dict == {
        "usage_limit": ["The limit cannot be below the uses taken already (2)."]
    }
    assert Voucher.objects.get(pk=saved.pk).usage_limit == 5


def test_saving_without_what_it_covers_leaves_it_as_it_was():
    mug = ProductFactory()
    saved = voucher(products=[mug])

    saved.value = Decimal("20.00")
    services.save_voucher(voucher=saved)

    assert list(saved.products.all()) == [mug]


# --- Finding and checking -------------------------------------------------------------


def test_find_voucher_matches_the_code_in_any_case():
    saved = voucher("SUMMER10")

    assert services.find_voucher(" summer10 ") == saved


def test_an_unknown_code_is_invalid():
    voucher("SUMMER10")

    with pytest.raises(VoucherInvalid) as refusal:
        services.find_voucher("WINTER10")

    assert refusal.value.detail == "No voucher has this code."


def test_a_voucher_for_a_category_applies_to_its_subcategories():
    teas = CategoryFactory(slug="tea")
    green = CategoryFactory(slug="green-tea", parent=teas)
    saved = voucher(categories=[teas])
    cart = lines_of(ProductFactory(category=green), ProductFactory())  # 19.99 each

    services.check_voucher(saved, lines=cart)
    priced = services.price_lines(
        cart, rules=services.pricing_rules("US"), method=None, voucher=saved
    )

    assert [part.discount for part in priced.lines] == [Decimal("2.00"), Decimal(0)]


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"starts": -2 * HOUR, "ends": -HOUR}, "This voucher has expired."),
        ({"starts": HOUR}, "This voucher is not valid yet."),
        (
            {"min_subtotal": Decimal("40.00")},
            "This voucher needs a subtotal of at least 40.00; the cart's is 39.98.",
        ),
        ({"usage_limit": 1, "used": 1}, "This voucher has been used up."),
    ],
    ids=["expired", "not-yet", "below-minimum", "used-up"],
)
def test_check_voucher_says_why_it_cannot_be_used(terms, message):
    uses = terms.pop("used", 0)
    saved = voucher(**terms)
    for number in range(uses):
        redeem(saved, f"SS-{number:04d}")
    cart = lines_of(ProductFactory(), ProductFactory())  # 19.99 each

    with pytest.raises(VoucherInvalid) as refusal:
        services.check_voucher(services.find_voucher("SUMMER10"), lines=cart)

    assert refusal.value.detail == message


def test_a_voucher_for_products_not_in_the_cart_is_not_applicable():
    saved = voucher(products=[ProductFactory()], categories=[CategoryFactory()])

    with pytest.raises(VoucherInvalid) as refusal:
        services.check_voucher(saved, lines=lines_of(ProductFactory()))

    assert refusal.value.detail == (
        "This voucher does not apply to anything in the cart."
    )


def test_a_customer_who_used_a_once_per_customer_voucher_is_told_so():
    saved = voucher(once_per_customer=True)
    redeem(saved, "SS-0001", email="ada@example.com")

    with pytest.raises(VoucherInvalid) as refusal:
        services.check_voucher(
            saved, lines=lines_of(ProductFactory()), email="Ada@Example.com"
        )
    services.check_voucher(
        saved, lines=lines_of(ProductFactory()), email="grace@example.com"
    )

    assert refusal.value.detail == "You have used this voucher already."


# --- Redeeming and releasing ----------------------------------------------------------


def test_a_voucher_is_not_redeemed_past_its_usage_limit():
    saved = voucher(usage_limit=2)
    redeem(saved, "SS-0001")
    redeem(saved, "SS-0002", email="grace@example.com")

    with pytest.raises(VoucherExhausted):
        redeem(saved, "SS-0003", email="alan@example.com")

    assert used_count(saved) == 2
    assert sorted(VoucherUse.objects.values_list("order_number", flat=True)) == [
        "SS-0001",
        "SS-0002",
    ]


def test_a_voucher_without_a_limit_is_redeemed_by_every_order():
    saved = voucher()

    for number in range(3):
        redeem(saved, f"SS-{number:04d}")

    assert used_count(saved) == 3


def test_a_once_per_customer_voucher_is_refused_to_the_same_email_in_any_case():
    saved = voucher(once_per_customer=True)
    redeem(saved, "SS-0001", email="ada@example.com")

    with pytest.raises(VoucherExhausted):
        redeem(saved, "SS-0002", email="Ada@Example.COM")
    redeem(saved, "SS-0003", email="grace@example.com")

    assert used_count(saved) == 2
    assert sorted(saved.uses.values_list("email", flat=True)) == [
        "ada@example.com",
        "grace@example.com",
    ]


def test_a_once_per_customer_voucher_is_refused_to_the_same_user_by_another_email():
    saved = voucher(once_per_customer=True)
    ada = UserFactory(email="ada@example.com")
    redeem(saved, "SS-0001", user=ada, email=ada.email)

    with pytest.raises(VoucherExhausted):
        redeem(saved, "SS-0002", user=ada, email="ada.work@example.com")

    assert used_count(saved) == 1


def test_a_voucher_may_be_used_again_by_a_customer_when_not_once_per_customer():
    saved = voucher(once_per_customer=False)

    redeem(saved, "SS-0001", email="ada@example.com")
    redeem(saved, "SS-0002", email="ada@example.com")

    assert used_count(saved) == 2


def test_releasing_a_cancelled_orders_use_gives_it_back():
    saved = voucher(usage_limit=1, once_per_customer=True)
    redeem(saved, "SS-0001")

    services.release_voucher(order_number="SS-0001")
    redeem(saved, "SS-0002")  # the same customer, the last use again

    assert used_count(saved) == 1
    assert list(saved.uses.values_list("order_number", flat=True)) == ["SS-0002"]


def test_releasing_an_order_without_a_voucher_changes_nothing():
    saved = voucher()
    redeem(saved, "SS-0001")

    services.release_voucher(order_number="SS-9999")

    assert used_count(saved) == 1
    assert saved.uses.count() == 1
