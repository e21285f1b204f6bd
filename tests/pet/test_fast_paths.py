"""The fast paths of the PET projector and reconstruction against plain references written
here (issue 16, performance).

Stated tolerances (float32 arithmetic, sums in another order):
- subset products (CSC forward, blocked) and the full ``A @ x``: 1e-5 of the largest value;
- OSEM 3 × 6 against a textbook per-slice OSEM on ``scipy.sparse`` (float64): 1e-4 of the
  image maximum, everywhere;
- the factorised TOF projector against the TOF matrix built from its definition (exact TOF
  shares at each pixel's own position, no truncation): 1 % of the maximum, 0.5 % in L2
  (the kernel is interpolated between nodes 0.7 σ apart along the line, its Gaussian
  narrowed by the interpolation's mean variance).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import ndtr

from simulator.pet import projector as pj
from simulator.pet.recon import iter_em

N, PX, ANGLES = 40, 4.0, 24


@pytest.fixture(scope="module")
def proj() -> pj.Projector:
    return pj.get_projector(N, PX, ANGLES, N, PX)


def _reference_osem(a: sp.csr_matrix, y, w, b, iterations: int, subsets: int, n_radial: int):
    """Hudson & Larkin OSEM, one slice at a time, float64, from the full matrix."""
    a = a.astype(np.float64).tocsr()
    n_angles = a.shape[0] // n_radial
    out = []
    for z in range(y.shape[1]):
        yz, wz, bz = (np.asarray(v[:, z], np.float64) for v in (y, w, b))
        sens_total = a.T @ wz
        x = np.full(a.shape[1], max((yz - bz).sum(), 1e-12) / sens_total.sum())
        for _ in range(iterations):
            for s in range(subsets):
                rows = np.concatenate(
                    [np.arange(k * n_radial, (k + 1) * n_radial)
                     for k in range(s, n_angles, subsets)]
                )
                a_s = a[rows]
                expected = wz[rows] * (a_s @ x) + bz[rows]
                ratio = np.divide(yz[rows], expected, out=np.zeros_like(expected),
                                  where=expected > 0)
                sens = a_s.T @ wz[rows]
                x = x * np.divide(a_s.T @ (wz[rows] * ratio), sens,
                                  out=np.zeros_like(sens), where=sens > 0)
        out.append(x)
    return np.stack(out, axis=1)


def test_subset_products_equal_the_full_matrix(proj) -> None:
    rng = np.random.default_rng(1)
    x = rng.random((proj.pixels.size, 7)).astype(np.float32)
    full = (proj.matrix.astype(np.float64) @ x.astype(np.float64))
    tol = 1e-5 * float(np.abs(full).max())
    for op in proj.subset_ops(6):
        for threads in (1, 2):
            np.testing.assert_allclose(op.forward(x, threads), full[op.rows], atol=tol)
    one, two = (pj.matmul(proj.subsets(6)[0][0], x, t) for t in (1, 2))
    assert np.array_equal(one, two)  # the split does not depend on the threads
    np.testing.assert_allclose(proj.forward(proj.from_columns(x)),
                               proj.sino_from_columns(full.astype(np.float32)), atol=tol)


def test_osem_equals_a_plain_per_slice_reference(proj) -> None:
    rng = np.random.default_rng(2)
    c = (np.arange(N) - (N - 1) / 2) * PX
    yy, xx = np.meshgrid(c, c, indexing="ij")
    disc = (xx**2 + yy**2 < 60.0**2).astype(np.float32)
    hot = ((xx - 20) ** 2 + yy**2 < 12.0**2).astype(np.float32)
    imgs = np.stack([disc * (1 + k) + 4 * hot for k in range(4)])
    x_true = proj.to_columns(imgs)
    w = rng.uniform(0.3, 1.0, (proj.geometry.n_lor, 4)).astype(np.float32)
    b = np.full_like(w, 0.5)
    y = rng.poisson(w * (proj.matrix @ x_true) + b).astype(np.float32)
    *_, (_, fast) = iter_em(proj, y, w, b, 3, subsets=6)
    ref = _reference_osem(proj.matrix, y, w, b, 3, 6, proj.geometry.n_radial)
    np.testing.assert_allclose(fast, ref, atol=1e-4 * float(ref.max()))


def _reference_tof_matrix(base: pj.Projector, n_tof: int, fwhm_mm: float) -> np.ndarray:
    """Dense TOF matrix from its definition: A[(θ, r), p] × share_j(τ_p), exact τ."""
    g = base.geometry
    fov = base.n * base.pixel_mm
    w_bin = fov / n_tof
    sigma = fwhm_mm / (2 * np.sqrt(2 * np.log(2)))
    c = (np.arange(base.n) - (base.n - 1) / 2) * base.pixel_mm
    yy, xx = np.meshgrid(c, c, indexing="ij")
    px, py = xx.ravel()[base.pixels], yy.ravel()[base.pixels]
    a = base.matrix.toarray().astype(np.float64)
    out = np.zeros((g.n_angles, n_tof, g.n_radial, a.shape[1]))
    for k, theta in enumerate(g.angles_rad):
        tau = -px * np.sin(theta) + py * np.cos(theta)
        block = a[k * g.n_radial : (k + 1) * g.n_radial]
        for j in range(n_tof):
            t = (j - (n_tof - 1) / 2) * w_bin
            hi = 1.0 if j == n_tof - 1 else ndtr((t + w_bin / 2 - tau) / sigma)
            lo = 0.0 if j == 0 else ndtr((t - w_bin / 2 - tau) / sigma)
            out[k, j] = block * (hi - lo)[None, :]
    return out.reshape(-1, a.shape[1])


def test_factorised_tof_equals_its_definition(proj) -> None:
    fwhm = 0.299792458 * 540.0 / 2
    tof = pj.get_tof_projector(N, PX, ANGLES, N, PX, 0.0, 5, fwhm)
    ref = _reference_tof_matrix(proj, 5, fwhm)
    rng = np.random.default_rng(4)
    x = rng.random((2, N, N)).astype(np.float32) * proj.mask
    got = tof.forward(x)
    want = (ref @ proj.to_columns(x).astype(np.float64)).T.reshape(got.shape)
    assert np.abs(got - want).max() <= 0.01 * np.abs(want).max()
    assert np.linalg.norm(got - want) <= 0.005 * np.linalg.norm(want)
    y = rng.random(got.shape).astype(np.float32)
    assert np.vdot(got, y) == pytest.approx(np.vdot(x, tof.back(y)), rel=1e-4)


def test_scatter_filter_equals_ndimage_gaussian_filter_in_float64() -> None:
    """The matrix form of the scatter kernel against ``ndimage.gaussian_filter`` in float64,
    run by run of consecutive slices (float32 sums: 1e-5 of the largest value)."""
    from scipy import ndimage

    from simulator.pet.acquisition import scatter_filter

    rng = np.random.default_rng(3)
    x = rng.random((23, 24, 40)).astype(np.float32)
    idx = [*range(4, 14), 20, *range(30, 42)]  # runs of 10, 1 and 12 slices
    sigma = (3.2, 4.0, 9.5)
    got = scatter_filter(x, sigma, idx)
    for run in (slice(0, 10), slice(10, 11), slice(11, 23)):
        part = x[run].astype(np.float64)
        sig = (sigma[0] if part.shape[0] > 1 else 0.0, sigma[1], sigma[2])
        want = ndimage.gaussian_filter(part, sig, mode=("nearest", "wrap", "constant"),
                                       truncate=2.0)
        assert np.abs(got[run] - want).max() <= 1e-5 * np.abs(want).max()
