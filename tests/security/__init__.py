"""Security tests: the API fuzzed from its own schema, and the hostile-input catalogue.

They live beside the apps rather than in each app's tests/ because they
attack the store the way an outsider does, through its surfaces (the API
by area, the pages, the admin, tokens, uploads), each of which crosses
several apps; one module per surface, sharing the arrangements in
conftest.py (a small store, tokens, the database snapshot that proves a
refused request changed nothing).
"""
