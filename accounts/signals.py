"""The accounts' signals, for the apps above accounts to act on (STYLE.md:
accounts knows nothing of carts).
"""

from django.dispatch import Signal

# Sent when the API logs a user in or registers one (the pages send Django's
# own `user_logged_in`), with `user` and the `cart_token` the client sent:
# the guest's anonymous cart, for the carts app to merge ("" when none).
api_login = Signal()
