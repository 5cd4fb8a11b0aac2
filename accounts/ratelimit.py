"""Rate limits, counted with django-ratelimit in the shared cache (Redis).

The counters live in the cache named by RATELIMIT_USE_CACHE, so a limit holds
across gunicorn workers and machines. Rates come from settings ("5/m": count
per period s, m, h or d) and are read per request, never at import. Windows
are django-ratelimit's fixed windows: a counter starts afresh when its window
ends, and a refusal carries the seconds until then (`Retry-After`).

How to apply a limit:

- A DRF viewset, per user (per client IP when anonymous), one line::

      from accounts.ratelimit import user_rate_limit

      class CartViewSet(viewsets.GenericViewSet):
          throttle_classes = [user_rate_limit("RATELIMIT_CART_WRITE")]

      class OrderViewSet(viewsets.GenericViewSet):
          throttle_classes = [
              user_rate_limit("RATELIMIT_CHECKOUT", actions=["create"])
          ]

  Writes (POST, PUT, PATCH, DELETE) are counted unless `methods` says
  otherwise; `actions` narrows it to some viewset actions. Past the limit the
  API answers 429 problem+json `throttled` with `Retry-After`.

- Any view, counting each request: `limit_request(request,
  group="orders.checkout", setting="RATELIMIT_CHECKOUT", key=user_key)` raises
  `RateLimitExceeded` past the limit. The API's exception handler turns it
  into the same 429; a page catches it and shows `str(error)` on the form.

- Logins count failures only: `check_login` before authenticating,
  `record_failed_login` after a failure (the login API, the login page and
  the admin's login do this, into the same counters).

Failed logins are counted per client IP, per email, and per email and IP
together. An IP past the limit is refused whatever the email. An email past
the limit is refused only to the IPs that failed for it: whoever guesses at
someone's password, from one address or many, is refused, while the owner,
from wherever they did not fail, still logs in. An attacker can slow down
only themselves, never aim a lockout at an account.

When the cache is down, RATELIMIT_FAIL_OPEN (default true) decides: requests
pass uncounted and an error is logged. Failing closed would turn a cache
outage into a store-wide outage in which nobody can log in, register or check
out; the limits guard against abuse over minutes, which the outage alert
(`/readyz` reports the cache) covers, and every guess still pays for a slow
(Argon2) password hash. Set RATELIMIT_FAIL_OPEN=false to refuse instead.
"""

import ipaddress
import logging
from dataclasses import dataclass

from django.conf import settings
from django_ratelimit import UNSAFE
from django_ratelimit.core import _split_rate, get_usage
from django_ratelimit.exceptions import Ratelimited
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from accounts.models import normalize_email
from shopswift.redis_breaker import CircuitOpen

logger = logging.getLogger(__name__)

REGISTER_BY_IP = "accounts.register"
REGISTER_BY_EMAIL = "accounts.register.email"
LOGIN_BY_IP = "accounts.login.ip"
LOGIN_BY_EMAIL = "accounts.login.email"
LOGIN_BY_EMAIL_AND_IP = "accounts.login.email_ip"


class RateLimitExceeded(Ratelimited):
    """Too many requests: `retry_after` seconds remain in the current window."""

    def __init__(self, message, *, retry_after):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Usage:
    count: int
    limit: int
    retry_after: int

    @property
    def exhausted(self):
        """The next attempt would be one too many."""
        return self.count >= self.limit

    @property
    def exceeded(self):
        """This (counted) attempt was one too many."""
        return self.count > self.limit


def client_ip(request):
    """Return the client's address, as a /64 network for IPv6.

    Behind a proxy, RATELIMIT_CLIENT_IP_HEADER names the header that carries
    the client's address; a missing or malformed value falls back to the
    connection's address rather than failing the request.
    """
    address = request.META.get("REMOTE_ADDR", "")
    header = settings.RATELIMIT_CLIENT_IP_HEADER
    if header:
        address = request.headers.get(header, "").strip() or address
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        # Accepted bandit B104: an address to count by, never one to bind to.
        fallback = request.META.get("REMOTE_ADDR") or "0.0.0.0"  # nosec B104
        ip = ipaddress.ip_address(fallback)
    if ip.version == 6:
        # One client usually holds a whole /64.
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def ip_key(group, request):
    return client_ip(request)


def user_key(group, request):
    """Count per user, or per client IP for anonymous requests."""
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return client_ip(request)


def get_limit_usage(request, *, group, setting, key, increment):
    """Return this key's usage of the limit in `setting`, or None when off.

    `increment` counts the request. None means no limit applies: the rate is
    empty, RATELIMIT_ENABLE is false, or the cache is down and limits fail
    open.
    """
    rate = getattr(settings, setting) or None
    if rate is None:
        return None
    # Parsed as django-ratelimit parses it for counting ("5/m", "10/2h").
    limit, period = _split_rate(rate)
    try:
        usage = get_usage(request, group=group, key=key, rate=rate, increment=increment)
    except RedisError as error:
        # Fail open or closed: see the module's docstring for why open. While
        # the breaker is open its opening was logged once already; a traceback
        # on every request would bury the log.
        if not isinstance(error, CircuitOpen):
            logger.exception(
                "Rate limit %s not checked: the cache is unreachable", group
            )
        if settings.RATELIMIT_FAIL_OPEN:
            return None
        return Usage(count=limit + 1, limit=limit, retry_after=period)
    if usage is None:
        return None
    if usage["time_left"] < 0:
        # django-ratelimit got no count from the cache and, as
        # RATELIMIT_FAIL_OPEN is false, fails closed.
        return Usage(count=limit + 1, limit=limit, retry_after=period)
    # The window's last second still belongs to it: a retry succeeds one
    # second after the end that django-ratelimit reports.
    return Usage(count=usage["count"], limit=limit, retry_after=usage["time_left"] + 1)


def limit_request(request, *, group, setting, key=ip_key, message=None):
    """Count this request and raise RateLimitExceeded past the limit."""
    usage = get_limit_usage(
        request, group=group, setting=setting, key=key, increment=True
    )
    if usage is not None and usage.exceeded:
        raise RateLimitExceeded(
            message or "Too many requests. Please wait before trying again.",
            retry_after=usage.retry_after,
        )


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


class _UserRateLimitThrottle(BaseThrottle):
    setting = None
    methods = UNSAFE
    actions = None

    def allow_request(self, request, view):
        if request.method not in self.methods:
            return True
        if self.actions is not None and getattr(view, "action", None) not in (
            self.actions
        ):
            return True
        usage = get_limit_usage(
            request,
            group=self.setting,
            setting=self.setting,
            key=user_key,
            increment=True,
        )
        if usage is None or not usage.exceeded:
            return True
        self.retry_after = usage.retry_after
        return False

    def wait(self):
        return self.retry_after


def user_rate_limit(setting, *, methods=UNSAFE, actions=None):
    """Return a DRF throttle class for the rate in `setting`, counted per user.

    Every view that uses the same setting shares one counter per user, so
    "cart writes: 120 a minute" counts all cart endpoints together.
    """
    return type(
        f"UserRateLimit_{setting}",
        (_UserRateLimitThrottle,),
        {
            "setting": setting,
            "methods": tuple(method.upper() for method in methods),
            "actions": tuple(actions) if actions is not None else None,
        },
    )
