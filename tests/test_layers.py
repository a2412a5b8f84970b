"""The package's shape, read from its source with ``ast`` (nothing is imported).

Two properties keep the folders readable as the pipeline and every module
importable on its own:

* **No import cycle** between reportgen's modules. An import inside a function
  (the lazy imports that keep ``reportgen --help`` fast) counts like one at the
  top of the module: it runs the first time the function does, and a cycle
  through it fails then, in production instead of at start-up. Imports under
  ``if TYPE_CHECKING:`` never run and do not count for cycles. Importing
  ``a.b.c`` also runs the ``__init__`` of ``a`` and ``a.b``, so those are
  edges too — except the importer's own ancestor packages, which Python has
  already run before the importer starts (so ``from reportgen import
  __version__`` in a submodule is no cycle).
* **Layers**: what each stage may import. Here every import counts,
  ``TYPE_CHECKING`` ones included: a type from a later stage is a dependency
  of meaning all the same.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "reportgen"


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # a reportgen module or package
    line: int
    lazy: bool  # inside a function
    typing_only: bool  # under ``if TYPE_CHECKING:``
    ancestor: bool = False  # the importer's own ancestor package (already run: no cycle)


@cache
def modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package: dotted name → (file, is a package ``__init__``)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def _module_of(name: str) -> str | None:
    """The longest reportgen module that ``name`` (a module, or module.attribute) names."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, source: str, is_package: bool) -> list[str]:
    """The reportgen modules an import statement names (a name may itself be a module)."""
    if isinstance(node, ast.Import):
        named = [alias.name for alias in node.names]
        return [m for name in named if (m := _module_of(name)) and name.startswith("reportgen")]
    base = node.module or ""
    if node.level:
        package = source.split(".") if is_package else source.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, *([node.module] if node.module else [])])
    if not base.startswith("reportgen"):
        return []
    found = []
    for alias in node.names:
        full = f"{base}.{alias.name}"
        target = full if full in modules() else _module_of(base)
        if target:
            found.append(target)
    return found


@cache
def imports() -> tuple[Import, ...]:
    """Every import of a reportgen module by a reportgen module, with the packages it runs."""
    found: list[Import] = []
    for source, (path, is_package) in modules().items():
        tree = ast.parse(path.read_text(), filename=str(path))
        own = set(_ancestors(source))

        def visit(
            node: ast.AST, lazy: bool, typing_only: bool, source=source, own=own, pkg=is_package
        ) -> None:
            for child in ast.iter_child_nodes(node):
                child_lazy = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                child_typing = typing_only or (
                    isinstance(child, ast.If) and _is_type_checking(child)
                )
                if isinstance(child, ast.Import | ast.ImportFrom):
                    for target in _targets(child, source, pkg):
                        for module in [*_ancestors(target), target]:
                            if module == source or (module in own and module != target):
                                continue  # implicitly run before the importer started
                            found.append(
                                Import(
                                    source, module, child.lineno, lazy, typing_only, module in own
                                )
                            )
                visit(child, child_lazy, child_typing)

        visit(tree, False, False)
    return tuple(found)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return components


def _describe(component: list[str]) -> str:
    members = set(component)
    lines = [
        f"  {i.source} -> {i.target} (line {i.line}{', in a function' if i.lazy else ''})"
        for i in imports()
        if i.source in members and i.target in members and not (i.typing_only or i.ancestor)
    ]
    return " ↔ ".join(component) + "\n" + "\n".join(sorted(set(lines)))


def test_the_reader_finds_the_package_and_its_imports():
    """Guards the guard: the graph holds the modules and edges the tests below rely on."""
    names = modules()
    assert {"reportgen.build", "reportgen.data.scan", "reportgen.cli"} <= set(names)
    edges = {(i.source, i.target) for i in imports()}
    assert ("reportgen.build", "reportgen.data.scan") in edges
    assert ("reportgen.build", "reportgen.data") in edges  # the package __init__ runs too
    ancestors = {(i.source, i.target) for i in imports() if i.ancestor}
    assert ("reportgen.build", "reportgen") in ancestors  # from reportgen import __version__
    lazy = {(i.source, i.target) for i in imports() if i.lazy}
    assert ("reportgen.build", "reportgen.data.cache") in lazy


def test_no_import_cycle_between_modules():
    edges: dict[str, set[str]] = {}
    for i in imports():
        if not (i.typing_only or i.ancestor):
            edges.setdefault(i.source, set()).add(i.target)
    cycles = _cycles(edges)
    assert not cycles, "import cycles:\n" + "\n".join(_describe(c) for c in cycles)


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


# -- layers ---------------------------------------------------------------------------------

#: the models and helpers every stage shares; they import only each other
BASE = ("reportgen.document", "reportgen.errors", "reportgen.periods", "reportgen.formatting",
        "reportgen.text")  # fmt: skip
#: the package root: ``__version__`` and the lazy facade of ``build_report``
ROOT_PACKAGE = "reportgen"

STAGES = {
    "base": BASE,
    "config": ("reportgen.config",),
    "semantics": ("reportgen.semantics",),
    "data": ("reportgen.data",),
    # the figures and the wording of a value and its change (which analysis and compose share)
    "figures": ("reportgen.figures", "reportgen.wording"),
    # the typed figures of the workbook and CSV exports (per-segment series, insights)
    "exports": ("reportgen.export_figures",),
    "analysis": ("reportgen.analysis",),
    "compose": ("reportgen.compose",),
    # the workbook and CSV exporters: typed tables of every figure and result (before
    # "render", so its prefix does not claim them)
    "tables": ("reportgen.render.tables",),
    "render": ("reportgen.render",),
    "build": ("reportgen.build",),
    "ops": ("reportgen.ops",),
    "cli": ("reportgen.cli",),
    "demo": ("reportgen.demo",),
    "project": ("reportgen.project",),
    "site": ("reportgen.site",),
}


def stage_of(module: str) -> str:
    if module == ROOT_PACKAGE:
        return "root"
    for stage, prefixes in STAGES.items():
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return stage
    raise AssertionError(f"{module} belongs to no stage: add it to STAGES in {__file__}")


#: stage → the stages it may import (besides itself). Every import counts, lazy and
#: TYPE_CHECKING ones too. The pipeline reads top to bottom; nothing reads back up.
MAY_IMPORT: dict[str, set[str]] = {
    "base": set(),
    # the catalog loader asks each metric kind to check itself (semantics imports only the
    # config models and the formula parser back: tests/test_semantics.py holds that rule)
    "config": {"base", "semantics"},
    "semantics": {"base", "config"},
    "data": {"base", "config", "semantics"},
    "figures": {"base", "config", "semantics", "data"},
    "analysis": {"base", "config", "semantics", "data", "figures"},
    "compose": {"base", "config", "semantics", "data", "figures", "analysis"},
    # renderers draw the document: no data, no analysis, no delivery; the workbook and CSV
    # exporters read the typed figures the document carries (Document.exports)
    "render": {"root", "base", "tables"},
    "tables": {"root", "base", "data", "figures", "analysis", "exports", "render"},
    "exports": {"base", "config", "semantics", "data", "figures", "analysis"},
    "build": {
        "exports",
        "root",
        "base",
        "config",
        "semantics",
        "data",
        "figures",
        "analysis",
        "compose",
        "render",
        "ops",
    },
    "ops": {"base", "config", "data", "figures", "analysis", "compose", "render", "build"},
    "cli": {
        "root",
        "base",
        "config",
        "semantics",
        "data",
        "build",
        "ops",
        "demo",
        "project",
        "site",
    },
    # the report site reads built outputs (figures.json) and serves a preview build
    "site": {
        "root",
        "base",
        "config",
        "semantics",
        "data",
        "figures",
        "analysis",
        "compose",
        "render",
        "build",
        "ops",
    },
    # reportgen init: profiles a source through the engines and writes configs
    "project": {"base", "config", "semantics", "data"},
    "demo": {"base", "config"},
    "root": {"base", "build"},
}


#: (importer, imported) pairs allowed against the table, as ``TYPE_CHECKING`` imports only:
#: records the ledger (ops) stores and earlier stages show, read as types, never run
TYPE_ONLY_EXCEPTIONS = {
    ("reportgen.analysis.followup", "reportgen.ops.rca"),  # RcaItem: follow-up of a cause
    ("reportgen.compose._core", "reportgen.ops.restatements"),  # Restatement: a changed figure
    ("reportgen.compose._restatements", "reportgen.ops.restatements"),
    ("reportgen.compose._brief", "reportgen.ops.commentary"),  # Comment: shown beside numbers
    ("reportgen.export_figures", "reportgen.ops.restatements"),  # Restatement: a changed figure
    ("reportgen.document", "reportgen.export_figures"),  # Document.exports: the typed exports
}


def _excepted(i: Import) -> bool:
    if not i.typing_only:
        return False
    return (i.source, i.target) in TYPE_ONLY_EXCEPTIONS or any(
        (i.source, module) in TYPE_ONLY_EXCEPTIONS for module in [i.target, *_children(i)]
    )


def _children(i: Import) -> list[str]:
    """The modules of the same statement below ``i.target`` (a package run on the way)."""
    return [
        j.target
        for j in imports()
        if (j.source, j.line) == (i.source, i.line) and j.target.startswith(i.target + ".")
    ]


def test_every_module_belongs_to_a_stage():
    for module in modules():
        stage_of(module)


@pytest.mark.parametrize("stage", sorted(MAY_IMPORT))
def test_stage_imports_only_what_its_layer_allows(stage):
    wrong = sorted(
        {
            f"{i.source} imports {i.target} (line {i.line}), a {stage_of(i.target)} module"
            for i in imports()
            if stage_of(i.source) == stage
            and stage_of(i.target) != stage
            and stage_of(i.target) not in MAY_IMPORT[stage]
            and not _excepted(i)
        }
    )
    assert not wrong, f"{stage} may import only {sorted(MAY_IMPORT[stage])}:\n" + "\n".join(wrong)


def test_nothing_imports_the_cli():
    """The CLI is the outermost layer: only its own modules import it."""
    users = sorted(
        {
            f"{i.source} (line {i.line})"
            for i in imports()
            if stage_of(i.target) == "cli" and stage_of(i.source) != "cli"
        }
    )
    assert not users, "the CLI is imported by: " + ", ".join(users)


def test_cli_commands_do_not_import_the_app():
    """Command modules share ``cli._console``; only the app (``cli/__init__``) imports them."""
    back = sorted(
        f"{i.source} (line {i.line})"
        for i in imports()
        if i.target == "reportgen.cli"
        and i.source.startswith("reportgen.cli.")
        and i.source != "reportgen.cli.__main__"  # ``python -m reportgen.cli`` runs the app
    )
    assert not back, "command modules importing the app: " + ", ".join(back)


def test_the_cube_cache_is_handed_the_scan():
    """``data.cache`` reads and writes frames; the scan module calls it, never the reverse."""
    assert not [
        i
        for i in imports()
        if (i.source, i.target) == ("reportgen.data.cache", "reportgen.data.scan")
    ]
