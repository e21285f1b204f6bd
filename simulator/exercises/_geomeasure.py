"""Geometric measurements of a planned MR slice stack against the anatomy (no scan needed).

* coverage of a structure: the share of its voxels that lie inside an imaged slice
  (within half a slice thickness of a slice centre, inside the in-plane FOV);
* wrap-around: the share of the body, inside the imaged slabs and the read FOV, that lies
  outside the phase FOV (that tissue folds back into the image: read is oversampled as on
  every clinical scanner, so only phase wraps).

Both are exact for the protocol and geometry (the scanner folds the same tissue), fast
enough to be shown live while the trainee plans, and are what a technologist checks on
the localizer.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["coverage_fraction", "wrap_fraction", "WRAP_FRACTION"]

#: Wrap counts as present when more than 0.2 % of the imaged body lies outside the phase FOV
#: (a few stray skin voxels at a corner do not make a visible fold-over).
WRAP_FRACTION = 0.002
#: Body voxels are subsampled by this stride per axis for the wrap measure (speed; the body
#: is large and smooth, 1/8 of its voxels describe its extent to within 2 mm).
_BODY_STRIDE = 2


@functools.lru_cache(maxsize=32)
def _points(anatomy_name: str, pathology: str | None, what: str) -> NDArray[np.float64]:
    """Patient coordinates (n, 3) of the voxels of structure ``what`` (``"__body__"``)."""
    import simulator.mr as mr

    anat = mr.load_anatomy(anatomy_name, pathology=pathology)
    if what == "__body__":
        s = _BODY_STRIDE
        idx = np.argwhere(anat.labels[::s, ::s, ::s] > 0).astype(np.float64) * s
    else:
        idx = np.argwhere(anat.labels == anat.label(what)).astype(np.float64)
    dz, dy, dx = anat.voxel_mm
    ox, oy, oz = anat.origin_mm
    return np.stack([ox + idx[:, 2] * dx, oy + idx[:, 1] * dy, oz + idx[:, 0] * dz], axis=1)


def _plan(protocol: Any, geometry: Any) -> Any:
    from simulator.mr.geometry import plan_slices

    return plan_slices(protocol, geometry)


def _in_slices(pts: NDArray[np.float64], plan: Any, slice_mm: float) -> NDArray[np.bool_]:
    centers = np.asarray(plan.centers_mm)
    d = (pts - centers[0]) @ plan.normal
    step = (centers[-1] - centers[0]) @ plan.normal / max(1, len(centers) - 1) if len(centers) > 1 else 1.0
    if len(centers) == 1:
        return np.abs(d) <= slice_mm / 2
    k = np.clip(np.rint(d / step), 0, len(centers) - 1)
    return np.abs(d - k * step) <= slice_mm / 2


def coverage_fraction(anatomy_name: str, pathology: str | None, structure: str, protocol: Any,
                      geometry: Any) -> float:
    """Share (0–1) of ``structure``'s voxels inside the imaged slices and in-plane FOV."""
    pts = _points(anatomy_name, pathology, structure)
    if len(pts) == 0:
        return 0.0
    plan = _plan(protocol, geometry)
    inside = _in_slices(pts, plan, float(protocol.slice_mm))
    center = np.asarray(plan.centers_mm).mean(axis=0)
    rel = pts - center
    half_p = plan.n_phase * plan.d_phase_mm / 2
    half_r = plan.n_read * plan.d_read_mm / 2
    inside &= np.abs(rel @ plan.u_phase) <= half_p
    inside &= np.abs(rel @ plan.u_read) <= half_r
    return float(np.count_nonzero(inside)) / len(pts)


def wrap_fraction(anatomy_name: str, pathology: str | None, protocol: Any, geometry: Any) -> float:
    """Share of the imaged body (in the slabs, inside the read FOV) outside the phase FOV."""
    pts = _points(anatomy_name, pathology, "__body__")
    plan = _plan(protocol, geometry)
    inside = _in_slices(pts, plan, float(protocol.slice_mm))
    rel = pts[inside] - np.asarray(plan.centers_mm).mean(axis=0)
    if len(rel) == 0:
        return 0.0
    half_p = plan.n_phase * plan.d_phase_mm / 2
    half_r = plan.n_read * plan.d_read_mm / 2
    in_read = np.abs(rel @ plan.u_read) <= half_r
    outside = in_read & (np.abs(rel @ plan.u_phase) > half_p)
    return float(np.count_nonzero(outside)) / max(1, int(np.count_nonzero(in_read)))
