"""The engine's layers, read from the source with `ast` (function-level lazy imports count too):
no import cycles, layers point down (docs/ARCHITECTURE.md), the runtime and pipeline stay free of
training / evaluation / CLI / bench code, and no engine file names qgis or PyQt (test_engine_imports.py
imports every module; this also sees the imports inside functions, which that never runs).

Each test lists every violation as `file:line: importer -> imported`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ENGINE_DIR = REPO_ROOT / "engine"

# Anything may import these; they import only each other (engine/__init__.py is the lazy facade, exempt).
BASE = frozenset(
    {"config", "contract", "model_metadata", "errors", "atomic_output", "file_checks", "synthetic", "datasets",
     "anchors"}
)
# Layer -> the layers it may import besides BASE and itself: ops -> network -> runtime -> pipeline ->
# outputs -> evaluation / training -> cli; export sits beside the pipeline (it writes what the runtime reads,
# and calibrates on patches read as the pipeline reads them).
MAY_IMPORT = {
    "ops": frozenset(),
    "network": frozenset({"ops"}),
    "runtime": frozenset({"ops", "network"}),
    "export": frozenset({"ops", "network", "runtime", "pipeline"}),  # calibration patches as the stream reads them
    "pipeline": frozenset({"ops", "network", "runtime"}),
    "outputs": frozenset({"ops", "network", "runtime", "pipeline"}),  # what the engine writes (vector, PNG)
    "evaluation": frozenset({"ops", "network", "runtime", "pipeline", "outputs"}),
    "training": frozenset({"ops", "network", "runtime", "pipeline", "outputs", "export"}),
    "archive": frozenset({"ops", "network", "runtime", "pipeline", "outputs"}),  # many scenes on Dask (detect-archive)
    "cli": frozenset(
        {"ops", "network", "runtime", "export", "pipeline", "outputs", "evaluation", "training", "archive"}
    ),
}
# Known upward imports of base utilities, each with what would remove it (keep this list short).
KNOWN_BASE_EXCEPTIONS = {
    ("engine.synthetic.scene_generator", "engine.pipeline.stretch"): "percentile_stretch could live in a base module",
}
INFERENCE_LAYERS = ("runtime", "pipeline")
KEPT_FROM_INFERENCE = ("engine.training", "engine.evaluation", "engine.archive", "engine.cli", "benchmarks")
NEVER_IN_ENGINE = ("benchmarks", "tests", "qgis", "PyQt5", "PyQt6", "sip")


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    target: str  # dotted name as written (absolute), or the engine module it resolves to
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path.relative_to(REPO_ROOT)}:{self.line}: {self.importer} -> {self.target}"


@cache
def engine_modules() -> dict[str, Path]:
    """Dotted name -> file, for every module and package under engine/."""
    modules = {}
    for path in sorted(ENGINE_DIR.rglob("*.py")):
        parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module of `from ...x import y` inside `module`."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports_by_name(tree: ast.AST) -> bool:
    """Does the module call importlib.import_module (cli/main.py does, with the subcommand modules' names)?"""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "import_module":
                return True
    return False


@cache
def all_imports() -> tuple[Import, ...]:
    """Every import statement in engine/, module level and inside functions alike; in a module that calls
    importlib.import_module, every string naming an engine module counts as an import of it too."""
    modules = engine_modules()
    found = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        by_name = _imports_by_name(tree)
        for node in ast.walk(tree):
            if by_name and isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in modules:
                found.append(Import(module, node.value, path, node.lineno))
            elif isinstance(node, ast.Import):
                found += [Import(module, alias.name, path, node.lineno) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                target = _absolute(module, path, node)
                found.append(Import(module, target, path, node.lineno))
                # `from engine.runtime import onnx_runtime` imports that submodule too
                found += [
                    Import(module, f"{target}.{alias.name}", path, node.lineno)
                    for alias in node.names
                    if f"{target}.{alias.name}" in modules
                ]
    return tuple(found)


def engine_edges() -> list[Import]:
    """Imports from one engine module of another (targets resolved to the module file they load)."""
    modules = engine_modules()
    edges = []
    for imp in all_imports():
        target = imp.target
        while target and target not in modules:  # `import engine.a.b.name` style: the module part
            target = target.rpartition(".")[0]
        if target.split(".")[0] == "engine" and target != imp.importer:
            edges.append(Import(imp.importer, target, imp.path, imp.line))
    return edges


def layer_of(module: str) -> str | None:
    """engine.<layer>[.x]: the layer; None for the engine package itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _cycles(edges: list[Import]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.importer, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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
    return components


def _report(title: str, violations: list) -> str:
    return f"{title} ({len(violations)}):\n  " + "\n  ".join(str(v) for v in violations)


def test_no_import_cycles_among_engine_modules():
    edges = engine_edges()
    problems = []
    for component in _cycles(edges):
        members = set(component)
        inside = sorted({str(e) for e in edges if e.importer in members and e.target in members})
        problems.append("cycle " + " <-> ".join(component) + ":\n    " + "\n    ".join(inside))
    assert not problems, _report("import cycles (lazy imports count)", problems)


def test_runtime_and_pipeline_import_no_training_evaluation_cli_or_bench():
    violations = [
        imp
        for imp in all_imports()
        if layer_of(imp.importer) in INFERENCE_LAYERS
        and any(imp.target == name or imp.target.startswith(name + ".") for name in KEPT_FROM_INFERENCE)
    ]
    assert not violations, _report("inference code importing training / evaluation / CLI / bench", violations)


def test_layers_point_down():
    violations = []
    for edge in engine_edges():
        source, target = layer_of(edge.importer), layer_of(edge.target)
        if source is None or target is None or source == target or target in BASE:
            continue  # the engine facade, the package itself, within one layer, or a base utility
        if source in BASE:
            if (edge.importer, edge.target) not in KNOWN_BASE_EXCEPTIONS:
                violations.append(f"{edge}  (base utility {source} importing layer {target})")
        elif source not in MAY_IMPORT:
            violations.append(f"{edge}  ({source} is neither a layer nor a base utility: add it to this test)")
        elif target not in MAY_IMPORT[source]:
            violations.append(f"{edge}  ({source} may import {', '.join(sorted(MAY_IMPORT[source])) or 'base only'})")
    assert not violations, _report("imports against the layer order", violations)


def test_known_base_exceptions_are_still_needed():
    edges = {(e.importer, e.target) for e in engine_edges()}
    stale = [pair for pair in KNOWN_BASE_EXCEPTIONS if pair not in edges]
    assert not stale, f"remove these from KNOWN_BASE_EXCEPTIONS, they no longer occur: {stale}"


def test_engine_never_names_bench_tests_or_qt():
    violations = [
        imp
        for imp in all_imports()
        if imp.target.split(".")[0] in NEVER_IN_ENGINE or imp.target.split(".")[0].lower().startswith("qgis")
    ]
    assert not violations, _report("engine/ importing the bench, the tests or QGIS / Qt", violations)


def test_the_parser_sees_lazy_and_relative_imports(tmp_path):
    """The checks above are only as good as the import reader: a function-level import is an edge."""
    lazy = [imp for imp in all_imports() if imp.importer == "engine.runtime" and "onnx_runtime" in imp.target]
    assert lazy, "engine/runtime/__init__.py imports onnx_runtime inside load_detector"
    node = ast.parse("from ..ops import box_arrays").body[0]
    path = ENGINE_DIR / "pipeline" / "merge.py"
    assert _absolute("engine.pipeline.merge", path, node) == "engine.ops"
    assert _cycles([Import("a", "b", path, 1), Import("b", "a", path, 2), Import("b", "c", path, 3)]) == [["a", "b"]]
    by_name = {imp.target for imp in all_imports() if imp.importer == "engine.cli.main"}
    assert "engine.cli.detect_cmd" in by_name, "cli/main.py loads the subcommands with importlib.import_module"
