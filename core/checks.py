"""`manage.py check --deploy`: the store's own settings an operator must set."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Warning, register


def _is_local(host):
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
        return address.is_loopback or address.is_unspecified
    except ValueError:
        return False


@register(deploy=True)
def check_store_url(app_configs, **kwargs):
    """E-mails link to STORE_URL: a local address sends shoppers nowhere."""
    host = urlsplit(settings.STORE_URL).hostname or ""
    if not _is_local(host):
        return []
    return [
        Warning(
            f"STORE_URL is {settings.STORE_URL!r}: the links in the store's "
            "e-mails (orders, password resets) would point at this machine.",
            hint="Set STORE_URL to the address shoppers use, such as "
            "https://shop.example.com.",
            id="shopswift.W001",
        )
    ]


@register(deploy=True)
def check_database_url(app_configs, **kwargs):
    """Without DATABASE_URL the store uses the checkout's embedded database."""
    if not settings.DATABASE_EMBEDDED:
        return []
    return [
        Warning(
            "DATABASE_URL is unset: the store would use the embedded "
            "development database in the checkout's .data folder.",
            hint="Set DATABASE_URL to the production PostgreSQL server "
            "(postgres://user:password@host:5432/name).",
            id="shopswift.W002",
        )
    ]
