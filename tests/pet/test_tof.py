"""Time of flight in the reconstruction: the TOF kernel, and what it does to the image."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulator.errors import ParameterError
from simulator.pet import (
    PETProtocol,
    check_protocol,
    iter_reconstruct,
    make_phantom,
    nema_analysis,
    scan,
)
from simulator.pet.projector import get_projector, get_tof_projector, tof_bin_mm, tof_unfold_sum

#: c/2 in mm per ps (c = 299.792458 mm/ns), typed here.
HALF_C_MM_PER_PS = 0.299792458 / 2
NEMA_SLICES = [15, 20, 25, 30, 35]


@pytest.fixture(scope="module")
def small():
    n, px, fwhm = 64, 5.0, HALF_C_MM_PER_PS * 540.0
    return get_projector(n, px, 168, n, px), get_tof_projector(n, px, 168, n, px, 0.0, 9, fwhm)


def test_tof_projector_is_the_adjoint_and_adds_up_to_non_tof(small) -> None:
    base, tof = small
    rng = np.random.default_rng(0)
    x = rng.random((2, 64, 64)).astype(np.float32)
    y = rng.random((2, 168, 9 * 64)).astype(np.float32)
    assert np.vdot(tof.forward(x), y) == pytest.approx(np.vdot(x, tof.back(y)), rel=1e-4)
    np.testing.assert_allclose(tof_unfold_sum(tof.forward(x), 9), base.forward(x), rtol=2e-3,
                               atol=1e-3 * float(base.forward(x).max()))


def test_tof_kernel_is_a_gaussian_of_fwhm_c_dt_over_2(small) -> None:
    """A point 40 mm off centre, seen at angle 0 (line along y): its counts over the TOF
    bins have the mean at its position and the variance σ² + w²/12 (bins of width w)."""
    _, tof = small
    img = np.zeros((1, 64, 64), np.float32)
    y_mm = 40.0
    row = int(round(y_mm / 5.0 + 31.5))
    img[0, row, 32] = 1.0
    data = tof.forward(img)[0, 0].reshape(9, 64).sum(axis=1)
    w = tof_bin_mm(64, 5.0, 9)
    t = (np.arange(9) - 4) * w
    p = data / data.sum()
    pos = (row - 31.5) * 5.0
    mean = float((p * t).sum())
    var = float((p * (t - mean) ** 2).sum())
    sigma = HALF_C_MM_PER_PS * 540.0 / (2 * np.sqrt(2 * np.log(2)))
    assert mean == pytest.approx(pos, abs=3.0)
    assert var == pytest.approx(sigma**2 + w**2 / 12, rel=0.15)


def test_tof_bins_are_checked() -> None:
    with pytest.raises(ParameterError, match="3–25"):
        check_protocol(PETProtocol(tof_ps=540.0, tof_bins=2))


@pytest.fixture(scope="module")
def iec_runs():
    ph = make_phantom("nema-iec", ratio=4.0)
    base = PETProtocol(activity_mbq=370.0, weight_kg=70.0, minutes_per_bed=2.0, subsets=21)
    tof = dataclasses.replace(base, tof_ps=540.0, tof_bins=9)
    out = {}
    for name, p in (("off", base), ("tof", tof)):
        s = scan(ph, p, noiseless=True, slices=NEMA_SLICES, keep_sinogram=True)
        out[name] = [
            nema_analysis(dataclasses.replace(s, images_bqml=img), ph)
            for _, img in iter_reconstruct(s.sinogram, dataclasses.replace(p, iterations=3))
        ]
        out[name + "_noisy"] = scan(ph, p, seed=7, slices=NEMA_SLICES)
    return out


@pytest.mark.slow
def test_tof_raises_small_sphere_crc_and_lowers_lung_residual(iec_runs) -> None:
    """At equal iterations (3 × 21), as NEMA measurements of TOF scanners show."""
    off, tof = iec_runs["off"][-1], iec_runs["tof"][-1]
    for sphere in ("sphere_10", "sphere_13"):
        assert tof["crc"][sphere] > off["crc"][sphere] + 0.03, sphere
    assert tof["lung_residual"] < 0.7 * off["lung_residual"]


@pytest.mark.slow
def test_tof_speeds_convergence(iec_runs) -> None:
    """One TOF iteration recovers the 37-mm sphere as well as two without TOF, and every
    TOF iterate is closer to its limit than the non-TOF one at the same iteration."""
    off = [r["crc"]["sphere_37"] for r in iec_runs["off"]]
    tof = [r["crc"]["sphere_37"] for r in iec_runs["tof"]]
    assert tof[0] >= off[1]
    assert all(t > o for t, o in zip(tof, off, strict=True))


@pytest.mark.slow
def test_tof_lowers_noise_from_the_data_themselves(iec_runs) -> None:
    """No variance factor with TOF bins: the lower background variability comes from the
    TOF reconstruction of the same counts."""
    off, tof = iec_runs["off_noisy"], iec_runs["tof_noisy"]
    assert tof.metrics["tof_gain"] == 1.0
    assert tof.counts["prompts"] == pytest.approx(off.counts["prompts"], rel=0.01)
    assert tof.metrics["nema"]["bv"]["sphere_37"] < off.metrics["nema"]["bv"]["sphere_37"]


def test_tof_resolution_is_the_scanners_on_average_over_positions(small) -> None:
    """Points stepped across the TOF nodes (angle 0, line along y): the mean of their TOF
    profile is their position, and its variance, averaged over the positions, is
    σ² + w²/12 (the Gaussian of FWHM c·Δt/2 seen through bins of width w, Sheppard's
    correction, itself an average over positions). Without the kernel's correction for the
    linear interpolation between nodes 0.7 σ apart the variance would be 7 % more."""
    _, tof = small
    w = tof_bin_mm(64, 5.0, 9)
    t = (np.arange(9) - 4) * w
    sigma = HALF_C_MM_PER_PS * 540.0 / (2 * np.sqrt(2 * np.log(2)))
    want = sigma**2 + w**2 / 12
    variances = []
    for row in range(22, 42):  # −47.5 … +47.5 mm: the tails stay inside the end bins
        img = np.zeros((1, 64, 64), np.float32)
        img[0, row, 32] = 1.0
        p = tof.forward(img)[0, 0].reshape(9, 64).sum(axis=1).astype(np.float64)
        p /= p.sum()
        mean = float((p * t).sum())
        assert mean == pytest.approx((row - 31.5) * 5.0, abs=1.0)
        variances.append(float((p * (t - mean) ** 2).sum()))
    assert np.mean(variances) == pytest.approx(want, rel=0.03)
