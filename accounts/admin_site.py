"""The store's admin site: Django's, with its login limited like every login
and a second factor (an authenticator app's code) for staff who set one up.

It is the default site (accounts.apps.AdminConfig), so every app's
`@admin.register` lands here and `admin.site.urls` serves it. The rules of
the second factor are accounts.two_factor's.
"""

import io
from base64 import b32encode
from functools import update_wrapper

import django_otp
import segno
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from accounts import limits, two_factor
from accounts.forms import LoginForm
from accounts.two_factor import Admission
from core.pages import add_service_errors, mark_throttled


def code_field(label, **kwargs):
    return forms.CharField(
        label=label,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
        **kwargs,
    )


class AdminLoginForm(LoginForm, AdminAuthenticationForm):
    """The admin's login: staff only, failures counted with the API's and the
    login page's (accounts.limits), and the authenticator's code for those
    who set one up."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        # One answer for a wrong password and a wrong or missing code, so
        # that a refusal never tells the password was right.
        "invalid_login": "Please enter the correct %(username)s, password and "
        "authentication code for a staff account.",
    }

    otp_token = code_field(
        "Authentication code",
        required=False,
        help_text="The 6 digits your authenticator app shows, if you set one up.",
    )

    def clean(self):
        cleaned_data = super().clean()
        user = self.get_user()
        device = two_factor.authenticator(user) if user is not None else None
        if device is None:
            return cleaned_data
        if not two_factor.verify_code(
            device=device, code=cleaned_data.get("otp_token", "")
        ):
            limits.record_failed_login(self.request, cleaned_data["username"])
            raise self.get_invalid_login_error()
        # django-otp keeps the device in the session when Django logs the
        # user in: the session is then verified.
        user.otp_device = device  # type: ignore[attr-defined]  # django-otp's own attribute
        return cleaned_data


class AuthenticatorSetupForm(forms.Form):
    code = code_field("Code")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class AdminSite(admin.AdminSite):
    login_form = AdminLoginForm

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        # Asked several times a page (the view, the sidebar, the header):
        # the user's authenticator is looked up once a request.
        user = request.user
        if getattr(request, "admin_admission", (None,))[0] != user.pk:
            request.admin_admission = (user.pk, two_factor.admission(user))
        return request.admin_admission[1] is Admission.OPEN

    def get_urls(self):
        return [
            path(
                "two-factor/",
                self.authenticator_view(self.authenticator_setup),
                name="authenticator_setup",
            ),
            path(
                "two-factor/qr.svg",
                self.authenticator_view(self.authenticator_qr_code),
                name="authenticator_qr_code",
            ),
            # Before Django's, whose last pattern catches every other path.
            *super().get_urls(),
        ]

    def login(self, request, extra_context=None):
        if request.method == "GET" and self._needs_authenticator(request):
            return self._to_authenticator_setup()
        response = super().login(request, extra_context)
        if request.method == "POST" and self._needs_authenticator(request):
            # Logged in by the password: the admin opens after the setup.
            return self._to_authenticator_setup()
        # Django's login view renders a refused form as 200; a limited one is
        # a 429 that says when to retry, as on the store's login page.
        form = (getattr(response, "context_data", None) or {}).get("form")
        if form is not None and form.retry_after is not None:
            mark_throttled(response, form.retry_after)
        return response

    def authenticator_view(self, view):
        """Wrap a view of the authenticator's setup, which the admin's own
        views (has_permission) would refuse to a superuser still without one.

        Open to active staff, but not to a session that skipped the code of
        an authenticator already set up: a password alone must not be enough
        to replace it.
        """

        def inner(request):
            user = request.user
            if (
                not user.is_active
                or not user.is_staff
                or two_factor.admission(user) is Admission.NEEDS_CODE
            ):
                return redirect_to_login(
                    request.get_full_path(),
                    reverse("admin:login", current_app=self.name),
                )
            return view(request)

        return csrf_protect(never_cache(update_wrapper(inner, view)))

    def authenticator_setup(self, request):
        device = two_factor.start_authenticator_setup(user=request.user)
        form = AuthenticatorSetupForm(request.POST or None)
        if form.is_valid():
            try:
                device = two_factor.confirm_authenticator(
                    user=request.user, code=form.cleaned_data["code"]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                # This session gave the right code: it is verified.
                django_otp.login(request, device)
                messages.success(
                    request,
                    "Two-factor sign-in is on: the admin's login now asks for "
                    "your app's code.",
                )
                return HttpResponseRedirect(
                    reverse("admin:index", current_app=self.name)
                )
        context = {
            **self.each_context(request),
            "title": "Two-factor sign-in",
            "form": form,
            "is_on": two_factor.authenticator(request.user) is not None,
            "secret": b32encode(device.bin_key).decode(),
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/authenticator_setup.html", context)

    def authenticator_qr_code(self, request):
        """The QR code of the authenticator being set up, as an SVG image.

        An image of this origin, as the Content Security Policy allows; it
        carries the secret, so it is never cached (authenticator_view).
        """
        device = two_factor.start_authenticator_setup(user=request.user)
        image = io.BytesIO()
        segno.make(device.config_url, error="m").save(image, kind="svg", scale=5)
        return HttpResponse(image.getvalue(), content_type="image/svg+xml")

    def _needs_authenticator(self, request):
        user = request.user
        return (
            user.is_active
            and user.is_staff
            and two_factor.admission(user) is Admission.NEEDS_AUTHENTICATOR
        )

    def _to_authenticator_setup(self):
        return HttpResponseRedirect(
            reverse("admin:authenticator_setup", current_app=self.name)
        )
