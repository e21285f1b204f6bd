"""Three-plane localizer: geometry round trips and slice-stack lines."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.mr import Geometry, MRProtocol
from simulator.mr.anatomy import Anatomy
from simulator.mr.localizer import PLANES, localizer


@pytest.fixture(scope="module")
def scout(head: Anatomy):  # type: ignore[no-untyped-def]
    return localizer(head, rng=np.random.default_rng(0))


def test_three_planes_with_orthogonal_orientations(scout) -> None:  # type: ignore[no-untyped-def]
    normals = []
    for plane in PLANES:
        img = scout.image(plane)
        assert img.ndim == 2 and img.max() > 0
        iop = scout.series[PLANES.index(plane)].orientation_cosines
        normals.append(np.cross(iop[:3], iop[3:]))
    gram = np.abs(np.array(normals) @ np.array(normals).T)
    assert np.allclose(gram, np.eye(3), atol=1e-9)


def test_pixel_mm_round_trip(scout) -> None:  # type: ignore[no-untyped-def]
    for plane in PLANES:
        point = scout.to_mm(plane, 10.0, 20.0)
        assert scout.to_pixel(plane, point) == pytest.approx((10.0, 20.0))


def test_axial_stack_draws_one_horizontal_line_per_slice_on_the_sagittal(scout) -> None:  # type: ignore[no-untyped-def]
    p = MRProtocol(slices=5, slice_mm=4.0, gap_mm=1.0)
    g = Geometry(orientation="axial", center_mm=(0.0, 0.0, 0.0))
    lines = scout.stack_lines("sagittal", p, g)
    assert len(lines) == 5 and all(ln is not None for ln in lines)
    rows = [ln[0][0] for ln in lines]  # type: ignore[index]
    # Horizontal (same row at both ends), evenly spaced by (slice + gap) / pixel size.
    assert all(ln[0][0] == pytest.approx(ln[1][0]) for ln in lines)  # type: ignore[index]
    spacing = scout.series[1].pixel_spacing_mm[0]
    assert np.allclose(np.abs(np.diff(rows)), 5.0 / spacing)
    # The centre slice passes through z = 0.
    assert scout.to_mm("sagittal", rows[2], 0.0)[2] == pytest.approx(0.0, abs=1e-6)
    # Parallel planes do not intersect.
    assert all(ln is None for ln in scout.stack_lines("axial", p, g))
