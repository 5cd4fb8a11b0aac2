"""The store's admin site: Django's, with its login limited like every login.

It is the default site (shopswift.apps.AdminConfig), so every app's
`@admin.register` lands here and `admin.site.urls` serves it.
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm

from accounts.forms import LoginForm


class AdminLoginForm(LoginForm, AdminAuthenticationForm):
    """The admin's login: staff only, failures counted with the API's and
    the login page's (accounts.ratelimit)."""


class AdminSite(admin.AdminSite):
    login_form = AdminLoginForm

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        # Django's login view renders a refused form as 200; a limited one is
        # a 429 that says when to retry, as on the store's login page.
        form = (getattr(response, "context_data", None) or {}).get("form")
        if form is not None and form.retry_after is not None:
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response
