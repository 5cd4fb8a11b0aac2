from django.apps import AppConfig


class ShopSwiftConfig(AppConfig):
    name = "shopswift"
    verbose_name = "ShopSwift"
