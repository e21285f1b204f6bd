"""What the detectors read of a series: an MR or a PET volume, checked once.

The detectors accept :class:`simulator.mr.MRSeries` and :class:`simulator.pet.PETSeries`
(or anything with the same attributes); this module turns either into a :class:`Volume` and
refuses, with a message in three languages, what no detector can read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.findings._texts import FindingsError

__all__ = ["Volume", "read_series", "MR_DETECTORS"]

#: MR body part → detector name (the shipped weights ``weights/mr_<name>.npz``).
MR_DETECTORS = {"head": "brain", "knee": "knee", "spine": "spine"}


@dataclass(frozen=True, eq=False)
class Volume:
    """A series as the detectors see it.

    Attributes
    ----------
    modality : {"mr", "pet"}
    images : ndarray of float32, shape (slices, rows, cols)
        MR magnitude, or PET SUVbw.
    pixel_mm : tuple of float
        (row spacing, column spacing) in mm.
    slice_mm : float
        Distance between slice centres.
    detector : str
        ``"brain"``, ``"knee"``, ``"spine"``, ``"pet"``…
    positions_mm : ndarray of float64, shape (slices, 3), or None
        MR: the patient point of each image's first pixel (ImagePositionPatient).
    cosines : ndarray of float64, shape (6,), or None
        MR: ImageOrientationPatient.
    """

    modality: str
    images: NDArray[np.float32]
    pixel_mm: tuple[float, float]
    slice_mm: float
    detector: str | None
    positions_mm: NDArray[np.float64] | None = None
    cosines: NDArray[np.float64] | None = None


def _bad(en: str, fr: str, de: str) -> FindingsError:
    return FindingsError(en, fr, de)


def _check_images(arr: Any) -> NDArray[np.float32]:
    a = np.asarray(arr)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.size == 0 or min(a.shape) == 0:
        raise _bad(
            "AI findings: the series holds no image (need at least one slice of 8×8 pixels)",
            "Résultats IA : la série ne contient aucune image (au moins une coupe de 8×8 pixels)",
            "KI-Befunde: die Serie enthält kein Bild (mindestens eine Schicht mit 8×8 Pixeln)",
        )
    if a.shape[1] < 8 or a.shape[2] < 8:
        raise _bad(
            f"AI findings: images of {a.shape[1]}×{a.shape[2]} pixels are too small (8×8 at least)",
            f"Résultats IA : images de {a.shape[1]}×{a.shape[2]} pixels trop petites (8×8 minimum)",
            f"KI-Befunde: Bilder mit {a.shape[1]}×{a.shape[2]} Pixeln sind zu klein (mindestens 8×8)",
        )
    if not np.issubdtype(a.dtype, np.number) or not np.isfinite(a).all():
        raise _bad(
            "AI findings: the images hold NaN or infinite values; only finite numbers are allowed",
            "Résultats IA : les images contiennent des NaN ou des infinis ; seuls des nombres "
            "finis sont permis",
            "KI-Befunde: die Bilder enthalten NaN oder unendliche Werte; nur endliche Zahlen "
            "sind erlaubt",
        )
    return np.asarray(a, dtype=np.float32)


def read_series(series: Any) -> Volume:
    """The :class:`Volume` of an MR or PET series.

    Raises
    ------
    FindingsError
        Not a series, no image, NaN/inf, images smaller than 8×8, or a PET series without
        the dose and weight that SUV needs.
    """
    if hasattr(series, "images_bqml"):
        img = _check_images(series.images_bqml)
        dose = float(getattr(series, "dose_at_scan_bq", 0.0) or 0.0)
        weight = float(getattr(getattr(series, "protocol", None), "weight_kg", 0.0) or 0.0)
        if not (dose > 0 and weight > 0):
            raise _bad(
                "AI findings: SUV needs the dose at scan and the patient weight (both > 0)",
                "Résultats IA : le SUV demande la dose au début de l'examen et le poids "
                "(tous deux > 0)",
                "KI-Befunde: der SUV braucht die Dosis bei Aufnahmebeginn und das Gewicht "
                "(beide > 0)",
            )
        suv = img * np.float32(weight * 1000.0 / dose)
        vz, vy, vx = (float(v) for v in series.voxel_mm)
        return Volume("pet", suv, (vy, vx), vz, "pet")
    if hasattr(series, "images") and hasattr(series, "protocol"):
        img = _check_images(series.images)
        proto = series.protocol
        dy, dx = (float(v) for v in series.pixel_spacing_mm)
        slice_mm = float(getattr(proto, "slice_mm", 5.0)) + float(getattr(proto, "gap_mm", 0.0))
        det = MR_DETECTORS.get(str(getattr(proto, "body_part", "")))
        pos = getattr(series, "slice_positions_mm", None)
        cos = getattr(series, "orientation_cosines", None)
        ok = pos is not None and cos is not None and np.shape(pos) == (img.shape[0], 3)
        return Volume(
            "mr",
            img,
            (dy, dx),
            slice_mm,
            det,
            np.asarray(pos, np.float64) if ok else None,
            np.asarray(cos, np.float64) if ok else None,
        )
    raise _bad(
        "AI findings: need an MR series (images) or a PET series (images_bqml)",
        "Résultats IA : il faut une série IRM (images) ou TEP (images_bqml)",
        "KI-Befunde: nötig ist eine MR-Serie (images) oder eine PET-Serie (images_bqml)",
    )
