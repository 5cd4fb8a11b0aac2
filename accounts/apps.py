from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the store's site (accounts/admin_site.py) as admin.site."""

    # Named in INSTALLED_APPS; not the configuration of the accounts app.
    default = False
    default_site = "accounts.admin_site.AdminSite"
