"""PET Image Storage writer: Bq/mL slices with everything an SUV calculator needs.

Pixels are decay-corrected to the series start (DecayCorrection START, SeriesTime = scan
start = injection + uptake), each slice has its own RescaleSlope so that its float Bq/mL
fills 16 bits, and the Radiopharmaceutical Information Sequence holds the injected dose, the
injection date-time and the half-life: SUVbw = pixel · slope · weight_g / (dose ·
2^(−(SeriesTime − start)/T½)). ImageType is ``DERIVED\\PRIMARY`` for the reasons given in
:mod:`simulator.dicom.mr` (the PET Image module requires value 2 PRIMARY); an AI-denoised
series says "AI" in its description and how it was derived in DerivationDescription. The
Series Description keeps the whole tracer name (``Fluorodeoxyglucose F^18^``) and ends with
"(SIMULATED)"; the full notice is in ImageComments.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from simulator.dicom._common import (
    SIM_CLOCK,
    add_plane,
    base_dataset,
    da,
    describe,
    digest,
    ds_str,
    lone_study,
    make_uid,
    quantise,
    save,
    set_pixels,
    tm,
)
from simulator.dicom.mr import ai_derivation
from simulator.dicom.patient import DEFAULT_PATIENT, FictitiousPatient
from simulator.dicom.study import Study
from simulator.errors import UserError

__all__ = ["PET_IMAGE_STORAGE", "TRACERS", "Tracer", "write_pet_series"]

#: SOP Class UID of PET Image Storage.
PET_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.128"


@dataclasses.dataclass(frozen=True)
class Tracer:
    """A radiopharmaceutical and its radionuclide as DICOM codes them (CID 4020, CID 4021)."""

    name: str
    half_life_s: float
    positron_fraction: float
    nuclide_code: tuple[str, str, str]
    pharmaceutical_code: tuple[str, str, str]


#: F-18: T½ = 109.77 min (6586.2 s) and β+ branching 0.9686 (DDEP/LNHB table); SNOMED CT
#: codes as in PS3.16 CID 4020 / 4021 (2019+ editions, replacing SRT C-111A1 / C-B1031).
TRACERS: dict[str, Tracer] = {
    "fdg": Tracer(
        "Fluorodeoxyglucose F^18^",
        6586.2,
        0.9686,
        ("77004003", "SCT", "^18^Fluorine"),
        ("35321007", "SCT", "Fluorodeoxyglucose F^18^"),
    ),
}

# IEC body phantom: a thorax model (CHEST); a paired or unknown part would need Laterality.
_BODY = {"brain": "BRAIN", "torso": "WHOLEBODY", "nema-iec": "CHEST"}


def _tracer(protocol: Any) -> Tracer:
    text = str(getattr(protocol, "tracer", "fdg"))
    key = "".join(ch for ch in text.lower() if ch.isalnum())
    for k, tracer in TRACERS.items():
        if k in key:
            half = getattr(protocol, "half_life_s", None)
            return dataclasses.replace(tracer, half_life_s=float(half)) if half else tracer
    raise UserError(
        f"tracer = {text}: allowed {', '.join(TRACERS)}",
        f"tracer = {text} : valeurs permises {', '.join(TRACERS)}",
    )


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _phantom_name(series: Any, names: Sequence[str]) -> str:
    ph = getattr(series, "phantom_name", None) or getattr(series, "phantom", None)
    if ph is not None:
        return str(getattr(ph, "name", ph))
    if any(n.startswith("sphere") for n in names):
        return "nema-iec"
    if "gray_matter" in names or "white_matter" in names:
        return "brain"
    return "torso"


def _recon_method(p: Any) -> str:
    recon = str(getattr(p, "recon", "osem")).upper()
    if recon == "OSEM":
        text = f"OSEM {int(getattr(p, 'iterations', 1))}i{int(getattr(p, 'subsets', 1))}s"
    elif recon == "MLEM":
        text = f"MLEM {int(getattr(p, 'iterations', 1))}i"
    else:
        text = recon
    tof = getattr(p, "tof_ps", None)
    if tof:
        text += f" TOF {float(tof):g}ps"
    return text[:64]


def write_pet_series(
    series: Any,
    out_dir: str | Path,
    patient: FictitiousPatient | None = None,
    *,
    series_number: int = 1,
    injected_at: _dt.datetime | None = None,
    study: Study | None = None,
) -> list[Path]:
    """Write a ``PETSeries`` as PET Image Storage files, one per slice.

    Parameters
    ----------
    series : simulator.pet.PETSeries
        ``images_bqml`` (z, y, x) decay-corrected to the scan start, ``voxel_mm``
        (dz, dy, dx), ``protocol`` (tracer, activity_mbq, weight_kg, minutes_per_bed, beds,
        corrections, recon…), ``dose_at_scan_bq``, ``scan_start_offset_s`` (from
        injection); optional ``frame_s`` (acquisition time of the bed, default
        ``minutes_per_bed``), ``phantom_name``, ``origin_mm`` (x, y, z of voxel [0, 0, 0]; default: volume
        centred on the origin), ``seed``, ``labels``/``names``.
    out_dir : str or Path
        Folder, created if missing; files are ``PT0001.dcm`` … (slice z index order, feet
        to head).
    patient : FictitiousPatient, optional
        Defaults to ``SIMULATION^Trainee``; PatientWeight is the protocol's ``weight_kg``
        (the weight the dose and the SUV refer to).
    series_number : int
        SeriesNumber.
    injected_at : datetime, optional
        Injection date-time; defaults to the study's start (the fixed simulation clock for
        a lone series). SeriesTime is ``injected_at + scan_start_offset_s``.
    study : Study, optional
        The exam this series belongs to; without one the series opens a study of its own
        (hashed from the patient, the clock and the series: separate scans, separate studies).

    Returns
    -------
    list of Path
        Files in InstanceNumber order.
    """
    vol = np.asarray(series.images_bqml, dtype=np.float64)
    if vol.ndim != 3:
        raise ValueError("images_bqml must have shape (z, y, x)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    p = series.protocol
    patient = patient or DEFAULT_PATIENT
    tracer = _tracer(p)
    nz, ny, nx = vol.shape
    dz, dy, dx = (float(v) for v in series.voxel_mm)
    origin = getattr(series, "origin_mm", None)
    if origin is None:
        origin = (-(nx - 1) / 2 * dx, -(ny - 1) / 2 * dy, -(nz - 1) / 2 * dz)
    x0, y0, z0 = (float(v) for v in origin)

    offset_s = float(series.scan_start_offset_s)
    lam = math.log(2.0) / tracer.half_life_s
    # The header's dose decays to exactly the series' own dose at scan start.
    total_dose_bq = float(series.dose_at_scan_bq) * 2.0 ** (offset_s / tracer.half_life_s)
    weight_kg = float(getattr(p, "weight_kg", patient.weight_kg))
    beds = max(int(getattr(p, "beds", 1) or 1), 1)
    frame_s = (
        float(getattr(series, "frame_s", 0.0) or 0.0)
        or float(getattr(p, "minutes_per_bed", 2.0)) * 60.0
    )

    names = tuple(getattr(series, "names", ()))
    phantom = _phantom_name(series, names)
    proto_hash = digest(p)
    series_key = (
        "pet-series",
        getattr(series, "seed", None),
        proto_hash,
        phantom,
        names,
        getattr(series, "labels", None),
        vol,
        offset_s,
        series_number,
    )
    if study is None:
        study = lone_study(patient, injected_at or SIM_CLOCK, "pet", *series_key)
    injected = injected_at or study.started_at
    start = injected + _dt.timedelta(seconds=offset_s)
    series_uid = make_uid(*series_key, study.study_uid)
    ai = bool(getattr(p, "ai_denoise", False))
    label = f"PET {tracer.name} {phantom}"
    if ai:
        label = f"AI-denoised {label}"
    if len(describe(label)) < len(label) + 12:  # never cut the tracer: shorten the rest
        label = f"{'AI ' if ai else ''}PET {tracer.name}"

    corrected = ["DECY", "NORM"]
    if getattr(p, "attenuation_correction", True):
        corrected.append("ATTN")
    if getattr(p, "scatter_correction", True):
        corrected.append("SCAT")
    randoms = bool(getattr(p, "randoms_correction", True))
    if randoms:
        corrected.append("RAN")
    signed = bool(np.min(vol) < 0) if vol.size else False
    # Window 0 … 99th percentile: hot voxels at the top of the grey scale, the rest visible.
    top = float(np.percentile(vol, 99.0)) if vol.size else 1.0
    recon = _recon_method(p)
    postfilter = float(getattr(p, "postfilter_mm", 0.0) or 0.0)

    # The series is one bed (the first, where the scanner puts the phantom), acquired from
    # the series start for frame_s. Frame reference time: when the decaying activity equals
    # the frame's mean (PS3.3 C.8.9.4.1.5); the decay factor brings it back to the start.
    frt_s = math.log(lam * frame_s / -math.expm1(-lam * frame_s)) / lam
    decay_factor = math.exp(lam * frt_s)
    acq = start
    # A stitched whole-body series: each slice keeps its bed's frame start (after the series
    # start), so its acquisition time, frame reference time and decay factor are its bed's.
    bed_offsets = tuple(getattr(series, "slice_start_offsets_s", ()) or ())
    paths: list[Path] = []
    for k in range(nz):
        ds = base_dataset(
            sop_class_uid=PET_IMAGE_STORAGE,
            sop_instance_uid=make_uid("pet-image", series_uid, k),
            modality="PT",
            study=study,
            series_uid=series_uid,
            series_number=series_number,
            instance_number=k + 1,
            series_description=label,
            protocol_name=f"PET {phantom}",
            study_description=f"PET {phantom}",
            body_part=_BODY.get(phantom, "WHOLEBODY"),
            patient_position="FFS",
            laterality=None,
            patient=patient,
            series_time=start,
            content_time=start,
            image_type=("DERIVED", "PRIMARY"),
        )
        ds.PatientWeight = ds_str(weight_kg)
        if ai:
            ds.DerivationDescription = ai_derivation(getattr(p, "ai_strength", 1.0))
        off_s = float(bed_offsets[k]) if len(bed_offsets) == nz else 0.0
        acq = start + _dt.timedelta(seconds=off_s)
        ds.AcquisitionDate = da(acq)
        ds.AcquisitionTime = tm(acq)
        add_plane(ds, (x0, y0, z0 + k * dz), (1, 0, 0, 0, 1, 0), (dy, dx), dz)
        ints, slope = quantise(vol[k], signed=signed)
        set_pixels(ds, ints)
        ds.RescaleIntercept = "0"
        ds.RescaleSlope = ds_str(slope)
        ds.WindowCenter = ds_str(top / 2)
        ds.WindowWidth = ds_str(max(top, 1e-6))
        # PET Series
        ds.Units = "BQML"
        ds.CountsSource = "EMISSION"
        ds.SeriesType = ["WHOLE BODY", "IMAGE"] if beds > 1 else ["STATIC", "IMAGE"]
        ds.NumberOfSlices = nz
        ds.CorrectedImage = corrected
        ds.DecayCorrection = "START"
        # The model subtracts a smooth expected randoms estimate (as from singles rates).
        ds.RandomsCorrectionMethod = "SING" if randoms else "NONE"
        ds.AttenuationCorrectionMethod = (
            "simulated measured mu-map 511 keV" if "ATTN" in corrected else "NONE"
        )
        ds.ScatterCorrectionMethod = "simulated model-based" if "SCAT" in corrected else "NONE"
        ds.ReconstructionMethod = recon
        ds.ReconstructionDiameter = ds_str(nx * dx)
        if postfilter > 0:
            ds.ConvolutionKernel = f"Gaussian {postfilter:g} mm"
        ds.CollimatorType = "NONE"
        ds.AcquisitionStartCondition = "MANU"
        # PET Isotope
        info = Dataset()
        info.Radiopharmaceutical = tracer.name
        info.RadiopharmaceuticalStartTime = tm(injected)
        info.RadiopharmaceuticalStartDateTime = injected.strftime("%Y%m%d%H%M%S.%f")
        info.RadionuclideTotalDose = ds_str(total_dose_bq, 12)
        info.RadionuclideHalfLife = ds_str(tracer.half_life_s)
        info.RadionuclidePositronFraction = ds_str(tracer.positron_fraction)
        info.RadionuclideCodeSequence = [_code(*tracer.nuclide_code)]
        info.RadiopharmaceuticalCodeSequence = [_code(*tracer.pharmaceutical_code)]
        ds.RadiopharmaceuticalInformationSequence = [info]
        # NM/PET Patient Orientation replaces PatientPosition in PET: supine, feet first
        # (head first for the brain).
        del ds.PatientPosition
        orient = _code("102538003", "SCT", "recumbent")
        orient.PatientOrientationModifierCodeSequence = [_code("40199007", "SCT", "supine")]
        ds.PatientOrientationCodeSequence = [orient]
        ds.PatientGantryRelationshipCodeSequence = [
            _code("102540008", "SCT", "headfirst")
            if phantom == "brain"
            else _code("102541007", "SCT", "feet-first")
        ]
        # PET Image
        ds.FrameReferenceTime = ds_str((off_s + frt_s) * 1000.0)
        ds.ImageIndex = k + 1
        ds.ActualFrameDuration = int(round(frame_s * 1000.0))
        ds.DecayFactor = ds_str(decay_factor * math.exp(lam * off_s))
        path = out / f"PT{k + 1:04d}.dcm"
        save(ds, path)
        paths.append(path)
    return paths
