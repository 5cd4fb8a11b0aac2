"""What the page views share: a refusal shown on the page whose form caused it."""

from django.core.exceptions import ValidationError


def add_service_errors(form, error, *, field_names=None, fallback=None):
    """Show a service's ValidationError on the form, beside the fields it names.

    `field_names` maps the service's names to the form's where they differ;
    an error about no field of the form goes to `fallback` (None: the top).
    """
    if not hasattr(error, "error_dict"):
        form.add_error(fallback, error)
        return
    field_names = field_names or {}
    for name, messages in error.error_dict.items():
        field = field_names.get(name, name)
        form.add_error(
            field if field in form.fields else fallback, ValidationError(messages)
        )


def retry_message(error):
    """Say that a rate limit refused the request, and when to try again."""
    return f"{error} Please try again in {error.retry_after} seconds."


def mark_throttled(response, retry_after):
    """Make a page's response the refusal of a rate limit: 429 with Retry-After."""
    response.status_code = 429
    response["Retry-After"] = str(retry_after)
    return response


def render_throttled(error, form, render):
    """Show the form again with the rate limit's refusal on top, as a 429.

    `render(form)` makes the page's response.
    """
    form.add_error(None, retry_message(error))
    return mark_throttled(render(form), error.retry_after)
