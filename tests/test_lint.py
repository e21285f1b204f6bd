"""Code health gates that CI enforces: ruff on the package and tests, mypy on the package."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import missing

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> list[str]:
    exe = Path(sys.executable).with_name(name)
    if exe.exists():
        return [str(exe)]
    if shutil.which(name):
        return [name]
    missing(f"{name} is not installed (it comes with the test extra)")


def test_ruff_is_clean() -> None:
    out = subprocess.run([*_tool("ruff"), "check", "simulator", "tests"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_mypy_on_the_package() -> None:
    out = subprocess.run(
        [*_tool("mypy"), "--no-error-summary"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_no_test_imports_a_bare_conftest() -> None:
    """``from conftest import …`` resolves to whichever conftest pytest loaded last, so it
    breaks when test folders are collected together: import from ``tests.conftest`` or a
    helper module with a unique name instead."""
    tests = Path(__file__).resolve().parent
    offenders = [
        str(p.relative_to(tests))
        for p in tests.rglob("*.py")
        if any(line.lstrip().startswith(("from conftest import", "import conftest"))
               for line in p.read_text(encoding="utf-8").splitlines())
    ]
    assert offenders == []
