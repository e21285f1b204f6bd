"""Reconstruction: FBP, MLEM and OSEM with attenuation, normalisation and additive terms.

Forward model of the expected prompts of line of response i (one column per slice):

    ȳ = w · (A x) + b,   w = κ · L · n · a · s_z,   b = randoms + scatter

``x`` is the activity concentration at the frame start in Bq/mL (κ from the acquisition
calibrates the scanner, L the dead-time survival: dead-time correction), ``s_z`` the axial
sensitivity of the slice within its bed (multi-bed exams), ``a`` the attenuation factors
(1 without attenuation correction), ``n`` the normalisation, ``b`` the randoms estimate plus, with scatter correction, the
scatter estimate. With ``psf_modelling`` the scanner's transaxial resolution is part of A
(see :mod:`simulator.pet.projector`). OSEM (Hudson & Larkin, IEEE TMI 13, 1994) updates

    x ← x / (A_sᵀ w_s) · A_sᵀ( w_s · y_s / ȳ_s )

over interleaved angle subsets s; one subset is MLEM (Shepp & Vardi 1982). FBP
pre-corrects the data, (y − b)/w, and filters with a ramp (optionally Hann-windowed) built
from the band-limited spatial ramp (Kak & Slaney, ch. 3) before back-projection.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.pet._scanner import PSF_FWHM_MM
from simulator.pet.acquisition import FWHM_TO_SIGMA, Sinogram, filter_runs
from simulator.pet.projector import (
    Projector,
    SubsetOp,
    _pool,
    get_projector,
    get_tof_projector,
    matmul,
    threads,
)
from simulator.pet.protocol import PETProtocol

__all__ = [
    "iter_em",
    "iter_reconstruct",
    "reconstruct",
    "fbp_filter",
    "recon_projector",
    "postfilter",
    "sensitivity_images",
    "cached_sensitivity",
]

ArrayF = NDArray[np.float32]


def _in_parallel(fn: Callable[..., Any], args: Sequence[tuple[Any, ...]]) -> list[Any]:
    """``fn(*a)`` for each ``a`` on the projector's threads (in order; inline for one)."""
    if len(args) <= 1:
        return [fn(*a) for a in args]
    futures = [_pool(len(args)).submit(fn, *a) for a in args]
    return [f.result() for f in futures]


def iter_em(
    projector: Projector,
    data: ArrayF,
    weights: ArrayF,
    background: ArrayF,
    iterations: int,
    subsets: int = 1,
    x0: ArrayF | None = None,
    sensitivity: Sensitivity | None = None,
) -> Iterator[tuple[int, ArrayF]]:
    """OSEM (MLEM when ``subsets == 1``) in column layout; yields after each iteration.

    Parameters
    ----------
    projector : Projector
    data, weights, background : ndarray of float32, shape (n_lor, n_slices)
        Measured counts y, multiplicative factors w and additive expected counts b.
    iterations, subsets : int
        ``subsets`` must divide the projector's angles.
    x0 : ndarray, shape (n_pixels_in_fov, n_slices), optional
        Positive start image; default uniform with the data's net counts.
    sensitivity : Sensitivity, optional
        The subsets' sensitivity images for these weights (:func:`sensitivity_images`),
        when already computed.

    Yields
    ------
    (int, ndarray)
        Iteration number (1-based) and the current image columns (a new array each time).
    """
    ops = projector.subset_ops(subsets)
    y = np.asarray(data, np.float32)
    w = np.asarray(weights, np.float32)
    b = np.asarray(background, np.float32)
    if sensitivity is None:
        sensitivity = sensitivity_images(projector, w, subsets)
    total, inv_sens = sensitivity
    if x0 is None:
        net = np.maximum((y - b).sum(axis=0, dtype=np.float64), 1e-12)
        x = np.ones((projector.pixels.size, y.shape[1]), np.float32)
        x *= (net / np.maximum(total, 1e-30)).astype(np.float32)
    else:
        x = np.array(x0, dtype=np.float32, copy=True)
    local = [(op, y[op.rows], w[op.rows], b[op.rows]) for op in ops]
    for it in range(1, iterations + 1):
        for (op, y_s, w_s, b_s), inv in zip(local, inv_sens, strict=True):
            fwd = op.forward(x)
            fwd *= w_s
            fwd += b_s
            # y/ȳ where ȳ > 0, else 0 (ȳ ≥ 0 and stays 0 there), times w, in place
            np.divide(y_s, fwd, out=fwd, where=fwd > 0)
            fwd *= w_s
            back = op.back(fwd)
            back *= inv
            x *= back
        yield it, x.copy()


#: Per-column total sensitivity (float64, shape (n_slices,)) and each subset's 1/(A_sᵀ w_s)
#: (0 where it vanishes).
Sensitivity = tuple[NDArray[np.float64], list[ArrayF]]


def sensitivity_images(projector: Projector, weights: ArrayF, subsets: int) -> Sensitivity:
    """The subsets' sensitivity images A_sᵀ w_s, as OSEM needs them (see :func:`iter_em`)."""
    w = np.asarray(weights, np.float32)

    def one(op: SubsetOp) -> tuple[NDArray[np.float64], ArrayF]:
        s = op.back(np.ascontiguousarray(w[op.rows]), 1)
        inv = np.zeros_like(s)
        np.divide(np.float32(1.0), s, out=inv, where=s > 0)
        return s.sum(axis=0, dtype=np.float64), inv

    ops = projector.subset_ops(subsets)
    n = max(1, min(threads(), len(ops)))
    chunks = [ops[i::n] for i in range(n)]
    done = _in_parallel(lambda part: [one(op) for op in part], [(c,) for c in chunks])
    per_op: list[tuple[NDArray[np.float64], ArrayF]] = [None] * len(ops)  # type: ignore[list-item]
    for i, part in enumerate(done):
        per_op[i::n] = part
    total = np.sum([t for t, _ in per_op], axis=0)
    return total, [inv for _, inv in per_op]


#: Sensitivity images per sinogram, per (projector, subsets, corrections): a second
#: reconstruction of the same data (other iterations, filter, matrix) reuses them.
_SENS_CACHE: weakref.WeakKeyDictionary[Sinogram, dict[tuple[Any, ...], Sensitivity]] = (
    weakref.WeakKeyDictionary()
)


def cached_sensitivity(
    sinogram: Sinogram, protocol: PETProtocol, projector: Projector, weights: ArrayF,
    subsets: int,
) -> Sensitivity:
    """:func:`sensitivity_images` of ``sinogram``'s weights, computed once per projector,
    subset split and attenuation correction (the only setting the weights depend on)."""
    key = (
        projector.n, projector.pixel_mm, projector.psf_fwhm_mm, projector.geometry, subsets,
        protocol.attenuation_correction,
    )
    per = _SENS_CACHE.setdefault(sinogram, {})
    if key not in per:
        if len(per) >= 4:
            per.clear()
        per[key] = sensitivity_images(projector, weights, subsets)
    return per[key]


def poisson_log_likelihood(data: ArrayF, expected: ArrayF) -> float:
    """Σ y ln ȳ − ȳ (the constant −ln y! dropped)."""
    y = np.asarray(data, np.float64)
    m = np.asarray(expected, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(np.maximum(m, 1e-300)), 0.0)
    return float(np.sum(term - m))


def fbp_filter(n_radial: int, bin_mm: float, window: str = "hann") -> NDArray[np.float64]:
    """Frequency response (length ``2^⌈log2 2n⌉``) of the ramp filter in 1/mm.

    Built as the DFT of the band-limited spatial ramp (no DC offset), times a Hann window
    ``0.5(1 + cos(π f/f_Nyquist))`` when ``window == "hann"``.
    """
    size = max(64, int(2 ** np.ceil(np.log2(2 * n_radial))))
    k = np.concatenate((np.arange(1, size // 2 + 1, 2), np.arange(size // 2 - 1, 0, -2)))
    h = np.zeros(size)
    h[0] = 0.25
    h[1::2] = -1.0 / (np.pi * k) ** 2
    ramp = np.real(np.fft.fft(h)) / bin_mm
    if window == "hann":
        f = np.abs(np.fft.fftfreq(size))  # cycles per bin, Nyquist 0.5
        ramp *= 0.5 * (1.0 + np.cos(np.pi * f / 0.5))
    return ramp


def _fbp(projector: Projector, line_integrals: ArrayF, window: str) -> ArrayF:
    g = projector.geometry
    nz = line_integrals.shape[1]
    sino = line_integrals.T.reshape(nz, g.n_angles, g.n_radial).astype(np.float64)
    filt = fbp_filter(g.n_radial, g.bin_mm, window)
    spec = np.fft.rfft(sino, n=filt.size, axis=2) * filt[: filt.size // 2 + 1]
    q = np.fft.irfft(spec, n=filt.size, axis=2)[:, :, : g.n_radial].astype(np.float32)
    scale = np.pi / g.n_angles * g.bin_mm / projector.pixel_mm**2
    return matmul(projector.transpose, projector.sino_to_columns(q)) * np.float32(scale)


def recon_projector(sinogram: Sinogram, matrix: int, psf_fwhm_mm: float = 0.0) -> Projector:
    """The projector of a ``matrix × matrix`` image over the sinogram's field of view."""
    g = sinogram.geometry
    if sinogram.tof_bins:
        return get_tof_projector(
            matrix, sinogram.fov_mm / matrix, g.n_angles, g.n_radial // sinogram.tof_bins,
            g.bin_mm, psf_fwhm_mm, sinogram.tof_bins, sinogram.tof_fwhm_mm,
        )
    return get_projector(
        matrix, sinogram.fov_mm / matrix, g.n_angles, g.n_radial, g.bin_mm, psf_fwhm_mm
    )


def postfilter(
    images: ArrayF,
    fwhm_mm: float,
    pixel_mm: float,
    slice_mm: float,
    slice_indices: Sequence[int] | None = None,
) -> ArrayF:
    """3-D Gaussian post-filter of FWHM ``fwhm_mm`` (in-plane, and along z within runs of
    consecutive ``slice_indices``; default: all slices consecutive)."""
    if fwhm_mm <= 0:
        return images
    s = fwhm_mm * FWHM_TO_SIGMA
    idx = range(images.shape[0]) if slice_indices is None else slice_indices
    return filter_runs(
        images,
        (s / slice_mm, s / pixel_mm, s / pixel_mm),
        idx,
        mode=("nearest", "constant", "constant"),
        truncate=3.0,
    )


def _model(
    sinogram: Sinogram, protocol: PETProtocol, proj: Projector
) -> tuple[ArrayF, ArrayF, ArrayF]:
    """Data, multiplicative weights and additive background, column layout."""
    nz = sinogram.n_slices
    # calibration × the dead-time survival: the scanner's dead-time correction
    w = np.broadcast_to(
        sinogram.normalisation * np.float32(sinogram.calibration * sinogram.live_fraction),
        sinogram.prompts.shape,
    )
    if protocol.attenuation_correction:
        w = w * sinogram.attenuation
    if sinogram.axial_sensitivity is not None:
        w = w * sinogram.axial_sensitivity[:, None, None]
    b = sinogram.randoms + sinogram.scatter if protocol.scatter_correction else sinogram.randoms
    cols = proj.sino_to_columns
    y = cols(sinogram.prompts)
    assert y.shape[1] == nz
    return y, cols(np.asarray(w, np.float32)), cols(np.asarray(b, np.float32))


def _without_tof(sinogram: Sinogram) -> Sinogram:
    """The non-TOF sinogram of TOF-binned data (bins added; per-line factors kept)."""
    from dataclasses import replace

    from simulator.pet.projector import SinogramGeometry, tof_unfold_sum

    k, g = sinogram.tof_bins, sinogram.geometry
    r = g.n_radial // k
    return replace(
        sinogram,
        prompts=tof_unfold_sum(sinogram.prompts, k),
        scatter=tof_unfold_sum(sinogram.scatter, k),
        randoms=tof_unfold_sum(sinogram.randoms, k),
        attenuation=np.ascontiguousarray(sinogram.attenuation[..., :r]),
        normalisation=np.ascontiguousarray(sinogram.normalisation[..., :r]),
        geometry=SinogramGeometry(g.n_angles, r, g.bin_mm),
        tof_bins=0,
        tof_fwhm_mm=0.0,
    )


def _iterate(sinogram: Sinogram, p: PETProtocol) -> Iterator[tuple[int, ArrayF, Projector]]:
    """Unfiltered image columns after each iteration (FBP: once)."""
    psf = PSF_FWHM_MM if (p.psf_modelling and p.recon != "fbp") else 0.0
    if p.recon == "fbp" and sinogram.tof_bins:  # FBP of the TOF bins added up
        sinogram = _without_tof(sinogram)
    proj = recon_projector(sinogram, p.matrix, psf)
    y, w, b = _model(sinogram, p, proj)
    if p.recon == "fbp":
        pre = np.divide(y - b, w, out=np.zeros_like(y), where=w > 0)
        yield 1, _fbp(proj, pre, p.fbp_window), proj
        return
    subsets = 1 if p.recon == "mlem" else p.subsets
    sens = cached_sensitivity(sinogram, p, proj, w, subsets)
    for it, x in iter_em(proj, y, w, b, p.iterations, subsets, sensitivity=sens):
        yield it, x, proj


def _finish(cols: ArrayF, proj: Projector, p: PETProtocol, sino: Sinogram) -> ArrayF:
    img = proj.from_columns(cols)
    return postfilter(img, p.postfilter_mm, proj.pixel_mm, sino.slice_mm, sino.slice_indices)


def iter_reconstruct(
    sinogram: Sinogram, protocol: PETProtocol | None = None
) -> Iterator[tuple[int, ArrayF]]:
    """Reconstruct, yielding ``(iteration, image_bqml)`` after each iteration.

    Parameters
    ----------
    sinogram : Sinogram
    protocol : PETProtocol, optional
        Reconstruction settings (``recon``, ``iterations``, ``subsets``, corrections,
        ``postfilter_mm``, ``matrix``, ``fbp_window``); default: the acquisition's.

    Yields
    ------
    (int, ndarray of float32, shape (z, matrix, matrix))
        Post-filtered activity concentration in Bq/mL, decay-corrected to the frame start.
        FBP yields once, with iteration 1.
    """
    p = protocol if protocol is not None else sinogram.protocol
    for it, cols, proj in _iterate(sinogram, p):
        yield it, _finish(cols, proj, p, sinogram)


def reconstruct(
    sinogram: Sinogram,
    protocol: PETProtocol | None = None,
    denoise: Callable[[ArrayF], ArrayF] | None = None,
) -> ArrayF:
    """The final image of :func:`iter_reconstruct`, optionally passed through ``denoise``."""
    p = protocol if protocol is not None else sinogram.protocol
    *_, (_, cols, proj) = _iterate(sinogram, p)
    image = _finish(cols, proj, p, sinogram)
    return denoise(image) if denoise is not None else image
