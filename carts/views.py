"""The cart page and its forms: add (from the product page), update, remove.

Thin adapters over carts.services, for anonymous shoppers (a session cart,
carts/session.py) and logged-in ones (the account's cart) alike. Every
action ends with a message; a refused one shows its error beside the field
that caused it, with what was typed kept: its page again, as Django's
TemplateResponse of that page's template and context (the product page's
from catalog.storefront), never by running another view.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.generic import TemplateView, View

from carts import services
from carts.forms import AddItemForm, SetQuantityForm, VoucherForm
from carts.models import CartItem
from carts.session import current_cart
from catalog import services as catalog_services
from catalog import storefront
from catalog.exceptions import InsufficientStock
from catalog.models import Product, ProductVariant, options_text
from core import pages, ratelimit
from pricing.exceptions import VoucherInvalid

# The API's cart endpoints count under the same name, so a shopper's cart
# writes share one counter whichever interface makes them.
CART_WRITE_LIMIT = "RATELIMIT_CART_WRITE"
CART_TEMPLATE = "carts/cart_detail.html"
LINE_GONE = "That item is no longer in your cart."


@dataclass
class Line:
    """A cart line as the page shows it: the line, its form, what stops it."""

    item: CartItem
    form: SetQuantityForm
    warning: str = ""
    # The variant's options, "Size: M, Colour: Red"; empty for a default one.
    options: str = ""


def warning_text(warning):
    """Say what a cart warning means and what to do about it."""
    if warning["code"] == "inactive":
        return "No longer for sale: remove it to check out."
    if warning["available"] == 0:
        return "Out of stock: remove it to check out."
    return f"Only {warning['available']} left: lower the quantity to check out."


def shortage_text(product, error, *, adding=0):
    """Say why the stock refused a line's quantity."""
    available = error.available
    if available == 0:
        return f"{product.name} is out of stock."
    text = f"Only {available} of {product.name} in stock"
    held = error.shortages[0].requested - adding if adding else 0
    if held:
        return f"{text}, and your cart already holds {held}."
    return f"{text}."


def cart_page_context(request, *, line_forms=None, voucher_form=None):
    """The cart page's context: its lines with their forms and warnings, totals.

    `line_forms` maps a line's id to a refused form, shown with its errors;
    `voucher_form` is a refused voucher code.
    """
    cart = current_cart(request, with_lines=True)
    items = list(cart.items.all()) if cart is not None else []
    # Each line shows its product's first picture: all read in one query.
    prefetch_related_objects([item.product for item in items], "images")
    warnings = {}
    if cart is not None:
        warnings = {
            warning["item"]: warning_text(warning)
            for warning in services.cart_warnings(cart=cart)
        }
    line_forms = line_forms or {}
    option_names = catalog_services.option_names(
        product_ids=[item.variant.product_id for item in items if item.variant.options]
    )
    lines = [
        Line(
            item=item,
            form=line_forms.get(item.pk)
            or SetQuantityForm(initial={"quantity": item.quantity}, item=item),
            warning=warnings.get(item.pk, ""),
            options=options_text(
                item.variant.options, option_names.get(item.variant.product_id, ())
            ),
        )
        for item in items
    ]
    return {
        "cart": cart,
        "lines": lines,
        "has_warnings": bool(warnings),
        "price": services.cart_price(cart=cart) if cart and items else None,
        "voucher_form": voucher_form or VoucherForm(),
        # The header's count, known here without another query.
        "cart_count": sum(item.quantity for item in items),
    }


class CartView(TemplateView):
    """The cart: lines with Quantity, Update and Remove; totals; Checkout."""

    template_name = CART_TEMPLATE

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(cart_page_context(self.request))
        return context


def render_cart(request, *, status=200, line_forms=None, voucher_form=None):
    """The cart page again, with a refused line's or voucher's form or a message."""
    context = cart_page_context(
        request, line_forms=line_forms, voucher_form=voucher_form
    )
    return TemplateResponse(request, CART_TEMPLATE, context, status=status)


def render_throttled(request, error):
    """Refuse a cart change past the rate limit: the cart page, 429."""
    messages.error(request, pages.retry_message(error))
    return pages.mark_throttled(render_cart(request), error.retry_after)


def limit_cart_writes(request):
    ratelimit.limit_user(
        request, CART_WRITE_LIMIT, message="Too many changes to your cart."
    )


class CartWriteView(View):
    """A cart form's POST, counted against the cart write limit."""

    http_method_names = ["post", "options"]

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            try:
                limit_cart_writes(request)
            except ratelimit.RateLimitExceeded as error:
                return render_throttled(request, error)
        return super().dispatch(request, *args, **kwargs)


class AddItemView(CartWriteView):
    """The product page's `Add to cart`: into the cart, or back with the error."""

    def post(self, request):
        form = AddItemForm(request.POST)
        form.is_valid()
        product_id = form.cleaned_data.get("product")
        product = (
            Product.objects.active().with_category().filter(pk=product_id).first()
            if product_id is not None
            else None
        )
        if product is None:
            messages.error(request, "That product is not for sale.")
            return redirect("carts:detail")
        if form.errors:
            return self.product_page(request, product, form, status=400)
        quantity = form.cleaned_data["quantity"]
        try:
            variant = self.chosen_variant(product, form.cleaned_data.get("variant"))
            # Made once the variant is known: a refused one leaves no cart.
            cart = current_cart(request, create=True)
            services.add_item(cart=cart, variant=variant, quantity=quantity)
        except InsufficientStock as error:
            form.add_error("quantity", shortage_text(product, error, adding=quantity))
            return self.product_page(request, product, form, status=409)
        except ValidationError as error:
            if "product" in error.message_dict:
                messages.error(request, f"{product.name} is no longer for sale.")
                return redirect("carts:detail")
            if "variant" in error.message_dict:
                form.add_error(None, error.message_dict["variant"])
            else:
                pages.add_service_errors(form, error)
            return self.product_page(request, product, form, status=400)
        messages.success(
            request,
            f"Added {quantity} \N{MULTIPLICATION SIGN} {product.name} to your cart.",
        )
        return redirect("carts:detail")

    @staticmethod
    def chosen_variant(product, variant_id):
        """The variant the form names, or the product's one variant."""
        if variant_id is None:
            return services.sold_variant(product=product)
        variant = ProductVariant.objects.filter(pk=variant_id, product=product).first()
        if variant is None:
            raise ValidationError({"variant": services.VARIANT_NOT_FOR_SALE})
        return variant

    def product_page(self, request, product, form, *, status):
        """The product page again, the error beside its Quantity field."""
        context = {
            **storefront.product_detail_context(
                product, variant_id=form.cleaned_data.get("variant")
            ),
            "add_form": form,
        }
        return TemplateResponse(
            request, storefront.PRODUCT_DETAIL_TEMPLATE, context, status=status
        )


class LineView(CartWriteView):
    """A POST about one line of the shopper's own cart."""

    def post(self, request, pk):
        cart = current_cart(request)
        item = None
        if cart is not None:
            item = CartItem.objects.with_product().filter(pk=pk, cart=cart).first()
        if item is None:
            # Removed already (a second click), or not this shopper's line.
            messages.info(request, LINE_GONE)
            return redirect("carts:detail")
        return self.change(request, item)

    def change(self, request: HttpRequest, item: CartItem) -> HttpResponse:
        """Act on the shopper's line, which exists; each view says how."""
        raise NotImplementedError


class UpdateLineView(LineView):
    """A line's `Update`: the new quantity, or the cart again with the error."""

    def change(self, request: HttpRequest, item: CartItem) -> HttpResponse:
        form = SetQuantityForm(request.POST, item=item)
        if form.is_valid():
            quantity = form.cleaned_data["quantity"]
            try:
                services.set_item_quantity(item=item, quantity=quantity)
            except CartItem.DoesNotExist:
                messages.info(request, LINE_GONE)
                return redirect("carts:detail")
            except InsufficientStock as error:
                form.add_error("quantity", shortage_text(item.product, error))
                return render_cart(request, status=409, line_forms={item.pk: form})
            except ValidationError as error:
                if error.message_dict.keys() & {"product", "variant"}:
                    form.add_error(
                        "quantity",
                        f"{item.product.name} is no longer for sale: remove it.",
                    )
                else:
                    pages.add_service_errors(form, error, fallback="quantity")
            else:
                messages.success(
                    request, f"{item.product.name}: your cart now holds {quantity}."
                )
                return redirect("carts:detail")
        return render_cart(request, status=400, line_forms={item.pk: form})


class RemoveLineView(LineView):
    """A line's `Remove`."""

    def change(self, request: HttpRequest, item: CartItem) -> HttpResponse:
        services.remove_item(item=item)
        messages.success(request, f"Removed {item.product.name} from your cart.")
        return redirect("carts:detail")


class ApplyVoucherView(CartWriteView):
    """The cart's `Apply` voucher: on the cart, or the cart again with why not."""

    def post(self, request):
        form = VoucherForm(request.POST)
        cart = current_cart(request)
        if cart is None:
            return redirect("carts:detail")
        if form.is_valid():
            user = request.user if request.user.is_authenticated else None
            try:
                services.apply_voucher(
                    cart=cart, code=form.cleaned_data["code"], user=user
                )
            except VoucherInvalid as error:
                form.add_error("code", str(error))
            else:
                messages.success(request, "Voucher applied.")
                return redirect("carts:detail")
        return render_cart(request, status=400, voucher_form=form)


class RemoveVoucherView(CartWriteView):
    """The cart's `Remove` voucher."""

    def post(self, request):
        cart = current_cart(request)
        if cart is not None:
            services.remove_voucher(cart=cart)
            messages.success(request, "Voucher removed.")
        return redirect("carts:detail")
