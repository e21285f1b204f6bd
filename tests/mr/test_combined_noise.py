"""A fully sampled scan draws the noise of its coil combination as one field.

The combination ``Σ_c V_c·z_c`` of white coil noise ``z`` is, pixel by pixel and
independently, circular Gaussian of variance ``σ²·Σ_c|V_c|²`` per real channel: one white
field times ``r = √(Σ_c|V_c|²)`` has the same law. These tests check that law against the
Roemer combination of explicitly drawn coil noise and against ``σ²/(CᴴΨ⁻¹C)`` computed from
the maps here, and that the raw data's coil noise, made from free noise and that field, is
white with covariance ``σ²·I`` before the ring mixing and combines to the scan's noise.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from simulator.mr import MRProtocol, acquire_kspace, scan
from simulator.mr._pipeline import acquire_slice, setup, skip_normals, white_given_combination
from simulator.mr.acquisition import add_mixed_noise, complex_normal, noise_sd
from simulator.mr.anatomy import Anatomy
from simulator.mr.coils import coil_maps, noise_covariance
from simulator.mr.recon import combine, combined_noise_weights

SMALL = dict(matrix_read=64, matrix_phase=64, slices=1, coils=8)


def _noise_of_scans(anat: Anatomy, p: MRProtocol, reps: int) -> np.ndarray:
    clean_st = setup(anat, p, None, None)
    clean = acquire_slice(anat, clean_st, 0, combine_with=(clean_st.maps,
                                                           noise_covariance(p.coils)))
    assert clean.combined is not None
    out = []
    for r in range(reps):
        st = setup(anat, p, None, np.random.default_rng(100 + r))
        sd = acquire_slice(anat, st, 0, combine_with=(st.maps, noise_covariance(p.coils)))
        assert sd.combined is not None
        out.append(np.asarray(sd.combined, np.complex128) - clean.combined)
    return np.stack(out)


def test_scan_noise_has_the_law_of_the_combined_coil_noise(head: Anatomy) -> None:
    p = dataclasses.replace(MRProtocol(), **SMALL)
    noise = _noise_of_scans(head, p, 300) / noise_sd(p)
    st = setup(head, p, None, None)
    maps = st.maps.reshape(p.coils, -1).astype(np.complex128)
    psi = noise_covariance(p.coils)
    # Roemer law from the maps, computed here: σ²/(CᴴΨ⁻¹C) per real channel.
    law = 1.0 / np.real(np.sum(np.conj(maps) * (np.linalg.inv(psi) @ maps), axis=0))
    emp_re = noise.real.var(axis=0).reshape(-1)
    emp_im = noise.imag.var(axis=0).reshape(-1)
    # 300 samples per pixel: relative SE of a variance ≈ 8 %; averaged over 4096 pixels.
    assert np.mean(emp_re / law) == pytest.approx(1.0, rel=0.01)
    assert np.mean(emp_im / law) == pytest.approx(1.0, rel=0.01)
    # per pixel too: the variance map follows the law (no pixel off by 40 %)
    assert np.percentile(np.abs(emp_re / law - 1), 99.9) < 0.4
    # the same against explicitly drawn coil noise, mixed and combined
    rng = np.random.default_rng(3)
    ref = []
    for _ in range(300):
        coil = np.zeros((p.coils, *st.maps.shape[1:]), np.complex64)
        add_mixed_noise(coil, complex_normal(rng, coil.shape, 1.0))
        ref.append(combine(coil, st.maps, psi))
    ref_var = np.stack(ref).real.var(axis=0).reshape(-1)
    assert np.mean(emp_re) / np.mean(ref_var) == pytest.approx(1.0, rel=0.01)
    # Gaussian, zero mean, circular, independent between neighbouring pixels
    white = (noise / np.sqrt(law).reshape(noise.shape[1:]))[:40].reshape(-1)
    assert stats.kstest(white.real, "norm").pvalue > 1e-3
    assert stats.kstest(white.imag, "norm").pvalue > 1e-3
    assert abs(white.mean()) < 5 / math.sqrt(white.size)
    assert abs(np.mean(white.real * white.imag)) < 5 / math.sqrt(white.size)
    lag = np.mean(noise[:, :, 1:] * noise[:, :, :-1].conj()) / np.mean(np.abs(noise) ** 2)
    assert abs(lag) < 5 / math.sqrt(noise[:, :, 1:].size)


def test_coil_noise_given_the_combination_is_white_and_combines_to_it() -> None:
    rng = np.random.default_rng(8)
    nc, n_p, n_r = 8, 64, 96
    maps_ext = maps = coil_maps(nc, n_p, n_r, 3.0, 3.0, 120.0)
    psi = noise_covariance(nc)
    weights, gain = combined_noise_weights(maps_ext, maps, psi, n_p)
    sd = 0.7
    zs, combos = [], []
    for _ in range(20):
        free = complex_normal(rng, (nc, n_p, n_r), sd)
        comb = complex_normal(rng, (n_p, n_r), sd) * gain
        z = white_given_combination(free, weights, gain, comb)
        got = np.sum(weights.astype(np.complex128) * z, axis=0)
        assert np.allclose(got, comb, rtol=0, atol=1e-5 * float(np.abs(comb).max()))
        zs.append(z.reshape(nc, -1))
        combos.append(comb)
    z = np.concatenate(zs, axis=1).astype(np.complex128) / sd
    emp = z @ z.conj().T / z.shape[1] / 2.0         # SD 1 per real channel → variance 2
    se = 1 / math.sqrt(z.shape[1])                  # SE of each entry
    assert np.allclose(emp, np.eye(nc), atol=5 * se)
    assert np.abs(np.mean(z * z, axis=1)).max() < 5 * math.sqrt(8) * se   # circular: E[z²] = 0
    for c in range(nc):
        assert stats.kstest(z[c].real, "norm").pvalue > 1e-3
    # z along the combination direction is the combination's own noise, not the free one
    u = np.conj(weights) / gain
    along = np.sum(np.conj(u) * zs[0].reshape(nc, n_p, n_r), axis=0)
    assert np.allclose(along * gain, combos[0], rtol=0,
                       atol=1e-4 * float(np.abs(combos[0]).max()))


ALL_BIT_GENERATORS = [np.random.PCG64, np.random.PCG64DXSM, np.random.SFC64, np.random.Philox,
                      np.random.MT19937]


@pytest.mark.parametrize("bits", ALL_BIT_GENERATORS)
def test_complex_normal_is_standard_gaussian_for_every_bit_generator(bits: type) -> None:
    """MT19937 gives 32 random bits per raw draw: read as 64-bit words, half the samples
    had u₁ = 1, a radius of exactly 0, and the variance was halved."""
    z = complex_normal(np.random.Generator(bits(3)), (40_000,), 2.0)
    assert np.count_nonzero(z == 0) == 0
    for part in (z.real, z.imag):
        assert np.var(part) == pytest.approx(4.0, rel=0.05)  # 5 % ≫ its 1 % sampling SD
        assert stats.kstest(part / 2.0, "norm").pvalue > 1e-3


@pytest.mark.parametrize("bits", ALL_BIT_GENERATORS)
def test_skip_normals_skips_exactly_the_samples(bits: type) -> None:
    a, b = np.random.Generator(bits(11)), np.random.Generator(bits(11))
    # a 32-bit draw leaves half a raw word buffered in some generators: kept across the skip
    assert a.integers(0, 1000, dtype=np.int32) == b.integers(0, 1000, dtype=np.int32)
    complex_normal(a, (3000,), 1.0)
    skip_normals(b, 3000)
    assert a.integers(0, 1000, size=3, dtype=np.int32).tolist() == \
        b.integers(0, 1000, size=3, dtype=np.int32).tolist()
    assert np.array_equal(complex_normal(b, (2000,), 1.0), complex_normal(a, (2000,), 1.0))


@pytest.mark.parametrize("bits", [np.random.PCG64, np.random.SFC64])
def test_scan_image_is_the_raw_datas_reconstruction_for_any_generator(
        head: Anatomy, bits: type) -> None:
    p = dataclasses.replace(MRProtocol(), matrix_read=64, matrix_phase=64, slices=2)
    s = scan(head, p, rng=np.random.Generator(bits(5)))
    ks = acquire_kspace(head, p, rng=np.random.Generator(bits(5)))
    peak = float(s.images.max())
    assert np.allclose(ks.reconstruct(), s.images, rtol=0, atol=1e-5 * peak)
    other = scan(head, p, rng=np.random.Generator(bits(6)))
    assert not np.allclose(other.images, s.images, rtol=0, atol=1e-3 * peak)
