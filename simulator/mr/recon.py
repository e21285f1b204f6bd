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

from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

from simulator.mr._fft import fft2, ifft2
from simulator.mr.coils import noise_mixing

__all__ = ["combine", "combine_weights", "combine_acquired", "combined_noise_weights",
           "sum_of_squares", "sense_unfold", "g_factor", "homodyne", "reconstruct"]

_SENSE_CACHE: dict[tuple[int, int, int], tuple[object, object, NDArray[np.complex64],
                                                 NDArray[np.float32]]] = {}
_WEIGHT_CACHE: dict[tuple[int, int], tuple[object, object, NDArray[np.complex64]]] = {}
_CONJ_CACHE: dict[tuple[int, int], tuple[object, object, NDArray[np.complex64]]] = {}
_GAIN_CACHE: dict[tuple[int, ...], tuple[object, object, object, NDArray[np.complex64],
                                         NDArray[np.complex64]]] = {}
_NOISE_GAIN_CACHE: dict[tuple[int, ...], tuple[object, object, object, NDArray[np.float32]]] = {}
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
    cw = _conj_weights(maps, psi)
    if coil_images.dtype != np.complex64 or coil_images.shape != cw.shape:
        return np.sum(cw * coil_images, axis=0)
    # One pass per coil with a cache-resident buffer (no (coils, …) temporaries).
    out = np.multiply(cw[0], coil_images[0])
    tmp = np.empty_like(out)
    for c in range(1, cw.shape[0]):
        np.multiply(cw[c], coil_images[c], out=tmp)
        out += tmp
    return out


def _conj_weights(maps: Array, psi: Array) -> NDArray[np.complex64]:
    """``conj(W)`` of :func:`combine_weights`, cached for the same objects."""
    key = (id(maps), id(psi))
    hit = _CONJ_CACHE.get(key)
    if hit is not None and hit[0] is maps and hit[1] is psi:
        return hit[2]
    cw = np.conj(combine_weights(maps, psi))
    cw.flags.writeable = False
    if len(_CONJ_CACHE) > 16:
        _CONJ_CACHE.clear()
    _CONJ_CACHE[key] = (maps, psi, cw)
    return cw


def _acquired_weights(maps_ext: Array, maps: Array, psi: Array | None,
                      n_phase: int) -> tuple[NDArray[np.complex64], NDArray[np.complex64]]:
    """``G`` (fold gains, shape (L, n_phase, n_read)) and ``V`` (noise weights, shape
    (coils, n_phase, n_read)) of :func:`combine_acquired`, cached for the same objects."""
    key = (id(maps_ext), id(maps), id(psi), n_phase)
    hit = _GAIN_CACHE.get(key)
    if hit is not None and hit[0] is maps_ext and hit[1] is maps and hit[2] is psi:
        return hit[3], hit[4]
    cw = np.conj(combine_weights(maps, psi))
    nc, n_pe, n_r = maps_ext.shape
    ext = n_pe // n_phase
    gain = np.einsum("cxy,cfxy->fxy", cw, np.asarray(maps_ext).reshape(nc, ext, n_phase, n_r))
    a, b = noise_mixing()
    weights = a * cw + b * (np.roll(cw, 1, axis=0) + np.roll(cw, -1, axis=0))
    g64: NDArray[np.complex64] = np.ascontiguousarray(gain, dtype=np.complex64)
    w64: NDArray[np.complex64] = np.ascontiguousarray(weights, dtype=np.complex64)
    for arr in (g64, w64):
        arr.flags.writeable = False
    if len(_GAIN_CACHE) > 16:
        _GAIN_CACHE.clear()
    _GAIN_CACHE[key] = (maps_ext, maps, psi, g64, w64)
    return g64, w64


def combined_noise_weights(maps_ext: Array, maps: Array, psi: Array | None, n_phase: int
                           ) -> tuple[NDArray[np.complex64], NDArray[np.float32]]:
    """The noise weights ``V`` (coils, n_phase, n_read) of :func:`combine_acquired` and
    ``r = √(Σ_c |V_c|²)`` (n_phase, n_read), cached for the same objects.

    The combination's noise ``Σ_c V_c·z_c`` of white circular Gaussian ``z`` (independent
    across coils and pixels, SD ``σ`` per real channel) is a sum of independent circular
    Gaussians at each pixel: circular Gaussian of SD ``σ·r`` per real channel, independent
    across pixels. One white field times ``r`` has that law.
    """
    key = (id(maps_ext), id(maps), id(psi), n_phase)
    _, weights = _acquired_weights(maps_ext, maps, psi, n_phase)
    hit = _NOISE_GAIN_CACHE.get(key)
    if hit is not None and hit[0] is maps_ext and hit[1] is maps and hit[2] is psi:
        return weights, hit[3]
    w = weights.astype(np.complex128)
    r = np.sqrt(np.sum(w.real**2 + w.imag**2, axis=0)).astype(np.float32)
    r.flags.writeable = False
    if len(_NOISE_GAIN_CACHE) > 16:
        _NOISE_GAIN_CACHE.clear()
    _NOISE_GAIN_CACHE[key] = (maps_ext, maps, psi, r)
    return weights, r


def combine_acquired(image: NDArray[np.complex64], maps_ext: Array, maps: Array,
                     white: NDArray[np.complex64] | None, psi: Array | None = None,
                     stream: Iterable[tuple[int, NDArray[np.complex64]]] | None = None,
                     ) -> NDArray[np.complex64]:
    """Roemer combination of fully sampled coil images without forming them.

    The coil images are ``I_c = Σ_f C_(c,f)·m_f + n_c``: the object ``m`` on the extended
    phase grid times the coil maps, folded over the ``L`` blocks ``f`` of the phase FOV
    (wrap), plus the ring-correlated noise ``n_c = a·z_c + b·(z_(c−1) + z_(c+1))`` of white
    noise ``z`` (:func:`~simulator.mr.coils.noise_mixing`). Their combination
    ``Σ_c conj(W_c)·I_c`` (:func:`combine`) regroups exactly into
    ``Σ_f G_f·m_f + Σ_c V_c·z_c`` with ``G_f = Σ_c conj(W_c)·C_(c,f)`` and
    ``V_c = a·conj(W_c) + b·(conj(W_(c−1)) + conj(W_(c+1)))``, cached per coil array: the
    same numbers up to float rounding, in one pass per coil.

    Parameters
    ----------
    image : ndarray of complex64, shape (L·n_phase, n_read)
        The object on the extended grid.
    maps_ext : ndarray, shape (coils, L·n_phase, n_read)
        Coil maps on the extended grid.
    maps : ndarray, shape (coils, n_phase, n_read)
        Coil maps of the FOV (the combination weights).
    white : ndarray of complex64, shape (coils, n_phase, n_read), or None
        White noise ``z`` (None: noiseless).
    psi : ndarray, shape (coils, coils), optional
        Receiver noise covariance of the combination weights.
    stream : iterable of (start, block), optional
        The same white noise as ``(start, block)`` pieces of its flat (C-order) array
        (:func:`~simulator.mr.acquisition.normal_blocks`), combined as they come: the
        noise is never held whole, and each piece is used while it is in cache.
    """
    n_phase = maps.shape[1]
    gain, weights = _acquired_weights(maps_ext, maps, psi, n_phase)
    out = np.multiply(gain[0], image[:n_phase])
    tmp = np.empty_like(out)
    for f in range(1, gain.shape[0]):
        np.multiply(gain[f], image[f * n_phase:(f + 1) * n_phase], out=tmp)
        out += tmp
    if white is not None:
        for c in range(weights.shape[0]):
            np.multiply(weights[c], white[c], out=tmp)
            out += tmp
    if stream is not None:
        plane = out.size
        flat, wflat, tflat = out.reshape(-1), weights.reshape(weights.shape[0], -1), tmp.reshape(-1)
        for start, blk in stream:
            pos = 0
            while pos < blk.size:
                c, o = divmod(start + pos, plane)
                take = min(blk.size - pos, plane - o)
                t = tflat[:take]
                np.multiply(wflat[c, o:o + take], blk[pos:pos + take], out=t)
                flat[o:o + take] += t
                pos += take
    return out


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
