"""Reconstruction: inverse FFT, coil combination, SENSE unfolding, partial Fourier.

* Coil combination uses the known (pre-scan) sensitivities: ``ρ = Σ conj(C_c)·I_c / Σ|C_c|²``
  (Roemer; the maps are normalised so that the denominator is 1) or the root sum of squares.
* SENSE (Pruessmann et al., Magn Reson Med 1999;42:952-962): the ``R``-fold aliased coil
  images of the reduced FOV are unfolded pixel by pixel with ``(CᴴC)⁻¹Cᴴ``; the noise grows
  by ``√R · g`` with ``g = √(diag((CᴴC)⁻¹) · diag(CᴴC)) ≥ 1``.
* Partial Fourier: homodyne detection (Noll et al., IEEE TMI 1991;10:154-163) — the
  symmetric centre gives a low-resolution phase, the one-sided high frequencies are doubled,
  and the real part after phase correction is kept.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from simulator.mr._fft import fft2, ifft2

__all__ = ["combine", "combine_weights", "sum_of_squares", "sense_unfold", "g_factor", "homodyne", "reconstruct"]

_SENSE_CACHE: dict[tuple[int, int, int], tuple[object, object, NDArray[np.complex64],
                                                 NDArray[np.float32]]] = {}
_WEIGHT_CACHE: dict[tuple[int, int], tuple[object, object, NDArray[np.complex64]]] = {}
_LAMBDA = 1e-6

Array = NDArray[np.complexfloating]


def _whitener(psi: Array | None, nc: int) -> NDArray[np.complex128]:
    """``L⁻¹`` with ``Ψ = L Lᴴ`` (identity when ``psi`` is None)."""
    if psi is None:
        return np.eye(nc, dtype=np.complex128)
    chol = np.linalg.cholesky(np.asarray(psi, dtype=np.complex128))
    return np.asarray(np.linalg.inv(chol), dtype=np.complex128)


def _apply(mat: NDArray[np.complex128], maps: Array) -> NDArray[np.complex128]:
    return np.tensordot(mat, np.asarray(maps, dtype=np.complex128), axes=(1, 0))


def combine_weights(maps: Array, psi: Array | None = None) -> NDArray[np.complex64]:
    """Optimal (Roemer) combination weights ``W = Ψ⁻¹C / (CᴴΨ⁻¹C)``, so ``ρ = Σ conj(W)·I``.

    Cached for the same ``maps`` and ``psi`` objects.
    """
    key = (id(maps), id(psi))
    hit = _WEIGHT_CACHE.get(key)
    if hit is not None and hit[0] is maps and hit[1] is psi:
        return hit[2]
    if psi is None:
        pinv_c = np.asarray(maps, dtype=np.complex128)
    else:
        psi_inv = np.asarray(np.linalg.inv(np.asarray(psi, dtype=np.complex128)),
                             dtype=np.complex128)
        pinv_c = _apply(psi_inv, maps)
    den = np.real(np.sum(np.conj(maps) * pinv_c, axis=0))
    w = (pinv_c / np.maximum(den, 1e-12)[None]).astype(np.complex64)
    if len(_WEIGHT_CACHE) > 16:
        _WEIGHT_CACHE.clear()
    _WEIGHT_CACHE[key] = (maps, psi, w)
    return w


def combine(coil_images: Array, maps: Array, psi: Array | None = None) -> Array:
    """Roemer combination over the coil axis (0): ``Σ conj(W)·I`` with
    ``W = Ψ⁻¹C / (CᴴΨ⁻¹C)`` (``Ψ`` the receiver noise covariance; identity when None)."""
    if psi is None:
        num = np.sum(np.conj(maps) * coil_images, axis=0)
        den = np.sum(np.abs(maps) ** 2, axis=0)
        return num / np.maximum(den, 1e-12)
    return np.sum(np.conj(combine_weights(maps, psi)) * coil_images, axis=0)


def sum_of_squares(coil_images: NDArray[np.complexfloating]) -> NDArray[np.floating]:
    """Root sum of squares over the coil axis (0)."""
    return np.sqrt(np.sum(np.abs(coil_images) ** 2, axis=0))


def _unmixing(maps: Array, r: int, psi: Array | None = None) -> tuple[NDArray[np.complex64],
                                                                       NDArray[np.float32]]:
    key = (id(maps), r, id(psi))
    hit = _SENSE_CACHE.get(key)
    if hit is not None and hit[0] is maps and hit[1] is psi:
        return hit[2], hit[3]
    nc, n_p, n_r = maps.shape
    n = n_p // r
    linv = _whitener(psi, nc)
    white = _apply(linv, maps)                                   # whitened sensitivities
    a = white.reshape(nc, r, n, n_r).transpose(2, 3, 0, 1)                        # (n,x,c,s)
    ah = np.conj(np.swapaxes(a, -1, -2))                                          # (n,x,s,c)
    gram = ah @ a                                                                 # (n,x,s,s)
    inv = np.linalg.inv(gram + _LAMBDA * np.eye(r))
    unmix = ((inv @ ah) @ linv).astype(np.complex64)       # (n,x,s,c), applies to raw data
    diag_inv = np.real(np.diagonal(inv, axis1=-2, axis2=-1))
    diag = np.real(np.diagonal(gram, axis1=-2, axis2=-1))
    g = np.sqrt(np.maximum(diag_inv * diag, 1.0))                                 # (n,x,s)
    g_map = np.moveaxis(g, -1, 0).reshape(n_p, n_r).astype(np.float32)
    if len(_SENSE_CACHE) > 16:
        _SENSE_CACHE.clear()
    _SENSE_CACHE[key] = (maps, psi, unmix, g_map)
    return unmix, g_map


def g_factor(maps: Array, r: int, psi: Array | None = None) -> NDArray[np.float32]:
    """SENSE geometry factor map (≥ 1) for acceleration ``r`` along axis 1 of ``maps``.

    Parameters
    ----------
    maps : ndarray of complex, shape (coils, n_phase, n_read)
        Coil sensitivities; ``n_phase`` divisible by ``r``.
    r : int
        Acceleration factor.
    psi : ndarray, shape (coils, coils), optional
        Receiver noise covariance (identity when None).
    """
    if r == 1:
        return np.ones(maps.shape[1:], dtype=np.float32)
    return _unmixing(maps, r, psi)[1]


def sense_unfold(kspace: Array, maps: Array, r: int,
                 psi: Array | None = None) -> NDArray[np.complex64]:
    """Unfold ``r``-fold undersampled multi-coil k-space (lines ``k % r == 0`` sampled).

    Parameters
    ----------
    kspace : ndarray of complex, shape (coils, n_phase, n_read)
        FFT-order k-space, zeros on skipped lines.
    maps : ndarray of complex, shape (coils, n_phase, n_read)
        Coil sensitivities (the same object across calls reuses the unmixing matrices).
    r : int
        Acceleration.
    psi : ndarray, shape (coils, coils), optional
        Receiver noise covariance (prewhitened unfolding); identity when None.

    Returns
    -------
    ndarray of complex64, shape (n_phase, n_read)
        Unfolded, coil-combined image.
    """
    nc, n_p, n_r = kspace.shape
    unmix, _ = _unmixing(maps, r, psi)
    aliased = ifft2(kspace[:, ::r, :]) * np.float32(np.sqrt(r))    # (c, n, x)
    a = np.moveaxis(aliased, 0, -1)[..., None]                      # (n, x, c, 1)
    rho = (unmix @ a)[..., 0]                                      # (n, x, s)
    return np.ascontiguousarray(np.moveaxis(rho, -1, 0).reshape(n_p, n_r))


def homodyne(image: NDArray[np.complexfloating], n_sym: int) -> NDArray[np.float32]:
    """Homodyne partial-Fourier reconstruction along axis 0.

    Parameters
    ----------
    image : ndarray of complex, shape (n_phase, n_read)
        Zero-filled reconstruction; lines ``k < −n_sym`` were not acquired.
    n_sym : int
        Half-width of the symmetrically sampled centre.

    Returns
    -------
    ndarray of float32
        Phase-corrected real image.
    """
    n_p = image.shape[0]
    k_idx = np.rint(np.fft.fftfreq(n_p) * n_p)
    k = fft2(image)
    centre = (np.abs(k_idx) < n_sym)
    window = np.where(centre, np.cos(np.pi * k_idx / (2 * max(n_sym, 1))) ** 2, 0.0)
    low = ifft2(k * window[:, None].astype(np.float32))
    weight = np.where(k_idx >= n_sym, 2.0, np.where(k_idx >= -n_sym, 1.0, 0.0))
    high = ifft2(k * weight[:, None].astype(np.float32))
    phase = np.exp(-1j * np.angle(low))
    return np.real(high * phase).astype(np.float32)


def reconstruct(kspace: Array, maps: Array, r: int = 1, n_sym: int | None = None,
                psi: Array | None = None) -> NDArray[np.generic]:
    """Reconstruct one slice: SENSE or coil combination, then partial Fourier.

    Parameters
    ----------
    kspace : ndarray of complex, shape (coils, n_phase, n_read)
        Sampled k-space (FFT order).
    maps : ndarray of complex, shape (coils, n_phase, n_read)
        Coil sensitivities.
    r : int
        SENSE acceleration.
    n_sym : int or None
        Symmetric half-width for partial Fourier; None when fully sampled.
    psi : ndarray, shape (coils, coils), optional
        Receiver noise covariance for the optimal combination / prewhitened SENSE.

    Returns
    -------
    ndarray
        Complex image (real float32 after homodyne); take ``np.abs`` for magnitude.
    """
    if r > 1:
        rho = sense_unfold(kspace, maps, r, psi)
    else:
        rho = combine(ifft2(kspace), maps, psi)
    if n_sym is not None:
        return homodyne(rho, n_sym)
    return rho
