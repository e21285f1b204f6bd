"""Read a series back: datasets, volume in real units, and SUV from the header alone.

:func:`suv_from_pet_series` is written from the DICOM standard's definitions (PS3.3 C.8.9)
and the usual body-weight SUV recipe, using nothing but the header — it is the independent
check that the PET writer put the right numbers in the right places.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pydicom
from numpy.typing import NDArray
from pydicom.dataset import Dataset

from simulator.errors import UserError

__all__ = ["read_series", "volume_from_series", "suv_from_pet_series"]


def read_series(path: str | Path) -> list[Dataset]:
    """Read every DICOM file of a folder (or one file), sorted by InstanceNumber.

    Parameters
    ----------
    path : str or Path
        A folder holding one series (other files are ignored) or one DICOM file.

    Returns
    -------
    list of pydicom.Dataset

    Raises
    ------
    UserError
        When the folder holds no DICOM image.
    """
    p = Path(path)
    files = [p] if p.is_file() else sorted(f for f in p.iterdir() if f.is_file())
    out = []
    for f in files:
        try:
            ds = pydicom.dcmread(f)
        except pydicom.errors.InvalidDicomError:
            continue
        if "PixelData" in ds:
            out.append(ds)
    if not out:
        raise UserError(f"no DICOM image in {p}", f"aucune image DICOM dans {p}")
    return sorted(out, key=lambda d: int(d.InstanceNumber))


def volume_from_series(
    datasets: Sequence[Dataset],
) -> tuple[NDArray[np.float64], tuple[float, float, float], NDArray[np.float64]]:
    """Stack the slices in real units (stored value × RescaleSlope + RescaleIntercept).

    Parameters
    ----------
    datasets : sequence of Dataset
        One series, in the order wanted (e.g. from :func:`read_series`).

    Returns
    -------
    volume : ndarray of float64, shape (n, rows, cols)
    spacing : tuple of float
        (slice step along the normal, row spacing, column spacing) in mm; the slice step is
        measured from ImagePositionPatient (0 for a single slice).
    positions : ndarray of float64, shape (n, 3)
        ImagePositionPatient of each slice.
    """
    vol = np.stack(
        [
            d.pixel_array.astype(np.float64) * float(d.get("RescaleSlope", 1.0))
            + float(d.get("RescaleIntercept", 0.0))
            for d in datasets
        ]
    )
    pos = np.array([[float(v) for v in d.ImagePositionPatient] for d in datasets])
    iop = np.array([float(v) for v in datasets[0].ImageOrientationPatient])
    normal = np.cross(iop[:3], iop[3:])
    step = float(np.median(np.diff(pos @ normal))) if len(datasets) > 1 else 0.0
    row, col = (float(v) for v in datasets[0].PixelSpacing)
    return vol, (abs(step), row, col), pos


def _datetime(date: str, time: str) -> _dt.datetime:
    time = time.strip()
    main, _, frac = time.partition(".")
    main = main.ljust(6, "0")
    micro = int((frac + "000000")[:6]) if frac else 0
    return _dt.datetime.strptime(date.strip() + main, "%Y%m%d%H%M%S").replace(microsecond=micro)


def suv_from_pet_series(datasets: Sequence[Dataset]) -> NDArray[np.float64]:
    """Body-weight SUV of a PET series, from its DICOM header alone.

    SUVbw = C · W / D(t), with C the activity concentration (stored value × RescaleSlope,
    Units BQML), W the PatientWeight in g, and D(t) = RadionuclideTotalDose ·
    2^(−(SeriesTime − RadiopharmaceuticalStartTime) / RadionuclideHalfLife) the injected dose
    decayed to the series start (DecayCorrection START: pixels are decay-corrected to it).

    Parameters
    ----------
    datasets : sequence of Dataset
        A PET series in slice order.

    Returns
    -------
    ndarray of float64, shape (n, rows, cols)

    Raises
    ------
    UserError
        When the header lacks what SUV needs (units, decay correction, dose, weight, times).
    """
    first = datasets[0]
    if first.get("Units") != "BQML":
        raise UserError("SUV needs Units BQML", "le SUV demande Units BQML")
    if first.get("DecayCorrection") != "START":
        raise UserError("SUV needs DecayCorrection START", "le SUV demande DecayCorrection START")
    try:
        info = first.RadiopharmaceuticalInformationSequence[0]
        dose_bq = float(info.RadionuclideTotalDose)
        half_life_s = float(info.RadionuclideHalfLife)
        if "RadiopharmaceuticalStartDateTime" in info:
            dt = str(info.RadiopharmaceuticalStartDateTime)
            injected = _datetime(dt[:8], dt[8:].split("+")[0].split("-")[0])
        else:
            injected = _datetime(str(first.SeriesDate), str(info.RadiopharmaceuticalStartTime))
        series_start = _datetime(str(first.SeriesDate), str(first.SeriesTime))
        weight_g = float(first.PatientWeight) * 1000.0
    except (AttributeError, IndexError, ValueError, TypeError) as exc:
        raise UserError(
            f"header lacks what SUV needs: {exc}", f"en-tête incomplet pour le SUV : {exc}"
        ) from exc
    elapsed_s = (series_start - injected).total_seconds()
    dose_at_start = dose_bq * 2.0 ** (-elapsed_s / half_life_s)
    volume, _, _ = volume_from_series(datasets)
    return volume * weight_g / dose_at_start
