"""ROI statistics (SUVmax, SUVmean, PERCIST SUVpeak) against independent references:
uniform volumes, an analytic hot sphere, a linear ramp (a symmetric mean of a linear function
is its centre value) and a single hot voxel (its 1 cm³ mean is value × voxel volume / 1 cm³)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.pet.roi import peak_kernel, roi_mask, roi_stats, suv_factor

#: Tolerance of a voxelised sphere's volume (voxel-centre inclusion, ≥ 10 voxels across).
DISCRETE_VOLUME_REL = 0.05
#: The 1 cm³ kernel is integrated on a 7³ sub-grid per voxel: its volume is within 2 %.
KERNEL_VOLUME_REL = 0.02


@pytest.mark.parametrize("shape", [(21, 21, 21), (20, 24, 19)])
@pytest.mark.parametrize("voxel_mm", [(2.0, 2.0, 2.0), (3.27, 4.0, 4.0)])
@pytest.mark.parametrize("kind", ["sphere", "circle"])
def test_uniform_volume_reads_its_value(shape, voxel_mm, kind) -> None:
    img = np.full(shape, 5300.0, np.float32)
    st = roi_stats(img, voxel_mm, (10, 10, 9), 25.0, kind)
    assert st.max == pytest.approx(5300.0)
    assert st.mean == pytest.approx(5300.0)
    assert st.peak == pytest.approx(5300.0, rel=1e-9)  # the edge normalisation is exact


@pytest.mark.parametrize("voxel_mm", [(1.0, 1.0, 1.0), (2.0, 2.0, 2.0), (3.27, 4.07, 4.07),
                                      (2.0, 5.0, 5.0)])
def test_peak_sphere_is_one_cubic_centimetre(voxel_mm) -> None:
    k = peak_kernel(voxel_mm)
    assert k.sum() * float(np.prod(voxel_mm)) == pytest.approx(1000.0, rel=KERNEL_VOLUME_REL)
    assert np.allclose(k, k[::-1, ::-1, ::-1])  # symmetric about the centre voxel


def test_hot_sphere_in_background_analytic() -> None:
    """A 30-mm sphere of 4 in a background of 1 (1-mm voxels): a small ROI at its centre reads
    4 everywhere; a 60-mm ROI reads the volume-weighted mean of the two."""
    n = 81
    z, y, x = np.mgrid[:n, :n, :n] - n // 2
    sphere = (x**2 + y**2 + z**2) <= 15.0**2
    img = np.where(sphere, 4.0, 1.0)
    c = (n // 2,) * 3
    small = roi_stats(img, (1.0, 1.0, 1.0), c, 10.0)
    # the peak sphere (r 6.2 mm) around any voxel within 5 mm stays inside r = 15 mm
    assert small.max == small.mean == small.peak == pytest.approx(4.0)
    big = roi_stats(img, (1.0, 1.0, 1.0), c, 60.0)
    v_s, v_roi = 4 / 3 * math.pi * 15.0**3, 4 / 3 * math.pi * 30.0**3
    expected = (4.0 * v_s + 1.0 * (v_roi - v_s)) / v_roi
    assert big.mean == pytest.approx(expected, rel=DISCRETE_VOLUME_REL)
    assert big.max == 4.0 and big.peak == pytest.approx(4.0)
    assert big.volume_ml == pytest.approx(v_roi / 1000.0, rel=DISCRETE_VOLUME_REL)


@pytest.mark.parametrize("voxel_mm", [(2.0, 2.0, 2.0), (2.0, 3.0, 2.5)])
def test_linear_ramp(voxel_mm) -> None:
    """f = a + g·col: the mean of a symmetric region is f at its centre, the peak is f at the
    region's right-most voxel (the kernel is symmetric), the max likewise."""
    shape = (40, 40, 60)
    cols = np.arange(shape[2], dtype=np.float64)
    img = np.broadcast_to(100.0 + 7.0 * cols, shape).copy()
    centre = (20, 20, 30)
    st = roi_stats(img, voxel_mm, centre, 20.0)
    right = 30 + int(np.floor(10.0 / voxel_mm[2]))  # furthest column within the radius
    assert st.mean == pytest.approx(100.0 + 7.0 * 30)
    assert st.max == pytest.approx(100.0 + 7.0 * right)
    assert st.peak == pytest.approx(100.0 + 7.0 * right)
    assert st.peak_center[2] == right


def test_single_hot_voxel_peak_is_diluted_in_one_cubic_centimetre() -> None:
    img = np.zeros((31, 31, 31))
    img[15, 15, 15] = 1000.0
    st = roi_stats(img, (1.0, 1.0, 1.0), (15, 15, 15), 20.0)
    assert st.max == 1000.0
    assert st.mean == pytest.approx(1000.0 / st.n_voxels)
    # the centre voxel lies wholly inside the 1 cm³ sphere: 1000 × 1 mm³ / 1000 mm³
    assert st.peak == pytest.approx(1.0, rel=KERNEL_VOLUME_REL)


def test_circle_stays_in_its_slice_and_has_the_disc_area() -> None:
    m = roi_mask((9, 101, 101), (4, 50, 50), 40.0, (3.0, 1.0, 1.0), "circle")
    assert m[4].sum() == m.sum()
    assert m.sum() == pytest.approx(math.pi * 20.0**2, rel=DISCRETE_VOLUME_REL)


def test_region_holds_at_least_its_centre_and_is_clipped_into_the_volume() -> None:
    m = roi_mask((5, 5, 5), (9, -3, 2), 0.5, (4.0, 4.0, 4.0))
    assert m.sum() == 1 and m[4, 0, 2]


def test_input_is_not_modified_and_stats_scale() -> None:
    rng = np.random.default_rng(3)
    img = rng.uniform(0, 10, (12, 12, 12))
    before = img.copy()
    st = roi_stats(img, (2.0, 2.0, 2.0), (6, 6, 6), 10.0)
    assert np.array_equal(img, before)
    s2 = st.scaled(2.0)
    assert (s2.max, s2.mean, s2.peak) == pytest.approx((2 * st.max, 2 * st.mean, 2 * st.peak))


@pytest.mark.parametrize(
    "args",
    [
        ((2.0, 2.0, 2.0), 0.0, "sphere"),
        ((2.0, 2.0, 2.0), float("nan"), "sphere"),
        ((2.0, -1.0, 2.0), 10.0, "sphere"),
        ((2.0, 2.0, 2.0), 10.0, "cube"),
    ],
)
def test_bad_region_is_refused(args) -> None:
    voxel, d, kind = args
    with pytest.raises(ValueError):
        roi_stats(np.ones((5, 5, 5)), voxel, (2, 2, 2), d, kind)


def test_suv_factor_uniform_body_is_one() -> None:
    """SUV definition: a body at concentration A/W everywhere has SUV 1."""
    dose_bq, weight_kg = 250e6, 80.0
    conc = dose_bq / (weight_kg * 1000.0)
    assert conc * suv_factor(dose_bq, weight_kg) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        suv_factor(0.0, 70.0)
