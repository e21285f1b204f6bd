"""The MR pipeline's FFTs (numpy.fft in single precision) against a float64 DFT reference.

The reference is the DFT by matrix products in complex128 (its definition, not an FFT), so
these tests check the transform, the unitary scaling and the complex64 dtype.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.mr import _fft

# float32 round-off of an FFT grows like log2(n) · eps; 1e-5 of the RMS is far above it
# (eps = 1.2e-7) and far below any error in the transform itself.
TOL = 1e-5


def _dft_matrix(n: int, sign: int) -> np.ndarray:
    j = np.arange(n)
    return np.exp(sign * 2j * np.pi * np.outer(j, j) / n) / np.sqrt(n)


def _ref2(x: np.ndarray, sign: int) -> np.ndarray:
    a = _dft_matrix(x.shape[-2], sign)
    b = _dft_matrix(x.shape[-1], sign)
    return a @ x.astype(np.complex128) @ b.T


def _rel(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.abs(got - want) ** 2) / np.mean(np.abs(want) ** 2)))


@pytest.mark.parametrize("shape", [(64, 48), (3, 96, 64), (9, 128, 64)])
def test_fft2_and_ifft2_are_the_unitary_dft(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
    fx, ix = _fft.fft2(x), _fft.ifft2(x)
    assert fx.dtype == np.complex64 and ix.dtype == np.complex64
    assert fx.shape == x.shape
    assert _rel(fx, _ref2(x, -1)) < TOL
    assert _rel(ix, _ref2(x, +1)) < TOL
    # unitary: energy kept, and the round trip gives the input back
    assert np.isclose(np.sum(np.abs(fx) ** 2), np.sum(np.abs(x) ** 2), rtol=1e-5)
    assert _rel(_fft.ifft2(fx), x) < TOL


def test_rfft_fft_is_the_dft_of_real_maps_cut_along_read() -> None:
    rng = np.random.default_rng(4)
    maps = rng.random((4, 96, 64), dtype=np.float32)
    keep = 17
    got = _fft.rfft_fft(maps, keep)
    want = _ref2(maps, -1)[:, :, :keep]
    assert got.dtype == np.complex64 and got.shape == (4, 96, keep)
    assert _rel(got, want) < TOL
