"""The k-space cache stores half of each slice's k-space (real maps: Hermitian symmetry).

Reference: the full 2-D DFT (numpy.fft in complex128) of real maps, cut to the grid in FFT
order; the cached half must rebuild it for even and odd sizes, and take about half the bytes.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulator.mr import MRProtocol, geometry
from simulator.mr.anatomy import Anatomy
from simulator.mr.scan import scan


def _fft_order(n_fine: int, n: int) -> np.ndarray:
    freqs = np.fft.fftfreq(n, 1 / n).astype(int)       # 0, 1, …, −1 in FFT order
    return freqs % n_fine


@pytest.mark.parametrize(("n_pe", "n_r"), [(16, 12), (15, 13), (16, 13), (15, 12), (2, 2),
                                           (1, 3)])
def test_half_rebuilds_the_full_dft(n_pe: int, n_r: int) -> None:
    rng = np.random.default_rng(n_pe * 100 + n_r)
    fine_pe, fine_r = 2 * n_pe, 2 * n_r
    maps = rng.random((3, fine_pe, fine_r))
    full = np.fft.fft2(maps, norm="ortho")               # complex128, every frequency
    want = full[:, _fft_order(fine_pe, n_pe)][:, :, _fft_order(fine_r, n_r)] / 2
    half = geometry._tissue_kspace(maps.reshape(3, -1).astype(np.float32), fine_pe, fine_r,
                                   n_pe, n_r)
    assert half.shape == (3, n_pe + (n_pe % 2 == 0), n_r // 2 + 1)
    got = geometry._unfold(half, n_pe, n_r)
    assert got.dtype == np.complex64 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())


def test_cached_slices_hold_about_half_their_kspace(head: Anatomy) -> None:
    geometry.clear_cache()
    p = dataclasses.replace(MRProtocol(), slices=2, matrix_read=128, matrix_phase=128)
    scan(head, p, rng=np.random.default_rng(0), slices=[0, 1])
    objs = list(geometry._CACHE.values())
    assert len(objs) == 2
    for o in objs:
        full = o.kspace
        assert o.nbytes_full == full.nbytes
        assert o.half.nbytes <= 0.53 * full.nbytes
        assert not o.half.flags.writeable
    geometry.clear_cache()


@pytest.mark.parametrize("n_pe, n_r", [(8, 8), (9, 8), (8, 7), (9, 9), (64, 48), (1, 4), (2, 3)])
@pytest.mark.parametrize("per_line", [False, True])
def test_weighted_sum_from_the_half_equals_the_sum_of_the_full_maps(
        n_pe: int, n_r: int, per_line: bool) -> None:
    """``weighted_kspace`` sums the tissues straight from the stored half: the same numbers
    as rebuilding each full map (:func:`_unfold`) and summing them, for any parity and for
    one weight per tissue or one per phase line (an echo train)."""
    from simulator.mr.acquisition import _weighted_sum, weighted_kspace
    from simulator.mr.geometry import _unfold

    rng = np.random.default_rng(n_pe * 100 + n_r)
    t = 3
    k = np.fft.fft2(rng.standard_normal((t, n_pe, n_r)), norm="ortho")  # real maps
    half = k[:, :, : n_r // 2 + 1]
    if n_pe % 2 == 0:  # the stored row of frequency +n_pe/2 (aliased onto −n_pe/2 here)
        half = np.concatenate([half, k[:, n_pe // 2 : n_pe // 2 + 1, : n_r // 2 + 1]], axis=1)
    half = half.astype(np.complex64)
    rows = n_pe if per_line else 1
    w = (rng.standard_normal((rows, t)) + 1j * rng.standard_normal((rows, t))).astype(np.complex64)
    expected = _weighted_sum(w, _unfold(half, n_pe, n_r))
    got = weighted_kspace(w, half, n_pe, n_r)
    assert np.allclose(got, expected, rtol=0, atol=1e-6 * float(np.abs(expected).max()))
