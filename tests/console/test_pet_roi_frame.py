"""The PET ROI is drawn on the image: its outline where the trainee placed it, with SUVmax,
SUVmean and SUVpeak beside it, in the frame the viewer shows and the mentor's video sends;
a sphere shows its cross-section on the slices it crosses, and nothing on the others."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from simulator.console import _render
from simulator.console.pet_console import PETConsole
from simulator.console.viewer import FRAME_H, FRAME_W


def _cyan(frame: np.ndarray) -> np.ndarray:
    """Pixels of the ROI's colour."""
    return np.all(frame == np.array(_render.ROI_COLOUR, np.uint8), axis=2)


def _centre(c: PETConsole) -> tuple[int, int]:
    _n, rows, cols = c.session.current_series().images.shape
    return cols // 2, rows // 2


def test_the_roi_is_drawn_where_it_was_placed(scanned_pet: PETConsole) -> None:
    c, s = scanned_pet, scanned_pet.session
    c.roi.mode.value, c.roi.unit.value, c.roi.diameter.value = "sphere", "suv", 30.0
    c.roi.measure(None, 0, 0, 0)  # no ROI yet
    before = np.asarray(s.render_frame(FRAME_W, FRAME_H))
    assert not _cyan(before).any()
    col, row = _centre(c)
    c.probe(col, row)
    after = np.asarray(s.render_frame(FRAME_W, FRAME_H))
    changed = np.any(after != before, axis=2)
    cyan = _cyan(after)
    assert cyan.sum() > 100
    # the outline lies at the ROI's radius from its centre, in frame pixels
    cur = s.current_series()
    x, y, scale = _render.image_to_frame(col + 0.5, row + 0.5, cur.images.shape[1:],
                                         FRAME_W, FRAME_H, s.zoom, cur.aspect)
    radius_px = 15.0 / float(cur.series.voxel_mm[2]) * scale
    yy, xx = np.nonzero(cyan)
    dist = np.hypot(xx - x, yy - y)
    ring = np.abs(dist - radius_px) <= 3.0  # the 2-px outline, rounding of the ellipse box
    assert ring.sum() > 0.8 * 2 * math.pi * radius_px
    assert changed[cyan].all()
    # the read-out beside it: text pixels right of the circle, none of it under the banner
    right = cyan[:, int(x + radius_px + 4):]
    assert right.sum() > 50
    assert not cyan[_render.banner_top(Image.fromarray(after), "fr"):].any()


def test_the_mentor_video_frame_shows_it_too(scanned_pet: PETConsole) -> None:
    c, s = scanned_pet, scanned_pet.session
    c.roi.mode.value = "sphere"
    c.probe(*_centre(c))
    small = np.asarray(s.render_frame(320, 240))
    assert _cyan(small).sum() > 30


def test_a_sphere_crosses_slices_a_circle_only_its_own(scanned_pet: PETConsole) -> None:
    c, s = scanned_pet, scanned_pet.session
    dz = float(s.current_series().series.voxel_mm[0])
    c.roi.diameter.value = 30.0
    c.roi.mode.value = "sphere"
    k = s.slice_index
    c.probe(*_centre(c))
    n = s.current_series().images.shape[0]
    near = k + 1 if k + 1 < n else k - 1
    far = [j for j in range(n) if abs(j - k) * dz >= 15.0]
    areas = {}
    for j in (k, near, *far[:1]):
        s.set_slice(j)
        areas[j] = int(_cyan(np.asarray(s.render_frame(FRAME_W, FRAME_H))).sum())
    s.set_slice(k)
    assert areas[near] > 0
    if far:
        assert areas[far[0]] == 0  # beyond the sphere's radius: nothing drawn
    c.roi.mode.value = "circle"
    c.probe(*_centre(c))
    s.set_slice(near)
    assert not _cyan(np.asarray(s.render_frame(FRAME_W, FRAME_H))).any()
    s.set_slice(k)
    assert _cyan(np.asarray(s.render_frame(FRAME_W, FRAME_H))).any()


def test_the_read_out_on_the_image_follows_the_unit_and_language(scanned_pet: PETConsole) -> None:
    c = scanned_pet
    c.roi.mode.value, c.roi.unit.value = "sphere", "suv"
    c.probe(*_centre(c))
    fr = c.roi.frame_lines("fr")
    assert [t.split()[0] for t in fr] == ["SUVmax", "SUVmoy", "SUVpeak"] and "," in fr[0]
    assert c.roi.frame_lines("en")[1].startswith("SUVmean")
    c.roi.unit.value = "kbq"
    assert all(t.endswith("kBq/mL") for t in c.roi.frame_lines("de"))
    c.roi.unit.value = "suv"


def test_a_probe_draws_no_roi(scanned_pet: PETConsole) -> None:
    c, s = scanned_pet, scanned_pet.session
    c.roi.mode.value = "probe"
    c.probe(*_centre(c))
    assert not _cyan(np.asarray(s.render_frame(FRAME_W, FRAME_H))).any()
    c.roi.mode.value = "sphere"
