"""Receiver noise keeps its laws with the fast generator and the image-space draw.

References, not numbers taken from the code: the complex Gaussian law (mean 0, equal real and
imaginary variance, Kolmogorov–Smirnov against N(0, 1), normal tail mass), the invariance of
white circular Gaussian noise under a unitary FFT, and the noise of an optimal (Roemer)
combination, ``σ² / (CᴴΨ⁻¹C)`` per channel (Roemer et al., Magn Reson Med 1990;16:192-225).
Seeds are fixed, so each statistical test is deterministic; tolerances are several standard
errors of the estimate.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy import special, stats

from simulator.mr import MRProtocol, acquire_kspace
from simulator.mr.acquisition import add_mixed_noise, complex_normal, noise_sd
from simulator.mr.anatomy import Anatomy
from simulator.mr.coils import coil_maps, noise_covariance
from simulator.mr.operators import fold_coil_images as coil_images
from simulator.mr.recon import combine, combine_acquired
from simulator.mr.scan import scan

AX = dict(slices=1, orientation="axial", phase_dir="RL", matrix_phase=192)


def test_complex_normal_is_complex_gaussian() -> None:
    sd = 1.7
    n = 400_000
    z = complex_normal(np.random.default_rng(3), (n,), sd)
    assert z.dtype == np.complex64 and z.shape == (n,)
    re, im = z.real.astype(np.float64) / sd, z.imag.astype(np.float64) / sd
    se = 1 / math.sqrt(n)                       # SE of a mean of unit-variance samples
    assert abs(re.mean()) < 5 * se and abs(im.mean()) < 5 * se
    # Variance estimates have a relative SE of sqrt(2/n) ≈ 0.22 %: 1.5 % is ~7 SE.
    assert re.var() == pytest.approx(1.0, rel=0.015)
    assert im.var() == pytest.approx(1.0, rel=0.015)
    assert re.var() / im.var() == pytest.approx(1.0, rel=0.015)
    assert abs(np.corrcoef(re, im)[0, 1]) < 5 * se
    assert stats.kstest(re, "norm").pvalue > 1e-3
    assert stats.kstest(im, "norm").pvalue > 1e-3
    # Tails: P(|x| > 3) = erfc(3/√2) = 0.27 %; binomial SE on 2n samples ≈ 0.0026 %.
    tail = np.mean(np.abs(np.concatenate([re, im])) > 3.0)
    assert tail == pytest.approx(special.erfc(3 / math.sqrt(2)), rel=0.1)
    # The phase is uniform and the magnitude Rayleigh (|z|²/2 ~ Exp(1) per unit SD).
    assert stats.kstest(np.angle(z.astype(np.complex128)), "uniform",
                        args=(-np.pi, 2 * np.pi)).pvalue > 1e-3
    assert stats.kstest(np.abs(z.astype(np.complex128) / sd) ** 2 / 2, "expon").pvalue > 1e-3


def test_complex_normal_same_state_same_noise_and_odd_sizes() -> None:
    a = complex_normal(np.random.default_rng(8), (3, 70_001), 1.0)
    b = complex_normal(np.random.default_rng(8), (3, 70_001), 1.0)
    c = complex_normal(np.random.default_rng(9), (3, 70_001), 1.0)
    assert np.array_equal(a, b) and np.isfinite(a).all()
    # Independent seeds: null correlation, SD 1/sqrt(N); 5 SD.
    corr = np.corrcoef(a.real.ravel(), c.real.ravel())[0, 1]
    assert abs(corr) < 5 / math.sqrt(a.size)
    # Consecutive draws of one generator are independent too.
    rng = np.random.default_rng(10)
    d, e = complex_normal(rng, (50_000,), 1.0), complex_normal(rng, (50_000,), 1.0)
    assert abs(np.corrcoef(d.real, e.real)[0, 1]) < 5 / math.sqrt(d.size)


def test_fully_sampled_kspace_noise_is_white_with_the_coil_covariance(head: Anatomy) -> None:
    """The noise drawn on the coil images is, in k-space, white complex Gaussian of SD σ per
    channel with covariance σ²Ψ between coils: the law of a receiver."""
    p = dataclasses.replace(MRProtocol(), **AX)
    ks = acquire_kspace(head, p, rng=np.random.default_rng(4))
    assert ks.mask.all()
    noise = (np.asarray(ks.data[0], np.complex128) - np.asarray(ks.noiseless[0], np.complex128))
    sd = noise_sd(p)
    assert ks.noise_sd == pytest.approx(sd)
    nc = noise.shape[0]
    flat = noise.reshape(nc, -1) / sd
    # Per coil: unit variance on each real channel, zero mean, Gaussian.
    for c in range(nc):
        assert flat[c].real.var() == pytest.approx(1.0, rel=0.03)
        assert flat[c].imag.var() == pytest.approx(1.0, rel=0.03)
        assert stats.kstest(flat[c].real, "norm").pvalue > 1e-3
    emp = flat @ flat.conj().T / flat.shape[1] / 2.0
    assert np.allclose(emp, noise_covariance(nc), atol=0.03)
    # White: the centre of k-space (where the signal is) carries the same noise as the edge,
    # and neighbouring phase lines are uncorrelated.
    n_p = noise.shape[1]
    k = np.abs(np.fft.fftfreq(n_p) * n_p)
    centre, edge = noise[:, k < n_p / 8], noise[:, k > 3 * n_p / 8]
    assert np.var(centre) / np.var(edge) == pytest.approx(1.0, rel=0.05)
    lag = np.mean(noise[:, 1:] * noise[:, :-1].conj()) / np.mean(np.abs(noise) ** 2)
    assert abs(lag) < 5 / math.sqrt(noise.size)


def test_scan_and_kspace_share_the_noise(head: Anatomy) -> None:
    p = dataclasses.replace(MRProtocol(), **AX)
    s = scan(head, p, rng=np.random.default_rng(7))
    ks = acquire_kspace(head, p, rng=np.random.default_rng(7))
    peak = float(s.images.max())
    assert np.allclose(ks.reconstruct(), s.images, rtol=0, atol=1e-5 * peak)
    assert np.allclose(ks.reconstruct(noiseless=True), s.noiseless, rtol=0, atol=1e-5 * peak)


@pytest.mark.parametrize("ext", [1, 3])
def test_combination_of_acquired_images_is_the_roemer_combination(ext: int) -> None:
    """Regrouped combination = combine(folded coil images + ring noise), and its noise
    variance is the Roemer law σ²/(CᴴΨ⁻¹C)."""
    rng = np.random.default_rng(2)
    nc, n_p, n_r = 8, 48, 40
    maps = coil_maps(nc, n_p, n_r, 4.0, 4.0, 130.0)
    maps_ext = maps if ext == 1 else coil_maps(nc, ext * n_p, n_r, 4.0, 4.0, 130.0)
    psi = noise_covariance(nc)
    m = complex_normal(rng, (ext * n_p, n_r), 1.0) + 2.0
    z = complex_normal(rng, (nc, n_p, n_r), 0.3)
    explicit = coil_images(m, maps_ext, n_p)
    add_mixed_noise(explicit, z)
    ref = combine(explicit, maps, psi)
    got = combine_acquired(m, maps_ext, maps, z, psi)
    assert np.allclose(got, ref, rtol=0, atol=1e-5 * float(np.abs(ref).max()))
    clean = combine_acquired(m, maps_ext, maps, None, psi)
    assert np.allclose(clean, combine(coil_images(m, maps_ext, n_p), maps, psi), rtol=0,
                       atol=1e-5 * float(np.abs(ref).max()))
    # Noise of the combination over 400 realisations, per pixel, against σ²/(CᴴΨ⁻¹C).
    sd = 0.5
    reps = np.stack([combine_acquired(np.zeros_like(m), maps_ext, maps,
                                      complex_normal(rng, (nc, n_p, n_r), sd), psi)
                     for _ in range(400)]).astype(np.complex128)
    c = maps.reshape(nc, -1).astype(np.complex128)
    law = sd**2 / np.real(np.sum(np.conj(c) * (np.linalg.inv(psi) @ c), axis=0))
    emp = np.var(reps.real, axis=0).reshape(-1)
    # 400 samples per pixel: relative SE of a variance ≈ 7 %; averaged over 1920 pixels.
    assert np.mean(emp / law) == pytest.approx(1.0, rel=0.02)
    assert np.var(reps.imag, axis=0).mean() / np.var(reps.real, axis=0).mean() == \
        pytest.approx(1.0, rel=0.02)


def test_image_noise_sd_falls_as_sqrt_nex(block: Anatomy) -> None:
    """SNR ∝ √NEX through the image-space noise: the noise SD of two-acquisition
    differences halves from NEX 1 to NEX 4 (NEMA MS 1 difference method)."""
    def sd_of(nex: int) -> float:
        p = dataclasses.replace(MRProtocol(), **AX, nex=nex)
        a = scan(block, p, rng=np.random.default_rng(31))
        b = scan(block, p, rng=np.random.default_rng(32))
        roi = a.noiseless > 0.5 * float(a.noiseless.max())
        return float(np.std(a.images[roi] - b.images[roi]) / math.sqrt(2))

    assert sd_of(1) / sd_of(4) == pytest.approx(2.0, rel=0.05)


def _eager_snr(images: np.ndarray, noiseless: np.ndarray, labels: np.ndarray,
               pure: np.ndarray) -> tuple[float | None, int | None]:
    """The measurement as the eager code did it: brightest tissue with ≥ 100 pure voxels."""
    best: tuple[float, int] | None = None
    for lab in np.unique(labels[pure]):
        roi = pure & (labels == lab)
        if lab == 0 or roi.sum() < 100:
            continue
        mean = float(noiseless[roi].astype(np.float64).mean())
        if best is None or mean > best[0]:
            best = (mean, int(lab))
    if best is None:
        return None, None
    roi = pure & (labels == best[1])
    sd = float(np.std((images[roi] - noiseless[roi]).astype(np.float64)))
    return best[0] / sd, best[1]


@pytest.mark.parametrize("extra", [{}, {"parallel_r": 2}, {"partial_fourier": 0.75}])
def test_lazy_metrics_are_the_eager_ones(head: Anatomy, extra: dict) -> None:
    p = dataclasses.replace(MRProtocol(), **AX, **extra)
    first = scan(head, p, rng=np.random.default_rng(5))
    # Asking whether a metric exists, or how many there are, computes nothing.
    assert "snr" in first.metrics and len(first.metrics) == len(list(first.metrics))
    assert first._truth is not None and first._truth._noiseless is None
    snr_first = dict(first.metrics)
    second = scan(head, p, rng=np.random.default_rng(5))
    noiseless, labels = second.noiseless, second.labels       # truth first, metrics after
    assert dict(second.metrics) == snr_first
    assert np.array_equal(first.noiseless, noiseless)
    assert np.array_equal(first.labels, labels)
    assert list(first.metrics) == list(second.metrics)
    json.dumps(dict(first.metrics))
    # The eager measurement on the same arrays gives the same SNR and tissue.
    pure = first._truth.purity()
    snr, lab = _eager_snr(first.images, noiseless, labels, pure)
    assert snr is not None and first.metrics["snr"] == pytest.approx(snr, rel=1e-9)
    assert first.metrics["snr_tissue"] == first.names[lab]
    # The noiseless images are the noiseless k-space's reconstruction.
    ks = acquire_kspace(head, p, rng=np.random.default_rng(5))
    peak = float(noiseless.max())
    assert np.allclose(ks.reconstruct(noiseless=True), noiseless, rtol=0, atol=1e-5 * peak)


def test_without_noise_the_noiseless_images_are_the_images(head: Anatomy) -> None:
    s = scan(head, dataclasses.replace(MRProtocol(), **AX), rng=None)
    assert np.array_equal(s.noiseless, s.images)
    assert s.metrics["snr"] is None
