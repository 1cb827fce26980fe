"""The tiers of HOUSE.md, checked from the code's imports: a module of ``zoning`` imports
only from tiers below it (top-level imports and imports inside functions alike), the
package has no import cycle at module level, and ``vocab`` imports nothing of zoning."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import zoning

PACKAGE = Path(zoning.__file__).parent

#: The tiers of HOUSE.md ("The rule"), bottom up. Modules HOUSE.md does not name are
#: placed where its text puts them:
#: - T0 ``_version``: the version string the CLI and the run logs print;
#: - T5 "domain features, no files written": placement (HOUSE: "workshops(+placement)"),
#:   safety (SPEC §12 checks), grid, campaigns, blocks, and the sample generators
#:   ``sample`` / ``sample_ledger`` (a feature of the demo: frames and files of a made-up
#:   county, built on T0 only);
#: - T6 ``styles``: a format module (its docstring: "Format module, tier T6"): QGIS QML
#:   and SLD text for the layers we write, like report/figures/maps for theirs;
#: - between T7 and T8, ``distributed``: the dask engine runs a whole classify job on
#:   workers (folder layout, CSV and workbooks through report, a county's folder through
#:   outputs' own writer), as cli does on one machine, so it may use outputs and nothing
#:   below imports it (only cli does);
#: - T9 ``__main__``: ``python -m zoning`` runs cli's main, so it sits above cli.
TIERS: dict[str, float] = {
    "errors": 0,
    "vocab": 0,
    "crs": 0,
    "_io": 0,
    "_parallel": 0,
    "_version": 0,
    "config": 1,
    "layers": 2,
    "measures": 3,
    "rules": 3,
    "classification": 4,
    "scenario": 5,
    "workshops": 5,
    "placement": 5,
    "safety": 5,
    "grading": 5,
    "ledger": 5,
    "blocks": 5,
    "grid": 5,
    "campaigns": 5,
    "sample": 5,
    "sample_ledger": 5,
    "report": 6,
    "figures": 6,
    "maps": 6,
    "styles": 6,
    "outputs": 7,
    "distributed": 7.5,
    "cli": 8,
    "__init__": 8,
    "__main__": 9,
}

#: Inside T0 the foundation has an order of its own (HOUSE.md: "vocab imports nothing
#: of zoning"; the named errors are the floor every other module stands on).
FOUNDATION = {"errors": 0, "vocab": 0, "_version": 0, "crs": 1, "_io": 1, "_parallel": 1}

#: HOUSE.md's T5 row: "workshops(+placement)": placement is the workshops' own solver, and
#: the SPEC §12 safety checks are the workshops' too; workshops may import them. SPEC §11
#: defines a block's d_share by SPEC §8's grade of its enterprises, so blocks uses the
#: grading feature (one grading, not a copy of it) in the same way.
PARTS = {"placement": "workshops", "safety": "workshops", "grading": "blocks"}


#: HOUSE.md's one exception: a method of a T5 result object may import a T6 module
#: inside the method (``Comparison.map()``).
T5, T6 = 5, 6


def modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py"))


def _target(node: ast.ImportFrom, alias: ast.alias) -> str | None:
    """The zoning module a ``from ... import`` names (``__init__`` for the package)."""
    if node.level == 0:
        base = node.module or ""
        if base != "zoning" and not base.startswith("zoning."):
            return None
        rest = base.removeprefix("zoning").lstrip(".")
    elif node.level == 1:
        rest = node.module or ""
    else:  # pragma: no cover - the package is flat
        raise AssertionError(f"relative import of level {node.level}")
    if rest:
        return rest.split(".")[0]
    return alias.name if (PACKAGE / f"{alias.name}.py").exists() else "__init__"


class _Imports(ast.NodeVisitor):
    """(module imported, line, where) for every import of zoning in a module; ``where``
    is ``"module"``, ``"function"`` or ``"method"`` (a function defined in a class)."""

    def __init__(self) -> None:
        self.found: list[tuple[str, int, str]] = []
        self.stack: list[str] = []

    def _scope(self) -> str:
        if not self.stack:
            return "module"
        return "method" if len(self.stack) >= 2 and self.stack[-2] == "class" else "function"

    def _nested(self, kind: str, node: ast.AST) -> None:
        self.stack.append(kind)
        self.generic_visit(node)
        self.stack.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._nested("class", node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._nested("def", node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._nested("def", node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "zoning" or alias.name.startswith("zoning."):
                rest = alias.name.removeprefix("zoning").lstrip(".")
                self.found.append((rest.split(".")[0] or "__init__", node.lineno, self._scope()))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            target = _target(node, alias)
            if target is not None:
                self.found.append((target, node.lineno, self._scope()))


def imports_of(module: str) -> list[tuple[str, int, str]]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    visitor = _Imports()
    visitor.visit(tree)
    seen: dict[tuple[str, int], str] = {}
    for target, line, where in visitor.found:  # one hit per statement
        if target != module:
            seen.setdefault((target, line), where)
    return [(target, line, where) for (target, line), where in seen.items()]


def allowed(module: str, target: str, where: str) -> bool:
    """Whether HOUSE.md lets ``module`` import ``target`` from ``where``."""
    low, high = TIERS[target], TIERS[module]
    if high == T6 and low == T5:  # HOUSE.md T6: "never import each other or T5"
        return False
    if low < high:
        return True
    if low == high == 0:
        return FOUNDATION[target] < FOUNDATION[module]
    if PARTS.get(target) == module:
        return True
    return where == "method" and high == T5 and low == T6


def test_every_module_has_a_tier():
    assert sorted(set(modules()) - set(TIERS)) == []
    assert sorted(set(TIERS) - set(modules())) == []


@pytest.mark.parametrize("module", modules())
def test_imports_only_from_tiers_below(module):
    wrong = [
        f"{module}.py:{line} imports {target} (T{TIERS[module]} -> T{TIERS[target]}, {where})"
        for target, line, where in imports_of(module)
        if not allowed(module, target, where)
    ]
    assert wrong == []


def test_vocab_imports_nothing_of_zoning():
    assert imports_of("vocab") == []


def test_no_import_cycle_at_module_level():
    graph = {m: {t for t, _, where in imports_of(m) if where == "module"} for m in modules()}
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(node) :], node]))
        if node in done:
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*path, node])
        done.add(node)

    for module in modules():
        visit(module, [])


def test_the_checker_sees_what_it_must():
    """The collector finds every form of import, and the rule refuses a wrong one."""
    source = (
        "from . import vocab\nfrom .report import x\nimport zoning.maps\n"
        "from zoning.outputs import y\nfrom . import __version__\n"
        "def f():\n    from .figures import z\n"
        "class C:\n    def m(self):\n        from .maps import w\n"
    )
    visitor = _Imports()
    visitor.visit(ast.parse(source))
    assert visitor.found == [
        ("vocab", 1, "module"),
        ("report", 2, "module"),
        ("maps", 3, "module"),
        ("outputs", 4, "module"),
        ("__init__", 5, "module"),
        ("figures", 7, "function"),
        ("maps", 10, "method"),
    ]
    assert not allowed("report", "blocks", "function")  # T6 -> T5
    assert not allowed("grid", "ledger", "function")  # T5 siblings
    assert not allowed("_io", "styles", "function")  # T0 -> T6
    assert not allowed("maps", "figures", "module")  # T6 siblings
    assert not allowed("scenario", "figures", "function")  # the exception is for methods
    assert allowed("scenario", "maps", "method")  # ... of T5 objects only
    assert not allowed("layers", "classification", "method")
    assert allowed("workshops", "placement", "module")
    assert not allowed("placement", "workshops", "module")
