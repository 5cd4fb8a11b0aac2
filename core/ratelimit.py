"""Rate limits, counted with django-ratelimit in the shared cache (Redis).

A DRF viewset takes `user_rate_limit(setting)` as a throttle class; any
other view calls `limit_request()`, whose RateLimitExceeded the API answers
as 429 and a page shows with core.pages.render_throttled. Rates, windows, and
why a Redis outage lets requests through (RATELIMIT_FAIL_OPEN):
docs/api.md#rate-limits.
"""

import ipaddress
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django_ratelimit import UNSAFE
from django_ratelimit.core import get_usage
from django_ratelimit.exceptions import Ratelimited
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from core.redis_breaker import CircuitOpen

logger = logging.getLogger(__name__)

PERIOD_SECONDS = {"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}


def parse_rate(rate):
    """("5/m" → (5, 60), "10/2h" → (10, 7200)), as django-ratelimit reads a rate."""
    match = re.fullmatch(r"(\d+)/(\d*)([smhd])", rate)
    if match is None:
        raise ValueError(f"A rate is count/period such as 5/m or 10/2h, not {rate!r}.")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * PERIOD_SECONDS[unit]


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
    limit, period = parse_rate(rate)
    try:
        usage = get_usage(request, group=group, key=key, rate=rate, increment=increment)
    except RedisError as error:
        # Fail open or closed: docs/api.md#rate-limits says why open. While
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
    if usage["limit"] == 0:
        # django-ratelimit got no count from the cache and, as
        # RATELIMIT_FAIL_OPEN is false, fails closed (its answer's limit is 0).
        # A negative time left alone is no failure: the window ended while
        # the count was read, and the count stands.
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


def limit_user(request, setting, *, message):
    """Count this request against the user's limit in `setting` (per IP when anonymous).

    Views that name the same setting share one counter per user, as the API's
    `user_rate_limit` throttles do.
    """
    limit_request(
        request, group=setting, setting=setting, key=user_key, message=message
    )


class UserRateLimitThrottle(BaseThrottle):
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
        (UserRateLimitThrottle,),
        {
            "setting": setting,
            "methods": tuple(method.upper() for method in methods),
            "actions": tuple(actions) if actions is not None else None,
        },
    )
