"""Which slice of series B shows the same place in the patient as a slice of series A.

Compare (side by side, difference) pairs slices by patient position, not by index: the
slice of B whose plane lies nearest to A's slice, if it is within half of B's slice
thickness; otherwise there is no matching slice. Planes that are not parallel (another
orientation, another angle) never match. Pure functions on the console's series.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["SlicePlanes", "slice_planes", "match_slice"]

#: Two slice normals closer than this (cosine) count as parallel planes.
PARALLEL_COS = 0.999


@dataclass(frozen=True)
class SlicePlanes:
    """Slice planes of a series: common unit normal, offset of each plane along it (mm),
    and the slice thickness (mm)."""

    normal: NDArray[np.float64]
    offsets_mm: NDArray[np.float64]
    thickness_mm: float


def slice_planes(result: Any) -> SlicePlanes | None:
    """The planes of a console series (MR from its DICOM geometry, PET from its z grid)."""
    series = getattr(result, "series", None)
    n = int(result.images.shape[0])
    positions = getattr(series, "slice_positions_mm", None)
    cosines = getattr(series, "orientation_cosines", None)
    if positions is not None and cosines is not None:
        c = np.asarray(cosines, np.float64).reshape(2, 3)
        normal = np.cross(c[0], c[1])
        normal /= np.linalg.norm(normal) or 1.0
        offsets = np.asarray(positions, np.float64).reshape(-1, 3) @ normal
        proto = getattr(series, "protocol", None)
        thickness = float(getattr(proto, "slice_mm", 0.0) or 0.0)
        if thickness <= 0 and offsets.size > 1:
            thickness = float(np.min(np.abs(np.diff(offsets))))
        return SlicePlanes(normal, offsets[:n], thickness)
    voxel = getattr(series, "voxel_mm", None)
    if voxel is not None:  # PET: axial slices on a z grid centred on the scanner (or origin)
        dz = float(voxel[0])
        origin = getattr(series, "origin_mm", None)
        z0 = float(origin[2]) if origin is not None else -(n - 1) / 2 * dz
        offsets = (z0 + dz * np.arange(n)).astype(np.float64)
        return SlicePlanes(np.array([0.0, 0.0, 1.0]), offsets, dz)
    return None


def match_slice(a: SlicePlanes | None, index_a: int, b: SlicePlanes | None) -> int | None:
    """Index of B's slice at the position of A's slice ``index_a``, or None (no match)."""
    if a is None or b is None or not 0 <= index_a < a.offsets_mm.size or b.offsets_mm.size == 0:
        return None
    if abs(float(a.normal @ b.normal)) < PARALLEL_COS:
        return None
    sign = 1.0 if float(a.normal @ b.normal) > 0 else -1.0
    target = float(a.offsets_mm[index_a]) * sign
    distance = np.abs(b.offsets_mm - target)
    best = int(np.argmin(distance))
    if distance[best] > b.thickness_mm / 2 + 1e-6:
        return None
    return best
