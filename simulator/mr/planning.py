"""MR slice planning, the public home of its rules: where the stack goes, what it covers and
what wraps.

What a technologist checks on the localizer before a scan, and what the console, the
exercises, the command line and the physics all ask the same way:

* the default slice stack of an anatomy (:func:`default_geometry`), its plane
  (:func:`plane_axes`) and its slices (:func:`plan_slices`);
* phase encoding in the slice plane (:data:`IN_PLANE_PHASE_DIRS`, :func:`check_phase_dir`)
  and the phase direction that follows a change of orientation (:func:`phase_dir_for`);
* the FOV rectangle drawn on a scout (:func:`fov_corners_mm`);
* wrap-around (:func:`wrap_estimate`, :func:`wrap_share`): the share of the imaged body —
  inside the slices and the read FOV — that lies outside the encoded phase FOV. That tissue
  folds back into the image; read is oversampled as on every clinical scanner, so only phase
  wraps. Above :data:`WRAP_WARN_SHARE` the console and the rules announce it;
* coverage of a structure (:func:`coverage_share`): the share of its voxels inside an imaged
  slice (within half a slice thickness of a slice centre) and the in-plane FOV.

Wrap and coverage are measured on the label volume with the plan of the scan itself
(:func:`plan_slices`: centre, angles, gap and phase oversampling included), without a scan:
fast enough to follow the trainee's planning live.

Examples
--------
>>> phase_dir_for("coronal", "AP")
'RL'
>>> IN_PLANE_PHASE_DIRS["sagittal"]
('AP', 'HF')
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simulator.mr._planes import IN_PLANE_PHASE_DIRS, PHASE_VECTORS, check_phase_dir, phase_dir_for
from simulator.mr.anatomy import Anatomy
from simulator.mr.geometry import SlicePlan, default_geometry, plan_slices, plane_axes
from simulator.mr.protocol import Geometry, MRProtocol

__all__ = [
    "IN_PLANE_PHASE_DIRS", "PHASE_VECTORS", "check_phase_dir", "phase_dir_for",
    "SlicePlan", "plan_slices", "plane_axes", "default_geometry", "fov_corners_mm",
    "WRAP_WARN_SHARE", "WrapEstimate", "wrap_estimate", "wrap_share", "coverage_share",
]

#: Share of the imaged body outside the phase FOV above which wrap-around is announced
#: (0.2 %: a few stray skin voxels at a corner do not make a visible fold-over).
WRAP_WARN_SHARE = 0.002
#: The body is sampled every ``_BODY_STRIDE`` voxels per axis for the wrap measure (speed:
#: it is large and smooth, and a 3 mm grid describes its extent to within 3 mm).
_BODY_STRIDE = 3


@functools.lru_cache(maxsize=8)
def _body_points(anatomy: Anatomy) -> NDArray[np.float32]:
    """Patient positions (n, 3) of the non-air voxels on a coarse grid."""
    s = _BODY_STRIDE
    k, j, i = np.nonzero(anatomy.labels[::s, ::s, ::s])
    dz, dy, dx = anatomy.voxel_mm
    ox, oy, oz = anatomy.origin_mm
    pts = np.stack([ox + i * s * dx, oy + j * s * dy, oz + k * s * dz], axis=1)
    return pts.astype(np.float32)


@functools.lru_cache(maxsize=32)
def _structure_points(anatomy: Anatomy, structure: str) -> NDArray[np.float64]:
    """Patient positions (n, 3) of every voxel of ``structure``."""
    k, j, i = np.nonzero(anatomy.labels == anatomy.label(structure))
    dz, dy, dx = anatomy.voxel_mm
    ox, oy, oz = anatomy.origin_mm
    return np.stack([ox + i * dx, oy + j * dy, oz + k * dz], axis=1).astype(np.float64)


def _in_slices(pts: NDArray[np.floating], plan: SlicePlan, slice_mm: float) -> NDArray[np.bool_]:
    """Points within half a slice thickness of the nearest slice centre (gaps excluded)."""
    centers = np.asarray(plan.centers_mm)
    d = (pts - centers[0].astype(pts.dtype)) @ plan.normal.astype(pts.dtype)
    if len(centers) == 1:
        inside: NDArray[np.bool_] = np.abs(d) <= slice_mm / 2
        return inside
    step = float((centers[-1] - centers[0]) @ plan.normal) / (len(centers) - 1)
    k = np.clip(np.rint(d / step), 0, len(centers) - 1)
    inside = np.abs(d - k * step) <= slice_mm / 2
    return inside


def fov_corners_mm(protocol: MRProtocol, geometry: Geometry) -> NDArray[np.float64]:
    """Corners (4, 3) of the image FOV rectangle (phase FOV × read FOV) around the stack
    centre, in order around the rectangle, in patient coordinates (mm).

    Raises
    ------
    ParameterError
        If the phase direction is not in the slice plane.
    """
    plan = plan_slices(protocol, geometry)
    centre = np.asarray(geometry.center_mm, dtype=np.float64)
    hp, hr = protocol.phase_fov_mm / 2, plan.n_read * plan.d_read_mm / 2
    return np.array([centre + a * hp * plan.u_phase + b * hr * plan.u_read
                     for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))])


@dataclass(frozen=True)
class WrapEstimate:
    """Wrap-around of a planned stack.

    Parameters
    ----------
    share : float
        Share (0–1) of the imaged body (inside the slices and the read FOV) that lies
        outside the encoded phase FOV.
    phase_fov_mm : float
        Encoded phase FOV (image FOV plus phase oversampling), mm.
    body_mm : float
        Twice the farthest distance of the imaged body from the stack centre along the phase
        direction, mm: the phase FOV this stack would need, centred where it is, not to wrap.
    """

    share: float
    phase_fov_mm: float
    body_mm: float

    @property
    def wraps(self) -> bool:
        """True when the share is above :data:`WRAP_WARN_SHARE` (a visible fold-over)."""
        return self.share > WRAP_WARN_SHARE


def wrap_estimate(anatomy: Anatomy, protocol: MRProtocol, geometry: Geometry) -> WrapEstimate:
    """Wrap-around of ``protocol`` planned with ``geometry`` on ``anatomy``.

    Raises
    ------
    ParameterError
        If the phase direction is not in the slice plane.

    Examples
    --------
    >>> from simulator.mr import load_anatomy, preset          # doctest: +SKIP
    >>> brain = load_anatomy("brain"); p = preset("brain", "t1_se")   # doctest: +SKIP
    >>> wrap_estimate(brain, p, default_geometry(brain, p)).wraps     # doctest: +SKIP
    False
    """
    plan = plan_slices(protocol, geometry)
    fov = plan.n_phase * plan.d_phase_mm
    pts = _body_points(anatomy)
    if pts.size == 0:
        return WrapEstimate(0.0, fov, 0.0)
    rel = pts - plan.centers_mm.mean(axis=0).astype(np.float32)
    keep = _in_slices(pts, plan, protocol.slice_mm)
    keep &= np.abs(rel @ plan.u_read.astype(np.float32)) <= plan.n_read * plan.d_read_mm / 2
    if not keep.any():
        return WrapEstimate(0.0, fov, 0.0)
    phase = np.abs(rel[keep] @ plan.u_phase.astype(np.float32))
    return WrapEstimate(float(np.mean(phase > fov / 2)), fov, 2 * float(phase.max()))


def wrap_share(anatomy: Anatomy, protocol: MRProtocol, geometry: Geometry) -> float:
    """Share (0–1) of the imaged body outside the encoded phase FOV (see
    :func:`wrap_estimate`); above :data:`WRAP_WARN_SHARE`, it wraps visibly."""
    return wrap_estimate(anatomy, protocol, geometry).share


def coverage_share(anatomy: Anatomy, structure: str, protocol: MRProtocol,
                   geometry: Geometry) -> float:
    """Share (0–1) of ``structure``'s voxels inside the imaged slices and the in-plane FOV
    (image phase FOV × read FOV around the stack centre).

    Raises
    ------
    KeyError
        If the anatomy has no such structure.
    ParameterError
        If the phase direction is not in the slice plane.
    """
    pts = _structure_points(anatomy, structure)
    if len(pts) == 0:
        return 0.0
    plan = plan_slices(protocol, geometry)
    inside = _in_slices(pts, plan, protocol.slice_mm)
    rel = pts - np.asarray(plan.centers_mm).mean(axis=0)
    inside &= np.abs(rel @ plan.u_phase) <= plan.n_phase * plan.d_phase_mm / 2
    inside &= np.abs(rel @ plan.u_read) <= plan.n_read * plan.d_read_mm / 2
    return float(np.count_nonzero(inside)) / len(pts)
