"""The ROI tool on the PET viewer: a click places a sphere or circle ROI, the panel reads
SUVmax / SUVmean / SUVpeak in the page's language, and the kBq/mL ↔ SUV switch converts the
probe and the ROI alike."""

from __future__ import annotations

import re

import numpy as np
import pytest

from simulator.console.pet_console import PETConsole, suv_at


def _numbers(html_text: str) -> list[float]:
    return [float(x.replace(",", ".")) for x in re.findall(r"class='merm-roi-value'>([\d.,]+)", html_text)]


def _hottest(c: PETConsole) -> tuple[int, int]:
    img = c.session.current_series().series.images_bqml[c.session.slice_index]
    r, col = np.unravel_index(int(np.argmax(img)), img.shape)
    return int(col), int(r)


def test_sphere_roi_in_french_then_english(scanned_pet: PETConsole) -> None:
    c = scanned_pet
    c.roi.unit.value, c.roi.mode.value = "suv", "sphere"
    col, row = _hottest(c)
    c.probe(col, row)
    out = c.roi.out.value
    assert "SUVmax" in out and "SUVmoy" in out and "SUVpeak" in out and "sphère" in out
    mx, mean, peak = _numbers(out)
    voxel_suv, _ = suv_at(c.session.current_series().series, c.session.slice_index, row, col)
    # the ROI is centred on the hottest voxel of the slice: its max is at least that voxel
    assert mx >= round(voxel_suv, 2) - 0.005
    assert mean <= peak <= mx
    c.L.switch("en")
    assert "SUVmean" in c.roi.out.value and "slice" in c.roi.out.value
    c.L.switch("fr")


def test_unit_switch_converts_probe_and_roi(scanned_pet: PETConsole) -> None:
    c = scanned_pet
    c.roi.unit.value = "suv"
    col, row = _hottest(c)
    c.probe(col, row)
    suv_vals = _numbers(c.roi.out.value)
    c.roi.unit.value = "kbq"
    kbq_vals = _numbers(c.roi.out.value)
    series = c.session.current_series().series
    factor = series.protocol.weight_kg * 1000.0 / series.dose_at_scan_bq  # SUV per Bq/mL
    for s_, k_ in zip(suv_vals, kbq_vals, strict=True):
        assert s_ == pytest.approx(k_ * 1000.0 * factor, abs=0.01)  # 2-decimal display
    assert "kBq/mL" in c.probe_out.value and "SUV" not in c.probe_out.value
    c.roi.unit.value = "suv"
    assert "SUV" in c.probe_out.value


def test_circle_and_diameter_replace_the_roi(scanned_pet: PETConsole) -> None:
    c = scanned_pet
    c.roi.mode.value = "sphere"
    c.probe(*_hottest(c))
    n_sphere = c.roi.stats.n_voxels
    c.roi.mode.value = "circle"
    c.probe(*_hottest(c))
    assert c.roi.stats.kind == "circle" and c.roi.stats.n_voxels < n_sphere
    c.roi.diameter.value = 40.0  # the ROI is measured again at once
    assert c.roi.stats.diameter_mm == 40.0 and "40 mm" in c.roi.out.value
    c.roi.mode.value = "probe"
    c.probe(*_hottest(c))
    assert "merm-roi-value" not in c.roi.out.value and c.roi.stats is None
    assert "Voxel" in c.roi.out.value  # the probe reads next to the image too


def test_click_on_the_frame_places_the_roi(scanned_pet: PETConsole) -> None:
    from simulator.console.viewer import FRAME_H, FRAME_W

    c = scanned_pet
    c.roi.mode.value = "sphere"
    c.probe_frame(FRAME_W // 2, FRAME_H // 2)
    assert c.roi.stats is not None and "SUVmax" in c.roi.out.value


def test_no_series_says_so() -> None:
    c = PETConsole(lang="de")
    c.probe(10, 10)
    assert "Noch kein Bild" in c.roi.out.value
