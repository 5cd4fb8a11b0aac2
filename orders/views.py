"""The checkout, order and order-history pages.

Thin adapters over orders.services, as the orders API is: a form reads what
was typed, one service acts, and the page redirects with a message or shows
the form again with the error beside the field that caused it.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.views.generic import TemplateView, View

from accounts.addresses import COUNTRY_CODES
from accounts.authentication import AuthenticatedHttpRequest
from accounts.models import User
from carts import services as cart_services
from carts.models import Cart
from carts.session import session_cart_id
from catalog.exceptions import InsufficientStock
from core import ratelimit
from core.pages import render_throttled
from core.templatetags.store import money as money_text
from orders import access, limits, services
from orders.exceptions import (
    CartEmpty,
    IdempotencyKeyReused,
    InvalidTransition,
    PaymentDeclined,
    PriceChanged,
)
from orders.forms import KEY_PATTERN, CheckoutForm, PayForm
from orders.models import Order
from orders.payments import TestCardGateway, get_gateway
from pricing import pipeline
from pricing import services as pricing_services

# The API's checkout counts under the same name: one counter per customer.
CHECKOUT_LIMIT = "RATELIMIT_CHECKOUT"
PAYMENT_METHOD = "test-card"
HISTORY_PAGE_SIZE = 10


PAGE_ALREADY_SENT = (
    "This checkout page was already sent and placed an order with the details "
    "it held then; the order is listed here. Nothing was changed or ordered again."
)


def new_idempotency_key():
    """A fresh key for one checkout page: its double submits make one order."""
    return secrets.token_urlsafe(24)


def shortage_lines(error, items):
    """Name each line the stock refused, in the shopper's words."""
    names = {item.variant_id: item.product.name for item in items}
    lines = []
    for shortage in error.shortages:
        name = names.get(shortage.variant_id, shortage.sku)
        if not shortage.is_active:
            lines.append(f"{name} is no longer for sale.")
        elif shortage.available == 0:
            lines.append(f"{name} is out of stock.")
        else:
            lines.append(
                f"{name}: only {shortage.available} left, and your cart holds "
                f"{shortage.requested}."
            )
    return lines


class CheckoutView(TemplateView):
    """The address form, the order summary and `Place order`, for customers
    and for guests (with their e-mail address, from the session's cart)."""

    template_name = "orders/order_form.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        # {country: the cart priced by each method there}, for this request.
        self.priced = {}

    def get(self, request, *args, **kwargs):
        cart = self.get_cart()
        if cart is None or not cart.items.all():
            messages.info(request, CartEmpty.default_detail)
            return redirect("carts:detail")
        addresses = self.addresses
        options = self.shipping_options(cart, self.page_country(cart, addresses))
        chosen = next(
            (
                method
                for method, _ in options
                if method is not None and method.pk == cart.shipping_method_id
            ),
            options[0][0],
        )
        form = CheckoutForm(
            addresses=addresses,
            shipping_choices=shipping_choices(options),
            initial={"shipping_method": chosen.code if chosen else None},
            guest=self.is_guest,
        )
        return self.render_page(cart, form, key=new_idempotency_key())

    def post(self, request, *args, **kwargs):
        cart = self.get_cart()
        if cart is None:
            messages.info(request, CartEmpty.default_detail)
            return redirect("carts:detail")
        addresses = self.addresses
        country = self.page_country(cart, addresses, data=request.POST)
        form = CheckoutForm(
            request.POST,
            addresses=addresses,
            shipping_choices=shipping_choices(self.shipping_options(cart, country)),
            guest=self.is_guest,
        )
        key = request.POST.get("idempotency_key", "")
        try:
            limits.limit_checkout(request, email=request.POST.get("email", ""))
        except ratelimit.RateLimitExceeded as error:
            render = partial(self.render_page, cart, key=key)
            return render_throttled(error, form, render)
        if not form.is_valid():
            if not cart.items.all():
                messages.info(request, CartEmpty.default_detail)
                return redirect("carts:detail")
            return self.render_page(cart, form, key=key, status=400)
        try:
            placed = services.place_order(
                user=None if self.is_guest else request.user,
                guest_cart_id=cart.pk if self.is_guest else None,
                email=form.cleaned_data.get("email", ""),
                shipping_address=form.cleaned_data.get("shipping_address"),
                shipping_address_id=form.cleaned_data.get("shipping_address_id"),
                save_address=form.cleaned_data.get("save_address", False),
                shipping_method=form.cleaned_data.get("shipping_method"),
                note=form.cleaned_data["note"],
                expected_total=form.cleaned_data["expected_total"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except CartEmpty as error:
            messages.info(request, error.detail)
            return redirect("carts:detail")
        except IdempotencyKeyReused:
            # This page was sent before (then changed and sent again, after
            # going back): it placed its order with what it held then.
            messages.warning(request, PAGE_ALREADY_SENT)
            return redirect("orders:history")
        except InsufficientStock as error:
            items = cart.items.all()
            cart = self.get_cart()  # read again: the stock figures have moved
            return self.render_page(
                cart,
                form,
                key=key,
                status=409,
                stock_problems=shortage_lines(error, items),
            )
        except PriceChanged as error:
            form.add_error(
                None,
                f"The total is now {error.extra['total']} "
                f"{error.extra['currency']}, not {error.extra['expected_total']}: "
                "prices may have changed since this page was shown, and tax "
                "and shipping depend on the address's country. Check the "
                "order summary, then place your order again.",
            )
            return self.render_page(self.get_cart(), form, key=key, status=409)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                name = (
                    "address"
                    if field == "shipping_address_id"
                    else field.removeprefix("shipping_address.")
                )
                form.add_error(name if name in form.fields else None, errors)
            return self.render_page(cart, form, key=key, status=400)
        # A repeated submit (same key) lands here too, on the order the first
        # one placed.
        messages.success(
            request,
            f"Thank you! Your order {placed.order.number} is placed. Pay for it "
            "below to complete it.",
        )
        if self.is_guest:
            # The same link the confirmation e-mail carries.
            remember_guest_order(request, placed.order)
            return redirect(access.order_path(placed.order))
        return redirect(placed.order)

    @property
    def is_guest(self) -> bool:
        return not self.request.user.is_authenticated

    @property
    def customer(self) -> User:
        """The logged-in shopper (not for a guest)."""
        user = self.request.user
        assert isinstance(user, User)
        return user

    def get_cart(self):
        """The customer's cart, or the guest's session cart (None: none yet)."""
        carts = Cart.objects.with_lines().select_related("voucher")
        if self.is_guest:
            cart_id = session_cart_id(self.request)
            return carts.anonymous().filter(pk=cart_id).first() if cart_id else None
        user = self.customer
        cart = carts.filter(user=user).first()
        return cart or cart_services.get_user_cart(user=user)

    @cached_property
    def addresses(self):
        """The shopper's saved addresses, the default first (a guest has none)."""
        if self.is_guest:
            return []
        return list(self.customer.addresses.all())

    def page_country(self, cart, addresses, data=None):
        """The country the page prices for: the address sent (a saved one's or
        a typed one's), else the default address's, the cart's, the store's."""
        if data is not None:
            saved = next(
                (a for a in addresses if str(a.pk) == data.get("address")), None
            )
            typed = str(data.get("country", "")).strip().upper()
            if saved is not None:
                return saved.country
            if typed in COUNTRY_CODES:
                return typed
        if addresses:
            return addresses[0].country
        return cart.shipping_country or settings.STORE_COUNTRY

    def shipping_options(self, cart, country):
        """[(method, the cart's figures by it)] for each method that ships to
        `country`, or [(None, the figures by the store's flat rule)]."""
        if country not in self.priced:
            self.priced[country] = self.price_options(cart, country)
        return self.priced[country]

    def price_options(self, cart, country):
        lines = [cart_services.pricing_line(item) for item in cart.items.all()]
        rules = pricing_services.pricing_rules(country)
        methods = rules.methods_for(pipeline.weight_of(lines))
        return pricing_services.price_by_methods(
            lines, rules=rules, methods=methods or [None], voucher=cart.voucher
        )

    def render_page(self, cart, form, *, key, status=200, stock_problems=()):
        items = list(cart.items.all())
        data = form.data if form.is_bound else None
        country = self.page_country(cart, self.addresses, data=data)
        options = self.shipping_options(cart, country)
        chosen_code = (
            form["shipping_method"].value()
            if "shipping_method" in (form.fields)
            else None
        )
        method, breakdown = next(
            (
                (method, breakdown)
                for method, breakdown in options
                if method is not None and method.code == chosen_code
            ),
            options[0],
        )
        warnings = {
            warning["item"]: warning
            for warning in cart_services.cart_warnings(cart=cart)
        }
        context = self.get_context_data(
            form=form,
            lines=[(item, warnings.get(item.pk)) for item in items],
            country=country,
            breakdown=breakdown,
            shipping_name=method.name if method else "",
            stock_problems=stock_problems,
            has_warnings=bool(warnings),
            # The hidden totals come from what this page shows: the total the
            # shopper sees is the one the order must have. One per shipping
            # method, picked by the shopper's choice.
            expected_total=breakdown.total,
            method_totals=[
                (option.code, option_breakdown.total)
                for option, option_breakdown in options
                if option is not None
            ],
            idempotency_key=key
            if KEY_PATTERN.fullmatch(key)
            else new_idempotency_key(),
            cart_count=sum(item.quantity for item in items),
        )
        return self.render_to_response(context, status=status)


def shipping_choices(options):
    """The shipping method's radio buttons: each method with its cost and the
    total it makes; none where the store's flat rate is the only way."""
    choices = []
    for method, breakdown in options:
        if method is None:
            continue
        shipping = money_text(breakdown.shipping_cost)
        total = money_text(breakdown.total)
        label = (
            f"{method.name}: {shipping}"
            if breakdown.shipping_cost
            else (f"{method.name}: free")
        )
        choices.append(
            (method.code, f"{label}, total {total}, {days_text(method.estimated_days)}")
        )
    return choices


def days_text(days):
    """How long a method takes, as shoppers read it."""
    return f"about {days} day" if days == 1 else f"about {days} days"


# The guest orders this session may open: placed here, or opened by a link.
GUEST_ORDERS_KEY = "orders.guest_orders"
GUEST_ORDERS_KEPT = 20


def remember_guest_order(request, order):
    """Let this session open the guest's order again without its link."""
    numbers = [
        n for n in request.session.get(GUEST_ORDERS_KEY, []) if n != order.number
    ]
    request.session[GUEST_ORDERS_KEY] = [order.number, *numbers][:GUEST_ORDERS_KEPT]


@dataclass(frozen=True)
class OrderAccess:
    """An order the request may see, and who acts on it: the customer (or
    staff), or None for the guest holding its link."""

    order: Order
    shopper: User | None


def visible_order(request, number):
    """The order with this number and who may act on it, else 404 (or, for
    a visitor who is not logged in and holds no link to it, the login page)."""
    user = request.user
    if user.is_authenticated:
        order = (
            Order.objects.visible_to(user).with_details().filter(number=number).first()
        )
        if order is not None:
            return OrderAccess(order, user)
    linked = access.order_number_for(request.GET.get("token", "")) == number
    if linked or number in request.session.get(GUEST_ORDERS_KEY, []):
        order = Order.objects.of_guests().with_details().filter(number=number).first()
        if order is not None:
            remember_guest_order(request, order)
            return OrderAccess(order, None)
    if not user.is_authenticated:
        raise NotLoggedIn()
    raise Http404("No such order.")


class NotLoggedIn(Exception):
    """The visitor must log in to see this order."""


class GuestOrderMixin(View):
    """An order page a guest holding the order's link may open too."""

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except NotLoggedIn:
            return redirect_to_login(request.get_full_path())


class OrderDetailView(GuestOrderMixin, TemplateView):
    """An order: lines, totals, status and history; Pay now while pending."""

    template_name = "orders/order_detail.html"

    def get(self, request, number):
        return self.render_page(visible_order(request, number))

    def render_page(self, seen, *, pay_form=None, status=200):
        order, shopper = seen.order, seen.shopper
        is_owner = services.is_owner(order, shopper)
        can_pay = is_owner and order.is_pending
        context = self.get_context_data(
            order=order,
            items=order.items.all(),
            history=order.history.all(),
            address=order.shipping_address,
            is_owner=is_owner,
            is_guest=shopper is None,
            pay_form=(pay_form or PayForm()) if can_pay else None,
            can_cancel=is_owner
            and Order.Status.CANCELLED
            in services.allowed_transitions(order=order, user=shopper),
            pay_by=order.created_at
            + timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES),
            test_cards=isinstance(get_gateway(), TestCardGateway),
        )
        return self.render_to_response(context, status=status)


class PayView(OrderDetailView):
    """`Pay now`: the order's total through the configured gateway."""

    http_method_names = ["post", "options"]

    def post(self, request, number):
        seen = visible_order(request, number)
        order = seen.order
        form = PayForm(request.POST)
        if not form.is_valid():
            return self.render_page(seen, pay_form=form, status=400)
        try:
            order = services.pay_order(
                order=order,
                user=seen.shopper,
                payment_method=PAYMENT_METHOD,
                card_number=form.cleaned_data["card_number"],
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.render_page(seen, pay_form=form, status=400)
        except PaymentDeclined as error:
            messages.error(
                request,
                f"Payment declined: {error.detail} Nothing was charged, and "
                f"order {order.number} is still waiting for payment.",
            )
        except InvalidTransition as error:
            messages.error(request, error.detail)
        else:
            messages.success(
                request, f"Thank you! Your payment is received: {order.number} is paid."
            )
        return redirect(order)


class CancelView(GuestOrderMixin):
    """`Cancel order`, for the customer (or guest) while the order is pending."""

    http_method_names = ["post", "options"]

    def post(self, request, number):
        seen = visible_order(request, number)
        order = seen.order
        try:
            services.cancel_order(order=order, user=seen.shopper)
        except InvalidTransition as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, f"Order {order.number} is cancelled.")
        return redirect(order)


class OrderHistoryView(LoginRequiredMixin, TemplateView):
    """The customer's orders, newest first, a page at a time."""

    request: AuthenticatedHttpRequest
    template_name = "orders/order_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        orders = Order.objects.for_user(self.request.user).only(
            "number", "status", "total", "currency", "created_at"
        )
        context["guest_orders"] = services.guest_orders_to_claim(user=self.request.user)
        paginator = Paginator(orders, HISTORY_PAGE_SIZE)
        # A bad or past-the-end page number shows the first or last page.
        page = paginator.get_page(self.request.GET.get("page"))
        context.update(
            orders=page.object_list,
            page_obj=page,
            page_range=paginator.get_elided_page_range(
                page.number, on_each_side=1, on_ends=1
            ),
            query={},
        )
        return context


class AskToClaimView(LoginRequiredMixin, View):
    """`Send me a link`: the e-mail that adds the guest orders of the
    customer's address to the account, once its link is opened."""

    request: AuthenticatedHttpRequest
    http_method_names = ["post", "options"]

    def post(self, request):
        services.ask_to_claim_guest_orders(user=request.user)
        messages.success(
            request,
            f"We sent a link to {request.user.email}: open it, logged in, to "
            "add your guest orders to your account.",
        )
        return redirect("orders:history")


class ClaimView(LoginRequiredMixin, View):
    """The e-mail's link: the guest orders join the account."""

    request: AuthenticatedHttpRequest

    def get(self, request, token):
        try:
            count = services.claim_guest_orders(user=request.user, token=token)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            orders = "order was" if count == 1 else "orders were"
            messages.success(request, f"{count} guest {orders} added to your account.")
        return redirect("orders:history")
