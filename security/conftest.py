"""The security tests' figures, printed at the end of a run."""

import sys


def pytest_terminal_summary(terminalreporter):
    fuzzing = sys.modules.get("security.test_schema_fuzz")
    if fuzzing is None or not fuzzing.statistics["cases"]:
        return
    statistics = fuzzing.statistics
    statuses = ", ".join(
        f"{status}: {count}" for status, count in sorted(statistics["statuses"].items())
    )
    terminalreporter.write_line(
        f"schema fuzzing: {len(statistics['operations'])} operations, "
        f"{statistics['cases']} cases as anonymous, customer and staff "
        f"(statuses {statuses})"
    )
