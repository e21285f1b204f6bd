"""Modules shared by the MR and PET writers: UIDs, patient, study, series, plane, pixels.

Everything here is deterministic: the UIDs are hashes of the scan's seed and protocol under
pydicom's registered root, and the dates come from a fixed simulation clock unless the caller
gives one, so writing the same scan twice gives byte-identical files.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from simulator import __version__
from simulator.dicom.patient import DEFAULT_PATIENT, FictitiousPatient
from simulator.dicom.study import Study

if TYPE_CHECKING:  # pydicom is imported where a dataset is made (opening an exam needs none)
    from pydicom.dataset import Dataset

__all__ = [
    "SIM_CLOCK",
    "UID_ROOT",
    "NOT_FOR_DIAGNOSIS",
    "SIMULATED_TAG",
    "MANUFACTURER",
    "MR_STORED_MAX",
    "describe",
    "lone_study",
    "mr_integers",
    "digest",
    "make_uid",
    "base_dataset",
    "add_plane",
    "quantise",
    "set_pixels",
    "da",
    "tm",
    "ds_str",
    "save",
]

#: Root of every UID we write: pydicom's registered root, which pydicom offers its users for
#: hashed UIDs (``generate_uid(entropy_srcs=...)``); ``pydicom.uid.PYDICOM_ROOT_UID``, written
#: out so that making a UID needs no pydicom (tests/test_memory_imports.py compares them).
UID_ROOT = "1.2.826.0.1.3680043.8.498."

#: The simulation clock: study date and time used when the caller gives none, so that the
#: same scan always writes the same files.
SIM_CLOCK = _dt.datetime(2026, 1, 5, 9, 0, 0)

#: Said in full in ImageComments and the patient comments of every file.
NOT_FOR_DIAGNOSIS = "SIMULATED - NOT FOR DIAGNOSIS (MERM Lab)"

#: The short notice every Series and Study Description ends with (the full one is in
#: ImageComments): a description is cut before its notice, never through it.
SIMULATED_TAG = "(SIMULATED)"

#: Manufacturer (0008,0070). Readers guess the vendor from the first letters (dcm2niix: "SI"
#: Siemens, "GE", "PH" Philips, "ME" Mediso, "MR" MR Solutions, "TO", "CA", "HI", "UI",
#: "BR", "HY"…): a string starting "Virtual" matches none of them.
MANUFACTURER = "Virtual scanner (MERM Lab simulation)"

#: Largest stored MR value: 12 bits, the range clinical MR scanners store.
MR_STORED_MAX = 4095

_LO_MAX = 64


def describe(label: str, limit: int = _LO_MAX) -> str:
    """``label`` followed by :data:`SIMULATED_TAG`, cut so that the whole fits ``limit``.

    Only the label is shortened (at a word boundary when possible): the notice always stays.
    """
    room = limit - len(SIMULATED_TAG) - 1
    text = " ".join(str(label).split())
    if len(text) > room:
        cut = text[:room]
        text = cut.rsplit(" ", 1)[0] if " " in cut[room // 2 :] else cut
    return f"{text} {SIMULATED_TAG}".strip()


def lone_study(patient: FictitiousPatient, when: _dt.datetime, *identity: Any) -> Study:
    """The study of a series written on its own (one CLI call): its own UID, from the
    patient, the clock and what makes the series distinct, so that separate scans are
    separate studies and the same scan twice gives the same files."""
    return Study(
        study_uid=make_uid("study", patient.patient_id, when.isoformat(), *identity),
        started_at=when,
    )


def mr_integers(values: NDArray[Any]) -> tuple[NDArray[np.uint16], float]:
    """MR magnitudes as scanner-like stored values ``0 … MR_STORED_MAX``.

    Parameters
    ----------
    values : ndarray
        Real magnitudes (arbitrary units, ≥ 0; negatives are clipped).

    Returns
    -------
    ints : ndarray of uint16
        ``round(values / scale)``, the series' peak stored as :data:`MR_STORED_MAX`.
    scale : float
        Real units per stored value (a property of the series, not of the DICOM rescale:
        MR values are written without a Modality LUT, as scanners do).
    """
    v = np.clip(np.asarray(values, dtype=np.float64), 0.0, None)
    peak = float(v.max()) if v.size else 0.0
    scale = peak / MR_STORED_MAX if peak > 0 else 1.0
    ints = np.clip(np.rint(v / scale), 0, MR_STORED_MAX).astype(np.uint16)
    return ints, scale


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def digest(*parts: Any) -> str:
    """Stable hex digest of protocols, geometries, arrays and plain values.

    Parameters
    ----------
    *parts : object
        Dataclasses (hashed field by field), arrays (hashed by content), plain values.

    Returns
    -------
    str
        SHA-256 hex digest; equal inputs give equal digests across processes.
    """
    text = json.dumps([_plain(p) for p in parts], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def make_uid(*parts: Any) -> str:
    """A deterministic UID under :data:`UID_ROOT` from the given parts.

    Parameters
    ----------
    *parts : object
        Anything :func:`digest` accepts; the same parts give the same UID.

    Returns
    -------
    str
        A valid UID of at most 64 characters.
    """
    # pydicom's generate_uid(prefix=UID_ROOT, entropy_srcs=[...]) without importing pydicom:
    # the decimal SHA-512 of the joined sources after the root, cut to 64 characters
    hashed = hashlib.sha512("".join(["merm-lab", digest(*parts)]).encode("utf-8"))
    return f"{UID_ROOT}{int(hashed.hexdigest(), 16)}"[:64]


def da(when: _dt.datetime | _dt.date) -> str:
    """DICOM DA string."""
    return when.strftime("%Y%m%d")


def tm(when: _dt.datetime) -> str:
    """DICOM TM string with microseconds (``HHMMSS.FFFFFF``)."""
    return when.strftime("%H%M%S.%f")


def ds_str(value: float, digits: int = 10) -> str:
    """A decimal string (DS) of at most 16 characters for ``value``."""
    for d in range(digits, 0, -1):
        text = f"{float(value):.{d}g}"
        if len(text) <= 16:
            return text
    return f"{float(value):.1e}"


def base_dataset(
    *,
    sop_class_uid: str,
    sop_instance_uid: str,
    modality: str,
    study: Study,
    series_uid: str,
    series_number: int,
    instance_number: int,
    series_description: str,
    protocol_name: str,
    study_description: str,
    body_part: str,
    patient_position: str,
    laterality: str | None,
    patient: FictitiousPatient | None,
    series_time: _dt.datetime,
    content_time: _dt.datetime,
    image_type: Sequence[str],
) -> Dataset:
    """A dataset with the modules every simulated image shares.

    Fills SOP Common, Patient, General Study, Patient Study, General Series, Frame of
    Reference, General Equipment and General Image; the caller adds Image Plane, Image Pixel
    and the modality modules. Descriptions end with :data:`SIMULATED_TAG` (see
    :func:`describe`); the study's requested procedure goes into Request Attributes.
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

    p = patient or DEFAULT_PATIENT
    study_time = study.started_at
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class_uid)
    meta.MediaStorageSOPInstanceUID = UID(sop_instance_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = f"MERMLAB_{__version__}"[:16]

    ds = Dataset()
    ds.file_meta = meta
    # SOP Common
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = sop_instance_uid
    ds.InstanceCreationDate = da(content_time)
    ds.InstanceCreationTime = tm(content_time)
    ds.InstanceNumber = instance_number
    # Patient (fictitious, and said so)
    ds.PatientName = p.name
    ds.PatientID = p.patient_id
    ds.IssuerOfPatientID = "MERM Lab simulation"
    ds.PatientBirthDate = da(p.birth_date)
    ds.PatientSex = p.sex
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "Fictitious patient generated by MERM Lab; no real data"
    ds.PatientComments = NOT_FOR_DIAGNOSIS
    # General Study
    ds.StudyInstanceUID = study.study_uid
    ds.StudyDate = da(study_time)
    ds.StudyTime = tm(study_time)
    ds.ReferringPhysicianName = ""
    ds.StudyID = study.study_id[:16]
    ds.AccessionNumber = study.accession_number
    ds.StudyDescription = describe(study.description or study_description)
    # Patient Study
    age = (
        study_time.date().year
        - p.birth_date.year
        - ((study_time.month, study_time.day) < (p.birth_date.month, p.birth_date.day))
    )
    ds.PatientAge = f"{max(age, 0):03d}Y"
    ds.PatientWeight = ds_str(p.weight_kg)
    ds.PatientSize = ds_str(p.height_m)
    # General Series
    ds.Modality = modality
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = series_number
    ds.SeriesDate = da(series_time)
    ds.SeriesTime = tm(series_time)
    ds.SeriesDescription = describe(series_description)
    ds.ProtocolName = protocol_name[:64]
    if study.request is not None:
        r = study.request
        item = Dataset()
        item.RequestedProcedureID = r.procedure_id[:16]
        item.RequestedProcedureDescription = r.description[:64]
        item.ScheduledProcedureStepID = r.step_id[:16]
        item.ScheduledProcedureStepDescription = r.step_description[:64]
        ds.RequestAttributesSequence = [item]
    if body_part:
        ds.BodyPartExamined = body_part
    ds.PatientPosition = patient_position
    if laterality:
        ds.Laterality = laterality
    # Frame of Reference
    ds.FrameOfReferenceUID = study.frame_uid(make_uid)
    ds.PositionReferenceIndicator = ""
    # General Equipment
    ds.Manufacturer = MANUFACTURER
    ds.InstitutionName = "MERM Lab training environment"
    ds.StationName = "MERMLAB"
    ds.ManufacturerModelName = f"virtual {modality} scanner"
    ds.SoftwareVersions = __version__
    ds.DeviceSerialNumber = "SIMULATOR"
    # General Image
    ds.ImageType = list(image_type)
    ds.ContentDate = da(content_time)
    ds.ContentTime = tm(content_time)
    ds.AcquisitionDate = da(series_time)
    ds.AcquisitionTime = tm(series_time)
    ds.ImageComments = NOT_FOR_DIAGNOSIS
    ds.BurnedInAnnotation = "NO"
    ds.RecognizableVisualFeatures = "NO"
    ds.LossyImageCompression = "00"
    return ds


def add_plane(
    ds: Dataset,
    position_mm: Iterable[float],
    cosines: Iterable[float],
    pixel_spacing_mm: Sequence[float],
    slice_mm: float,
) -> None:
    """Image Plane module; SliceLocation is the position along the slice normal."""
    ipp = np.asarray(list(position_mm), dtype=float)
    iop = np.asarray(list(cosines), dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    ds.PixelSpacing = [ds_str(pixel_spacing_mm[0]), ds_str(pixel_spacing_mm[1])]
    ds.ImageOrientationPatient = [ds_str(v) for v in iop]
    ds.ImagePositionPatient = [ds_str(v) for v in ipp]
    ds.SliceThickness = ds_str(slice_mm)
    ds.SliceLocation = ds_str(float(ipp @ normal))


def quantise(values: NDArray[Any], signed: bool) -> tuple[NDArray[Any], float]:
    """Integers and slope so that ``ints * slope`` approximates ``values``.

    Parameters
    ----------
    values : ndarray
        Real values (any shape); must be ≥ 0 unless ``signed``.
    signed : bool
        Encode as int16 instead of uint16.

    Returns
    -------
    ints : ndarray of uint16 or int16
    slope : float
        Quantisation step; ``|ints * slope - values| <= slope / 2``.
    """
    v = np.asarray(values, dtype=np.float64)
    top = 32767 if signed else 65535
    peak = float(np.max(np.abs(v))) if v.size else 0.0
    slope = peak / top if peak > 0 else 1.0
    # The slope goes through a 16-character DS: round it up to what is written.
    slope = float(ds_str(slope * (1 + 1e-9)))
    lo = -top if signed else 0
    ints = np.clip(np.rint(v / slope), lo, top)
    return ints.astype(np.int16 if signed else np.uint16), slope


def set_pixels(ds: Dataset, ints: NDArray[Any], bits_stored: int = 16) -> None:
    """Image Pixel module for one monochrome frame in 16-bit words (``bits_stored`` used)."""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = int(ints.shape[0]), int(ints.shape[1])
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if ints.dtype == np.int16 else 0
    ds.PixelData = np.ascontiguousarray(ints).astype(ints.dtype.newbyteorder("<")).tobytes()


def save(ds: Dataset, path: Path) -> Path:
    """Write ``ds`` as a DICOM Part 10 file (explicit VR little endian)."""
    ds.save_as(path, enforce_file_format=True)
    return path
