"""No module of the store imports, as it loads, one that imports it back.

Such a cycle works only while the order the modules load in suits it, and it
hides which of the two is the lower layer. Imports made inside a function
run later and are not counted.
"""

import ast
from graphlib import CycleError, TopologicalSorter

import pytest
from django.conf import settings

PACKAGES = (
    "core",
    "accounts",
    "catalog",
    "carts",
    "orders",
    "demo",
    "shopswift",
    "tests",
)


def module_name(path):
    parts = path.relative_to(settings.BASE_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_at_load(path, modules):
    """The store's modules that the file's top-level statements import."""
    imported = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from orders import services` imports orders.services.
            names = [node.module] + [
                f"{node.module}.{alias.name}" for alias in node.names
            ]
        else:
            continue
        imported.update(name for name in names if name in modules)
    return imported


def test_no_module_imports_one_that_imports_it_back():
    paths = {
        module_name(path): path
        for package in PACKAGES
        for path in (settings.BASE_DIR / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    graph = {
        module: imports_at_load(path, paths) - {module}
        for module, path in paths.items()
    }

    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        pytest.fail("An import cycle: " + " → ".join(error.args[1]))
