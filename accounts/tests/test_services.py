import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def run_together(count, work):
    """Run `work()` in `count` threads released at once; return the outcomes."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def run(index):
        try:
            barrier.wait()
            outcomes[index] = work()
        except Exception as error:  # the outcome under test
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_register_user_normalizes_the_email_and_hashes_the_password():
    user = services.register_user(
        email=" Ada@Example.COM ", password="analytical-engine-42", first_name="Ada"
    )

    user.refresh_from_db()
    assert user.email == "ada@example.com"
    assert user.first_name == "Ada"
    assert user.password != "analytical-engine-42"
    assert user.check_password("analytical-engine-42")


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_email_make_one_account():
    outcomes = run_together(
        4,
        lambda: services.register_user(
            email="race@example.com", password="analytical-engine-42"
        ),
    )

    users = [outcome for outcome in outcomes if isinstance(outcome, User)]
    refusals = [outcome for outcome in outcomes if not isinstance(outcome, User)]
    assert len(users) == 1
    assert User.objects.filter(email="race@example.com").count() == 1
    for refusal in refusals:
        assert isinstance(refusal, ValidationError), refusal
        assert refusal.message_dict == {
            "email": ["An account with this email address already exists."]
        }


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_give_one_new_pair():
    refresh = str(RefreshToken.for_user(UserFactory()))

    statuses = run_together(
        4,
        lambda: (
            APIClient()
            .post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
            .status_code
        ),
    )

    assert sorted(statuses) == [200, 401, 401, 401]


def test_update_user_without_changes_writes_nothing():
    user = UserFactory(email="ada@example.com", first_name="Ada")

    with CaptureQueriesContext(connection) as queries:
        services.update_user(user=user, email="ADA@example.com", first_name="Ada")

    statements = [query["sql"].split()[0] for query in queries.captured_queries]
    # The check that the unchanged email is not someone else's, in a savepoint.
    assert statements == ["SAVEPOINT", "SELECT", "RELEASE"]


def test_update_user_changes_only_the_fields_given():
    user = UserFactory(email="ada@example.com", first_name="Ada", last_name="Byron")

    services.update_user(user=user, last_name="Lovelace", is_staff=True)

    user.refresh_from_db()
    assert (user.email, user.first_name, user.last_name, user.is_staff) == (
        "ada@example.com",
        "Ada",
        "Lovelace",
        True,
    )


def test_change_password_refuses_a_wrong_current_password():
    user = UserFactory()

    with pytest.raises(ValidationError) as refused:
        services.change_password(
            user=user, current_password="wrong", new_password="a-new-passphrase"
        )

    assert refused.value.error_dict["current_password"][0].code == "password_incorrect"
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_deactivating_revokes_every_refresh_token_of_the_user():
    user, other = UserFactory(), UserFactory()
    tokens = [RefreshToken.for_user(user) for _ in range(2)]
    others_token = RefreshToken.for_user(other)
    tokens[0].blacklist()

    services.set_active(user=user, is_active=False)

    user.refresh_from_db()
    assert user.is_active is False
    assert set(BlacklistedToken.objects.values_list("token__jti", flat=True)) == {
        token["jti"] for token in tokens
    }
    assert others_token["jti"] not in set(
        BlacklistedToken.objects.values_list("token__jti", flat=True)
    )


def test_activating_lets_the_user_log_in_again():
    user = UserFactory(is_active=False)

    services.set_active(user=user, is_active=True)

    user.refresh_from_db()
    assert user.is_active is True


def test_revoke_refresh_token_refuses_another_users_token():
    token = str(RefreshToken.for_user(UserFactory()))

    with pytest.raises(TokenError, match="not issued to this user"):
        services.revoke_refresh_token(user=StaffFactory(), token=token)

    assert not BlacklistedToken.objects.exists()


def test_delete_user_deletes_the_account():
    user = UserFactory()

    services.delete_user(user=user)

    assert not User.objects.filter(pk=user.pk).exists()
