"""The shopper's account pages: register, log in and out, reset, account."""

import logging
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, TemplateView, View

from accounts import limits, services, tasks
from accounts.authentication import AuthenticatedHttpRequest
from accounts.forms import (
    AddressForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    ProfileForm,
    RegistrationForm,
    SetPasswordForm,
)
from core import ratelimit
from core.pages import add_service_errors, mark_throttled, render_throttled

logger = logging.getLogger(__name__)

PASSWORD_RESET_GROUP = "accounts.password_reset"
# One counter per user with the API's (accounts.api.views).


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.retry_after is not None:
            mark_throttled(response, form.retry_after)
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.success(request, "You are logged out.")
        return response


@method_decorator([sensitive_post_parameters(), never_cache], name="dispatch")
class RegisterView(auth_views.RedirectURLMixin, FormView):
    form_class = RegistrationForm
    template_name = "accounts/register.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("account")
        return super().dispatch(request, *args, **kwargs)

    def get_default_redirect_url(self):
        return settings.LOGIN_REDIRECT_URL

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context[self.redirect_field_name] = self.get_redirect_url()
        return context

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        try:
            limits.limit_registration(request, request.POST.get("email"))
        except ratelimit.RateLimitExceeded as error:
            return render_throttled(error, form, self.form_invalid)
        if form.is_valid():
            return self.form_valid(form)
        return self.form_invalid(form)

    def form_valid(self, form):
        try:
            user = services.register_user(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except ValidationError as error:
            add_service_errors(form, error, field_names={"password": "password1"})
            return self.form_invalid(form)
        # The session is what the carts app's user_logged_in receiver uses.
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(self.request, "Welcome! Your account is ready.")
        return redirect(self.get_success_url())


class RedirectThenRun(HttpResponseRedirect):
    """A redirect that runs `then` once it has been sent.

    Servers close a response after its last byte has gone (WSGI, PEP 3333,
    and Django's ASGI handler alike), and Django's test client before it
    hands the response back; `then` runs there, once.
    """

    def __init__(self, redirect_to, *, then):
        super().__init__(redirect_to)
        self.then = then

    def close(self):
        then, self.then = self.then, None
        try:
            if then is not None:
                then()
        except Exception:
            # The answer has gone: the logs are the only place left to tell.
            logger.exception("The work that follows a %s failed", self.url)
        finally:
            super().close()


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link: the same answer, as fast, for every address.

    Django's view looks the address up and hands the e-mail to the mail
    server before answering, so an address with an account was answered
    later (a mail server's round trip), which told the attacker it has one.
    Here a valid address is answered at once with the redirect, and the
    lookup and the e-mail follow in a task sent only once the answer has
    gone: with a broker or without one (tasks run in this process), nothing
    of the account is in the answer or its time.
    """

    form_class = PasswordResetForm
    template_name = "accounts/password_reset_form.html"

    def post(self, request, *args, **kwargs):
        try:
            ratelimit.limit_request(
                request,
                group=PASSWORD_RESET_GROUP,
                setting="RATELIMIT_PASSWORD_RESET",
                message="Too many password reset requests from your network.",
            )
        except ratelimit.RateLimitExceeded as error:
            return render_throttled(error, self.get_form(), self.form_invalid)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        send = partial(
            tasks.send_password_reset.delay,
            email=form.cleaned_data["email"],
            domain=get_current_site(self.request).domain,
            use_https=self.request.is_secure(),
        )
        return RedirectThenRun(self.get_success_url(), then=send)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = SetPasswordForm
    template_name = "accounts/password_reset_confirm.html"

    def form_valid(self, form):
        # Django's form_valid saves the form; the service also ends the
        # user's refresh tokens and sessions and tells them, as with every
        # password change.
        services.set_password(
            user=form.user, password=form.cleaned_data["new_password1"]
        )
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return redirect(self.get_success_url())


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class AccountView(LoginRequiredMixin, TemplateView):
    """The profile and password forms; the profile form posts here.

    A new email address is only asked for here (services.update_profile):
    the page answers the same whether or not it belongs to an account.
    """

    request: AuthenticatedHttpRequest
    template_name = "accounts/account.html"
    # The form this view's POST reads, its name on the page, and the
    # service's field names that the form names otherwise.
    form_class: type[ProfileForm | PasswordChangeForm] = ProfileForm
    form_name = "profile_form"
    field_names: dict[str, str] = {}

    def get_context_data(self, **kwargs):
        user = self.request.user
        kwargs.setdefault(
            "profile_form",
            ProfileForm(
                initial={
                    "email": user.email,
                    "first_name": user.first_name,
                    "last_name": user.last_name,
                }
            ),
        )
        kwargs.setdefault("password_form", PasswordChangeForm())
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                message = self.change(form.cleaned_data)
            except ratelimit.RateLimitExceeded as error:
                return render_throttled(error, form, self.render_form)
            except ValidationError as error:
                if "current_password" in error.error_dict:
                    limits.record_failed_login(request, request.user.email)
                add_service_errors(form, error, field_names=self.field_names)
            else:
                messages.success(request, message)
                return redirect("account")
        return self.render_form(form)

    def render_form(self, form):
        return self.render_to_response(self.get_context_data(**{self.form_name: form}))

    def change(self, data):
        """Save the profile form's changes; return what the page says of them."""
        request = self.request
        user = request.user
        if services.is_email_change(user=user, email=data["email"]):
            limits.limit_email_change(request, user)
        change = services.update_profile(user=user, **data)
        if change.pending_email:
            return (
                "Your details are saved. To change your email address, open the "
                f"link we sent to {change.pending_email}."
            )
        return "Your details are saved."


class SignOutEverywhereView(LoginRequiredMixin, View):
    """End the user's other sessions: other browsers, and every API token.

    This browser stays logged in: the person who presses the button is the
    one at it, and logging them out too would only make them log in again.
    """

    http_method_names = ["post", "options"]

    def post(self, request, *args, **kwargs):
        user = services.sign_out_everywhere(user=request.user)
        update_session_auth_hash(request, user)
        messages.success(
            request,
            "You are logged out everywhere else: other browsers and apps must "
            "log in again.",
        )
        return redirect("account")


@method_decorator(never_cache, name="dispatch")
class EmailChangeConfirmView(TemplateView):
    """The link sent to a new email address: GET asks, POST applies.

    Only the POST changes the address, so a mail scanner that opens the link
    changes nothing. No login is needed: the signed link is the proof.
    """

    template_name = "accounts/email_change_confirm.html"

    def get(self, request, *args, **kwargs):
        try:
            change = services.read_email_change(token=kwargs["token"])
        except ValidationError as error:
            return self.refused(error)
        return self.render_to_response(self.get_context_data(email=change.email))

    def post(self, request, *args, **kwargs):
        # Who this browser is, read before the change ends the user's sessions.
        viewer_id = request.user.pk
        try:
            user = services.confirm_email_change(token=kwargs["token"])
        except ValidationError as error:
            return self.refused(error)
        messages.success(request, f"Your email address is now {user.email}.")
        if viewer_id != user.pk:
            return redirect("login")
        # Every other session of the user ended; this browser stays.
        update_session_auth_hash(request, user)
        return redirect("account")

    def refused(self, error):
        context = self.get_context_data(error=" ".join(error.messages))
        return self.render_to_response(context, status=400)


@method_decorator(sensitive_post_parameters(), name="dispatch")
class AccountPasswordView(AccountView):
    """The password form posts here; it shows on the account page."""

    http_method_names = ["post", "options"]
    form_class = PasswordChangeForm
    form_name = "password_form"
    field_names = {"new_password": "new_password1"}

    def change(self, data):
        """Change the password; return what the page says of it."""
        request = self.request
        user = request.user
        # Wrong current passwords count as failed logins: a left-open
        # session must not become a way to guess the password.
        limits.check_login(request, user.email)
        services.change_password(
            user=user,
            current_password=data["current_password"],
            new_password=data["new_password1"],
        )
        # Keep this browser logged in; other sessions end.
        update_session_auth_hash(request, user)
        return "Your password is changed."


# --- Address book -------------------------------------------------------------------


def own_address(request, pk):
    """The shopper's own address with this id; another's is 404."""
    return get_object_or_404(request.user.addresses, pk=pk)


class AddressListView(LoginRequiredMixin, TemplateView):
    request: AuthenticatedHttpRequest
    template_name = "accounts/address_list.html"

    def get_context_data(self, **kwargs):
        kwargs["addresses"] = self.request.user.addresses.all()
        kwargs["book_full"] = len(kwargs["addresses"]) >= services.MAX_ADDRESSES
        return super().get_context_data(**kwargs)


class AddressFormView(LoginRequiredMixin, FormView):
    """Add an address (no pk in the URL) or change one."""

    request: AuthenticatedHttpRequest
    form_class = AddressForm
    template_name = "accounts/address_form.html"

    @cached_property
    def address(self):
        """The address being changed (None when adding): the shopper's own."""
        if "pk" not in self.kwargs:
            return None
        return own_address(self.request, self.kwargs["pk"])

    def get_initial(self):
        address = self.address
        if address is None:
            return {"is_default_shipping": not self.request.user.addresses.exists()}
        return {
            **address.as_shipping_address(),
            "is_default_shipping": address.is_default_shipping,
        }

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if self.address is not None and self.address.is_default_shipping:
            # Already the default: another address is made the default instead.
            del form.fields["is_default_shipping"]
        return form

    def get_context_data(self, **kwargs):
        kwargs["editing"] = self.address is not None
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        default = form.cleaned_data.get("is_default_shipping", False)
        try:
            if self.address is not None:
                services.update_address(
                    address=self.address,
                    data=form.typed_address(),
                    default=default or None,
                )
                messages.success(self.request, "Your address is saved.")
            else:
                services.add_address(
                    user=self.request.user,
                    data=form.typed_address(),
                    make_default=default,
                )
                messages.success(self.request, "The address is in your address book.")
        except ValidationError as error:
            add_service_errors(form, error)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        return redirect("account-addresses")

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class AddressDeleteView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        services.delete_address(address=own_address(request, pk))
        messages.success(request, "The address is deleted. Orders sent to it keep it.")
        return redirect("account-addresses")


class AddressDefaultView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        services.make_default_address(address=own_address(request, pk))
        messages.success(request, "That is now your default shipping address.")
        return redirect("account-addresses")
