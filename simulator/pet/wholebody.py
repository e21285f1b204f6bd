"""Multi-bed (whole-body) acquisition: bed positions, axial sensitivity, stitching.

A 3-D scanner accepts lines of response between any two rings, so a slice at the centre of
the axial field of view is seen by many more ring pairs than one at its edge: the axial
sensitivity is a triangle, highest at the centre (Bailey D.L. et al., *Positron Emission
Tomography*, Springer 2005, ch. 3). Normalised to a mean of 1 over the field of view it
keeps the scanner's NEMA sensitivity (a mean over the axial FOV). Whole-body exams step the
bed so that consecutive fields of view overlap; with 50 % overlap two triangles add up to a
uniform sensitivity, with less the sensitivity dips at the junctions.

Each bed is its own frame: it starts when the previous one ends (head first, beds in
order from the top of the range), so later beds see less activity (decay); its counts,
dead time and randoms follow from its own slices. Each bed is reconstructed on its own
(activity at its frame start), brought to the series start (the first bed's start:
DICOM DecayCorrection START) and the beds are stitched slice by slice, each weighted by
its sensitivity there, as vendors combine overlapping beds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.pet._scanner import AXIAL_FOV_MM
from simulator.pet.acquisition import Sinogram, acquire
from simulator.pet.phantoms import Phantom
from simulator.pet.protocol import PETProtocol
from simulator.pet.recon import reconstruct
from simulator.pet.tracers import TRACERS, decay_factor

__all__ = ["BedPosition", "plan_beds", "axial_profile", "stitch", "acquire_beds"]


@dataclass(frozen=True)
class BedPosition:
    """One bed of a multi-bed exam.

    Attributes
    ----------
    index : int
        0 for the first bed acquired (the top of the range).
    first, stop : int
        Phantom slices ``first … stop − 1`` inside this bed's axial field of view.
    weights : tuple of float
        Axial sensitivity of those slices (:func:`axial_profile`, cut where the bed
        reaches past the phantom).
    start_offset_s : float
        Frame start after injection.
    frame_s : float
    """

    index: int
    first: int
    stop: int
    weights: tuple[float, ...]
    start_offset_s: float
    frame_s: float

    @property
    def slices(self) -> range:
        """Phantom slice indices of the bed."""
        return range(self.first, self.stop)


def axial_profile(n_slices: int) -> NDArray[np.float64]:
    """Triangular axial sensitivity of ``n_slices`` slice centres, mean 1.

    Sampled at u = (j + ½)/n: p = 2(1 − |2u − 1|). With a step of n/2 slices (50 %
    overlap, n even) two profiles add up to exactly 2 in their overlap.
    """
    u = (np.arange(n_slices) + 0.5) / n_slices
    return 2.0 * (1.0 - np.abs(2.0 * u - 1.0))


def slices_per_bed(slice_mm: float) -> int:
    """Slices in one axial field of view (an even number)."""
    n = int(round(AXIAL_FOV_MM / slice_mm))
    return n + (n % 2)


def plan_beds(
    n_slices: int, slice_mm: float, protocol: PETProtocol
) -> tuple[tuple[BedPosition, ...], list[str]]:
    """Bed positions of ``protocol`` over a phantom of ``n_slices`` slices.

    The range starts ``range_top_mm`` below the phantom's top slice and runs down over
    ``beds`` fields of view that overlap by ``bed_overlap_pct``. Returns the beds and
    warnings (English) where the range leaves the phantom.
    """
    nb = slices_per_bed(slice_mm)
    step = max(1, int(round(nb * (1.0 - protocol.bed_overlap_pct / 100.0))))
    top = n_slices - int(round(protocol.range_top_mm / slice_mm))  # exclusive upper index
    prof = axial_profile(nb)
    frame_s = 60.0 * protocol.minutes_per_bed
    start0 = 60.0 * protocol.uptake_min
    beds, warnings = [], []
    for k in range(protocol.beds):
        hi = top - k * step
        lo = hi - nb
        a, b = max(lo, 0), min(hi, n_slices)
        if b <= a:
            warnings.append(f"bed {k + 1} lies outside the patient: it images air")
            continue
        w = prof[a - lo : b - lo]
        beds.append(BedPosition(k, a, b, tuple(float(v) for v in w), start0 + k * frame_s, frame_s))
    if beds and beds[-1].first > 0:
        warnings.append(
            f"the range stops {beds[-1].first * slice_mm:.0f} mm above the end of the patient"
        )
    past = (top - (protocol.beds - 1) * step - nb) * slice_mm
    if beds and past < -slice_mm:
        warnings.append(
            f"the last bed reaches {-past:.0f} mm past the end of the modelled body: fewer "
            "beds or more overlap would cover the same range"
        )
    return tuple(beds), warnings


def stitch(
    images: Sequence[NDArray[np.float32]],
    beds: Sequence[BedPosition],
    decay_to_series_start: Sequence[float],
) -> tuple[NDArray[np.float32], int, NDArray[np.intp]]:
    """Combine bed images into one volume over the range.

    Parameters
    ----------
    images : sequence of ndarray, shape (bed slices, m, m)
        Each bed's image, activity at its own frame start.
    beds : sequence of BedPosition
    decay_to_series_start : sequence of float
        A(bed start)/A(series start) of each bed.

    Returns
    -------
    volume : ndarray of float32, shape (range slices, m, m)
        Sensitivity-weighted mean of the beds, activity at the series start.
    first : int
        Phantom slice of the volume's slice 0.
    main_bed : ndarray of int
        The bed weighing most in each slice (for its DICOM frame times).
    """
    first = min(b.first for b in beds)
    stop = max(b.stop for b in beds)
    m = images[0].shape[1:]
    acc = np.zeros((stop - first, *m), np.float64)
    wsum = np.zeros(stop - first, np.float64)
    best = np.full(stop - first, -1.0)
    main = np.zeros(stop - first, np.intp)
    for img, bed, d in zip(images, beds, decay_to_series_start, strict=True):
        w = np.asarray(bed.weights, np.float64)
        sl = slice(bed.first - first, bed.stop - first)
        acc[sl] += w[:, None, None] * (np.asarray(img, np.float64) / d)
        wsum[sl] += w
        better = w > best[sl]
        main[sl][better] = bed.index
        best[sl] = np.maximum(best[sl], w)
    vol = acc / np.maximum(wsum, 1e-30)[:, None, None]
    return vol.astype(np.float32), first, main


@dataclass(frozen=True)
class BedResult:
    """What one bed gave: its position, sinogram and image."""

    bed: BedPosition
    sinogram: Sinogram
    image_bqml: NDArray[np.float32]


def acquire_beds(
    phantom: Phantom,
    protocol: PETProtocol,
    rng: np.random.Generator | None,
    noiseless: bool = False,
) -> tuple[list[BedResult], list[str]]:
    """Acquire and reconstruct every bed of ``protocol`` (dose already checked)."""
    ph = phantom.with_dose(protocol.activity_mbq, protocol.weight_kg)
    beds, warnings = plan_beds(ph.shape[0], ph.voxel_mm[0], protocol)
    out = []
    for bed in beds:
        sino = acquire(
            ph,
            protocol,
            rng,
            slices=bed.slices,
            noiseless=noiseless,
            start_s=bed.start_offset_s,
            axial_weights=bed.weights,
        )
        out.append(BedResult(bed, sino, reconstruct(sino, protocol).astype(np.float32)))
    return out, warnings


def bed_metrics(results: Sequence[BedResult], series_start_s: float) -> list[dict[str, Any]]:
    """JSON-safe per-bed figures: slices, start, decay, counts, dead time."""
    out = []
    for r in results:
        s = r.sinogram
        out.append(
            {
                "bed": r.bed.index + 1,
                "first_slice": r.bed.first,
                "last_slice": r.bed.stop - 1,
                "start_offset_s": r.bed.start_offset_s,
                "start_after_series_s": r.bed.start_offset_s - series_start_s,
                "frame_s": r.bed.frame_s,
                "decay_at_start": s.decay_at_start,
                "live_fraction": s.live_fraction,
                "counts": dict(s.counts),
            }
        )
    return out


def decay_ratios(protocol: PETProtocol, beds: Sequence[BedPosition]) -> list[float]:
    """A(bed start)/A(first bed start) for each bed."""
    tracer = TRACERS[protocol.tracer]
    t0 = beds[0].start_offset_s
    return [decay_factor(tracer, b.start_offset_s - t0) for b in beds]


def summed_counts(results: Sequence[BedResult]) -> dict[str, float]:
    """Counts of all beds together (fractions recomputed)."""
    keys = ("trues", "scatter", "randoms", "total", "prompts")
    c = {k: float(sum(r.sinogram.counts[k] for r in results)) for k in keys}
    tot = c["total"]
    c["nec"] = float(sum(r.sinogram.counts["nec"] for r in results))
    c["scatter_fraction"] = c["scatter"] / (c["trues"] + c["scatter"]) if tot > 0 else 0.0
    c["randoms_fraction"] = c["randoms"] / tot if tot > 0 else 0.0
    return c



#: Minutes per bed of a standard whole-body FDG exam (EANM: 2–4 min per bed on a
#: Biograph mCT-class scanner) and with AI denoising at half the time (SubtlePET: 90 → 45 s
#: per bed on its scanners; Weyts K. et al., EJNMMI 2022).
STANDARD_MIN_PER_BED = 3.0
AI_MIN_PER_BED = 1.5


def exam_time_s(beds: int, minutes_per_bed: float) -> float:
    """Acquisition time of the exam: beds × minutes per bed (bed moves not counted)."""
    return 60.0 * beds * minutes_per_bed


def scout_mip(phantom: Phantom) -> NDArray[np.float32]:
    """Coronal maximum-intensity projection of the activity, head at row 0 (z, x)."""
    return np.ascontiguousarray(phantom.activity_bqml.max(axis=1)[::-1]).astype(np.float32)


def beds_to_cover(n_slices: int, slice_mm: float, protocol: PETProtocol) -> int:
    """The fewest beds, at the protocol's overlap and top of range, that reach the end of a
    phantom of ``n_slices`` (a whole-body range: from the top down to the end of the
    modelled body, mid-thigh for the patient). At most 12, the protocol's limit."""
    nb = slices_per_bed(slice_mm)
    step = max(1, int(round(nb * (1.0 - protocol.bed_overlap_pct / 100.0))))
    top = n_slices - int(round(protocol.range_top_mm / slice_mm))
    return int(min(12, max(1, 1 + math.ceil(max(top - nb, 0) / step))))


def planned_beds_mm(phantom: Phantom, protocol: PETProtocol) -> list[tuple[float, float]]:
    """Each planned bed as (top, bottom) in mm below the phantom's top (MIP rows × dz)."""
    nz, dz = phantom.shape[0], phantom.voxel_mm[0]
    beds, _ = plan_beds(nz, dz, protocol)
    return [((nz - b.stop) * dz, (nz - b.first) * dz) for b in beds]
