"""One PET scan: acquisition, reconstruction, optional AI denoising and metrics.

``scan`` is the entry point of the consoles, the command line and the AI training-data
generator; it is pure (same phantom, protocol and seed → same series).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from simulator.errors import ParameterError
from simulator.pet._scanner import AXIAL_FOV_MM
from simulator.pet.acquisition import Sinogram, acquire
from simulator.pet.analysis import analyse
from simulator.pet.phantoms import Phantom
from simulator.pet.protocol import PETProtocol, check_protocol, derive
from simulator.pet.recon import reconstruct

__all__ = ["PETSeries", "scan", "to_image_grid"]


@dataclass(frozen=True, eq=False)
class PETSeries:
    """A reconstructed PET series (contract of ``docs/architecture.md``).

    Attributes
    ----------
    images_bqml : ndarray of float32, shape (z, y, x)
        Activity concentration in Bq/mL, decay-corrected to the series start (DICOM
        DecayCorrection START), attenuation and scatter corrected as the protocol says.
    labels : ndarray of uint8, shape (z, y, x)
        Phantom regions on the image grid; ``names[labels]``.
    names : tuple of str
    voxel_mm : tuple of float
        (slice spacing, row spacing, column spacing) in mm.
    protocol : PETProtocol
    counts : Mapping[str, float]
        trues, scatter, randoms, total (= prompts), prompts, nec, scatter_fraction,
        randoms_fraction: realised counts of the simulated slices (the IEC phantom's
        100 mm, the torso's 400 mm, or the ``slices`` asked for).
    metrics : Mapping[str, Any]
        JSON-safe figures: ``counts`` (as above), ``rates_kcps`` (per bed: the simulated
        slices' rates scaled to the 216-mm axial field of view), dose, times, and the
        phantom's analysis
        (``nema`` for the IEC phantom, ``lesions``/``liver_cov`` for the torso, grey/white
        for the brain).
    dose_at_scan_bq : float
        Injected activity decayed to the series start (for SUV).
    scan_start_offset_s : float
        Series start after injection (the uptake time).
    warnings : tuple of str
    seed : int or None
    activity_truth_bqml : ndarray of float32, shape (z, y, x)
        True concentration at injection time on the image grid (``--truth``).
    phantom_name : str
    slice_indices : tuple of int
        Phantom slices the images correspond to.
    fov_mm : float
    frame_s : float
        Acquisition time of the bed.
    noiseless : bool
        Reconstructed from expected (noise-free) data.
    sinogram : Sinogram or None
        The prompts and their model when ``scan(keep_sinogram=True)``.
    images_before_ai_bqml : ndarray of float32, shape (z, y, x), or None
        The reconstruction before AI denoising (same units and grid as ``images_bqml``);
        None when the protocol did not ask for it. ``images_bqml - images_before_ai_bqml``
        is what the AI changed.
    slice_start_offsets_s : tuple of float
        Multi-bed series: for each image slice, the start of the frame of the bed that
        weighs most in it, in s after the series start (empty for one bed: all 0).
    """

    images_bqml: NDArray[np.float32]
    labels: NDArray[np.uint8]
    names: tuple[str, ...]
    voxel_mm: tuple[float, float, float]
    protocol: PETProtocol
    counts: Mapping[str, float]
    metrics: Mapping[str, Any]
    dose_at_scan_bq: float
    scan_start_offset_s: float
    warnings: tuple[str, ...]
    seed: int | None
    activity_truth_bqml: NDArray[np.float32]
    phantom_name: str = ""
    slice_indices: tuple[int, ...] = ()
    fov_mm: float = 0.0
    frame_s: float = 0.0
    noiseless: bool = False
    sinogram: Sinogram | None = field(default=None, repr=False)
    images_before_ai_bqml: NDArray[np.float32] | None = field(default=None, repr=False)
    slice_start_offsets_s: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        for name in ("images_bqml", "labels", "activity_truth_bqml", "images_before_ai_bqml"):
            arr = getattr(self, name)
            if arr is not None and arr.flags.writeable:
                arr = arr.view()
                arr.flags.writeable = False
                object.__setattr__(self, name, arr)

    @property
    def truth_bqml(self) -> NDArray[np.float32]:
        """Alias of :attr:`activity_truth_bqml`."""
        return self.activity_truth_bqml

    @property
    def suv(self) -> NDArray[np.float64]:
        """Body-weight SUV image."""
        from simulator.quality import suv

        return suv(self.images_bqml, self.dose_at_scan_bq, self.protocol.weight_kg)


def to_image_grid(volume: NDArray[Any], matrix: int, order: int) -> NDArray[Any]:
    """Resample (z, n, n) phantom slices onto the (z, matrix, matrix) image grid (same FOV)."""
    n = volume.shape[1]
    if n == matrix:
        return np.array(volume)
    return ndimage.zoom(
        volume, (1.0, matrix / n, matrix / n), order=order, grid_mode=True, mode="grid-constant"
    )


def _denoiser(protocol: PETProtocol) -> Callable[[NDArray[np.float32]], NDArray[np.float32]] | None:
    """simulator.ai's PET denoiser at the protocol's ``ai_strength`` when the protocol asks
    for it (its UserError, e.g. missing weights, reaches the user as such)."""
    if not protocol.ai_denoise:
        return None
    from simulator.ai import denoise_pet

    strength = protocol.ai_strength
    return lambda img: np.asarray(denoise_pet(img, strength), dtype=np.float32)


def is_multibed(phantom: Phantom, protocol: PETProtocol) -> bool:
    """Whether ``scan`` images ``phantom`` bed by bed: the whole-body patient always, any
    phantom longer than the axial field of view when ``beds > 1``."""
    longer = phantom.shape[0] * phantom.voxel_mm[0] > AXIAL_FOV_MM * 1.05
    return phantom.name == "patient" or (longer and protocol.beds > 1)


def _scan_beds(
    phantom: Phantom,
    protocol: PETProtocol,
    rng: np.random.Generator,
    seed: int | None,
    noiseless: bool,
    warnings: list[str],
) -> PETSeries:
    """The multi-bed branch of :func:`scan` (see :mod:`simulator.pet.wholebody`)."""
    from simulator.pet import wholebody as wb

    results, more = wb.acquire_beds(phantom, protocol, rng, noiseless)
    warnings = warnings + more
    if not results:
        raise ParameterError(
            "range_top_mm", protocol.range_top_mm, "a range that covers the patient"
        )
    beds = [r.bed for r in results]
    ratios = wb.decay_ratios(protocol, beds)
    raw, first, main = wb.stitch([r.image_bqml for r in results], beds, ratios)
    before_ai = None
    images = raw
    denoise = _denoiser(protocol)
    if denoise is not None:
        before_ai, images = raw, denoise(raw).astype(np.float32)
    m = protocol.matrix
    idx = list(range(first, first + raw.shape[0]))
    ph = phantom.with_dose(protocol.activity_mbq, protocol.weight_kg)
    labels = to_image_grid(ph.labels[idx], m, order=0).astype(np.uint8)
    truth = to_image_grid(ph.activity_bqml[idx], m, order=1).astype(np.float32)
    s0 = results[0].sinogram
    t0 = beds[0].start_offset_s
    dose_at_scan = protocol.activity_mbq * 1e6 * s0.decay_at_start
    counts = wb.summed_counts(results)
    d = derive(protocol)
    start_of = {b.index: b.start_offset_s for b in beds}
    offsets = tuple(float(start_of[int(k)] - t0) for k in main)
    metrics: dict[str, Any] = {
        "counts": counts,
        "rates_kcps": {
            k: float(np.mean([r.sinogram.counts[k] / r.bed.frame_s / 1e3 for r in results]))
            for k in ("trues", "scatter", "randoms", "prompts", "nec")
        },
        "scan_time_s": d.scan_time_s,
        "frame_s": s0.frame_s,
        "dose_at_scan_mbq": dose_at_scan / 1e6,
        "effective_dose_msv": d.effective_dose_msv,
        "eanm_activity_mbq": d.eanm_activity_mbq,
        "tof_gain": float(np.mean([r.sinogram.tof_gain for r in results])),
        "live_fraction": float(np.mean([r.sinogram.live_fraction for r in results])),
        "singles_mcps": float(np.mean([r.sinogram.singles_cps for r in results])) / 1e6,
        "beds": wb.bed_metrics(results, t0),
        "range_mm": [first * ph.voxel_mm[0], (first + raw.shape[0]) * ph.voxel_mm[0]],
        "warnings": list(warnings),
    }
    series = PETSeries(
        images_bqml=images,
        labels=labels,
        names=ph.names,
        voxel_mm=(ph.voxel_mm[0], s0.fov_mm / m, s0.fov_mm / m),
        protocol=protocol,
        counts=MappingProxyType(counts),
        metrics=metrics,
        dose_at_scan_bq=dose_at_scan,
        scan_start_offset_s=t0,
        warnings=tuple(warnings),
        seed=seed,
        activity_truth_bqml=truth,
        phantom_name=phantom.name,
        slice_indices=tuple(idx),
        fov_mm=s0.fov_mm,
        frame_s=s0.frame_s,
        noiseless=noiseless,
        images_before_ai_bqml=before_ai,
        slice_start_offsets_s=offsets,
    )
    metrics.update(analyse(series, phantom, labels))
    return series


def scan(
    phantom: Phantom,
    protocol: PETProtocol,
    rng: np.random.Generator | None = None,
    *,
    seed: int | None = None,
    slices: Sequence[int] | None = None,
    noiseless: bool = False,
    keep_sinogram: bool = False,
) -> PETSeries:
    """Acquire and reconstruct one bed of ``phantom``.

    Parameters
    ----------
    phantom : Phantom
    protocol : PETProtocol
        Checked first (:func:`check_protocol`; raises ParameterError).
    rng : numpy.random.Generator, optional
        Noise source; default ``numpy.random.default_rng(seed)``.
    seed : int, optional
        Recorded in the series (and used when ``rng`` is not given).
    slices : sequence of int, optional
        Phantom slice indices to simulate (a single slice for a 2-D preview). The scanner's
        axial resolution is always applied; the scatter kernel and the post-filter act along
        z only within runs of consecutive slices, so a sparse selection is noisier than
        the same slices of a full scan.
    noiseless : bool
        Reconstruct expected counts (no Poisson noise): the "full-dose" reference.
    keep_sinogram : bool
        Keep the :class:`Sinogram` in ``series.sinogram`` (for :func:`iter_reconstruct`).

    Examples
    --------
    >>> from simulator.pet import make_phantom
    >>> s = scan(make_phantom("nema-iec"), PETProtocol(), seed=1, slices=[25])
    >>> s.images_bqml.shape
    (1, 128, 128)
    """
    warnings = list(check_protocol(protocol))
    if rng is None:
        rng = np.random.default_rng(seed)
    if is_multibed(phantom, protocol):
        if slices is not None:
            raise ParameterError(
                "slices", list(slices), "none (a whole-body exam images its planned range)"
            )
        return _scan_beds(phantom, protocol, rng, seed, noiseless, warnings)
    sino = acquire(phantom, protocol, rng, slices=slices, noiseless=noiseless)
    denoise = _denoiser(protocol)
    raw = reconstruct(sino, protocol)
    images = raw.astype(np.float32)
    before_ai = None
    if denoise is not None:  # = reconstruct(sino, protocol, denoise), keeping its input
        before_ai, images = images, denoise(raw).astype(np.float32)
    m = protocol.matrix
    idx = list(sino.slice_indices)
    ph = phantom.with_dose(protocol.activity_mbq, protocol.weight_kg)
    labels = to_image_grid(ph.labels[idx], m, order=0).astype(np.uint8)
    truth = to_image_grid(ph.activity_bqml[idx], m, order=1).astype(np.float32)
    dose_at_scan = protocol.activity_mbq * 1e6 * sino.decay_at_start
    d = derive(protocol)
    counts = dict(sino.counts)
    frame = sino.frame_s
    # counts are those of the simulated slices; rates are per bed (216 mm of this object)
    per_bed = AXIAL_FOV_MM / (len(idx) * ph.voxel_mm[0])
    metrics: dict[str, Any] = {
        "counts": counts,
        "rates_kcps": {
            k: counts[k] * per_bed / frame / 1e3
            for k in ("trues", "scatter", "randoms", "prompts", "nec")
        },
        "scan_time_s": d.scan_time_s,
        "frame_s": frame,
        "dose_at_scan_mbq": dose_at_scan / 1e6,
        "effective_dose_msv": d.effective_dose_msv,
        "eanm_activity_mbq": d.eanm_activity_mbq,
        "tof_gain": sino.tof_gain,
        "live_fraction": sino.live_fraction,
        "singles_mcps": sino.singles_cps / 1e6,
        "warnings": list(warnings),
    }
    series = PETSeries(
        images_bqml=images,
        labels=labels,
        names=ph.names,
        voxel_mm=(ph.voxel_mm[0], sino.fov_mm / m, sino.fov_mm / m),
        protocol=protocol,
        counts=MappingProxyType(counts),
        metrics=metrics,
        dose_at_scan_bq=dose_at_scan,
        scan_start_offset_s=sino.start_offset_s,
        warnings=tuple(warnings),
        seed=seed,
        activity_truth_bqml=truth,
        phantom_name=phantom.name,
        slice_indices=sino.slice_indices,
        fov_mm=sino.fov_mm,
        frame_s=frame,
        noiseless=noiseless,
        sinogram=sino if keep_sinogram else None,
        images_before_ai_bqml=before_ai,
    )
    metrics.update(analyse(series, phantom, labels))
    return series
