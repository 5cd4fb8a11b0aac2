"""Staff manage users in the Django admin."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import StaffFactory, UserFactory
from accounts.tests.otp import log_in_to_the_admin

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_user_changelist")
ADD = reverse("admin:accounts_user_add")


def change_url(user):
    return reverse("admin:accounts_user_change", args=[user.pk])


@pytest.fixture
def admin_client(client):
    boss = StaffFactory(email="boss@example.com", is_superuser=True)
    log_in_to_the_admin(client, boss)
    return client


def change_form_data(user, **changes):
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
        "_save": "Save",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_changelist_shows_email_name_staff_active_and_date_joined(admin_client):
    UserFactory(email="ada@example.com", first_name="Ada", last_name="Lovelace")

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert response.context["cl"].list_display == [
        "action_checkbox",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "date_joined",
    ]
    assertContains(response, "ada@example.com")
    assertContains(response, "Lovelace")


@pytest.mark.parametrize(
    ("query", "emails"),
    [
        ({"q": "lovelace"}, {"ada@example.com"}),
        ({"q": "GRACE@"}, {"grace@example.com"}),
        ({"is_staff__exact": "1"}, {"boss@example.com", "grace@example.com"}),
        ({"is_active__exact": "0"}, {"linus@example.com"}),
        ({"is_superuser__exact": "1"}, {"boss@example.com"}),
    ],
    ids=["search-name", "search-email", "staff", "inactive", "superuser"],
)
def test_changelist_searches_and_filters(admin_client, query, emails):
    UserFactory(email="ada@example.com", last_name="Lovelace")
    StaffFactory(email="grace@example.com", last_name="Hopper")
    UserFactory(email="linus@example.com", is_active=False)

    response = admin_client.get(CHANGELIST, query)

    assert response.status_code == 200
    assert {user.email for user in response.context["cl"].result_list} == emails


def test_add_page_creates_a_user_with_a_password(admin_client):
    form = admin_client.get(ADD)

    response = admin_client.post(
        ADD,
        {
            "email": "New.Staff@Example.com",
            "first_name": "New",
            "last_name": "Staff",
            "usable_password": "true",
            "password1": "a-good-long-password",
            "password2": "a-good-long-password",
            "_save": "Save",
        },
    )

    assert form.status_code == 200
    user = User.objects.get(email="new.staff@example.com")
    assertRedirects(response, change_url(user))
    assert user.check_password("a-good-long-password")
    assert (user.first_name, user.is_staff) == ("New", False)


def test_add_page_refuses_an_email_taken_in_another_case(admin_client):
    UserFactory(email="ada@example.com")

    response = admin_client.post(
        ADD,
        {
            "email": "ADA@example.com",
            "usable_password": "true",
            "password1": "a-good-long-password",
            "password2": "a-good-long-password",
        },
    )

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert User.objects.filter(email__iexact="ada@example.com").count() == 1


def test_change_page_saves_a_user(admin_client):
    user = UserFactory(email="ada@example.com")
    form = admin_client.get(change_url(user))

    response = admin_client.post(
        change_url(user),
        change_form_data(user, email="Ada.King@example.com", is_staff="on"),
    )

    assert form.status_code == 200
    assertRedirects(response, CHANGELIST)
    user.refresh_from_db()
    assert (user.email, user.is_staff) == ("ada.king@example.com", True)


def test_deactivating_in_the_change_form_revokes_api_sessions(admin_client):
    user = UserFactory()
    refresh = RefreshToken.for_user(user)

    admin_client.post(change_url(user), change_form_data(user, is_active=""))

    user.refresh_from_db()
    assert user.is_active is False
    assert BlacklistedToken.objects.filter(token__jti=refresh["jti"]).exists()


def test_the_password_change_page_opens(admin_client):
    user = UserFactory()

    response = admin_client.get(
        reverse("admin:auth_user_password_change", args=[user.pk])
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("action", "field", "before", "after"),
    [
        ("make_staff", "is_staff", False, True),
        ("remove_staff", "is_staff", True, False),
        ("deactivate", "is_active", True, False),
        ("activate", "is_active", False, True),
    ],
)
def test_bulk_actions(admin_client, action, field, before, after):
    users = UserFactory.create_batch(2, **{field: before})
    bystander = UserFactory(**{field: before})

    response = admin_client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [user.pk for user in users]},
        follow=True,
    )

    assert response.status_code == 200
    assert [
        getattr(user, field)
        for user in User.objects.filter(pk__in=[user.pk for user in users])
    ] == [
        after,
        after,
    ]
    bystander.refresh_from_db()
    assert getattr(bystander, field) is before
    assertContains(response, "2 users")


def test_the_deactivate_action_revokes_api_sessions(admin_client):
    user = UserFactory()
    refresh = RefreshToken.for_user(user)

    admin_client.post(
        CHANGELIST, {"action": "deactivate", "_selected_action": [user.pk]}
    )

    assert BlacklistedToken.objects.filter(token__jti=refresh["jti"]).exists()


def test_staff_who_may_only_view_users_cannot_run_actions(client):
    viewer = StaffFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(viewer)
    customer = UserFactory()

    listing = client.get(CHANGELIST)
    client.post(CHANGELIST, {"action": "make_staff", "_selected_action": [customer.pk]})

    assert listing.status_code == 200
    # No action is offered at all (deleting needs the delete permission too).
    assert listing.context["action_form"] is None
    customer.refresh_from_db()
    assert customer.is_staff is False


def test_staff_without_user_permissions_get_403(client):
    client.force_login(StaffFactory())

    assert client.get(CHANGELIST).status_code == 403


def test_customers_are_sent_to_the_admin_login(client):
    client.force_login(UserFactory())

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_no_admin_page_shows_a_password_hash(admin_client):
    user = UserFactory()

    pages = [admin_client.get(CHANGELIST), admin_client.get(change_url(user))]

    for page in pages:
        assert page.status_code == 200
        assertNotContains(page, user.password)
        assertNotContains(page, user.password.rsplit("$", 1)[-1])


# --- Who may change whom (accounts.services.check_user_change) ------------------------


@pytest.fixture
def manager_client(client):
    """Staff who may view and change users: customers only, by the rule."""
    manager = StaffFactory(email="manager@example.com")
    manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    client.force_login(manager)
    return client


def form_fields(response):
    return set(response.context["adminform"].form.fields)


def test_staff_edit_a_customers_profile_and_active_flag_but_no_rank(manager_client):
    customer = UserFactory(email="ada@example.com")

    page = manager_client.get(change_url(customer))
    response = manager_client.post(
        change_url(customer),
        change_form_data(customer, email="ada.king@example.com", is_active=""),
    )

    assert form_fields(page) == {
        "email",
        "password",
        "first_name",
        "last_name",
        "is_active",
    }
    assertRedirects(response, CHANGELIST)
    customer.refresh_from_db()
    assert (customer.email, customer.is_active) == ("ada.king@example.com", False)


def test_staff_see_another_staff_account_read_only(manager_client):
    colleague = StaffFactory()

    page = manager_client.get(change_url(colleague))

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assertNotContains(page, 'name="_save"')


def test_superusers_edit_ranks_but_not_their_own_email(admin_client):
    boss = User.objects.get(email="boss@example.com")

    own = admin_client.get(change_url(boss))
    other = admin_client.get(change_url(StaffFactory()))

    assert "email" not in form_fields(own)
    assert {"is_staff", "is_superuser", "groups", "user_permissions"} <= (
        form_fields(own)
    )
    assert "email" in form_fields(other)


def test_a_refused_bulk_action_says_why_and_changes_nobody(manager_client):
    customer, colleague = UserFactory(), StaffFactory()

    response = manager_client.post(
        CHANGELIST,
        {"action": "deactivate", "_selected_action": [customer.pk, colleague.pk]},
        follow=True,
    )

    assertContains(
        response,
        "No users were changed: Only a superuser may change another staff account.",
    )
    assert list(
        User.objects.filter(pk__in=[customer.pk, colleague.pk]).values_list(
            "is_active", flat=True
        )
    ) == [True, True]


def test_only_superusers_are_offered_the_staff_actions(admin_client):
    manager = StaffFactory()
    manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    manager_client = Client()
    manager_client.force_login(manager)

    def offered(client):
        form = client.get(CHANGELIST).context["action_form"]
        return {name for name, _ in form.fields["action"].choices}

    assert {"make_staff", "remove_staff"} <= offered(admin_client)
    assert offered(manager_client) == {"", "activate", "deactivate"}


def test_staff_set_a_customers_password_on_the_password_page(manager_client):
    customer = UserFactory()

    response = manager_client.post(
        reverse("admin:auth_user_password_change", args=[customer.pk]),
        {
            "password1": "a-good-long-password",
            "password2": "a-good-long-password",
            "usable_password": "true",
        },
    )

    assertRedirects(response, change_url(customer))
    customer.refresh_from_db()
    assert customer.check_password("a-good-long-password")


def test_nobody_sets_their_own_password_on_the_users_password_page(admin_client):
    boss = User.objects.get(email="boss@example.com")

    response = admin_client.get(
        reverse("admin:auth_user_password_change", args=[boss.pk])
    )

    assert response.status_code == 403
