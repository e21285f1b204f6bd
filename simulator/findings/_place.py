"""Where an MR finding lies in the patient: its point in mm, its side, its spinal level.

The point of pixel (row, col) on slice k is ``ImagePositionPatient[k] + col·Δcol·X +
row·Δrow·Y`` (X, Y the two direction cosines of ImageOrientationPatient, DICOM PS3.3
C.7.6.2.1.1). The side is read in patient LPS (x > 0 is the patient's left) against the
mid-sagittal plane of the simulator's anatomies (x = 0). The spinal level is the disc or
vertebral body of the procedural spine (:mod:`simulator.mr._anatomy_spine`) nearest along
its axis: an atlas of the one spine the simulator images, not a learnt labelling — the
ground truth and the detector read the level the same way.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

__all__ = ["patient_mm", "side_of_x", "spine_level", "MIDLINE_MM", "level_text", "mr_place"]

#: Within this distance (mm) of the mid-sagittal plane a finding is "midline".
MIDLINE_MM = 4.0


def patient_mm(
    positions_mm: NDArray[np.float64],
    cosines: NDArray[np.float64],
    pixel_mm: tuple[float, float],
    slice_index: int,
    row: float,
    col: float,
) -> NDArray[np.float64]:
    """Patient point (x, y, z) in mm of (row, col) on slice ``slice_index``."""
    c = np.asarray(cosines, dtype=np.float64)
    p = np.asarray(positions_mm, dtype=np.float64)[slice_index]
    return p + col * pixel_mm[1] * c[:3] + row * pixel_mm[0] * c[3:6]


def side_of_x(x_mm: float) -> str:
    """``"left"``, ``"right"`` or ``"midline"`` of a patient x (LPS)."""
    if abs(x_mm) < MIDLINE_MM:
        return "midline"
    return "left" if x_mm > 0 else "right"


@lru_cache(maxsize=1)
def _frames() -> tuple[tuple[str, str, float, float, float], ...]:
    from simulator.mr import _anatomy_spine as spine

    out = []
    names = (*spine.LEVELS, "S1")
    for i, lev in enumerate(spine.LEVELS):
        out.append(("body", lev, *spine.level_frame(lev)))
        out.append(("disc", f"{lev}–{names[i + 1]}", *spine.level_frame(lev + "_disc")))
    return tuple(out)


def spine_level(point_mm: NDArray[np.float64], kind: str) -> str:
    """The disc (``kind="disc"``, e.g. ``"L4–L5"``) or vertebral body (``"body"``, e.g.
    ``"L1"``) nearest ``point_mm`` along the spine's axis."""
    _, y, z = (float(v) for v in point_mm)
    best, dist = "", np.inf
    for k, name, cy, cz, tilt in _frames():
        if k != kind:
            continue
        u = abs((z - cz) * np.cos(tilt) + (y - cy) * np.sin(tilt))
        if u < dist:
            best, dist = name, u
    return best


def level_text(landmark: str) -> str:
    """``"l4_l5_disc"`` → ``"L4–L5"`` (a disc landmark of the spine anatomy)."""
    a, b, _ = landmark.split("_")
    return f"{a.upper()}–{b.upper()}"


def mr_place(
    positions_mm: NDArray[np.float64] | None,
    cosines: NDArray[np.float64] | None,
    pixel_mm: tuple[float, float],
    detector: str | None,
    label: str,
    slice_index: int,
    centre_rc: tuple[float, float],
) -> tuple[str | None, str | None]:
    """(side, level) that an MR finding's text names, or None where it names none.

    Spine: a disc herniation has its disc level and side; a marrow oedema its vertebral
    body. Other MR findings name neither (their slice says where), nor does a series without
    its patient geometry.
    """
    if detector != "spine" or positions_mm is None or cosines is None:
        return None, None
    p = patient_mm(positions_mm, cosines, pixel_mm, slice_index, *centre_rc)
    if label == "disc_herniation":
        return side_of_x(float(p[0])), spine_level(p, "disc")
    if label == "bone_marrow_oedema":
        return None, spine_level(p, "body")
    return None, None
