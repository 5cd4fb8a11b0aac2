import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services, tokens
from accounts.exceptions import PrivilegeError
from accounts.models import User
from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    StaffFactory,
    SuperuserFactory,
    UserFactory,
)

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
        services.update_user(
            user=user, changed_by=user, email="ADA@example.com", first_name="Ada"
        )

    statements = [query["sql"].split()[0] for query in queries.captured_queries]
    # The lock of the user's row, in a savepoint.
    assert statements == ["SAVEPOINT", "SELECT", "RELEASE"]


def test_update_user_changes_only_the_fields_given():
    user = UserFactory(email="ada@example.com", first_name="Ada", last_name="Byron")

    services.update_user(
        user=user, changed_by=SuperuserFactory(), last_name="Lovelace", is_staff=True
    )

    user.refresh_from_db()
    assert (user.email, user.first_name, user.last_name, user.is_staff) == (
        "ada@example.com",
        "Ada",
        "Lovelace",
        True,
    )


CUSTOMER, SELF, STAFF, SUPERUSER = "customer", "self", "staff", "superuser"
ONLY_SUPERUSERS_MAY_GRANT = (
    "Only a superuser may grant or revoke staff status, superuser status, groups "
    "or permissions."
)


def make(kind, actor=None):
    if kind == SELF:
        return actor
    return {
        CUSTOMER: UserFactory,
        STAFF: StaffFactory,
        SUPERUSER: SuperuserFactory,
    }[kind]()


@pytest.mark.parametrize(
    ("actor", "target", "fields", "refusal"),
    [
        (STAFF, CUSTOMER, ["first_name", "email", "is_active"], None),
        (STAFF, CUSTOMER, [], None),
        (STAFF, SELF, ["last_name"], None),
        (STAFF, STAFF, ["first_name"], services.OTHER_STAFF),
        (STAFF, STAFF, [], services.OTHER_STAFF),
        (STAFF, SUPERUSER, ["email"], services.SUPERUSER_ONLY),
        (STAFF, SUPERUSER, [], services.SUPERUSER_ONLY),
        (STAFF, CUSTOMER, ["is_staff"], ONLY_SUPERUSERS_MAY_GRANT),
        (STAFF, SELF, ["is_superuser"], ONLY_SUPERUSERS_MAY_GRANT),
        (STAFF, SELF, ["groups"], ONLY_SUPERUSERS_MAY_GRANT),
        (STAFF, SELF, ["user_permissions"], ONLY_SUPERUSERS_MAY_GRANT),
        (STAFF, SELF, ["email"], services.OWN_CREDENTIALS),
        (STAFF, SELF, ["password"], services.OWN_CREDENTIALS),
        (CUSTOMER, CUSTOMER, ["first_name"], "Only staff may change another account."),
        (CUSTOMER, SELF, ["first_name"], None),
        (SUPERUSER, SUPERUSER, ["email", "is_superuser", "groups"], None),
        (SUPERUSER, STAFF, ["password", "is_staff"], None),
        (SUPERUSER, SELF, ["is_superuser"], None),
        (SUPERUSER, SELF, ["email"], services.OWN_CREDENTIALS),
    ],
)
def test_check_user_change_lets_staff_manage_customers_only(
    actor, target, fields, refusal
):
    actor = make(actor)
    target = make(target, actor)

    if refusal is None:
        services.check_user_change(actor=actor, target=target, fields=fields)
    else:
        with pytest.raises(PrivilegeError) as refused:
            services.check_user_change(actor=actor, target=target, fields=fields)
        assert refused.value.detail == refusal


def test_update_user_refused_changes_nothing():
    staff, colleague = StaffFactory(), StaffFactory(first_name="Grace")

    with pytest.raises(PrivilegeError):
        services.update_user(user=colleague, changed_by=staff, first_name="Eve")

    colleague.refresh_from_db()
    assert colleague.first_name == "Grace"


def test_update_user_checks_the_rank_stored_not_the_one_in_hand():
    staff, colleague = StaffFactory(), StaffFactory()
    colleague.is_staff = False  # an edited copy, as the admin's form makes

    with pytest.raises(PrivilegeError):
        services.update_user(user=colleague, changed_by=staff, first_name="Eve")


def test_a_new_email_from_staff_applies_at_once_ending_the_users_sessions(
    django_capture_on_commit_callbacks,
):
    user = UserFactory(email="ada@example.com")
    refresh = RefreshToken.for_user(user)
    session_hash = user.get_session_auth_hash()

    with django_capture_on_commit_callbacks(execute=True):
        services.update_user(
            user=user, changed_by=StaffFactory(), email="Ada.King@example.com"
        )

    user.refresh_from_db()
    assert (user.email, user.session_generation) == ("ada.king@example.com", 1)
    assert user.get_session_auth_hash() != session_hash
    assert BlacklistedToken.objects.filter(token__jti=refresh["jti"]).exists()
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]


def test_deactivating_revokes_every_refresh_token_of_the_user():
    user, other = UserFactory(), UserFactory()
    tokens = [RefreshToken.for_user(user) for _ in range(2)]
    others_token = RefreshToken.for_user(other)
    tokens[0].blacklist()

    services.update_user(user=user, changed_by=StaffFactory(), is_active=False)

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

    services.update_user(user=user, changed_by=StaffFactory(), is_active=True)

    user.refresh_from_db()
    assert user.is_active is True


# --- A user's own email --------------------------------------------------------------


def test_update_profile_saves_names_and_only_asks_to_confirm_a_new_email(
    django_capture_on_commit_callbacks,
):
    user = UserFactory(email="ada@example.com", first_name="Ada")

    with django_capture_on_commit_callbacks(execute=True):
        change = services.update_profile(
            user=user,
            email="Ada.King@Example.com",
            last_name="King",
            current_password=DEFAULT_PASSWORD,
        )

    assert change.pending_email == "ada.king@example.com"
    user.refresh_from_db()
    assert (user.email, user.first_name, user.last_name) == (
        "ada@example.com",
        "Ada",
        "King",
    )
    assert [message.to for message in mail.outbox] == [["ada.king@example.com"]]


def test_update_profile_without_a_new_email_needs_no_password():
    user = UserFactory(email="ada@example.com")

    change = services.update_profile(user=user, email="ADA@example.com", first_name="A")

    assert change.pending_email is None


@pytest.mark.parametrize(
    ("password", "message"),
    [
        (None, "Enter your current password to change your email."),
        ("", "Enter your current password to change your email."),
        ("wrong", "Your current password is incorrect."),
    ],
)
def test_update_profile_refuses_a_new_email_without_the_password_saving_nothing(
    password, message, django_capture_on_commit_callbacks
):
    user = UserFactory(first_name="Ada")

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as refused,
    ):
        services.update_profile(
            user=user,
            email="new@example.com",
            first_name="Eve",
            current_password=password,
        )

    assert refused.value.message_dict == {"current_password": [message]}
    user.refresh_from_db()
    assert user.first_name == "Ada"
    assert mail.outbox == []


def test_confirm_email_change_moves_the_account_and_ends_its_sessions(
    django_capture_on_commit_callbacks,
):
    user = UserFactory(email="ada@example.com")
    refresh = RefreshToken.for_user(user)
    token = tokens.email_change_token(user=user, email="ada.king@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = services.confirm_email_change(token=token)

    user.refresh_from_db()
    assert confirmed == user
    assert (user.email, user.session_generation) == ("ada.king@example.com", 1)
    assert BlacklistedToken.objects.filter(token__jti=refresh["jti"]).exists()
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]


@pytest.mark.parametrize(
    "meanwhile",
    ["used", "password changed", "signed out everywhere", "deactivated", "tampered"],
)
def test_an_email_change_link_dies_with_the_account_state_it_was_made_for(meanwhile):
    user = UserFactory(email="ada@example.com")
    token = tokens.email_change_token(user=user, email="ada.king@example.com")
    if meanwhile == "used":
        services.confirm_email_change(token=token)
    elif meanwhile == "password changed":
        services.set_password(user=user, password="a-new-passphrase")
    elif meanwhile == "signed out everywhere":
        services.sign_out_everywhere(user=user)
    elif meanwhile == "deactivated":
        services.update_user(user=user, changed_by=StaffFactory(), is_active=False)
    else:
        token = token[:-1] + ("A" if token[-1] != "A" else "B")

    with pytest.raises(ValidationError) as refused:
        services.confirm_email_change(token=token)

    assert refused.value.messages == [tokens.LINK_INVALID]


def test_confirm_email_change_refuses_an_address_taken_since():
    user = UserFactory(email="ada@example.com")
    token = tokens.email_change_token(user=user, email="ada.king@example.com")
    UserFactory(email="ada.king@example.com")

    with pytest.raises(ValidationError) as refused:
        services.confirm_email_change(token=token)

    assert refused.value.message_dict == {
        "email": [
            "ada.king@example.com now belongs to another account, so your email "
            "address is unchanged."
        ]
    }


# --- Passwords and sessions ----------------------------------------------------------


def test_change_password_refuses_a_wrong_current_password():
    user = UserFactory()

    with pytest.raises(ValidationError) as refused:
        services.change_password(
            user=user, current_password="wrong", new_password="a-new-passphrase"
        )

    assert refused.value.error_dict["current_password"][0].code == "password_incorrect"
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_set_password_revokes_refresh_tokens_and_tells_the_user(
    django_capture_on_commit_callbacks,
):
    user = UserFactory(email="ada@example.com")
    refresh = RefreshToken.for_user(user)

    with django_capture_on_commit_callbacks(execute=True):
        services.set_password(user=user, password="a-new-passphrase")

    user.refresh_from_db()
    assert user.check_password("a-new-passphrase")
    assert BlacklistedToken.objects.filter(token__jti=refresh["jti"]).exists()
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["ada@example.com"], "Your ShopSwift password was changed")
    ]


def test_set_password_to_none_turns_password_login_off():
    user = UserFactory()

    services.set_password(user=user, password=None)

    user.refresh_from_db()
    assert user.has_usable_password() is False


def test_sign_out_everywhere_raises_the_generation_and_revokes_refresh_tokens():
    user = UserFactory()
    refresh = RefreshToken.for_user(user)
    session_hash = user.get_session_auth_hash()

    services.sign_out_everywhere(user=user)

    assert user.session_generation == 1
    assert user.get_session_auth_hash() != session_hash
    assert BlacklistedToken.objects.filter(token__jti=refresh["jti"]).exists()


def test_revoke_refresh_token_refuses_another_users_token():
    token = str(RefreshToken.for_user(UserFactory()))

    with pytest.raises(TokenError, match="not issued to this user"):
        services.revoke_refresh_token(user=StaffFactory(), token=token)

    assert not BlacklistedToken.objects.exists()


def test_delete_user_deletes_the_account():
    user = UserFactory()

    services.delete_user(user=user, deleted_by=StaffFactory())

    assert not User.objects.filter(pk=user.pk).exists()


def test_delete_user_refuses_staff_deleting_another_staff_account():
    colleague = StaffFactory()

    with pytest.raises(PrivilegeError):
        services.delete_user(user=colleague, deleted_by=StaffFactory())

    assert User.objects.filter(pk=colleague.pk).exists()


def test_account_emails_leave_one_masked_log_line_each(
    django_capture_on_commit_callbacks, caplog
):
    user = UserFactory(email="ada@example.com")
    UserFactory(email="taken@example.com")

    with (
        caplog.at_level("INFO", logger="core.mail"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.update_profile(
            user=user, email="taken@example.com", current_password=DEFAULT_PASSWORD
        )
        services.update_profile(
            user=user, email="free@example.com", current_password=DEFAULT_PASSWORD
        )
        services.update_user(
            user=user, changed_by=StaffFactory(), email="moved@example.com"
        )
        services.set_password(user=user, password="a-new-passphrase")

    lines = [r.getMessage() for r in caplog.records if r.name == "core.mail"]
    assert lines == [
        "E-mail email_in_use to t***@example.com",
        "E-mail email_change_link to f***@example.com",
        "E-mail email_changed to a***@example.com",
        "E-mail password_changed to m***@example.com",
    ]
    assert "ada@example.com" not in caplog.text
