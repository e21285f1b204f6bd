"""One call from protocol to images: :func:`scan` returns an :class:`MRSeries`.

The pipeline per slice: cached tissue k-space for the slice geometry
(:func:`~simulator.mr.geometry.object_kspace`), contrast weights, coils, fold, noise and
undersampling (:func:`~simulator.mr.acquisition.slice_kspace`), then SENSE or coil combination
and partial Fourier (:func:`~simulator.mr.recon.reconstruct`) and magnitude. The noiseless
images go through the same acquisition and reconstruction without noise. Geometry-only steps
are cached, so a rescan after a TR/TE change costs a weighted sum and a few FFTs per slice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.errors import ParameterError, UserError
from simulator.mr._pipeline import acquire_slice, effective_protocol, orient, setup, slice_list
from simulator.mr.acquisition import noise_sd
from simulator.mr.anatomy import Anatomy
from simulator.mr.coils import noise_covariance
from simulator.mr.protocol import Geometry, MRProtocol
from simulator.mr.recon import combine, g_factor, reconstruct
from simulator.mr.rules import WRAP_WARN_SHARE, MRDerived, check_protocol

__all__ = ["MRSeries", "scan"]

#: Pure voxels of a tissue needed to measure SNR in it.
_MIN_ROI_PIXELS = 100


@dataclass(frozen=True, eq=False)
class MRSeries:
    """A reconstructed MR series.

    Parameters
    ----------
    images : ndarray of float32, shape (n, rows, cols)
        Magnitude images (after AI denoising when the protocol asks for it).
    noiseless : ndarray of float32, shape (n, rows, cols)
        The same acquisition and reconstruction without noise.
    labels : ndarray of uint8, shape (n, rows, cols)
        Majority tissue of each voxel; ``names[label]`` is its name.
    names : tuple of str
        Tissue names of the label values.
    protocol : MRProtocol
    geometry : Geometry
    derived : MRDerived
    pixel_spacing_mm : tuple of float
        (row spacing, column spacing).
    slice_positions_mm : ndarray of float64, shape (n, 3)
        Patient position of the first pixel of each image (ImagePositionPatient).
    orientation_cosines : ndarray of float64, shape (6,)
        ImageOrientationPatient.
    metrics : dict
        ``scan_time_s``, ``snr`` (measured), ``sar_w_kg``, ``warnings`` and more.
    warnings : tuple of str
        Console warnings.
    seed : int or None
        The integer seed when ``scan`` was given one.
    slice_indices : tuple of int
        Index of each image in the planned stack.
    images_before_ai : ndarray of float32, shape (n, rows, cols), or None
        The magnitude images as reconstructed, before AI denoising; None when the
        protocol did not ask for it. ``images - images_before_ai`` is what the AI changed.
    """

    images: NDArray[np.float32]
    noiseless: NDArray[np.float32]
    labels: NDArray[np.uint8]
    names: tuple[str, ...]
    protocol: MRProtocol
    geometry: Geometry
    derived: MRDerived
    pixel_spacing_mm: tuple[float, float]
    slice_positions_mm: NDArray[np.float64]
    orientation_cosines: NDArray[np.float64]
    metrics: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    seed: int | None = None
    slice_indices: tuple[int, ...] = ()
    images_before_ai: NDArray[np.float32] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in (
            "images",
            "noiseless",
            "labels",
            "slice_positions_mm",
            "orientation_cosines",
            "images_before_ai",
        ):
            arr = getattr(self, name)
            if arr is not None and arr.flags.writeable:
                view = arr.view()
                view.flags.writeable = False
                object.__setattr__(self, name, view)


def _measure_snr(
    images: NDArray[np.float32],
    noiseless: NDArray[np.float32],
    labels: NDArray[np.uint8],
    pure: NDArray[np.bool_],
) -> tuple[float | None, str | None]:
    best: tuple[float, int] | None = None
    for lab in np.unique(labels[pure]):
        roi = pure & (labels == lab)
        if lab == 0 or roi.sum() < _MIN_ROI_PIXELS:
            continue
        mean = float(noiseless[roi].mean())
        if best is None or mean > best[0]:
            best = (mean, int(lab))
    if best is None:
        return None, None
    roi = pure & (labels == best[1])
    sd = float(np.std((images[roi] - noiseless[roi]).astype(np.float64)))
    return (best[0] / sd if sd > 0 else None), str(best[1])


def _denoise(images: NDArray[np.float32]) -> NDArray[np.float32]:
    try:
        from simulator.ai import denoise_mr
    except ImportError:
        raise ParameterError("ai_denoise", True, "False", "AI denoising is not available",
                             "le débruitage par IA n'est pas disponible") from None
    try:
        out = denoise_mr(images, 1.0)
    except ParameterError:
        raise
    except UserError as err:
        raise ParameterError("ai_denoise", True, "False",
                             f"AI denoising is not available: {err.en}",
                             f"le débruitage par IA n'est pas disponible : {err.fr}") from err
    return np.asarray(out, dtype=np.float32)


def scan(
    anatomy: Anatomy,
    protocol: MRProtocol,
    geometry: Geometry | None = None,
    *,
    rng: np.random.Generator | int | None,
    slices: Sequence[int] | None = None,
) -> MRSeries:
    """Acquire and reconstruct a series.

    Parameters
    ----------
    anatomy : Anatomy
        The patient (label volume).
    protocol : MRProtocol
        The protocol; the console rules are applied first.
    geometry : Geometry, optional
        Slice stack placement; default: the protocol's orientation centred on the body.
        Its orientation wins over ``protocol.orientation`` (the series records it).
    rng : numpy.random.Generator or int
        Noise and motion source (an int is a seed). None gives no noise.
    slices : sequence of int, optional
        Indices of the planned slices to acquire (fast preview); default all.

    Returns
    -------
    MRSeries

    Raises
    ------
    ParameterError
        When a console rule is broken, the phase direction is not in the slice plane, a
        slice index does not exist, or AI denoising is asked for and not available.
    """
    protocol = effective_protocol(protocol, geometry)
    warnings = list(check_protocol(protocol))
    st = setup(anatomy, protocol, geometry, rng)
    plan, d, r, n_sym, fov_maps = st.plan, st.derived, protocol.parallel_r, st.n_sym, st.maps
    idx = slice_list(slices, protocol.slices)
    psi = noise_covariance(protocol.coils)
    imgs, clean, labs, pure = [], [], [], []
    outside = 0.0
    names: tuple[str, ...] = ()
    for i in idx:
        sd = acquire_slice(anatomy, st, i)
        outside = max(outside, sd.obj.outside_share)
        img = np.abs(reconstruct(sd.noisy, fov_maps, r, n_sym, psi)).astype(np.float32)
        if st.rng is None:
            ref = img
        elif r == 1 and n_sym is None:
            # Fully sampled: FFT then inverse FFT is the identity, so the noiseless
            # reconstruction is the coil combination of the noiseless coil images.
            ref = np.abs(combine(sd.clean_images, fov_maps, psi)).astype(np.float32)
        else:
            ref = np.abs(reconstruct(sd.clean, fov_maps, r, n_sym, psi)).astype(np.float32)
        imgs.append(img)
        clean.append(ref)
        labs.append(sd.obj.labels)
        pure.append(sd.obj.purity >= 0.95)
        names = sd.obj.names_all
    images = orient(np.stack(imgs), plan)
    noiseless = orient(np.stack(clean), plan)
    labels = orient(np.stack(labs), plan)
    purity = orient(np.stack(pure), plan)
    if outside > WRAP_WARN_SHARE:
        warnings.append(
            "phase FOV smaller than the body: wrap expected "
            f"({100 * outside:.0f} % of the body outside the phase FOV)"
        )
    before_ai = None
    if protocol.ai_denoise:
        before_ai, images = images, _denoise(images)
    snr, roi_label = _measure_snr(images, noiseless, labels, purity)
    g = g_factor(fov_maps, r, psi)
    metrics: dict[str, Any] = {
        "scan_time_s": d.scan_time_s,
        "snr": snr,
        "snr_tissue": names[int(roi_label)] if roi_label is not None else None,
        "snr_rel": d.snr_rel,
        "sar_w_kg": d.sar_w_kg,
        "sar_limit_w_kg": d.sar_limit_w_kg,
        "fat_shift_px": d.fat_shift_px,
        "voxel_mm": list(d.voxel_mm),
        "noise_sd": noise_sd(protocol) if st.rng is not None else 0.0,
        "g_factor_mean": float(g.mean()),
        "g_factor_max": float(g.max()),
        "concatenations": d.concatenations,
        "wrap_share": outside,
        "te_eff_ms": d.te_eff_ms,
        "warnings": list(warnings),
    }
    if snr is not None and not math.isfinite(snr):
        metrics["snr"] = None
    return MRSeries(
        images=images,
        noiseless=noiseless,
        labels=labels,
        names=tuple(names),
        protocol=protocol,
        geometry=st.geometry,
        derived=d,
        pixel_spacing_mm=plan.pixel_spacing_mm,
        slice_positions_mm=plan.first_pixel_mm[idx].copy(),
        orientation_cosines=plan.orientation_cosines.copy(),
        metrics=metrics,
        warnings=tuple(warnings),
        seed=st.seed,
        slice_indices=tuple(idx),
        images_before_ai=before_ai,
    )
