from django.apps import AppConfig


class CartsConfig(AppConfig):
    name = "carts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from accounts.signals import api_login
        from carts.receivers import merge_session_cart, merge_token_cart

        # Django's own extension point: accounts logs people in and knows
        # nothing of carts; carts merges the session's cart when it happens.
        user_logged_in.connect(merge_session_cart, dispatch_uid="carts.merge_carts")
        api_login.connect(merge_token_cart, dispatch_uid="carts.merge_token_cart")
