from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from carts.models import Cart, CartItem
from carts.tests.factories import CartFactory, CartItemFactory

pytestmark = pytest.mark.django_db


def clear_stale_carts(*args):
    out = StringIO()
    call_command("clear_stale_carts", *args, stdout=out)
    return out.getvalue().splitlines()


def last_updated(cart, days_ago):
    Cart.objects.filter(pk=cart.pk).update(
        updated_at=timezone.now() - timedelta(days=days_ago)
    )
    return cart


def test_deletes_anonymous_carts_untouched_for_30_days_by_default():
    stale = [last_updated(CartFactory(user=None), 31) for _ in range(2)]
    CartItemFactory(cart=stale[0])
    recent = last_updated(CartFactory(user=None), 29)
    account_cart = last_updated(CartFactory(), 400)

    output = clear_stale_carts()

    assert output == [
        "Deleting anonymous carts not updated for 30 days…",
        "  deleted 2 carts so far",
        "Deleted 2 anonymous carts not updated for 30 days.",
    ]
    assert set(Cart.objects.values_list("pk", flat=True)) == {
        recent.pk,
        account_cart.pk,
    }
    assert not CartItem.objects.exists()


def test_days_and_batch_size_are_options():
    for days_ago in (8, 9, 10):
        last_updated(CartFactory(user=None), days_ago)
    kept = last_updated(CartFactory(user=None), 6)

    output = clear_stale_carts("--days", "7", "--batch-size", "2")

    assert output == [
        "Deleting anonymous carts not updated for 7 days…",
        "  deleted 2 carts so far",
        "  deleted 3 carts so far",
        "Deleted 3 anonymous carts not updated for 7 days.",
    ]
    assert list(Cart.objects.values_list("pk", flat=True)) == [kept.pk]


def test_says_so_when_there_is_nothing_to_delete():
    CartFactory(user=None)

    output = clear_stale_carts()

    assert output == [
        "Deleting anonymous carts not updated for 30 days…",
        "Deleted 0 anonymous carts not updated for 30 days.",
    ]
    assert Cart.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "--days must be from 1 to 36500."),
        (["--days", "-5"], "--days must be from 1 to 36500."),
        (["--days", "99999999"], "--days must be from 1 to 36500."),
        (["--batch-size", "0"], "--batch-size must be 1 or more."),
    ],
)
def test_refuses_bounds_that_make_no_sense(args, message):
    stale = last_updated(CartFactory(user=None), 31)

    with pytest.raises(CommandError, match=message):
        clear_stale_carts(*args)

    assert Cart.objects.filter(pk=stale.pk).exists()


def test_help_describes_the_command_and_its_options(capsys):
    with pytest.raises(SystemExit):
        call_command("clear_stale_carts", "--help")

    help_text = " ".join(capsys.readouterr().out.split())
    assert "Delete anonymous (session) carts that nobody has changed" in help_text
    assert (
        "--days DAYS Delete anonymous carts not updated for this many days "
        "(default 30)."
    ) in help_text
    assert "--batch-size BATCH_SIZE" in help_text
