"""Reliability tests: faults of PostgreSQL and Redis on real servers, and the soak."""
