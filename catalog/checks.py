"""The catalog's system checks."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from catalog import search


@register(Tags.database)
def check_search_config(app_configs, databases=None, **kwargs):
    """The searches' language must exist, and the vectors be written in it.

    A database check (run by `migrate` and `check --database default`): it
    reads the vector trigger's argument from the database.
    """
    if not databases or "default" not in databases:
        return []
    if not search.config_exists(settings.SEARCH_CONFIG):
        return [
            Error(
                f"SEARCH_CONFIG is {settings.SEARCH_CONFIG!r}, which the database "
                "has no text-search configuration of: every search would fail.",
                hint="Name one that `SELECT cfgname FROM pg_ts_config` lists, "
                "such as english or simple.",
                id="catalog.E001",
            )
        ]
    written_in = search.trigger_config()
    # No trigger before the migrations, which write it with the setting.
    if written_in is None or written_in == settings.SEARCH_CONFIG:
        return []
    return [
        Warning(
            f"SEARCH_CONFIG is {settings.SEARCH_CONFIG!r} but the product search "
            f"vectors are written in {written_in!r}: searches would miss "
            "words that the two stem differently.",
            hint="Run `manage.py rebuild_search_index` to write every vector "
            "with SEARCH_CONFIG.",
            id="catalog.W001",
        )
    ]
