"""The package's layers, read from the source with `ast`: nothing imports from a layer above it.

Ranks, low to high (a module may import its own layer and the ones below it):
    base (voiceguide, voiceguide.errors) 0 < core 1 < content 2 < audio 3 = store 3
    < speech_out 4 = speech_in 4 < app 5 < cli 6 < voiceguide.__main__
Layers of the same rank are independent of each other. On top of that: the core imports only
itself, voiceguide.errors and the standard library; each engine package (vosk, pocketsphinx,
pyttsx3, sounddevice) is imported only by its adapter modules; the neural engine's modules
import only the standard library, numpy, soxr, their runtime and each other; and no two
modules import each other, directly or round a loop, when they are loaded.

Every import counts for the layer rules: inside functions and `if TYPE_CHECKING:` blocks too.
The cycle rule looks only at imports that run when the module is loaded.
"""

from __future__ import annotations

import ast
import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "voiceguide"
BASE = frozenset({"voiceguide", "voiceguide.errors"})
RANKS = {
    "core": 1,
    "content": 2,
    "audio": 3,
    "store": 3,
    "speech_out": 4,
    "speech_in": 4,
    "app": 5,
    "cli": 6,
}
MAIN = "voiceguide.__main__"
MAIN_RANK = 7
# The engine packages and the only modules that may import them (checked against the tree
# as it is: these are the modules that import them today).
ENGINE_ADAPTERS = {
    "vosk": {"voiceguide.speech_in.engines.vosk"},
    "pocketsphinx": {
        "voiceguide.speech_in.engines.pocketsphinx",
        "voiceguide.speech_in.engines.pocketsphinx_grammar",
    },
    "pyttsx3": {"voiceguide.speech_out.synth_worker"},
    "sounddevice": {"voiceguide.audio.devices"},
}
NEURAL = "voiceguide.speech_in.engines.neural"
NEURAL_THIRD_PARTY = frozenset({"numpy", "soxr", "ai_edge_litert"})  # ai_edge_litert: the runtime
STDLIB = frozenset(sys.stdlib_module_names)


@dataclass(frozen=True)
class Import:
    """One import statement's target, as seen from the module that makes it."""

    target: str  # absolute dotted name: a module, or the package a name is taken from
    line: int
    at_load: bool  # runs when the module is loaded (not in a function, not TYPE_CHECKING)
    typing_only: bool  # inside an `if TYPE_CHECKING:` block


def module_name(path: Path) -> str:
    """voiceguide/speech_in/engines/vosk.py -> voiceguide.speech_in.engines.vosk."""
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module name an ImportFrom reads from (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    if node.level > 1:
        package = package[: -(node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def imports_of(
    source: str, module: str, is_package: bool, known: frozenset[str] | set[str]
) -> list[Import]:
    """Every import in `source` (of module `module`), with where and when it runs."""
    found: list[Import] = []

    def visit(nodes: list[ast.stmt], at_load: bool, typing_only: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    found.append(Import(alias.name, node.lineno, at_load, typing_only))
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, is_package, node)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    target = sub if sub in known else base
                    found.append(Import(target, node.lineno, at_load, typing_only))
            elif isinstance(node, ast.If) and _is_type_checking(node.test):
                visit(node.body, False, True)
                visit(node.orelse, at_load, typing_only)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(node.body, False, typing_only)
            else:
                # Class bodies, if/try/with/for blocks: run when the module loads (if reached).
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.stmt):
                        visit([child], at_load, typing_only)
                    elif isinstance(child, ast.ExceptHandler | ast.match_case):
                        visit(child.body, at_load, typing_only)

    visit(ast.parse(source).body, True, False)
    return found


def layer_of(module: str) -> tuple[str, int] | None:
    """(layer, rank) of a voiceguide module, or None when it sits in no layer."""
    if module in BASE:
        return "base", 0
    if module == MAIN:
        return "__main__", MAIN_RANK
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "voiceguide" and parts[1] in RANKS:
        return parts[1], RANKS[parts[1]]
    return None


def _is_voiceguide(name: str) -> bool:
    return name == "voiceguide" or name.startswith("voiceguide.")


def _scan() -> tuple[dict[str, Path], dict[str, list[Import]]]:
    modules = all_modules()
    known = set(modules)
    imports = {
        name: imports_of(path.read_text(encoding="utf-8"), name, path.name == "__init__.py", known)
        for name, path in modules.items()
    }
    return modules, imports


def layer_violations(imports: dict[str, list[Import]]) -> Iterator[str]:
    """(a): imports of a higher layer, or of another layer of the same rank."""
    for module, found in sorted(imports.items()):
        own = layer_of(module)
        if own is None:
            yield f"{module} -> (nothing) (the module is in no layer: move it into one)"
            continue
        for imp in found:
            if not _is_voiceguide(imp.target):
                continue
            other = layer_of(imp.target)
            if other is None:
                yield f"{module} -> {imp.target} (line {imp.line}: the target is in no layer)"
            elif other[1] > own[1]:
                yield (
                    f"{module} -> {imp.target} (line {imp.line}: {own[0]} (rank {own[1]}) "
                    f"imports the higher layer {other[0]} (rank {other[1]}))"
                )
            elif other[1] == own[1] and other[0] != own[0]:
                yield (
                    f"{module} -> {imp.target} (line {imp.line}: {own[0]} and {other[0]} "
                    f"share rank {own[1]} and must not import each other)"
                )


def core_violations(imports: dict[str, list[Import]]) -> Iterator[str]:
    """(b): the core imports only itself, voiceguide.errors and the standard library."""
    for module, found in sorted(imports.items()):
        if not module.startswith("voiceguide.core"):
            continue
        for imp in found:
            top = imp.target.split(".")[0]
            if _is_voiceguide(imp.target):
                if imp.target == "voiceguide.errors" or imp.target.startswith("voiceguide.core"):
                    continue
                why = "the core may import only voiceguide.core and voiceguide.errors"
            elif top in STDLIB or imp.typing_only:
                continue
            else:
                why = "the core imports only the standard library, outside TYPE_CHECKING"
            yield f"{module} -> {imp.target} (line {imp.line}: {why})"


def engine_violations(imports: dict[str, list[Import]]) -> Iterator[str]:
    """(c): an engine package is imported only inside its adapter modules."""
    for module, found in sorted(imports.items()):
        for imp in found:
            top = imp.target.split(".")[0]
            allowed = ENGINE_ADAPTERS.get(top)
            if allowed is not None and module not in allowed:
                yield (
                    f"{module} -> {imp.target} (line {imp.line}: {top} may be imported only by "
                    f"{', '.join(sorted(allowed))})"
                )


def neural_violations(imports: dict[str, list[Import]]) -> Iterator[str]:
    """The neural engine's internals: standard library, numpy, soxr, their runtime, each other."""
    for module, found in sorted(imports.items()):
        if not module.startswith(NEURAL + "."):
            continue
        for imp in found:
            top = imp.target.split(".")[0]
            if imp.target.startswith(NEURAL + ".") or top in STDLIB or top in NEURAL_THIRD_PARTY:
                continue
            yield (
                f"{module} -> {imp.target} (line {imp.line}: the neural engine imports only the "
                f"standard library, {', '.join(sorted(NEURAL_THIRD_PARTY))} and itself)"
            )


def cycles(modules: dict[str, Path], imports: dict[str, list[Import]]) -> list[list[str]]:
    """Import cycles among load-time imports: each as a path [a, b, ..., a]."""
    graph = {
        module: sorted({i.target for i in found if i.at_load and i.target in modules} - {module})
        for module, found in imports.items()
    }
    # Tarjan's strongly connected components, iteratively (no recursion limit to worry about).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
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
    return [_one_loop(graph, component) for component in sorted(components)]


def _one_loop(graph: dict[str, list[str]], component: list[str]) -> list[str]:
    """A shortest loop through the component's first module, for the message."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in graph[node]:
            if child == start:
                return [*paths[node], start]
            if child in members and child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"no loop in {component}")  # a strongly connected component has one


def cycle_violations(modules: dict[str, Path], imports: dict[str, list[Import]]) -> Iterator[str]:
    """(d): no import cycles between modules."""
    for loop in cycles(modules, imports):
        text = " -> ".join(loop)
        for a, b in itertools.pairwise(loop):
            yield f"{a} -> {b} (import cycle {text})"


def _report(violations: list[str]) -> str:
    return f"{len(violations)} violation(s):\n  " + "\n  ".join(violations)


# ---- the rules, on the package as it is ------------------------------------------------------
def test_no_module_imports_a_higher_or_sibling_layer() -> None:
    _, imports = _scan()
    violations = list(layer_violations(imports))
    print("\n".join(violations))
    assert not violations, _report(violations)


def test_the_core_imports_only_itself_errors_and_the_standard_library() -> None:
    _, imports = _scan()
    violations = list(core_violations(imports))
    print("\n".join(violations))
    assert not violations, _report(violations)


def test_engine_packages_are_imported_only_by_their_adapters() -> None:
    _, imports = _scan()
    violations = list(engine_violations(imports)) + list(neural_violations(imports))
    print("\n".join(violations))
    assert not violations, _report(violations)


def test_no_import_cycles() -> None:
    modules, imports = _scan()
    violations = list(cycle_violations(modules, imports))
    print("\n".join(violations))
    assert not violations, _report(violations)


def test_every_adapter_listed_exists_and_imports_its_engine() -> None:
    # A stale allow-list would let a new importer hide behind a module that no longer uses it.
    modules, imports = _scan()
    for engine, adapters in ENGINE_ADAPTERS.items():
        for adapter in adapters:
            assert adapter in modules, f"{adapter} is listed for {engine} but does not exist"
            tops = {i.target.split(".")[0] for i in imports[adapter]}
            assert engine in tops, f"{adapter} is listed for {engine} but does not import it"


# ---- the scanner itself -----------------------------------------------------------------------
SAMPLE = """
from __future__ import annotations
import json
import voiceguide.core.session
from typing import TYPE_CHECKING
from . import sibling
from .. import errors
from ..core import commands, not_a_module
if TYPE_CHECKING:
    from voiceguide.app.config import Config
else:
    import yaml
try:
    import soxr
except ImportError:
    from voiceguide.audio import pcm
class Holder:
    from voiceguide.store import history
def later():
    import vosk
    from voiceguide.cli.main import main
"""


def test_the_scanner_finds_every_kind_of_import() -> None:
    known = {
        "voiceguide.errors",
        "voiceguide.core.session",
        "voiceguide.core.commands",
        "voiceguide.speech_in.sibling",
        "voiceguide.audio.pcm",
        "voiceguide.store.history",
    }
    found = imports_of(SAMPLE, "voiceguide.speech_in.listener", False, known)
    by_target = {i.target: (i.at_load, i.typing_only) for i in found}
    assert by_target == {
        "__future__": (True, False),
        "json": (True, False),
        "voiceguide.core.session": (True, False),
        "typing": (True, False),
        "voiceguide.speech_in.sibling": (True, False),
        "voiceguide.errors": (True, False),
        "voiceguide.core.commands": (True, False),
        "voiceguide.core": (True, False),  # a name, not a module: the package it comes from
        "voiceguide.app.config": (False, True),
        "yaml": (True, False),
        "soxr": (True, False),
        "voiceguide.audio.pcm": (True, False),
        "voiceguide.store.history": (True, False),
        "vosk": (False, False),
        "voiceguide.cli.main": (False, False),
    }


def test_relative_imports_resolve_from_a_package_init() -> None:
    found = imports_of(
        "from .engine import X\nfrom . import y\n", "voiceguide.speech_in", True, set()
    )
    assert [i.target for i in found] == ["voiceguide.speech_in.engine", "voiceguide.speech_in"]


def test_the_rules_catch_what_they_are_for() -> None:
    imports = {
        "voiceguide.core.session": [
            Import("voiceguide.app.config", 1, True, False),
            Import("yaml", 2, True, False),
            Import("numpy", 3, False, True),  # typing-only third party: allowed in the core
        ],
        "voiceguide.store.history": [Import("voiceguide.audio.pcm", 1, True, False)],
        "voiceguide.cli.main": [Import("sounddevice", 1, False, False)],
        "voiceguide.__main__": [Import("voiceguide.cli.main", 1, True, False)],
    }
    assert [v.split(" (")[0] for v in layer_violations(imports)] == [
        "voiceguide.core.session -> voiceguide.app.config",
        "voiceguide.store.history -> voiceguide.audio.pcm",
    ]
    assert [v.split(" (")[0] for v in core_violations(imports)] == [
        "voiceguide.core.session -> voiceguide.app.config",
        "voiceguide.core.session -> yaml",
    ]
    assert [v.split(" (")[0] for v in engine_violations(imports)] == [
        "voiceguide.cli.main -> sounddevice"
    ]
    loop = {
        "a": [Import("b", 1, True, False)],
        "b": [Import("c", 1, True, False)],
        "c": [Import("a", 1, True, False), Import("d", 2, True, False)],
        "d": [Import("c", 1, False, False)],  # in a function: not a load-time cycle
    }
    paths = {name: Path(name) for name in loop}
    assert cycles(paths, loop) == [["a", "b", "c", "a"]]
