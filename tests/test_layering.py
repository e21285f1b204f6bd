"""The layers of the house, as a test (design.md, docs/architecture.md).

Two checks:

- at run time, the physics packages never pull in UI or network code (a fresh interpreter
  imports them and lists ``sys.modules``);
- statically, every import between the project's packages — function-level and
  ``TYPE_CHECKING`` imports included, since they are dependencies all the same — follows an
  allowed arrow of :data:`ALLOWED`, and neither the packages nor the files form a cycle.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "simulator"

FORBIDDEN = ("ipywidgets", "IPython", "aiohttp", "aiortc", "voila", "tornado", "zmq", "sqlalchemy")

#: Modules every layer may use: errors, paths and the mm:ss formatter import nothing of ours.
BASE = frozenset({"errors", "paths", "durations", "memory"})

#: Package → the packages it may import (besides :data:`BASE`). Physics at the bottom;
#: DICOM, the exam scenarios, the hospital network and AI training on physics; the consoles,
#: exercises, mentoring and progress service above; the lab server, CLI and deployment on top.
ALLOWED: Mapping[str, frozenset[str]] = {
    "quality": frozenset(),
    "ai": frozenset({"quality"}),
    "mr": frozenset({"ai"}),
    "pet": frozenset({"ai", "mr", "quality"}),
    "dicom": frozenset(),
    "exam": frozenset({"mr", "pet"}),
    "hospital": frozenset({"dicom", "exam", "mr", "pet"}),
    "ai_training": frozenset({"ai", "mr", "pet", "quality"}),
    "findings": frozenset({"ai", "mr", "pet", "quality"}),
    "findings_training": frozenset({"findings", "ai", "ai_training", "mr", "pet", "quality"}),
    "mentoring": frozenset(),
    "exercises": frozenset({"mr", "pet", "quality", "dicom", "exam", "hospital", "findings"}),
    "progress": frozenset({"exercises", "hospital"}),
    "console": frozenset({"mr", "pet", "quality", "ai", "findings", "dicom", "exam", "hospital", "exercises", "mentoring", "progress"}),
    "lab": frozenset({"exercises", "mentoring", "progress", "console", "exam"}),
    "deploy": frozenset({"mentoring", "progress", "lab"}),
    "cli": frozenset({"mr", "pet", "quality", "ai", "ai_training", "findings", "findings_training", "dicom", "exam", "hospital", "exercises", "mentoring", "progress", "lab", "console", "deploy"}),
    "course": frozenset(),
}

#: Arrows and cycles that break the layers today, each named so that it is paid back rather
#: than copied (issue 13). The tests fail on any new one, and on one that is gone but still
#: listed, so the list only shrinks.
KNOWN_WRONG_ARROWS: frozenset[str] = frozenset({
    # the exercise panel is a console widget, and the i18n tables and patient scenarios live in
    # the console: they belong in a shared i18n module and in simulator.exam
    "simulator.exercises.authoring imports simulator.console.mr_console",
    "simulator.exercises.authoring imports simulator.console.pet_console",
    "simulator.exercises.objectives imports simulator.console.i18n",
    "simulator.exercises.panel imports simulator.console.i18n",
    "simulator.exercises.panel imports simulator.console.patient",
    "simulator.exercises.panel imports simulator.progress.client",
    "simulator.exercises.instructor imports simulator.progress.client",
    # the worklist and the exam's study read the scenarios and the DICOM patient of the console
    "simulator.hospital.exam imports simulator.console.session",
    "simulator.hospital.worklist imports simulator.console.patient",
    "simulator.hospital.worklist imports simulator.console.session",
})
KNOWN_FILE_CYCLES: frozenset[tuple[str, ...]] = frozenset({
    ("simulator.console.session", "simulator.hospital.exam"),
})
KNOWN_PACKAGE_CYCLES: frozenset[tuple[str, ...]] = frozenset({
    ("console", "exercises", "hospital", "progress"),
})


@pytest.mark.parametrize(
    "module", ["simulator.mr", "simulator.pet", "simulator.quality", "simulator.ai", "simulator.findings", "simulator.dicom"]
)
def test_physics_imports_no_ui_or_network(module: str) -> None:
    code = (
        f"import json, sys; import {module}; "
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not loaded & set(FORBIDDEN), f"{module} imports {sorted(loaded & set(FORBIDDEN))}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(p): p
        for p in PACKAGE.rglob("*.py")
        if "course" not in p.relative_to(PACKAGE).parts
    }


def _imports(name: str, path: Path, known: Iterable[str]) -> set[str]:
    """Every project module ``name`` imports, resolved to a module of ``known``."""
    known = set(known)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                full = f"{module}.{alias.name}"
                targets.add(full if full in known else module)
    resolved = set()
    for target in targets:
        if not target.startswith("simulator"):
            continue
        while target not in known and "." in target:
            target = target.rsplit(".", 1)[0]
        if target in known and target != name:
            resolved.add(target)
    return resolved


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {name: _imports(name, path, mods) for name, path in mods.items()}


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
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
                        found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle_and_no_false_one() -> None:
    assert _cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert _cycles({"a": ["b"], "b": ["c"], "c": []}) == []


def test_every_package_is_placed_in_a_layer() -> None:
    packages = {p for m in _modules() if (p := _package(m)) and (PACKAGE / p).is_dir()}
    assert packages - set(ALLOWED) == set(), "add the new package to ALLOWED and docs/architecture.md"


def test_imports_between_packages_follow_the_layers() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if (a := _package(module)) in ALLOWED
        and (b := _package(target)) not in BASE | {a, None}
        and b not in ALLOWED[a]
    )
    assert sorted(set(wrong) - KNOWN_WRONG_ARROWS) == [], "an import against the layers"
    assert sorted(KNOWN_WRONG_ARROWS - set(wrong)) == [], "paid back: remove it from KNOWN_WRONG_ARROWS"


def test_no_cycle_of_packages() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        a = _package(module)
        for target in targets:
            b = _package(target)
            if a and b and a != b:
                packages.setdefault(a, set()).add(b)
    found = {tuple(c) for c in _cycles(packages)}
    assert sorted(found - KNOWN_PACKAGE_CYCLES) == [], "a new cycle of packages"
    assert sorted(KNOWN_PACKAGE_CYCLES - found) == [], "paid back: remove it from KNOWN_PACKAGE_CYCLES"


def test_no_cycle_of_files() -> None:
    graph = {
        # a package's __init__ re-exporting its submodules is how a package is made, not a cycle
        module: {t for t in targets if not t.startswith(module + ".")}
        for module, targets in _graph().items()
    }
    found = {tuple(c) for c in _cycles(graph)}
    assert sorted(found - KNOWN_FILE_CYCLES) == [], "a new cycle of files"
    assert sorted(KNOWN_FILE_CYCLES - found) == [], "paid back: remove it from KNOWN_FILE_CYCLES"
