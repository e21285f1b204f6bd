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

from simulator.errors import ParameterError
from simulator.mr.acquisition import noise_sd, sampling, slice_kspace
from simulator.mr.anatomy import Anatomy
from simulator.mr.coils import COIL_RADIUS_MM, coil_maps
from simulator.mr.geometry import SlicePlan, default_geometry, object_kspace, plan_slices
from simulator.mr.motion import motion_phase
from simulator.mr.protocol import Geometry, MRProtocol
from simulator.mr.recon import combine, g_factor, reconstruct
from simulator.mr.rules import MRDerived, check_protocol, derive

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

    def __post_init__(self) -> None:
        for name in ("images", "noiseless", "labels", "slice_positions_mm", "orientation_cosines"):
            arr = getattr(self, name)
            if arr.flags.writeable:
                view = arr.view()
                view.flags.writeable = False
                object.__setattr__(self, name, view)


def _key(v: NDArray[np.float64]) -> tuple[float, float, float]:
    return (round(float(v[0]), 6), round(float(v[1]), 6), round(float(v[2]), 6))


def _slice_list(slices: Sequence[int] | None, n: int) -> list[int]:
    if slices is None:
        return list(range(n))
    out = []
    for s in slices:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s < n:
            raise ParameterError(
                "slices",
                s,
                f"0–{n - 1}",
                "index of a planned slice",
                "indice d'une coupe planifiée",
            )
        out.append(int(s))
    return out


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
        raise ParameterError(
            "ai_denoise",
            True,
            "False",
            "AI denoising is not available",
            "le débruitage par IA n'est pas disponible",
        ) from None
    return np.asarray(denoise_mr(images, 1.0), dtype=np.float32)


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
    warnings = list(check_protocol(protocol))
    if geometry is None:
        geometry = default_geometry(anatomy, protocol)
    seed = None
    if isinstance(rng, bool) or not (rng is None or isinstance(
            rng, (int, np.integer, np.random.Generator))):
        raise ParameterError("rng", rng, "a numpy Generator, an integer seed or None")
    if isinstance(rng, (int, np.integer)):
        seed = int(rng)
        rng = np.random.default_rng(seed)
    gen: np.random.Generator | None = rng
    plan = plan_slices(protocol, geometry)
    idx = _slice_list(slices, protocol.slices)
    d = derive(protocol)
    samp = sampling(protocol)
    r = protocol.parallel_r
    n_sym = samp.n_partial - plan.n_phase // 2 if protocol.partial_fourier < 1.0 else None
    radius = COIL_RADIUS_MM[protocol.body_part]
    fov_maps = coil_maps(
        protocol.coils, plan.n_phase, plan.n_read, plan.d_phase_mm, plan.d_read_mm, radius
    )
    imgs, clean, labs, pure = [], [], [], []
    outside = 0.0
    for i in idx:
        obj = object_kspace(
            anatomy,
            _key(plan.centers_mm[i]),
            _key(plan.u_phase),
            _key(plan.u_read),
            _key(plan.normal),
            plan.d_phase_mm,
            plan.d_read_mm,
            plan.n_phase,
            plan.n_read,
            protocol.slice_mm,
        )
        outside = max(outside, obj.outside_share)
        ext = obj.extension
        maps_ext = (
            fov_maps
            if ext == 1
            else coil_maps(
                protocol.coils,
                ext * plan.n_phase,
                plan.n_read,
                plan.d_phase_mm,
                plan.d_read_mm,
                radius,
            )
        )
        motion = None
        if protocol.motion != "none" and gen is not None:
            n_pe = ext * plan.n_phase
            k_lines = np.fft.fftfreq(n_pe) * n_pe / ext
            motion = motion_phase(
                protocol.motion,
                d.scan_time_s,
                samp.shot_of_line,
                samp.k_acquired,
                k_lines,
                plan.n_phase * plan.d_phase_mm,
                gen,
            )
        noisy_k, clean_k, clean_img = slice_kspace(protocol, plan, obj, maps_ext, samp, motion, gen)
        img = np.abs(reconstruct(noisy_k, fov_maps, r, n_sym)).astype(np.float32)
        if rng is None:
            ref = img
        elif r == 1 and n_sym is None:
            # Fully sampled: FFT then inverse FFT is the identity, so the noiseless
            # reconstruction is the coil combination of the noiseless coil images.
            ref = np.abs(combine(clean_img, fov_maps)).astype(np.float32)
        else:
            ref = np.abs(reconstruct(clean_k, fov_maps, r, n_sym)).astype(np.float32)
        imgs.append(img)
        clean.append(ref)
        labs.append(obj.labels)
        pure.append(obj.purity >= 0.95)
        names = obj.names_all
    images = _orient(np.stack(imgs), plan)
    noiseless = _orient(np.stack(clean), plan)
    labels = _orient(np.stack(labs), plan)
    purity = _orient(np.stack(pure), plan)
    if outside > 0.002:
        warnings.append(
            "phase FOV smaller than the body: wrap expected "
            f"({100 * outside:.0f} % of the body outside the phase FOV)"
        )
    if protocol.ai_denoise:
        images = _denoise(images)
    snr, roi_label = _measure_snr(images, noiseless, labels, purity)
    g = g_factor(fov_maps, r)
    metrics: dict[str, Any] = {
        "scan_time_s": d.scan_time_s,
        "snr": snr,
        "snr_tissue": names[int(roi_label)] if roi_label is not None else None,
        "snr_rel": d.snr_rel,
        "sar_w_kg": d.sar_w_kg,
        "sar_limit_w_kg": d.sar_limit_w_kg,
        "fat_shift_px": d.fat_shift_px,
        "voxel_mm": list(d.voxel_mm),
        "noise_sd": noise_sd(protocol) if rng is not None else 0.0,
        "g_factor_mean": float(g.mean()),
        "g_factor_max": float(g.max()),
        "concatenations": d.concatenations,
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
        geometry=geometry,
        derived=d,
        pixel_spacing_mm=plan.pixel_spacing_mm,
        slice_positions_mm=plan.first_pixel_mm[idx].copy(),
        orientation_cosines=plan.orientation_cosines.copy(),
        metrics=metrics,
        warnings=tuple(warnings),
        seed=seed,
        slice_indices=tuple(idx),
    )


def _orient(stack: NDArray[Any], plan: SlicePlan) -> NDArray[Any]:
    """Internal (n, phase, read) → displayed (n, rows, cols)."""
    return np.ascontiguousarray(stack if plan.phase_vertical else np.swapaxes(stack, 1, 2))
