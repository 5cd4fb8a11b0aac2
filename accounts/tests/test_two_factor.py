import pytest
from django.core.exceptions import ValidationError
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.tests.factories import StaffFactory
from accounts.tests.otp import TOTPDeviceFactory, current_code, wrong_code
from accounts.two_factor import Admission

pytestmark = pytest.mark.django_db


def test_setting_up_keeps_one_pending_authenticator_until_it_is_confirmed():
    boss = StaffFactory()

    first = two_factor.start_authenticator_setup(user=boss)
    again = two_factor.start_authenticator_setup(user=boss)

    assert again == first
    assert first.confirmed is False
    assert two_factor.authenticator(boss) is None


def test_a_right_code_turns_the_authenticator_on_in_place_of_the_old_one():
    boss = StaffFactory()
    old = TOTPDeviceFactory(user=boss)
    pending = two_factor.start_authenticator_setup(user=boss)

    confirmed = two_factor.confirm_authenticator(user=boss, code=current_code(pending))

    assert confirmed == pending
    assert list(TOTPDevice.objects.filter(user=boss)) == [pending]
    assert two_factor.authenticator(boss) == pending
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


def test_a_wrong_code_leaves_the_authenticator_pending_and_counts_against_it():
    boss = StaffFactory()
    pending = two_factor.start_authenticator_setup(user=boss)

    with pytest.raises(ValidationError) as refused:
        two_factor.confirm_authenticator(user=boss, code=wrong_code(pending))

    assert refused.value.message_dict == {"code": [two_factor.WRONG_CODE]}
    pending.refresh_from_db()
    assert pending.confirmed is False
    assert pending.throttling_failure_count == 1
    assert two_factor.authenticator(boss) is None


def test_a_code_is_accepted_once():
    boss = StaffFactory()
    device = TOTPDeviceFactory(user=boss)
    code = current_code(device)

    first = two_factor.verify_code(device=device, code=code)
    replayed = two_factor.verify_code(device=device, code=code)

    assert (first, replayed) == (True, False)


@pytest.mark.parametrize(
    ("superuser", "has_authenticator", "verified", "required", "expected"),
    [
        (False, False, False, True, Admission.OPEN),
        (False, True, False, True, Admission.NEEDS_CODE),
        (False, True, True, True, Admission.OPEN),
        (True, False, False, True, Admission.NEEDS_AUTHENTICATOR),
        (True, False, False, False, Admission.OPEN),
        (True, True, False, False, Admission.NEEDS_CODE),
        (True, True, True, True, Admission.OPEN),
    ],
)
def test_admission(
    settings, superuser, has_authenticator, verified, required, expected
):
    settings.ADMIN_2FA_REQUIRED_FOR_SUPERUSERS = required
    user = StaffFactory(is_superuser=superuser)
    device = TOTPDeviceFactory(user=user) if has_authenticator else None
    # As django-otp's middleware marks request.user.
    user.otp_device = device if verified else None

    assert two_factor.admission(user) is expected
