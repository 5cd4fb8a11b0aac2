from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.backends.signals import connection_created


class ShopSwiftConfig(AppConfig):
    name = "shopswift"
    verbose_name = "ShopSwift"

    def ready(self):
        import logging

        from shopswift import checks  # noqa: F401 (registers the deploy checks)
        from shopswift.metrics import install_database_instrumentation

        # No log line of ours shows the thread, task or source line of its
        # call: skip finding them for every record (Python's logging HOWTO,
        # "Optimization"), about 15 µs off each request's access line. The
        # process id stays: gunicorn's own lines print it (`[%(process)d]`).
        logging.logThreads = False
        logging.logMultiprocessing = False
        logging.logAsyncioTasks = False
        logging._srcfile = None

        # Every database connection, in web, worker and command processes,
        # times its statements for /metrics.
        connection_created.connect(
            install_database_instrumentation,
            dispatch_uid="shopswift.metrics.database",
        )


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the store's site (shopswift/admin.py) as admin.site."""

    # Named in INSTALLED_APPS; not the configuration of the "shopswift" app.
    default = False
    default_site = "shopswift.admin.AdminSite"
