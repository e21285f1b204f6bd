"""PET console logic: SUV probe law, click → pixel mapping, NEMA table, OSEM iterations shown."""

from __future__ import annotations

import types

import numpy as np
import pytest

from simulator.console import _render
from simulator.console.pet_console import nema_table_html, suv_at
from simulator.console.session import ConsoleSession


def test_suv_of_a_uniform_body_is_one() -> None:
    """A body of uniform concentration dose/weight has SUV 1 everywhere (definition)."""
    dose_bq, weight_kg = 200e6, 80.0
    conc = dose_bq / (weight_kg * 1000.0)
    series = types.SimpleNamespace(
        images_bqml=np.full((3, 8, 8), conc, np.float32),
        dose_at_scan_bq=dose_bq,
        protocol=types.SimpleNamespace(weight_kg=weight_kg),
    )
    suv, bq = suv_at(series, 1, 4, 4)
    assert suv == pytest.approx(1.0, rel=1e-6)  # float32 rounding of the image
    series.images_bqml *= 3.0
    assert suv_at(series, 1, 4, 4)[0] == pytest.approx(3.0, rel=1e-6)  # linear in concentration


@pytest.mark.parametrize("shape", [(128, 128), (256, 192), (50, 128)])
@pytest.mark.parametrize("zoom", [1.0, 2.0])
@pytest.mark.parametrize("aspect", [1.0, 1.3333333])
def test_frame_to_image_inverts_scale_to(
    shape: tuple[int, int], zoom: float, aspect: float
) -> None:
    """A pixel painted in the image is found where the rendered frame shows it."""
    rows, cols = shape
    r, c = rows // 2 + 3, cols // 2 - 5
    img = np.zeros((rows, cols, 3), np.uint8)
    img[r, c] = 255
    frame = np.asarray(_render.scale_to(img, 560, 480, zoom, aspect)).astype(int).sum(axis=2)
    y, x = np.unravel_index(np.argmax(frame), frame.shape)
    hit = _render.frame_to_image(x, y, shape, 560, 480, zoom, aspect)
    assert hit is not None
    assert abs(hit[0] - c) <= 1 and abs(hit[1] - r) <= 1  # one pixel of resampling blur
    assert _render.frame_to_image(1, 1, (rows, 8), 560, 480) is None  # outside the image


def test_nema_table_lists_each_sphere() -> None:
    nema = {
        "crc": {"sphere_10": 0.3, "sphere_37": 0.8},
        "bv": {"sphere_10": 0.1, "sphere_37": 0.05},
        "kind": {"sphere_10": "hot", "sphere_37": "hot"},
    }
    out = nema_table_html(nema, "fr", lambda k, **kw: k)
    assert out.count("<tr>") == 3 and "30,0" in out and "80,0" in out  # French decimals


def test_pet_session_shows_osem_iterations() -> None:
    s = ConsoleSession("pet", lang="en", anatomy="nema-iec", pathology="4")
    assert s.scan_allowed()[0]  # no MR safety screening for PET
    import dataclasses

    s.load_protocol(dataclasses.replace(s.protocol, iterations=2, subsets=7, matrix=64))
    seen: list[int] = []
    s.on_change(lambda e: seen.append(e["iteration"]) if e["type"] == "iteration" else None)
    s.clock = "max"
    s.apply_command({"type": "scan"})
    s.wait(120)
    assert s.scan_state == "done", s.message
    assert seen == [1, 2]  # every iteration shown, in order
    assert "nema" in s.current_series().metrics
    assert s.apply_command({"type": "set_view", "mode": "mip"})["ok"]
    assert s.render_frame(320, 240).shape == (240, 320, 3)
