from accounts.tests.clock import ratelimit_clock  # noqa: F401
