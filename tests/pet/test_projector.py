"""Projector laws: linearity, exact adjoint, equal projection sums over angles."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.pet.projector import get_projector

#: float32 accumulation over ~10⁵ terms: a relative error of a few 1e-6 is rounding.
FLOAT32_REL = 1e-5


@pytest.mark.parametrize(
    ("n", "pixel_mm", "n_radial", "bin_mm"),
    [(32, 4.0, 32, 4.0), (33, 3.0, 40, 2.5), (48, 2.5, 60, 2.0)],
)
def test_adjoint_dot_product(n: int, pixel_mm: float, n_radial: int, bin_mm: float) -> None:
    proj = get_projector(n, pixel_mm, 24, n_radial, bin_mm)
    rng = np.random.default_rng(3)
    x = rng.random((3, n, n)) * proj.mask
    y = rng.random((3, 24, n_radial))
    lhs = float(np.sum(proj.forward(x).astype(np.float64) * y))
    rhs = float(np.sum(x * proj.back(y).astype(np.float64)))
    assert lhs == pytest.approx(rhs, rel=FLOAT32_REL)


def test_linearity() -> None:
    proj = get_projector(32, 4.0, 24, 32, 4.0)
    rng = np.random.default_rng(4)
    a, b = rng.random((2, 1, 32, 32)) * proj.mask
    np.testing.assert_allclose(
        proj.forward(2 * a + 3 * b), 2 * proj.forward(a) + 3 * proj.forward(b), rtol=1e-5, atol=1e-4
    )


@pytest.mark.parametrize("n", [40, 41])
def test_equal_projection_sums_across_angles(n: int) -> None:
    """An unattenuated object's projections all sum to its integral (area · value / bin)."""
    proj = get_projector(n, 2.0, 36, n, 2.0)
    c = (np.arange(n) - (n - 1) / 2) * 2.0
    yy, xx = np.meshgrid(c, c, indexing="ij")
    obj = ((xx - 8) ** 2 / 400 + (yy + 5) ** 2 / 150 <= 1).astype(np.float64)[None]
    sums = proj.forward(obj).sum(axis=2)[0]
    expected = obj.sum() * 2.0 * 2.0 / 2.0
    np.testing.assert_allclose(sums, expected, rtol=FLOAT32_REL)


def test_subsets_partition_the_lines_of_response() -> None:
    proj = get_projector(32, 4.0, 24, 32, 4.0)
    rows = np.concatenate([r for _, _, r in proj.subsets(6)])
    assert np.array_equal(np.sort(rows), np.arange(proj.geometry.n_lor))
    total = sum((t @ np.ones((t.shape[1], 1), np.float32)) for _, t, _ in proj.subsets(6))
    full = proj.transpose @ np.ones((proj.geometry.n_lor, 1), np.float32)
    np.testing.assert_allclose(total, full, rtol=FLOAT32_REL)


def test_point_projects_onto_a_sinusoid() -> None:
    proj = get_projector(41, 2.0, 36, 41, 2.0)
    img = np.zeros((1, 41, 41))
    img[0, 20, 30] = 1.0  # 20 mm along +x from the centre
    sino = proj.forward(img)[0]
    radial = (np.arange(41) - 20) * 2.0
    centroid = (sino * radial).sum(axis=1) / sino.sum(axis=1)
    np.testing.assert_allclose(centroid, 20.0 * np.cos(proj.geometry.angles_rad), atol=0.05)
