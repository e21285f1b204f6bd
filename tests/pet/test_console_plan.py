"""PET console planning panel: the scout with the planned beds, exam time, NECR panel."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from simulator.console.pet_console import PETConsole, necr_svg, scout_png
from simulator.pet import PETProtocol
from simulator.pet.protocol import necr_against_activity


@pytest.fixture(scope="module")
def console():
    c = PETConsole(lang="en")
    c.session.set_anatomy("patient", None)
    return c


def _set(c: PETConsole, **values) -> None:
    for name, value in values.items():
        assert c.session.apply_command({"type": "set_param", "name": name, "value": value})["ok"]
    c.refresh_plan()


def _minutes(text: str) -> list[float]:
    return [int(m) + int(s) / 60 for m, s in re.findall(r"(\d+):(\d\d)", text)]


def test_exam_time_reads_15_to_20_min_standard_and_9_with_ai(console) -> None:
    _set(console, beds=6, minutes_per_bed=3.0)
    text = re.sub("<[^>]+>", "", console.exam_time.value)
    first, ref = text.split("Reference")[:2]
    assert _minutes(first)[-1] == pytest.approx(18.0)  # 6 × 3:00
    std, ai = _minutes(ref)[1], _minutes(ref)[3]
    assert 15.0 <= std <= 20.0 and ai == pytest.approx(9.0)


def test_scout_shows_the_planned_range(console) -> None:
    from PIL import Image

    _set(console, beds=6, bed_overlap_pct=25.0, range_top_mm=0.0)
    img = np.asarray(Image.open(io.BytesIO(console.scout.value)).convert("RGB")).astype(int)
    orange = (img[..., 0] > 200) & (img[..., 1] < 160) & (img[..., 2] < 60)
    assert orange.any()  # bed outlines drawn on the MIP
    assert console.scout.layout.display is None
    assert "Planned range: 0–" in console.exam_time.value
    before = console.scout.value
    _set(console, range_top_mm=200.0, beds=3)
    assert console.scout.value != before and "Planned range: 200–" in console.exam_time.value


def test_necr_panel_marks_a_trade_off(console) -> None:
    _set(console, activity_mbq=250.0)
    assert "<svg" in console.necr.value and "peak" in console.necr.value
    curve = necr_against_activity(PETProtocol(activity_mbq=250.0))
    n = np.array([v for _, v in curve])
    k = int(np.argmax(n))
    assert 0 < k < n.size - 1  # rises, peaks, falls
    gain = np.diff(n[: k + 1]) / np.diff([a for a, _ in curve[: k + 1]])
    assert np.all(np.diff(gain) < 0)  # each extra MBq gives less NECR than the one before


def test_plan_helpers_render() -> None:
    assert scout_png(np.ones((50, 20), np.float32), [(0.0, 40.0)], 4.0, 4.0).startswith(b"\x89PNG")
    assert necr_svg([(1.0, 1.0), (2.0, 3.0)], 1.5).startswith("<svg")


def test_french_and_german_labels() -> None:
    from simulator.console.pet_console import plan_text

    kw = {"beds": 6, "mpb": "03:00", "total": "18:00"}
    assert plan_text("exam_time", "fr", **kw).startswith("Durée d'examen")
    assert plan_text("exam_time", "de", **kw).startswith("Untersuchungszeit")
