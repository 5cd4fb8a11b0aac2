"""Reliability tests: PostgreSQL and Redis faults survived with real servers, the soak."""
