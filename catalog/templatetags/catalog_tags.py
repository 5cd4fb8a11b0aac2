from django import template
from django.conf import settings
from django.template.defaulttags import querystring

from catalog import images, storefront

register = template.Library()


@register.inclusion_tag("catalog/includes/stock_state.html")
def stock_state(product):
    """Say whether a product can be bought: in stock, only a few left, or not."""
    if product.stock <= 0:
        state, label = "out", "Out of stock"
    elif product.stock <= settings.CATALOG_LOW_STOCK:
        state, label = "low", f"Only {product.stock} left"
    else:
        state, label = "in", "In stock"
    return {"state": state, "label": label}


@register.inclusion_tag("catalog/includes/picture.html")
def product_picture(image, rendition, sizes, loading=""):
    """A product image's rendition as a <picture>: WebP, else JPEG; 1x and 2x."""
    return {
        "picture": images.picture(image, rendition),
        "alt": image.alt_text,
        "sizes": sizes,
        "loading": loading,
    }


@register.inclusion_tag("includes/category_menu.html", takes_context=True)
def category_menu(context):
    """The header's links to the top-level categories (cached).

    The one that holds the page's category, if any, is marked current.
    """
    category = context.get("category")
    current = None
    if isinstance(category, storefront.CategoryNode):
        current = ([*category.ancestors, category])[0].slug
    return {"categories": storefront.category_tree().roots, "current": current}


@register.simple_tag(takes_context=True)
def query_suffix(context, *args, **kwargs):
    """Django's {% querystring %}, but nothing rather than a lone "?".

    For links to another path that keep the applied filters.
    """
    query = querystring(context, *args, **kwargs)
    return "" if query == "?" else query


@register.filter
def count_for(counts, slug):
    """The count that a {slug: count} map of the facets holds for `slug` (or 0)."""
    return counts.get(slug, 0)
