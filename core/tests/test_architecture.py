"""The import graph keeps the layout's rules (docs/architecture.md).

Read from the code with `ast`: every `import` and `from … import`, at module
level and inside functions, of every module of the project's packages but
their tests. A setting or URL that names a module by string (INSTALLED_APPS,
ROOT_URLCONF, `include("catalog.urls")`) is no import.
"""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
APPS = {"accounts", "catalog", "pricing", "carts", "orders"}
PACKAGES = {"core", "demo", "shopswift", *APPS}

# The packages each package may import. core is the ground layer; accounts
# sits beside the others and uses only core; orders → carts → pricing →
# catalog (pricing: the shipping, tax and voucher rules both price by);
# demo (the demo store) uses every app; shopswift's settings and root URLs
# name the apps' modules by string, but its urls.py imports a view or two.
# Nothing imports demo or shopswift.
ALLOWED = {
    "core": set(),
    "accounts": {"core"},
    "catalog": {"core", "accounts"},
    "pricing": {"core", "accounts", "catalog"},
    "carts": {"core", "accounts", "catalog", "pricing"},
    "orders": {"core", "accounts", "catalog", "pricing", "carts"},
    "demo": {"core", *APPS},
    "shopswift": {"core", *APPS},
}

# Domain modules: what the API and the pages adapt, never the other way round.
DOMAIN_MODULES = {
    "models",
    "managers",
    "services",
    "tasks",
    "queries",
    "emails",
    "forms",
    "exceptions",
}

# Underscore attributes that are public API by their owners' documentation.
DOCUMENTED_UNDERSCORE_NAMES = {
    # Django's Model _meta API (docs: ref/models/meta).
    "_meta": "Django",
    # Django's manager for reads and writes that must see every row, bypassing
    # a custom default manager (docs: topics/db/managers, "Base managers").
    "_base_manager": "Django",
    # A named tuple's method (urlsplit's result); the underscore only keeps it
    # apart from field names (docs: collections.namedtuple).
    "_replace": "Python",
    # `logging._srcfile = None` skips finding each record's caller, as the
    # logging HOWTO's "Optimization" section says to.
    "_srcfile": "Python",
}


def module_name(path):
    parts = path.relative_to(BASE_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules():
    """{module name: (path, parsed tree)} of every module but the tests."""
    modules = {}
    for package in sorted(PACKAGES):
        for path in sorted((BASE_DIR / package).rglob("*.py")):
            if "tests" in path.relative_to(BASE_DIR).parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            modules[module_name(path)] = (path, tree)
    return modules


MODULES = project_modules()


def imported_names(name, path, tree):
    """Each (imported module, imported name or None) of a module, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, source] if source else base)
            for alias in node.names:
                yield source, alias.name


def imported_modules(name):
    """The project modules a module imports (`from a import b`: a.b if a module)."""
    path, tree = MODULES[name]
    found = set()
    for source, imported in imported_names(name, path, tree):
        if imported is not None and f"{source}.{imported}" in MODULES:
            found.add(f"{source}.{imported}")
        elif source.split(".")[0] in PACKAGES:
            found.add(source)
    return found


IMPORTS = {name: imported_modules(name) for name in MODULES}


def top(name):
    return name.split(".")[0]


def cycles(graph):
    """The strongly connected components of more than one node (Tarjan's)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def package_graph():
    graph = defaultdict(set)
    for name, targets in IMPORTS.items():
        for target in targets:
            if top(target) != top(name):
                graph[top(name)].add(top(target))
    return graph


def test_the_packages_import_each_other_without_a_cycle():
    assert cycles(package_graph()) == []


def test_each_package_imports_only_the_packages_below_it():
    graph = package_graph()

    beyond = {
        package: sorted(graph[package] - ALLOWED[package])
        for package in sorted(PACKAGES)
        if graph[package] - ALLOWED[package]
    }

    assert beyond == {}


def test_the_modules_of_one_package_import_each_other_without_a_cycle():
    graph = {
        name: {target for target in targets if top(target) == top(name)}
        for name, targets in IMPORTS.items()
    }

    assert cycles(graph) == []


def is_adapter(name):
    """An app's API package or a views module: what adapts the domain to HTTP."""
    parts = name.split(".")
    return (parts[0] in APPS and "api" in parts[1:]) or parts[-1] == "views"


def test_no_domain_module_imports_the_api_or_the_views():
    imports = {
        name: sorted(target for target in targets if is_adapter(target))
        for name, targets in IMPORTS.items()
        if name.split(".")[-1] in DOMAIN_MODULES
    }

    assert {name: targets for name, targets in imports.items() if targets} == {}


def is_private(attribute):
    return attribute.startswith("_") and not attribute.startswith("__")


def own_names(tree):
    """The underscore names a module defines: its functions, classes, globals and
    the attributes it sets on self or cls."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and is_self(node.value)
        ):
            names.add(node.attr)
    return {name for name in names if is_private(name)}


def is_self(node):
    """`self`, `cls` or `type(self)`: the object whose own names a class uses."""
    if isinstance(node, ast.Name):
        return node.id in ("self", "cls")
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "type"
        and len(node.args) == 1
        and is_self(node.args[0])
    )


def underscore_uses(name):
    """`from x import _y` and `x._y` of names the module does not define itself."""
    path, tree = MODULES[name]
    own = own_names(tree)
    uses = []
    for source, imported in imported_names(name, path, tree):
        if imported is not None and is_private(imported):
            uses.append(f"from {source} import {imported}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and is_private(node.attr)
            and not is_self(node.value)
            and node.attr not in own
            and node.attr not in DOCUMENTED_UNDERSCORE_NAMES
        ):
            uses.append(f"line {node.lineno}: {ast.unparse(node)}")
    return uses


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_reaches_into_another_modules_underscore_names(name):
    assert underscore_uses(name) == []
