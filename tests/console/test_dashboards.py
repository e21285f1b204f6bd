"""The two trainee dashboards are thin and run headless (nbclient, a real kernel)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

DASHBOARDS = Path(__file__).resolve().parents[2] / "course" / "dashboards"


@pytest.mark.parametrize(
    ("name", "builder"), [("mr_console", "build_mr_console"), ("pet_console", "build_pet_console")]
)
def test_dashboard_is_a_title_and_one_call(
    name: str, builder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = nbformat.read(DASHBOARDS / f"{name}.ipynb", as_version=4)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["markdown", "code"]
    assert nb.cells[0].source.startswith("# ")
    assert f"{builder}()" in nb.cells[1].source
    monkeypatch.setenv("MERM_HOME", str(tmp_path))
    monkeypatch.setenv("MERM_LANG", "fr")
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[1].outputs
    assert [o.output_type for o in outputs] == ["execute_result"]  # the console widget, no error
    assert "application/vnd.jupyter.widget-view+json" in outputs[0].data
