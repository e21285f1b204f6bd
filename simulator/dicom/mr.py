"""MR Image Storage writer: one file per slice, every acquisition parameter in its attribute.

ImageType is ``DERIVED\\PRIMARY\\OTHER``: *DERIVED* because the pixel values are computed from
a tissue model (itself derived from template images), not measured from a patient, which is
the truthful thing to tell a viewer or a PACS; *PRIMARY* because, within the training exam,
this series is what the (virtual) acquisition produced, not a reformat or a post-processing
of another series, so viewers hang it as an acquisition. "Simulated — not for diagnosis" is
said in full in ImageComments and PatientComments, and as "(SIMULATED)" at the end of every
Series and Study Description. An AI-denoised series also says "AI" in its description and
how it was derived in DerivationDescription.

Pixels are what an MR scanner stores: unsigned integers 0–4095 (12 bits stored) with no
Modality LUT, and a window in that scale, so that every viewer (DCMTK, Orthanc, a PACS)
shows the image without a rescale. The real-valued image stays with the series object for
the grader and the AI; the DICOM scale factor (real units per stored value) is a property of
the series only.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.dicom._common import (
    MR_STORED_MAX,
    SIM_CLOCK,
    add_plane,
    base_dataset,
    digest,
    ds_str,
    lone_study,
    make_uid,
    mr_integers,
    save,
    set_pixels,
)
from simulator.dicom.patient import DEFAULT_PATIENT, FictitiousPatient
from simulator.dicom.study import Study

__all__ = [
    "MR_IMAGE_STORAGE",
    "GAMMA_MHZ_PER_T",
    "AI_DERIVATION",
    "ai_derivation",
    "write_mr_series",
    "write_mr_images",
    "mr_window",
]

#: SOP Class UID of MR Image Storage.
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"

#: Proton gyromagnetic ratio γ/2π in MHz/T (CODATA 2018: 42.577 478 518).
GAMMA_MHZ_PER_T = 42.577478518

_IMAGE_TYPE = ("DERIVED", "PRIMARY", "OTHER")

#: DerivationDescription of an AI-denoised series (MR and PET), before the strength.
AI_DERIVATION = "AI denoising (MERM Lab learned denoiser) applied to the reconstructed images"


def ai_derivation(strength: float) -> str:
    """DerivationDescription of a series denoised at ``strength`` (0–1, the protocol's
    ``ai_strength``): the image is ``(1 − s)·reconstruction + s·network output``.

    >>> ai_derivation(0.5).removeprefix(AI_DERIVATION)
    ', strength 0.50 (50 % network output, 50 % reconstruction)'
    """
    s = float(strength)
    net = round(100 * s)
    return (
        f"{AI_DERIVATION}, strength {s:.2f} ({net} % network output, {100 - net} % reconstruction)"
    )


def mr_window(ints: NDArray[Any]) -> tuple[float, float]:
    """Window (center, width) in stored values, as a scanner's default display.

    From black at 0 to white at 2.2 × the median of the body (stored values above 5 % of
    the peak): tissue shows mid-grey, the background black, a few bright voxels (fat, CSF)
    saturate; width ≥ 2 (LINEAR).
    """
    v = np.asarray(ints, dtype=np.float64)
    body = v[v > 0.05 * MR_STORED_MAX]
    if body.size < 16:
        body = v.ravel()
    median = float(np.median(body)) if body.size else 1.0
    width = float(min(max(round(2.2 * median), 2), MR_STORED_MAX + 1))
    return width / 2, width


# anatomy → (BodyPartExamined, PatientPosition, Laterality)
_BODY = {
    "brain": ("HEAD", "HFS", None),
    "knee": ("KNEE", "FFS", "R"),
    "spine": ("LSPINE", "HFS", None),
}

_PHASE_AXIS = {
    "RL": (1.0, 0.0, 0.0),
    "LR": (1.0, 0.0, 0.0),
    "AP": (0.0, 1.0, 0.0),
    "PA": (0.0, 1.0, 0.0),
    "HF": (0.0, 0.0, 1.0),
    "FH": (0.0, 0.0, 1.0),
}


def _anatomy_name(series: Any, names: Sequence[str]) -> str:
    anat = getattr(series, "anatomy", None)
    if anat is not None:
        return str(getattr(anat, "name", anat))
    part = {"head": "brain", "knee": "knee", "spine": "spine"}.get(
        str(getattr(getattr(series, "protocol", None), "body_part", "")), None
    )
    if part:
        return part
    tissues = set(names)
    if "meniscus" in tissues or "cartilage" in tissues:
        return "knee"
    if "disc" in tissues or "nucleus" in tissues or "spinal_cord" in tissues:
        return "spine"
    return "brain"


def phase_direction(cosines: Sequence[float], phase_dir: str) -> str:
    """``"ROW"`` or ``"COL"``: the image axis closest to the protocol's phase direction.

    Parameters
    ----------
    cosines : sequence of 6 float
        ImageOrientationPatient (row direction, then column direction).
    phase_dir : str
        Protocol phase-encoding direction, ``"AP"``, ``"RL"`` or ``"HF"``.

    Returns
    -------
    str
        ``"ROW"`` when phase runs along a row (left–right on screen), else ``"COL"``.
    """
    axis = np.asarray(_PHASE_AXIS.get(str(phase_dir).upper(), (0.0, 1.0, 0.0)))
    iop = np.asarray(cosines, dtype=float)
    return "ROW" if abs(iop[:3] @ axis) > abs(iop[3:] @ axis) else "COL"


def _sequence_codes(p: Any) -> tuple[list[str], list[str], list[str], str]:
    seq = str(getattr(p, "sequence", "se")).lower()
    etl = int(getattr(p, "etl", 1) or 1)
    if seq == "gre":
        scanning, variant = ["GR"], ["SP"]
    elif seq == "ir":
        scanning, variant = ["IR", "SE"], (["SK", "MP"] if etl > 1 else ["MP"])
    elif seq == "tse" or etl > 1:
        scanning, variant = ["SE"], ["SK"]
    else:
        scanning, variant = ["SE"], ["NONE"]
    options = []
    pf = float(getattr(p, "partial_fourier", 1.0) or 1.0)
    if pf < 1.0:
        options.append("PFP")
    if bool(getattr(p, "fat_sat", False)):
        options.append("FS")
    name = f"*{seq}2d{etl}" if etl > 1 else f"*{seq}2d"
    return scanning, variant, options, name


def write_mr_images(
    images: NDArray[Any],
    positions_mm: NDArray[Any],
    cosines: Sequence[float],
    pixel_spacing_mm: Sequence[float],
    protocol: Any,
    out_dir: str | Path,
    *,
    seed: int | None,
    anatomy: str,
    derived: Any = None,
    patient: FictitiousPatient | None = None,
    description: str | None = None,
    series_number: int = 1,
    acquired_at: _dt.datetime | None = None,
    identity: Any = None,
    file_prefix: str = "MR",
    study: Study | None = None,
) -> list[Path]:
    """Write MR images (one per slice) as MR Image Storage files.

    The lower-level writer behind :func:`write_mr_series` (and the localizer): images and
    geometry given directly. Parameters are those of :func:`write_mr_series` plus the
    geometry (``positions_mm`` (n, 3) first-pixel positions, ``cosines`` the six
    ImageOrientationPatient values, ``pixel_spacing_mm`` (row, col)), ``identity`` (anything
    that makes this series distinct for its UIDs) and ``file_prefix``.
    """
    imgs = np.asarray(images, dtype=np.float64)
    if imgs.ndim != 3:
        raise ValueError("images must have shape (n, rows, cols)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    p = protocol
    patient = patient or DEFAULT_PATIENT
    body_part, position, laterality = _BODY.get(anatomy, ("HEAD", "HFS", None))
    proto_hash = digest(p)
    series_key = ("mr-series", seed, proto_hash, identity, series_number)
    if study is None:
        study = lone_study(patient, acquired_at or SIM_CLOCK, anatomy, *series_key)
    when = acquired_at or study.started_at
    series_uid = make_uid(*series_key, study.study_uid)

    seq = str(getattr(p, "sequence", "se")).lower()
    field_t = float(getattr(p, "field_t", 1.5))
    etl = int(getattr(p, "etl", 1) or 1)
    slice_mm = float(getattr(p, "slice_mm", 5.0))
    gap_mm = float(getattr(p, "gap_mm", 0.0))
    m_read = int(getattr(p, "matrix_read", None) or imgs.shape[2])
    m_phase = int(getattr(p, "matrix_phase", None) or imgs.shape[1])
    phase_fov = float(getattr(p, "phase_fov_pct", 100.0))
    pf = float(getattr(p, "partial_fourier", 1.0) or 1.0)
    r = float(getattr(p, "parallel_r", 1) or 1)
    # Phase lines of the rectangular FOV (matrix_phase is for the full square FOV).
    lines = int(getattr(p, "phase_lines", round(m_phase * phase_fov / 100.0)))
    scanning, variant, options, seq_name = _sequence_codes(p)
    ped = phase_direction(cosines, str(getattr(p, "phase_dir", "AP")))
    ai = bool(getattr(p, "ai_denoise", False))
    label = description or f"{seq.upper()} {anatomy}"
    if ai:
        label = f"AI-denoised {label}"
    sar = getattr(derived, "sar_w_kg", None) if derived is not None else None

    ints, _scale = mr_integers(imgs)
    center, width = mr_window(ints)

    paths: list[Path] = []
    for i in range(imgs.shape[0]):
        sop_uid = make_uid("mr-image", series_uid, i)
        ds = base_dataset(
            sop_class_uid=MR_IMAGE_STORAGE,
            sop_instance_uid=sop_uid,
            modality="MR",
            study=study,
            series_uid=series_uid,
            series_number=series_number,
            instance_number=i + 1,
            series_description=label,
            protocol_name=f"{anatomy} {seq}",
            study_description=f"MR {anatomy}",
            body_part=body_part,
            patient_position=position,
            laterality=laterality,
            patient=patient,
            series_time=when,
            content_time=when,
            image_type=_IMAGE_TYPE,
        )
        add_plane(ds, positions_mm[i], cosines, pixel_spacing_mm, slice_mm)
        ds.SpacingBetweenSlices = ds_str(slice_mm + gap_mm)
        set_pixels(ds, ints[i], bits_stored=12)
        ds.WindowCenter = ds_str(center)
        ds.WindowWidth = ds_str(width)
        ds.WindowCenterWidthExplanation = "MERM Lab default"
        if ai:
            ds.DerivationDescription = ai_derivation(getattr(p, "ai_strength", 1.0))
        # MR Image module
        ds.ScanningSequence = scanning
        ds.SequenceVariant = variant
        ds.ScanOptions = options
        ds.MRAcquisitionType = "2D"
        ds.SequenceName = seq_name
        ds.RepetitionTime = ds_str(getattr(p, "tr_ms", 0.0))
        ds.EchoTime = ds_str(getattr(p, "te_ms", 0.0))
        if "IR" in scanning:
            ds.InversionTime = ds_str(getattr(p, "ti_ms", 0.0))
        ds.EchoTrainLength = etl
        ds.EchoNumbers = 1
        ds.FlipAngle = ds_str(getattr(p, "flip_deg", 90.0))
        ds.NumberOfAverages = ds_str(getattr(p, "nex", 1))
        ds.PixelBandwidth = ds_str(getattr(p, "bandwidth_hz_px", 200.0))
        ds.MagneticFieldStrength = ds_str(field_t)
        ds.ImagingFrequency = ds_str(GAMMA_MHZ_PER_T * field_t)
        ds.ImagedNucleus = "1H"
        ds.AcquisitionMatrix = [0, m_read, lines, 0] if ped == "COL" else [m_read, 0, 0, lines]
        ds.InPlanePhaseEncodingDirection = ped
        ds.PercentPhaseFieldOfView = ds_str(phase_fov)
        # Phase resolution relative to read, as scanners report it.
        ds.PercentSampling = ds_str(100.0 * m_phase / m_read)
        ds.NumberOfPhaseEncodingSteps = int(np.ceil(lines * pf / r))
        ds.ReceiveCoilName = "SIM ARRAY"
        ds.TransmitCoilName = "BODY"
        if sar is not None:
            ds.SAR = ds_str(float(sar))
        ds.PatientPosition = position
        save(ds, out / f"{file_prefix}{i + 1:04d}.dcm")
        paths.append(out / f"{file_prefix}{i + 1:04d}.dcm")
    return paths


def write_mr_series(
    series: Any,
    out_dir: str | Path,
    patient: FictitiousPatient | None = None,
    *,
    series_number: int = 1,
    acquired_at: _dt.datetime | None = None,
    study: Study | None = None,
) -> list[Path]:
    """Write an ``MRSeries`` as MR Image Storage files, one per slice.

    Parameters
    ----------
    series : simulator.mr.MRSeries
        The scan: ``images`` (n, rows, cols), ``protocol``, ``geometry``, ``derived``,
        ``pixel_spacing_mm``, ``slice_positions_mm``, ``orientation_cosines``, ``seed``,
        ``names``/``labels`` (to tell the anatomy and make the UIDs specific).
    out_dir : str or Path
        Folder, created if missing; files are ``MR0001.dcm`` … in slice order.
    patient : FictitiousPatient, optional
        Defaults to ``SIMULATION^Trainee``.
    series_number : int
        SeriesNumber (keep series of one exam distinct).
    acquired_at : datetime, optional
        Series and acquisition date/time; defaults to the study's start.
    study : Study, optional
        The exam this series belongs to; without one the series opens a study of its own
        (its UID a hash of the patient, the clock and the series), started on the fixed
        simulation clock so that the same scan writes the same files.

    Returns
    -------
    list of Path
        The files written, in InstanceNumber order.

    Notes
    -----
    UIDs are hashes (under :data:`simulator.dicom._common.UID_ROOT`) of the seed, the
    protocol, the geometry and the label grid: the same scan gives the same UIDs, another
    seed or protocol other ones. Pixels are 12-bit unsigned integers (the series' peak is
    4095) with no rescale.
    """
    names = tuple(getattr(series, "names", ()))
    labels = getattr(series, "labels", None)
    # The images too: a scan given a Generator records no seed, and its noise must still
    # give it UIDs of its own.
    identity = (getattr(series, "geometry", None), names, labels, series.images)
    anatomy = _anatomy_name(series, names)
    p = series.protocol
    return write_mr_images(
        series.images,
        np.asarray(series.slice_positions_mm, dtype=float),
        tuple(float(v) for v in series.orientation_cosines),
        tuple(float(v) for v in series.pixel_spacing_mm),
        p,
        out_dir,
        seed=getattr(series, "seed", None),
        anatomy=anatomy,
        derived=getattr(series, "derived", None),
        patient=patient,
        description=f"{str(getattr(p, 'sequence', 'mr')).upper()} {getattr(p, 'orientation', '')}".strip(),
        series_number=series_number,
        acquired_at=acquired_at,
        identity=identity,
        study=study,
    )
