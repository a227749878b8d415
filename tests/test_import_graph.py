"""A house with no circles: the import graph of townapp/, read from the source.

Every import statement counts, wherever it stands — at the top, inside a
function, under ``if TYPE_CHECKING`` — and so does ``importlib.import_module``
with a literal name: moving an import into a function hides a cycle from
Python's start-up, not from the design. The exchange never imports a feature
module, and no code imports a townapp module through ``importlib``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.figures import record

PACKAGE = Path(__file__).resolve().parents[1] / "townapp"
FEATURES = ("registry", "archives", "grids", "points", "evaluations", "outputs", "accounts")
# importlib used for something other than importing townapp: package metadata, an optional third-party package
IMPORTLIB_ALLOWED = {"townapp": "importlib.metadata", "townapp.core.pinyin": "importlib.util.find_spec",
                     "townapp.core.syslibs": "importlib.util.find_spec"}  # where PySide6 is, to check its libraries


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imported(name: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """Every townapp module ``name`` imports, by any statement at any level or a literal import_module call."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:  # "from a.b import c": the module a.b.c if there is one, else a.b
                if f"{base}.{alias.name}" in modules:
                    yield f"{base}.{alias.name}"
                elif base in modules:
                    yield base
        elif isinstance(node, ast.Call) and _called(node) == "import_module" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and first.value in modules:
                yield first.value


def _called(node: ast.Call) -> str:
    return getattr(node.func, "attr", getattr(node.func, "id", ""))


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        graph[name] = {m for m in _imported(name, path, modules) if m != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path a → b → … → a, or None (depth-first search, white/grey/black)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target):], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_import_graph_of_townapp_has_no_cycle() -> None:
    """GIVEN every module of townapp/ and every import in it (function-level, TYPE_CHECKING, import_module)
    WHEN the graph is searched depth first
    THEN no module reaches itself again; a failure prints the circle."""
    graph = import_graph()
    cycle = find_cycle(graph)
    record("导入图：模块数", len(graph))
    record("导入图：依赖边数", sum(len(t) for t in graph.values()))
    assert cycle is None, "导入环：" + " → ".join(cycle or [])


def test_the_cycle_finder_sees_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    """GIVEN a two-module circle where one side imports inside a function and the other via import_module
    WHEN the graph is built from source the same way
    THEN the cycle is found and printed in order."""
    (tmp_path / "a.py").write_text("def f():\n    from townapp import b\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("import importlib\nimportlib.import_module('townapp.a')\n", encoding="utf-8")
    modules = {"townapp": tmp_path / "__init__.py", "townapp.a": tmp_path / "a.py", "townapp.b": tmp_path / "b.py"}
    graph = {name: set(_imported(name, modules[name], modules)) for name in ("townapp.a", "townapp.b")}
    assert find_cycle(graph) == ["townapp.a", "townapp.b", "townapp.a"]


def test_the_exchange_imports_no_feature_module() -> None:
    """GIVEN the exchange package (it is handed the sheet specs by the composition root)
    WHEN its imports are listed
    THEN none is a feature module, nor townapp.sheets / townapp.modules that import them all."""
    graph = import_graph()
    forbidden = tuple(f"townapp.{f}" for f in FEATURES) + ("townapp.sheets", "townapp.modules")
    reached = sorted(f"{source} → {target}" for source, targets in graph.items()
                     if source.startswith("townapp.exchange") for target in targets
                     if any(target == f or target.startswith(f + ".") for f in forbidden))
    assert reached == [], "exchange 导入了功能模块：" + "；".join(reached)


def test_the_outputs_import_no_other_feature_module() -> None:
    """GIVEN the outputs package (returns, certificates: handed figures and sources by the composition root)
    WHEN its imports are listed
    THEN none is another feature module (DESIGN §3) — the certificates once read the village table through
    the registry's models."""
    graph = import_graph()
    forbidden = tuple(f"townapp.{f}" for f in FEATURES if f != "outputs") + ("townapp.sheets", "townapp.modules")
    reached = sorted(f"{source} → {target}" for source, targets in graph.items()
                     if source.startswith("townapp.outputs") for target in targets
                     if any(target == f or target.startswith(f + ".") for f in forbidden))
    assert reached == [], "outputs 导入了其他功能模块：" + "；".join(reached)


def test_no_townapp_module_is_imported_through_importlib() -> None:
    """GIVEN every file of townapp/
    WHEN importlib appears in one (an import of it, or an import_module call of any argument)
    THEN it is only the two known uses that import no townapp module."""
    found = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "importlib" for a in node.names):
                found.append((name, ", ".join(a.name for a in node.names)))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "importlib":
                found.append((name, f"{node.module}." + ", ".join(a.name for a in node.names)))
            elif isinstance(node, ast.Call) and _called(node) in ("import_module", "__import__"):
                found.append((name, _called(node)))
    unexpected = [f"{name}: {what}" for name, what in found if IMPORTLIB_ALLOWED.get(name) != what]
    assert unexpected == [], "用 importlib 导入模块：" + "；".join(unexpected)
