"""Staff reaching for more: another staff account, a superuser, or a higher rank.

The attack (issue 15, finding 2): a staff user changes the e-mail of a
superuser or a colleague, asks for a password reset to that address, takes
the account, then ticks `is_superuser`. Only a superuser may change a
superuser or another staff account, or grant or revoke staff status,
superuser status, groups and permissions; staff manage customers only. Every
refusal leaves every account as it was.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from pytest_django.asserts import assertContains

from accounts.models import User
from accounts.tests.factories import StaffFactory, UserFactory
from core.testing import assert_problem
from tests.security.conftest import bearer

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_user_changelist")


def user_url(user):
    return f"/api/v1/users/{user.pk}/"


def change_url(user):
    return reverse("admin:accounts_user_change", args=[user.pk])


def password_url(user):
    return reverse("admin:auth_user_password_change", args=[user.pk])


def accounts_state():
    """Each account's credentials and rank, as comparable values."""
    return sorted(
        (
            user.email,
            user.password,
            user.is_active,
            user.is_staff,
            user.is_superuser,
            sorted(user.groups.values_list("name", flat=True)),
            sorted(user.user_permissions.values_list("codename", flat=True)),
        )
        for user in User.objects.all()
    )


@pytest.fixture
def owner():
    return StaffFactory(email="owner@example.com", is_superuser=True)


@pytest.fixture
def colleague():
    return StaffFactory(email="colleague@example.com")


@pytest.fixture
def managers():
    return Group.objects.create(name="Managers")


@pytest.fixture
def user_manager(staff):
    """The attacker: staff who may view, change and delete users in the admin."""
    staff.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_user", "change_user", "delete_user"]
        )
    )
    return staff


@pytest.fixture
def unchanged_accounts(owner, colleague, user_manager, alice, managers):
    before = accounts_state()
    yield
    assert accounts_state() == before


@pytest.fixture
def admin_as_staff(client, user_manager):
    client.force_login(user_manager)
    return client


def change_form(user, **changes):
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        "_save": "Save",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


# --- Through the API -----------------------------------------------------------------


@pytest.mark.usefixtures("unchanged_accounts")
@pytest.mark.parametrize("target", ["owner", "colleague"])
def test_staff_cannot_change_the_email_of_a_superuser_or_another_staff_member(
    staff_client, request, target
):
    victim = request.getfixturevalue(target)

    response = staff_client.patch(
        user_url(victim), {"email": "staff-controlled@example.com"}, format="json"
    )

    assert_problem(response, 403, "permission_denied")


@pytest.mark.usefixtures("unchanged_accounts")
@pytest.mark.parametrize("target", ["owner", "colleague"])
def test_staff_cannot_delete_a_superuser_or_another_staff_member(
    staff_client, request, target
):
    response = staff_client.delete(user_url(request.getfixturevalue(target)))

    assert_problem(response, 403, "permission_denied")


@pytest.mark.usefixtures("unchanged_accounts")
@pytest.mark.parametrize(
    ("target", "changes"),
    [
        ("staff", {"is_superuser": True}),
        ("alice", {"is_superuser": True}),
        ("alice", {"is_staff": True}),
        ("colleague", {"is_staff": False}),
        ("owner", {"is_superuser": False}),
    ],
    ids=[
        "itself-superuser",
        "customer-superuser",
        "customer-staff",
        "revoke-colleague",
        "demote-owner",
    ],
)
def test_staff_cannot_grant_or_revoke_ranks_through_the_api(
    staff_client, request, target, changes
):
    response = staff_client.patch(
        user_url(request.getfixturevalue(target)), changes, format="json"
    )

    assert_problem(response, 403, "permission_denied")


@pytest.mark.usefixtures("unchanged_accounts")
def test_staff_cannot_change_their_own_email_without_their_password(
    staff_client, staff
):
    response = staff_client.patch(
        user_url(staff), {"email": "elsewhere@example.com"}, format="json"
    )

    body = assert_problem(response, 403, "permission_denied")
    assert body["detail"] == (
        "Change your own email address or password from your account, "
        "which asks for your current password."
    )


@pytest.mark.usefixtures("unchanged_accounts")
def test_groups_and_permissions_sent_to_the_api_are_ignored(
    staff_client, staff, managers
):
    permission = Permission.objects.get(codename="change_user")

    response = staff_client.patch(
        user_url(staff),
        {"groups": [managers.pk], "user_permissions": [permission.pk]},
        format="json",
    )

    # The API does not manage groups and permissions (the admin does).
    assert response.status_code == 200


def test_staff_still_manage_customers_through_the_api(staff_client, alice):
    response = staff_client.patch(
        user_url(alice), {"first_name": "Alicia"}, format="json"
    )

    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.first_name == "Alicia"


def test_a_superuser_may_grant_and_change_anything_through_the_api(
    owner, colleague, alice
):
    client = bearer(owner)

    promoted = client.patch(user_url(alice), {"is_staff": True}, format="json")
    crowned = client.patch(user_url(colleague), {"is_superuser": True}, format="json")
    renamed = client.patch(
        user_url(colleague), {"email": "colleague.2@example.com"}, format="json"
    )

    assert [promoted.status_code, crowned.status_code, renamed.status_code] == [
        200,
        200,
        200,
    ]
    alice.refresh_from_db()
    colleague.refresh_from_db()
    assert alice.is_staff is True
    assert (colleague.email, colleague.is_superuser) == (
        "colleague.2@example.com",
        True,
    )


# --- Through the admin ---------------------------------------------------------------


@pytest.mark.usefixtures("unchanged_accounts")
@pytest.mark.parametrize("target", ["owner", "colleague"])
def test_the_admin_refuses_staff_a_change_to_a_superuser_or_another_staff_member(
    admin_as_staff, request, target
):
    victim = request.getfixturevalue(target)

    page = admin_as_staff.get(change_url(victim))
    response = admin_as_staff.post(
        change_url(victim),
        change_form(victim, email="staff-controlled@example.com"),
    )

    # Shown read-only (staff may still view them), and a post is refused.
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert response.status_code == 403


@pytest.mark.usefixtures("unchanged_accounts")
def test_the_admin_ignores_ranks_staff_tick_on_themselves(
    admin_as_staff, user_manager, managers
):
    change_permission = Permission.objects.get(codename="change_group")

    response = admin_as_staff.post(
        change_url(user_manager),
        change_form(
            user_manager,
            email="elsewhere@example.com",
            is_superuser="on",
            groups=[managers.pk],
            user_permissions=[change_permission.pk],
        ),
    )

    assert response.status_code == 302
    form = admin_as_staff.get(change_url(user_manager)).context["adminform"].form
    assert not {"email", "is_staff", "is_superuser", "groups", "user_permissions"} & (
        set(form.fields)
    )


@pytest.mark.usefixtures("unchanged_accounts")
def test_the_admin_ignores_ranks_staff_tick_on_a_customer(
    admin_as_staff, alice, managers
):
    response = admin_as_staff.post(
        change_url(alice),
        change_form(alice, is_staff="on", is_superuser="on", groups=[managers.pk]),
    )

    assert response.status_code == 302


@pytest.mark.usefixtures("unchanged_accounts")
@pytest.mark.parametrize(
    ("action", "target"),
    [("make_staff", "alice"), ("remove_staff", "colleague")],
)
def test_the_admin_offers_staff_no_action_that_grants_or_revokes_staff(
    admin_as_staff, request, action, target
):
    victim = request.getfixturevalue(target)

    listing = admin_as_staff.get(CHANGELIST)
    response = admin_as_staff.post(
        CHANGELIST, {"action": action, "_selected_action": [victim.pk]}, follow=True
    )

    offered = [
        name for name, _ in listing.context["action_form"].fields["action"].choices
    ]
    assert action not in offered
    assert response.status_code == 200


@pytest.mark.usefixtures("unchanged_accounts")
@pytest.mark.parametrize(
    ("action", "target"),
    [("deactivate", "owner"), ("deactivate", "colleague"), ("activate", "colleague")],
)
def test_the_admins_bulk_actions_refuse_staff_what_the_rule_refuses(
    admin_as_staff, request, action, target
):
    victim = request.getfixturevalue(target)

    response = admin_as_staff.post(
        CHANGELIST,
        {"action": action, "_selected_action": [victim.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assertContains(response, "No users were changed: Only a superuser may change")


def test_a_bulk_action_refused_for_one_user_changes_none(admin_as_staff, colleague):
    bob = UserFactory(email="bob@example.com")

    admin_as_staff.post(
        CHANGELIST,
        {"action": "deactivate", "_selected_action": [bob.pk, colleague.pk]},
    )

    assert list(
        User.objects.filter(pk__in=[bob.pk, colleague.pk]).values_list(
            "is_active", flat=True
        )
    ) == [True, True]


@pytest.mark.usefixtures("unchanged_accounts")
@pytest.mark.parametrize("target", ["owner", "colleague", "user_manager"])
def test_the_admins_password_page_refuses_staff_for_staff_accounts(
    admin_as_staff, request, target
):
    victim = request.getfixturevalue(target)

    page = admin_as_staff.get(password_url(victim))
    response = admin_as_staff.post(
        password_url(victim),
        {
            "password1": "taken-over-passphrase",
            "password2": "taken-over-passphrase",
            "usable_password": "true",
        },
    )

    assert page.status_code == 403
    assert response.status_code == 403


@pytest.mark.usefixtures("unchanged_accounts")
@pytest.mark.parametrize("target", ["owner", "colleague"])
def test_the_admin_refuses_staff_deleting_a_superuser_or_another_staff_member(
    admin_as_staff, request, target
):
    victim = request.getfixturevalue(target)

    response = admin_as_staff.post(
        reverse("admin:accounts_user_delete", args=[victim.pk]), {"post": "yes"}
    )
    bulk = admin_as_staff.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [victim.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert bulk.status_code == 403
