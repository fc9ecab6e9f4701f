"""Rules the package's shape keeps, checked over the source without importing it.

Every module under ``src/labinterp`` is parsed with :mod:`ast`. The rules:

``private-name``
    No module takes a ``_private`` name (one leading underscore, not a dunder) from another
    labinterp module: neither ``from labinterp.x import _y`` nor ``x._y`` where ``x`` is an
    imported labinterp module (``catalogue._DATA``). Imports under ``if TYPE_CHECKING:``
    count for this rule, ``private-module`` and ``equations-layer``.
``private-module``
    No module imports a private module (a path part with one leading underscore, such as
    ``labinterp.io._context``), except the ``__init__`` of the package that holds it.
``import-cycle``
    No import cycles among labinterp modules. Imports inside functions count; imports under
    ``if TYPE_CHECKING:`` do not. An import of ``labinterp.a.b`` is an edge to ``labinterp.a.b``
    only (not to the packages above it, which Python has already begun to import).
``equations-layer``
    ``labinterp.equations`` and its submodules import only ``labinterp.errors``,
    ``labinterp.units``, ``labinterp.vocab`` (enums), ``labinterp.equations.*``, the standard
    library, numpy, pandas and pint.
``long-module``
    No module over 600 lines (every line of the file).
``long-function``
    No function or method over 80 lines of code, counted from its ``def`` line to the last
    line of its body, nested functions included, its docstring not (decorators not counted):
    the numpydoc docstrings of public functions are long on purpose.

Violations that exist today are listed in ``KNOWN_VIOLATIONS``, exactly. A violation that
is not listed fails its test, and so does a listed one that no longer exists: the list only
shrinks. Each message names the file, the line and the rule.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "labinterp"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
EQUATIONS = "labinterp.equations"
EQUATIONS_MAY_IMPORT = ("labinterp.errors", "labinterp.units", "labinterp.vocab")
EQUATIONS_THIRD_PARTY = frozenset({"numpy", "pandas", "pint"})

# (rule, where): where is a file for long-module, file::qualified.name for long-function,
# "importer -> imported" for private-name, private-module and equations-layer, and the
# sorted modules of one cycle (joined by " <-> ") for import-cycle. Only ever remove entries.
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()

RULES = (
    "private-name",
    "private-module",
    "import-cycle",
    "equations-layer",
    "long-module",
    "long-function",
)


@dataclass(frozen=True)
class Violation:
    """One broken rule: the allow-list key and a message naming file, line and rule."""

    rule: str
    where: str
    message: str


@dataclass
class Module:
    """One parsed module of the package."""

    name: str
    relpath: str  # below ``src/``: labinterp/io/readers/csv.py
    tree: ast.Module
    lines: int
    is_package: bool


@dataclass(frozen=True)
class Import:
    """One import statement's target, as the importing module sees it."""

    module: str  # the labinterp module (or third-party top level) it loads
    name: str | None  # the name taken from it by ``from ... import name``, if not a module
    line: int
    typing_only: bool  # under ``if TYPE_CHECKING:``


@dataclass
class Graph:
    """The parsed modules and their imports."""

    modules: dict[str, Module] = field(default_factory=dict)
    imports: dict[str, list[Import]] = field(default_factory=dict)


def _module_name(path: Path, root: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _nodes(tree: ast.AST) -> Iterator[tuple[ast.AST, bool]]:
    """Yield every node, and whether it sits under ``if TYPE_CHECKING:`` (never runs)."""
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, typing_only = stack.pop()
        yield node, typing_only
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend((child, True) for child in node.body)
            stack.extend((child, typing_only) for child in node.orelse)
            continue
        stack.extend((child, typing_only) for child in ast.iter_child_nodes(node))


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.name.split(".")
    if not module.is_package:
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports_of(module: Module, known: set[str]) -> list[Import]:
    found: list[Import] = []
    for node, typing in _nodes(module.tree):
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, None, node.lineno, typing) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in known:
                    found.append(Import(submodule, None, node.lineno, typing))
                else:
                    found.append(Import(source, alias.name, node.lineno, typing))
    return found


@cache
def graph(root: Path = SRC) -> Graph:
    """Parse every module of the package under ``root`` and collect its imports."""
    result = Graph()
    for path in sorted((root / PACKAGE).rglob("*.py")):
        name, is_package = _module_name(path, root)
        text = path.read_text(encoding="utf-8")
        relpath = path.relative_to(root).as_posix()
        tree = ast.parse(text, str(path))
        result.modules[name] = Module(name, relpath, tree, len(text.splitlines()), is_package)
    known = set(result.modules)
    for name, module in result.modules.items():
        result.imports[name] = _imports_of(module, known)
    return result


def _internal(target: str) -> bool:
    return target == PACKAGE or target.startswith(PACKAGE + ".")


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_module(target: str) -> str | None:
    """Return the module path up to its first private part, or None."""
    parts = target.split(".")
    for index, part in enumerate(parts):
        if _is_private(part):
            return ".".join(parts[: index + 1])
    return None


def _module_bindings(module: Module, known: set[str]) -> dict[str, str]:
    """Map the names that stand for labinterp modules (imports in any scope)."""
    bound: dict[str, str] = {}
    for node, _ in _nodes(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _internal(alias.name):
                    continue
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    bound[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for alias in node.names:
                if f"{source}.{alias.name}" in known:
                    bound[alias.asname or alias.name] = f"{source}.{alias.name}"
    return bound


def _dotted(node: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _private_attributes(module: Module, known: set[str]) -> Iterator[tuple[int, str]]:
    """Yield (line, "labinterp.x._y") for each ``x._y`` where ``x`` is a labinterp module."""
    bound = _module_bindings(module, known)
    for node, _ in _nodes(module.tree):
        if not isinstance(node, ast.Attribute) or isinstance(node.ctx, ast.Del):
            continue
        parts = _dotted(node)
        if parts is None or parts[0] not in bound:
            continue
        target = bound[parts[0]]
        rest = parts[1:]
        while rest and f"{target}.{rest[0]}" in known:
            target = f"{target}.{rest[0]}"
            rest = rest[1:]
        if len(rest) == 1 and _is_private(rest[0]) and target != module.name:
            yield node.lineno, f"{target}.{rest[0]}"


def _violation(rule: str, where: str, module: Module, line: int, text: str) -> Violation:
    return Violation(rule, where, f"src/{module.relpath}:{line}: [{rule}] {text}")


def private_names(g: Graph) -> list[Violation]:
    """Find ``from labinterp.x import _y`` and ``x._y`` on an imported labinterp module."""
    known = set(g.modules)
    found: list[Violation] = []
    for name, module in g.modules.items():
        for imp in g.imports[name]:
            if imp.name and _internal(imp.module) and _is_private(imp.name):
                target = f"{imp.module}.{imp.name}"
                found.append(
                    _violation(
                        "private-name",
                        f"{name} -> {target}",
                        module,
                        imp.line,
                        f"imports the private name {target}",
                    )
                )
        for line, target in _private_attributes(module, known):
            found.append(
                _violation(
                    "private-name",
                    f"{name} -> {target}",
                    module,
                    line,
                    f"uses the private name {target}",
                )
            )
    return found


def private_modules(g: Graph) -> list[Violation]:
    """Find imports of a private module from outside the package that holds it."""
    found: list[Violation] = []
    for name, module in g.modules.items():
        for imp in g.imports[name]:
            private = _private_module(imp.module) if _internal(imp.module) else None
            if private is None or private == name:
                continue
            owner = private.rsplit(".", 1)[0]
            if module.is_package and name == owner:
                continue
            found.append(
                _violation(
                    "private-module",
                    f"{name} -> {private}",
                    module,
                    imp.line,
                    f"imports the private module {private}",
                )
            )
    return found


def _edges(g: Graph) -> dict[str, dict[str, int]]:
    """Map importer -> imported labinterp module -> line of its first such import."""
    edges: dict[str, dict[str, int]] = {name: {} for name in g.modules}
    for name, imports in g.imports.items():
        for imp in imports:
            if imp.module in g.modules and imp.module != name and not imp.typing_only:
                edges[name].setdefault(imp.module, imp.line)
    return edges


def _cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Return the strongly connected components of over one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return components


def import_cycles(g: Graph) -> list[Violation]:
    """Find each set of modules that import each other, naming the imports among them."""
    edges = _edges(g)
    found: list[Violation] = []
    for component in _cycles(edges):
        members = set(component)
        first = g.modules[component[0]]
        links = [
            f"src/{g.modules[a].relpath}:{line} imports {b}"
            for a in component
            for b, line in sorted(edges[a].items())
            if b in members
        ]
        line = min(edges[component[0]][b] for b in edges[component[0]] if b in members)
        found.append(
            _violation(
                "import-cycle",
                " <-> ".join(component),
                first,
                line,
                "modules import each other: " + "; ".join(links),
            )
        )
    return found


def _equations_may_import(target: str) -> bool:
    if _internal(target):
        return (
            target in EQUATIONS_MAY_IMPORT
            or target == EQUATIONS
            or target.startswith(EQUATIONS + ".")
        )
    top = target.split(".")[0]
    return top in sys.stdlib_module_names or top in EQUATIONS_THIRD_PARTY or top == "__future__"


def equations_layer(g: Graph) -> list[Violation]:
    """Find what ``labinterp.equations`` and its submodules import beyond what they may."""
    found: list[Violation] = []
    for name, module in g.modules.items():
        if name != EQUATIONS and not name.startswith(EQUATIONS + "."):
            continue
        for imp in g.imports[name]:
            if not _equations_may_import(imp.module):
                found.append(
                    _violation(
                        "equations-layer",
                        f"{name} -> {imp.module}",
                        module,
                        imp.line,
                        f"imports {imp.module}; equations may import only labinterp.errors, "
                        "labinterp.units, labinterp.equations.*, the standard library, "
                        "numpy, pandas and pint",
                    )
                )
    return found


def long_modules(g: Graph) -> list[Violation]:
    """Find modules over ``MAX_MODULE_LINES`` lines."""
    return [
        _violation(
            "long-module",
            module.relpath,
            module,
            1,
            f"{module.lines} lines (at most {MAX_MODULE_LINES})",
        )
        for module in g.modules.values()
        if module.lines > MAX_MODULE_LINES
    ]


def _functions(
    node: ast.AST, prefix: str = ""
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + child.name, child
            yield from _functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}{child.name}.")
        else:
            yield from _functions(child, prefix)


def _docstring_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = node.body[0] if node.body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return (first.end_lineno or first.lineno) - first.lineno + 1
    return 0


def long_functions(g: Graph) -> list[Violation]:
    """Find functions and methods over ``MAX_FUNCTION_LINES`` lines of code (no docstring)."""
    found: list[Violation] = []
    for module in g.modules.values():
        for qualname, node in _functions(module.tree):
            length = (node.end_lineno or node.lineno) - node.lineno + 1 - _docstring_lines(node)
            if length > MAX_FUNCTION_LINES:
                found.append(
                    _violation(
                        "long-function",
                        f"{module.relpath}::{qualname}",
                        module,
                        node.lineno,
                        f"{qualname} is {length} lines (at most {MAX_FUNCTION_LINES})",
                    )
                )
    return found


CHECKS = {
    "private-name": private_names,
    "private-module": private_modules,
    "import-cycle": import_cycles,
    "equations-layer": equations_layer,
    "long-module": long_modules,
    "long-function": long_functions,
}


def test_the_source_is_found_and_parsed() -> None:
    """The checks run over the real package: its modules and their imports are seen."""
    g = graph()
    assert f"{PACKAGE}.errors" in g.modules and f"{PACKAGE}.equations" in g.modules
    assert len(g.modules) >= 20
    assert any(_internal(imp.module) for imports in g.imports.values() for imp in imports)


def test_every_allow_listed_entry_names_a_rule() -> None:
    """An allow-list entry with a misspelt rule would never match."""
    assert {rule for rule, _ in KNOWN_VIOLATIONS} <= set(RULES)


@pytest.mark.parametrize("rule", RULES)
def test_rule_holds_apart_from_known_violations(rule: str) -> None:
    """No violation beyond the allow-list, and every allow-listed one still exists."""
    found = CHECKS[rule](graph())
    known = {where for listed_rule, where in KNOWN_VIOLATIONS if listed_rule == rule}
    new = sorted({v.message for v in found if v.where not in known})
    gone = sorted(known - {v.where for v in found})
    problems = [*new]
    problems += [
        f"({rule!r}, {where!r}) is in KNOWN_VIOLATIONS but no longer happens: remove it"
        for where in gone
    ]
    assert not problems, "\n".join(problems)


def _write(root: Path, relpath: str, text: str) -> None:
    path = root / PACKAGE / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_each_rule_finds_what_it_forbids(tmp_path: Path) -> None:
    """On a small package that breaks every rule once, each check names the break."""
    _write(tmp_path, "__init__.py", "from labinterp._hidden import public\n")
    _write(tmp_path, "_hidden.py", "public = 1\n_secret = 2\n")
    _write(tmp_path, "errors.py", "")
    _write(tmp_path, "catalogue.py", "_DATA = {}\n")
    _write(
        tmp_path,
        "a.py",
        "from typing import TYPE_CHECKING\n"
        "from labinterp._hidden import _secret\n"
        "from labinterp import catalogue\n"
        "if TYPE_CHECKING:\n    from labinterp import c\n"
        "def f():\n    from labinterp import b\n    return catalogue._DATA\n",
    )
    _write(tmp_path, "b.py", "import labinterp.a\n")
    _write(tmp_path, "c.py", "from labinterp import a\n")
    _write(tmp_path, "equations/__init__.py", "from . import hba1c\n")
    _write(
        tmp_path, "equations/hba1c.py", "import numpy\nfrom labinterp import errors, catalogue\n"
    )
    body = "".join(f"    x = {i}\n" for i in range(MAX_FUNCTION_LINES - 1))
    _write(tmp_path, "long.py", f"def ok():\n{body}\ndef too_long():\n{body}    x = 0\n")
    _write(tmp_path, "big.py", "\n" * MAX_MODULE_LINES + "x = 1\n")
    g = graph(tmp_path)
    found = {rule: {v.where for v in check(g)} for rule, check in CHECKS.items()}
    assert found == {
        "private-name": {
            "labinterp.a -> labinterp._hidden._secret",
            "labinterp.a -> labinterp.catalogue._DATA",
        },
        "private-module": {"labinterp.a -> labinterp._hidden"},
        "import-cycle": {"labinterp.a <-> labinterp.b"},
        "equations-layer": {"labinterp.equations.hba1c -> labinterp.catalogue"},
        "long-module": {"labinterp/big.py"},
        "long-function": {"labinterp/long.py::too_long"},
    }
    (message,) = (v.message for v in long_functions(g))
    assert message == "src/labinterp/long.py:82: [long-function] too_long is 81 lines (at most 80)"
