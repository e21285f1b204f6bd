"""The AI trade-offs lesson runs top to bottom on the shipped weights and report."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

LESSON = Path(__file__).resolve().parents[2] / "course" / "lessons" / "ai_tradeoffs.ipynb"


def test_lesson_executes_without_error(tmp_path):
    nb = nbformat.read(LESSON, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "network:" in text and "contrast kept" in text
    # the lesson shows images (PNG) and the measured target verdicts (markdown)
    assert any("image/png" in o.get("data", {}) for o in outputs)
    md = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    assert "**Target**" in md and ("met" in md)
