from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo store: seed_demo's data, loaded by `make run`."""

    name = "demo"
