"""Encoding operator and FFT properties: unitarity, Parseval, adjoint, SENSE g-factor."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.mr._fft import fft2, ifft2
from simulator.mr.acquisition import complex_normal, sampling
from simulator.mr.coils import coil_maps
from simulator.mr.operators import EncodingOperator
from simulator.mr.protocol import MRProtocol
from simulator.mr.recon import g_factor, sense_unfold

# float32 arithmetic over ~10⁴ elements: relative round-off ~1e-6; 1e-4 leaves margin.
RTOL = 1e-4


def _rand(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)


@pytest.mark.parametrize("shape", [(64, 64), (63, 50), (48, 81)])
def test_fft_is_unitary_and_invertible(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    x = _rand(rng, shape)
    k = fft2(x)
    assert np.linalg.norm(k) == pytest.approx(np.linalg.norm(x), rel=RTOL)  # Parseval
    assert np.allclose(ifft2(k), x, atol=1e-5)


@pytest.mark.parametrize("r", [1, 2, 3])
def test_encoding_adjoint_dot_product(r: int) -> None:
    rng = np.random.default_rng(1)
    maps = coil_maps(8, 48, 40, 4.0, 4.0, 130.0)
    mask = (np.rint(np.fft.fftfreq(48) * 48) % r) == 0
    e = EncodingOperator(maps, mask)
    x = _rand(rng, e.ishape)
    y = _rand(rng, e.oshape)
    lhs = np.vdot(e.forward(x), y)
    rhs = np.vdot(x, e.adjoint(y))
    assert abs(lhs - rhs) <= RTOL * abs(lhs)


@pytest.mark.parametrize("extension", [3, 5])
@pytest.mark.parametrize("lines", ["full", "sense", "partial"])
def test_folding_encoding_adjoint_dot_product(extension: int, lines: str) -> None:
    # The operator the scan uses: coils on an extended phase grid folded onto the FOV (wrap).
    rng = np.random.default_rng(11)
    n = 40
    maps = coil_maps(6, extension * n, 36, 3.0, 3.0, 130.0)
    k = np.rint(np.fft.fftfreq(n) * n)
    mask = {"full": np.ones(n, bool), "sense": k % 2 == 0, "partial": k >= -8}[lines]
    e = EncodingOperator(maps, mask, n)
    assert e.ishape == (extension * n, 36) and e.oshape == (6, n, 36)
    x = _rand(rng, e.ishape)
    y = _rand(rng, e.oshape)
    lhs = np.vdot(e.forward(x), y)
    rhs = np.vdot(x, e.adjoint(y))
    assert abs(lhs - rhs) <= RTOL * abs(lhs)


def test_tissue_one_phase_fov_away_lands_on_the_same_pixel() -> None:
    # Wrap-around: with coils that do not vary along phase, an object moved by one phase FOV
    # on the extended grid gives the same k-space.
    n, ext = 32, 3
    maps = np.ones((2, ext * n, 24), np.complex64) / np.sqrt(2)
    e = EncodingOperator(maps, np.ones(n, bool), n)
    x = np.zeros(e.ishape, np.complex64)
    x[5, 7] = 1.0
    assert np.allclose(e.forward(x), e.forward(np.roll(x, n, axis=0)), atol=1e-6)
    assert np.allclose(e.coil_images(x)[:, 5, 7], 1 / np.sqrt(2))
    with pytest.raises(ValueError):
        EncodingOperator(maps, np.ones(n, bool), 35)


def test_the_scan_encodes_with_the_operator_the_laws_are_proven_for(head) -> None:  # type: ignore[no-untyped-def]
    # An undersampled acquisition that wraps (phase FOV 60 %: L > 1): the noiseless raw data
    # of acquire_kspace are the slice's EncodingOperator applied to its object, and that
    # operator passes the dot-product test.
    import dataclasses

    from simulator.mr import acquire_kspace
    from simulator.mr._pipeline import acquire_slice, setup

    p = dataclasses.replace(MRProtocol(), slices=1, parallel_r=2, phase_dir="AP", phase_fov_pct=60.0,
                            matrix_phase=128, matrix_read=128)
    ks = acquire_kspace(head, p, rng=None)
    sd = acquire_slice(head, setup(head, p, None, None), 0)
    e = sd.encoding
    assert e.extension > 1 and not e.full
    assert np.array_equal(ks.noiseless[0], e.forward(sd.image))
    rng = np.random.default_rng(12)
    x, y = _rand(rng, e.ishape), _rand(rng, e.oshape)
    lhs = np.vdot(e.forward(x), y)
    assert abs(lhs - np.vdot(x, e.adjoint(y))) <= RTOL * abs(lhs)


def test_fully_sampled_encoding_is_an_isometry() -> None:
    # Coil maps normalised to unit root-sum-of-squares: EᴴE = I when every line is read.
    rng = np.random.default_rng(2)
    maps = coil_maps(12, 32, 32, 6.0, 6.0, 130.0)
    e = EncodingOperator(maps, np.ones(32, dtype=bool))
    x = _rand(rng, e.ishape)
    assert np.allclose(e.adjoint(e.forward(x)), x, atol=1e-5)
    assert np.linalg.norm(e.forward(x)) == pytest.approx(np.linalg.norm(x), rel=RTOL)


@pytest.mark.parametrize("r", [2, 3, 4])
def test_sense_recovers_the_image_and_g_is_at_least_one(r: int) -> None:
    rng = np.random.default_rng(3)
    maps = coil_maps(8, 96, 64, 2.5, 2.5, 130.0)
    x = _rand(rng, (96, 64))
    mask = (np.rint(np.fft.fftfreq(96) * 96) % r) == 0
    k = EncodingOperator(maps, mask).forward(x)
    err = np.linalg.norm(sense_unfold(k, maps, r) - x) / np.linalg.norm(x)
    # Exact up to the 1e-6 Tikhonov term and float32 round-off amplified by g.
    assert err < 1e-3
    g = g_factor(maps, r)
    assert g.min() >= 1.0 - 1e-6


def test_g_factor_grows_with_acceleration() -> None:
    maps = coil_maps(8, 96, 96, 2.5, 2.5, 130.0)
    means = [float(g_factor(maps, r).mean()) for r in (1, 2, 3, 4)]
    assert means == sorted(means) and means[0] == 1.0 and means[-1] > means[1]


def test_complex_noise_has_the_stated_sd_and_no_correlation() -> None:
    z = complex_normal(np.random.default_rng(4), (200_000,), 2.0)
    # 200k samples: the SD estimate is good to ~0.2 %; 2 % tolerance.
    assert np.std(z.real) == pytest.approx(2.0, rel=0.02)
    assert np.std(z.imag) == pytest.approx(2.0, rel=0.02)
    assert abs(np.corrcoef(z.real, z.imag)[0, 1]) < 0.01


def test_sampling_masks() -> None:
    p = MRProtocol(matrix_phase=256)
    full = sampling(p)
    assert full.mask.all() and full.k_acquired.size == 256
    r2 = sampling(MRProtocol(matrix_phase=256, parallel_r=2))
    assert r2.mask.sum() == 128 and 0 in r2.k_acquired
    pf = sampling(MRProtocol(matrix_phase=256, partial_fourier=0.625))
    assert pf.mask.sum() == 160 and pf.k_acquired.min() == -32


def test_kspace_reconstructs_to_the_scan_images(head) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from simulator.mr import acquire_kspace, scan

    p = dataclasses.replace(MRProtocol(), slices=3, parallel_r=2)
    ks = acquire_kspace(head, p, rng=np.random.default_rng(7), slices=[1])
    s = scan(head, p, rng=np.random.default_rng(7), slices=[1])
    assert np.array_equal(ks.reconstruct(), s.images)
    # Skipped lines are exactly zero; acquired lines carry signal.
    assert not ks.data[0][:, ~ks.mask].any()
    assert np.abs(ks.data[0][:, ks.mask]).mean() > 0
    # The k-space centre (DC) dominates.
    c = np.abs(ks.centered(noiseless=True)[0, 0])
    assert np.unravel_index(np.argmax(c), c.shape) == (c.shape[0] // 2, c.shape[1] // 2)


def test_coil_noise_has_the_stated_covariance() -> None:
    from simulator.mr.acquisition import coil_noise
    from simulator.mr.coils import noise_covariance

    n = coil_noise(np.random.default_rng(9), (8, 40_000), 1.0)
    emp = (n @ n.conj().T) / n.shape[1] / 2.0   # SD 1 per real channel → variance 2
    # 40k samples per entry: SD of a covariance estimate ~1/sqrt(40k) = 0.005; 0.03 margin.
    assert np.allclose(emp, noise_covariance(8), atol=0.03)
    assert abs(emp[0, 1] - 0.15) < 0.03


@pytest.mark.parametrize("r", [1, 2, 3])
def test_prewhitened_reconstruction_is_exact_and_g_at_least_one(r: int) -> None:
    from simulator.mr.coils import noise_covariance
    from simulator.mr.recon import reconstruct

    rng = np.random.default_rng(5)
    maps = coil_maps(8, 96, 64, 2.5, 2.5, 130.0)
    psi = noise_covariance(8)
    x = _rand(rng, (96, 64))
    mask = (np.rint(np.fft.fftfreq(96) * 96) % r) == 0
    k = EncodingOperator(maps, mask).forward(x)
    err = np.linalg.norm(reconstruct(k, maps, r, None, psi) - x) / np.linalg.norm(x)
    assert err < 1e-3
    assert g_factor(maps, r, psi).min() >= 1.0 - 1e-6
