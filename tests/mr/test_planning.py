"""simulator.mr.planning: wrap and coverage against analytic shapes, the phase-direction table
against the plane geometry, and the FOV rectangle."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from simulator.errors import ParameterError
from simulator.mr import Geometry, MRProtocol
from simulator.mr.anatomy import Anatomy
from simulator.mr.planning import (
    IN_PLANE_PHASE_DIRS,
    PHASE_VECTORS,
    WRAP_WARN_SHARE,
    check_phase_dir,
    coverage_share,
    fov_corners_mm,
    phase_dir_for,
    plane_axes,
    wrap_estimate,
    wrap_share,
)

# The head phantom of conftest: an elliptic cylinder 180 mm (x) × 200 mm (y), 60 mm tall.
A_MM, B_MM = 90.0, 100.0


def _beyond(h: float) -> float:
    """Share of the ellipse's area with y > h (analytic: a circular segment, stretched)."""
    t = min(max(h / B_MM, -1.0), 1.0)
    return (math.acos(t) - t * math.sqrt(1 - t * t)) / math.pi


def _tolerance(h: float) -> float:
    """Wrap is measured on a 3 mm grid of the 1 mm labels: at each FOV edge a row of grid
    points, 3 mm wide along the chord of the ellipse there, may fall either side. Two edges,
    one row each, over the body's area."""
    t = min(abs(h) / B_MM, 1.0)
    chord = 2 * A_MM * math.sqrt(1 - t * t)
    return 2 * 3.0 * chord / (math.pi * A_MM * B_MM) + 1e-3


@pytest.mark.parametrize("pct", [100.0, 80.0, 60.0])
@pytest.mark.parametrize("move_mm", [0.0, 25.0])
def test_wrap_share_is_the_body_outside_the_phase_fov(head: Anatomy, pct: float, move_mm: float) -> None:
    p = dataclasses.replace(MRProtocol(), slices=1, phase_dir="AP", matrix_phase=192, phase_fov_pct=pct)
    geo = Geometry(orientation="axial", center_mm=(0.0, move_mm, 0.0))
    w = wrap_estimate(head, p, geo)
    half = w.phase_fov_mm / 2
    expected = _beyond(half + move_mm) + _beyond(half - move_mm)
    assert w.phase_fov_mm == pytest.approx(p.phase_fov_mm)  # no phase oversampling set
    assert w.share == pytest.approx(expected, abs=_tolerance(half - move_mm))
    assert w.share == wrap_share(head, p, geo)
    # the FOV the stack would need, centred where it is, not to wrap: 2·(b + |move|)
    assert w.body_mm == pytest.approx(2 * (B_MM + move_mm), abs=3.0)
    assert w.wraps == (w.phase_fov_mm < w.body_mm - 3.0)


def test_wrap_share_ignores_the_body_outside_the_slices_and_the_read_fov(head: Anatomy) -> None:
    p = dataclasses.replace(MRProtocol(), slices=1, phase_dir="AP", matrix_phase=192, phase_fov_pct=60.0)
    # above the 60 mm tall head: no body imaged, nothing wraps
    assert wrap_share(head, p, Geometry(orientation="axial", center_mm=(0.0, 0.0, 50.0))) == 0.0
    # phase RL, 230 mm read FOV along AP holds the 200 mm head; RL 180 mm in a 138 mm phase FOV
    rl = dataclasses.replace(p, phase_dir="RL")
    t = 0.5 * rl.phase_fov_mm / A_MM   # the same segment law along x
    expected = 2 * (math.acos(t) - t * math.sqrt(1 - t * t)) / math.pi
    assert wrap_share(head, rl, Geometry(orientation="axial")) == pytest.approx(expected, abs=0.02)


def test_phase_oversampling_widens_the_encoded_fov(head: Anatomy) -> None:
    p = dataclasses.replace(MRProtocol(), slices=1, phase_dir="AP", matrix_phase=192, phase_fov_pct=80.0)
    over = dataclasses.replace(p, phase_oversampling_pct=50.0)
    assert wrap_estimate(head, p, Geometry()).wraps
    w = wrap_estimate(head, over, Geometry())
    assert w.phase_fov_mm > 1.4 * p.phase_fov_mm and not w.wraps and w.share < WRAP_WARN_SHARE


def test_coverage_is_the_share_of_the_structure_in_the_slabs(head: Anatomy) -> None:
    # The white matter is an elliptic cylinder over all 60 mm of the phantom's height
    # (voxel centres at z = −29.5 … 29.5): slices of 5 mm with 5 mm gaps image half of it.
    # The stack is centred 0.25 mm up so that no slab edge falls on a voxel centre: each
    # slab then holds exactly 5 of the 60 layers.
    p = dataclasses.replace(MRProtocol(), slice_mm=5.0, gap_mm=5.0, slices=6)
    geo = Geometry(orientation="axial", center_mm=(0.0, 0.0, 0.25))
    assert coverage_share(head, "white_matter", p, geo) == pytest.approx(0.5)
    contiguous = dataclasses.replace(p, gap_mm=0.0, slices=12)
    assert coverage_share(head, "white_matter", contiguous, geo) == pytest.approx(1.0)
    away = Geometry(orientation="axial", center_mm=(0.0, 0.0, 100.0))
    assert coverage_share(head, "white_matter", contiguous, away) == 0.0
    # a 100 mm read FOV, phase RL 100 mm: only the central 100 × 100 mm square is in plane
    small = dataclasses.replace(contiguous, fov_mm=100.0, phase_dir="RL")
    inside = coverage_share(head, "white_matter", small, geo)
    ax, ay = 60.0, 70.0     # the white-matter ellipse
    grid = np.mgrid[-ay:ay:0.25, -ax:ax:0.25]
    ell = (grid[1] / ax) ** 2 + (grid[0] / ay) ** 2 <= 1
    square = (np.abs(grid[0]) <= 50) & (np.abs(grid[1]) <= 50)
    assert inside == pytest.approx(np.count_nonzero(ell & square) / np.count_nonzero(ell), abs=0.02)


@pytest.mark.parametrize("orientation", sorted(IN_PLANE_PHASE_DIRS))
def test_the_phase_table_is_the_plane_geometry(orientation: str) -> None:
    _row, _col, normal = plane_axes(Geometry(orientation=orientation))
    for d, v in PHASE_VECTORS.items():
        in_plane = abs(float(np.dot(v, normal))) < 1e-9
        assert (d in IN_PLANE_PHASE_DIRS[orientation]) == in_plane
        if in_plane:
            check_phase_dir(orientation, d)
            assert phase_dir_for(orientation, d) == d
        else:
            with pytest.raises(ParameterError):
                check_phase_dir(orientation, d)
            assert phase_dir_for(orientation, d) == IN_PLANE_PHASE_DIRS[orientation][0]


def test_fov_corners_are_the_phase_by_read_rectangle_in_the_slice_plane() -> None:
    p = dataclasses.replace(MRProtocol(), phase_fov_pct=75.0, phase_dir="AP")
    geo = Geometry(orientation="axial", center_mm=(5.0, -10.0, 20.0), angle_deg=(20.0, -10.0))
    c = fov_corners_mm(p, geo)
    normal = plane_axes(geo)[2]
    assert np.allclose((c - np.asarray(geo.center_mm)) @ normal, 0.0, atol=1e-9)
    sides = sorted(float(np.linalg.norm(c[(i + 1) % 4] - c[i])) for i in range(4))
    assert sides == pytest.approx([p.phase_fov_mm] * 2 + [p.fov_mm] * 2)
    assert np.allclose(c.mean(axis=0), geo.center_mm)
    with pytest.raises(ParameterError):
        fov_corners_mm(dataclasses.replace(p, phase_dir="HF"), geo)
