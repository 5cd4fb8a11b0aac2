from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CoreConfig(AppConfig):
    """The ground layer every app builds on; it imports none of them."""

    name = "core"
    verbose_name = "ShopSwift core"

    def ready(self):
        import logging

        from core import checks  # noqa: F401 (registers the deploy checks)
        from core.metrics import install_database_instrumentation

        # No log line of ours shows the thread, task or source line of its
        # call: skip finding them for every record, as Python's logging HOWTO
        # ("Optimization") says. The process id stays: gunicorn's own lines
        # print it (`[%(process)d]`).
        logging.logThreads = False
        logging.logMultiprocessing = False
        logging.logAsyncioTasks = False  # type: ignore[attr-defined]  # in Python 3.12+, not yet in typeshed
        logging._srcfile = None

        # Every database connection, in web, worker and command processes,
        # times its statements for /metrics.
        connection_created.connect(
            install_database_instrumentation,
            dispatch_uid="core.metrics.database",
        )
