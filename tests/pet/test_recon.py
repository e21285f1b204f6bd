"""Reconstruction laws: EM positivity, count preservation, monotone likelihood, OSEM(1)=MLEM,
an independent dense MLEM, and calibration in Bq/mL on a uniform cylinder."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulator.pet import PETProtocol, acquire, iter_reconstruct, reconstruct
from simulator.pet.phantoms import Phantom
from simulator.pet.projector import get_projector
from simulator.pet.recon import iter_em, poisson_log_likelihood

#: float32 iterates: sums over ~10⁴ terms agree to ~1e-5.
FLOAT32_REL = 2e-5


@pytest.fixture(scope="module")
def problem():
    """A small 2-slice problem with attenuation-like weights and Poisson data."""
    proj = get_projector(32, 4.0, 24, 40, 3.5)
    rng = np.random.default_rng(7)
    c = (np.arange(32) - 15.5) * 4.0
    yy, xx = np.meshgrid(c, c, indexing="ij")
    obj = np.stack([(np.hypot(xx, yy) < 50) * 10.0 + (np.hypot(xx - 20, yy) < 12) * 30.0] * 2)
    x_true = proj.to_columns(obj)
    w = rng.uniform(0.3, 1.0, (proj.geometry.n_lor, 2)).astype(np.float32)
    bg = np.full_like(w, 2.0)
    y = rng.poisson(w * (proj.matrix @ x_true) + bg).astype(np.float32)
    return proj, y, w, bg, x_true


def test_em_iterates_stay_non_negative(problem) -> None:
    proj, y, w, bg, _ = problem
    for _, x in iter_em(proj, y, w, bg, 5, subsets=4):
        assert x.min() >= 0.0


def test_mlem_preserves_counts_without_additive_terms(problem) -> None:
    proj, _, w, _, x_true = problem
    y = np.random.default_rng(8).poisson(w * (proj.matrix @ x_true)).astype(np.float32)
    zero = np.zeros_like(y)
    sens = proj.transpose @ w
    for _, x in iter_em(proj, y, w, zero, 6):
        np.testing.assert_allclose((sens * x).sum(axis=0), y.sum(axis=0), rtol=FLOAT32_REL)


def test_mlem_likelihood_never_decreases(problem) -> None:
    proj, y, w, bg, _ = problem
    values = [
        poisson_log_likelihood(y, w * (proj.matrix @ x) + bg)
        for _, x in iter_em(proj, y, w, bg, 15)
    ]
    steps = np.diff(values)
    assert np.all(steps >= -1e-6 * abs(values[-1]))  # float32 rounding of the log-likelihood
    assert values[-1] > values[0]


def test_mlem_matches_an_independent_dense_implementation(problem) -> None:
    proj, y, w, bg, _ = problem
    a = proj.matrix.toarray().astype(np.float64)
    yy, ww, bb = (v[:, 0].astype(np.float64) for v in (y, w, bg))
    sens = a.T @ ww
    x = np.full(a.shape[1], (yy - bb).sum() / sens.sum())
    for _ in range(5):
        x = x / sens * (a.T @ (ww * yy / (ww * (a @ x) + bb)))
    *_, (_, ours) = iter_em(proj, y, w, bg, 5)
    np.testing.assert_allclose(ours[:, 0], x, rtol=1e-3, atol=1e-3 * x.max())


def test_osem_with_one_subset_is_mlem(water_cylinder: Phantom) -> None:
    p = PETProtocol(minutes_per_bed=0.5, iterations=2, postfilter_mm=0.0)
    sino = acquire(water_cylinder, p, np.random.default_rng(1), slices=[4, 5])
    osem1 = reconstruct(sino, dataclasses.replace(p, recon="osem", subsets=1))
    mlem = reconstruct(sino, dataclasses.replace(p, recon="mlem", subsets=21))
    np.testing.assert_array_equal(osem1, mlem)


@pytest.mark.parametrize("recon", ["fbp", "osem", "mlem"])
def test_uniform_cylinder_is_calibrated_in_bqml(water_cylinder: Phantom, recon: str) -> None:
    """Noise-free data: the central 120-mm disc reads the true concentration at scan start."""
    p = PETProtocol(recon=recon, iterations=10 if recon == "osem" else 40, postfilter_mm=0.0)
    sino = acquire(water_cylinder, p, noiseless=True, slices=[4, 5])
    img = reconstruct(sino, p)
    c = (np.arange(p.matrix) - (p.matrix - 1) / 2) * sino.fov_mm / p.matrix
    disc = np.hypot(*np.meshgrid(c, c, indexing="ij")) < 60.0
    truth = float(water_cylinder.activity_bqml.max()) * sino.decay_at_start
    assert img[:, disc].mean() == pytest.approx(truth, rel=0.02)  # discretisation, EM bias


def test_iter_reconstruct_yields_each_iteration(water_cylinder: Phantom) -> None:
    p = PETProtocol(iterations=4, subsets=21)
    sino = acquire(water_cylinder, p, np.random.default_rng(2), slices=[5])
    its = [(k, img.shape) for k, img in iter_reconstruct(sino, p)]
    assert its == [(k, (1, 128, 128)) for k in range(1, 5)]
    last = list(iter_reconstruct(sino, p))[-1][1]
    np.testing.assert_array_equal(last, reconstruct(sino, p))


def test_no_attenuation_correction_gives_cupping(water_cylinder: Phantom) -> None:
    p = PETProtocol(attenuation_correction=False, iterations=4, postfilter_mm=6.0)
    sino = acquire(water_cylinder, p, noiseless=True, slices=[5])
    img = reconstruct(sino, p)[0]
    c = (np.arange(128) - 63.5) * sino.fov_mm / 128
    r = np.hypot(*np.meshgrid(c, c, indexing="ij"))
    assert img[r < 20].mean() < 0.6 * img[(r > 80) & (r < 90)].mean()


def test_psf_modelling_keeps_the_adjoint_and_raises_contrast() -> None:
    from simulator.pet import make_phantom, scan
    from simulator.pet.projector import get_projector as gp

    proj = gp(32, 4.0, 24, 40, 3.5, 4.4)
    rng = np.random.default_rng(9)
    x = rng.random((2, 32, 32)) * proj.mask
    y = rng.random((2, 24, 40))
    lhs = float(np.sum(proj.forward(x).astype(np.float64) * y))
    rhs = float(np.sum(x * proj.back(y).astype(np.float64)))
    assert lhs == pytest.approx(rhs, rel=FLOAT32_REL)

    ph = make_phantom("nema-iec")
    p = PETProtocol(activity_mbq=370.0, iterations=6, postfilter_mm=0.0, matrix=96)
    crc = {
        psf: scan(
            ph, dataclasses.replace(p, psf_modelling=psf), noiseless=True, slices=[24, 25, 26]
        )
        for psf in (False, True)
    }
    # single-plane NEMA analysis is not possible on 3 slices: compare sphere means directly
    for d in (13, 22):
        m = crc[False].labels == crc[False].names.index(f"sphere_{d}")
        assert crc[True].images_bqml[m].mean() > crc[False].images_bqml[m].mean()
