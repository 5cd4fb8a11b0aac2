from django.apps import AppConfig
from django.db.backends.signals import connection_created


class ShopSwiftConfig(AppConfig):
    name = "shopswift"
    verbose_name = "ShopSwift"

    def ready(self):
        from shopswift.metrics import install_database_instrumentation

        # Every database connection, in web, worker and command processes,
        # times its statements for /metrics.
        connection_created.connect(
            install_database_instrumentation,
            dispatch_uid="shopswift.metrics.database",
        )
