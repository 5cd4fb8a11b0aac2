"""Reliability tests: faults of PostgreSQL and Redis survived with real servers, and the soak."""
