"""The soak's figures, printed at the end of a run."""

import sys


def pytest_terminal_summary(terminalreporter):
    soak = sys.modules.get("reliability.test_soak")
    figures = soak.soak_figures if soak else None
    if not figures:
        return
    memory = figures["memory"]
    terminalreporter.write_line(
        f"soak: {figures['requests']} requests in {figures['seconds']} s "
        f"({figures['requests_per_second']}/s, p99 {figures['p99_ms']} ms), "
        f"orders placed {figures['orders_placed']['api']} on the API and "
        f"{figures['orders_placed']['pages']} on the pages, "
        f"{figures['session_cart_adds']} session cart adds on the pages, "
        f"statuses {figures['statuses']}, 5xx or failed "
        f"{figures['server_errors_or_failures']}, oversold "
        f"{figures['oversold_units']} units, ledger {figures['ledger']}, worker RSS "
        f"{memory['after_warm_up_mib']} MiB after warm-up, "
        f"{memory['last_third_max_mib']} MiB at most in the last third"
    )
