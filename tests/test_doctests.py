"""The examples in the docstrings run, and give what they say (``doctest``).

Every module of ``simulator`` that holds a ``>>>`` example is imported and its examples are
run; an example marked ``# doctest: +SKIP`` (one that needs a scan or a server) is only
parsed. The training packages need torch (the ``train`` extra) and are skipped without it.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "simulator"
NEEDS_TORCH = ("simulator.ai_training", "simulator.findings_training")


def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ">>> " not in path.read_text(encoding="utf-8"):
            continue
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        names.append(".".join(parts))
    return names


MODULES = _modules_with_examples()


def test_the_examples_are_found() -> None:
    assert len(MODULES) >= 20  # 31 modules carry examples when this was written


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    if name.startswith(NEEDS_TORCH) and importlib.util.find_spec("torch") is None:
        pytest.skip("needs torch (the train extra)")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             report=True, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
