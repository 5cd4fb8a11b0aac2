"""The accounts' own limits: failed logins and registrations.

Built on core.ratelimit (counters in the shared cache, fail open or closed
as RATELIMIT_FAIL_OPEN says). Logins count failures only: `check_login`
before authenticating, `record_failed_login` after a failure (the login API,
the login page and the admin's login do this, into the same counters).

Failed logins are counted per client IP, per email, and per email and IP
together. An IP past the limit is refused whatever the email. An email past
the limit is refused only to the IPs that failed for it: whoever guesses at
someone's password, from one address or many, is refused, while the owner,
from wherever they did not fail, still logs in. An attacker can slow down
only themselves, never aim a lockout at an account.
"""

from accounts.models import normalize_email
from core.ratelimit import (
    RateLimitExceeded,
    client_ip,
    get_limit_usage,
    ip_key,
    limit_request,
    limit_user,
)

REGISTER_BY_IP = "accounts.register"
REGISTER_BY_EMAIL = "accounts.register.email"
LOGIN_BY_IP = "accounts.login.ip"
LOGIN_BY_EMAIL = "accounts.login.email"
LOGIN_BY_EMAIL_AND_IP = "accounts.login.email_ip"


def limit_registration(request, email):
    """Count a registration attempt per client IP and per email address.

    Raises RateLimitExceeded past either limit. Registration says when an
    address is taken, so the count per address keeps many IPs from taking
    turns probing one. The API and the page count together.
    """
    limit_request(
        request,
        group=REGISTER_BY_IP,
        setting="RATELIMIT_REGISTER",
        message="Too many registrations from your network.",
    )
    email = normalize_email(email) if isinstance(email, str) else ""
    if email:
        limit_request(
            request,
            group=REGISTER_BY_EMAIL,
            setting="RATELIMIT_REGISTER_EMAIL",
            key=lambda group, request: email,
            message="Too many registration attempts for this email address.",
        )


def _login_counters(email):
    """The (group, key) of each count a login for `email` meets, by name."""
    counters = {"ip": (LOGIN_BY_IP, ip_key)}
    email = normalize_email(email) if isinstance(email, str) else ""
    if email:
        counters["email"] = (LOGIN_BY_EMAIL, lambda group, request: email)
        # An IP has no "|", so the last one separates the two unambiguously.
        counters["email_and_ip"] = (
            LOGIN_BY_EMAIL_AND_IP,
            lambda group, request: f"{email}|{client_ip(request)}",
        )
    return counters


def check_login(request, email):
    """Refuse a login early when it comes from where logins failed too often.

    Refused: a client IP that failed RATELIMIT_LOGIN times, whatever the
    email; and an email that failed that often, to the IPs that failed for it
    (see the module's docstring). Only failures are counted
    (`record_failed_login`), and the check comes before the password is
    hashed, so refused guesses cost nothing. Requests already in flight when
    the limit is reached may each finish their one attempt.
    """
    usage = {
        name: get_limit_usage(
            request, group=group, setting="RATELIMIT_LOGIN", key=key, increment=False
        )
        for name, (group, key) in _login_counters(email).items()
    }
    waits = []
    by_ip = usage["ip"]
    if by_ip is not None and by_ip.exhausted:
        waits.append(by_ip.retry_after)
    by_email, here = usage.get("email"), usage.get("email_and_ip")
    if by_email is not None and by_email.exhausted and here is not None and here.count:
        # Refused until either count starts afresh.
        waits.append(min(by_email.retry_after, here.retry_after))
    if waits:
        # Both may refuse; the later window is when a retry works.
        raise RateLimitExceeded(
            "Too many failed login attempts. Please wait before trying again.",
            retry_after=max(waits),
        )


def record_failed_login(request, email):
    """Count one failed login against its client IP, its email and the two."""
    for group, key in _login_counters(email).values():
        get_limit_usage(
            request, group=group, setting="RATELIMIT_LOGIN", key=key, increment=True
        )


def limit_email_change(request, user):
    """Count an e-mail change by `user` (page and API together), then check its login.

    Each change sends an e-mail, so it is limited per user; and a wrong
    current password counts as a failed login, so a stolen session or access
    token does not become a way to guess the password.
    """
    limit_user(
        request, "RATELIMIT_EMAIL_CHANGE", message="Too many email address changes."
    )
    check_login(request, user.email)
