"""Three-plane localizer: the fast low-resolution scout a technologist plans slices on.

:func:`localizer` acquires one axial, one sagittal and one coronal image through the centre of
the anatomy with a fast spoiled gradient echo (TR 8 ms, 20°, 128 × 128) through the same
pipeline as any series. :class:`Localizer` converts between pixels and patient mm and draws
the intersection of a planned slice stack with each localizer image, so a console can show
the stack as lines over the scout.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simulator.errors import ParameterError
from simulator.mr._planes import IN_PLANE_PHASE_DIRS
from simulator.mr.anatomy import Anatomy
from simulator.mr.geometry import _body_box, default_geometry, plan_slices
from simulator.mr.protocol import Geometry, MRProtocol
from simulator.mr.scan import MRSeries, scan

__all__ = ["Localizer", "localizer", "localizer_protocol", "PLANES"]

PLANES: tuple[str, str, str] = ("axial", "sagittal", "coronal")
_BODY_PART = {"brain": "head", "knee": "knee", "spine": "spine"}


def localizer_protocol(anatomy: Anatomy) -> MRProtocol:
    """Fast GRE scout protocol whose square FOV holds the whole anatomy."""
    box = np.array(_body_box(anatomy))
    extent = float((box.max(axis=0) - box.min(axis=0)).max())
    fov = float(np.clip(np.ceil((extent + 20.0) / 10.0) * 10.0, 120.0, 500.0))
    return MRProtocol(sequence="gre", tr_ms=8.0, te_ms=3.5, flip_deg=20.0, fov_mm=fov,
                      matrix_read=128, matrix_phase=128, slice_mm=8.0, gap_mm=0.0, slices=1,
                      bandwidth_hz_px=300.0, body_part=_BODY_PART.get(anatomy.name, "head"))


@dataclass(frozen=True, eq=False)
class Localizer:
    """Three scout images with their geometry.

    Parameters
    ----------
    series : tuple of MRSeries
        One single-image series per plane, in the order of :data:`PLANES`.
    """

    series: tuple[MRSeries, MRSeries, MRSeries]

    def _get(self, plane: str) -> MRSeries:
        if plane not in PLANES:
            raise ParameterError("plane", plane, ", ".join(PLANES))
        return self.series[PLANES.index(plane)]

    def image(self, plane: str) -> NDArray[np.float32]:
        """Magnitude image (rows, cols) of ``plane``."""
        img: NDArray[np.float32] = self._get(plane).images[0]
        return img

    def shape(self, plane: str) -> tuple[int, int]:
        """(rows, cols) of the ``plane`` image."""
        rows, cols = self._get(plane).images.shape[1:]
        return int(rows), int(cols)

    def normal(self, plane: str) -> NDArray[np.float64]:
        """Unit normal (x, y, z) of the ``plane`` image."""
        iop = np.asarray(self._get(plane).orientation_cosines, dtype=np.float64)
        n = np.cross(iop[:3], iop[3:])
        return n / np.linalg.norm(n)

    def _frame(self, plane: str) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                          NDArray[np.float64], tuple[float, float]]:
        s = self._get(plane)
        iop = s.orientation_cosines
        return s.slice_positions_mm[0], iop[:3], iop[3:], s.pixel_spacing_mm

    def to_mm(self, plane: str, row: float, col: float) -> tuple[float, float, float]:
        """Patient position (x, y, z) of pixel (row, col) of ``plane``."""
        first, rdir, cdir, (dr, dc) = self._frame(plane)
        p = first + col * dc * rdir + row * dr * cdir
        return (float(p[0]), float(p[1]), float(p[2]))

    def to_pixel(self, plane: str, point_mm: tuple[float, float, float]) -> tuple[float, float]:
        """(row, col) of the projection of a patient point onto ``plane``."""
        first, rdir, cdir, (dr, dc) = self._frame(plane)
        d = np.asarray(point_mm, dtype=np.float64) - first
        return (float(d @ cdir / dr), float(d @ rdir / dc))

    def stack_lines(self, plane: str, protocol: MRProtocol,
                    geometry: Geometry) -> list[tuple[tuple[float, float],
                                                      tuple[float, float]] | None]:
        """Intersection of each planned slice with the ``plane`` image, in pixels.

        Returns
        -------
        list
            Per slice ``((row0, col0), (row1, col1))`` clipped to the image, or None where
            the slice is parallel to the localizer plane or misses the image.
        """
        s = self._get(plane)
        first, rdir, cdir, (dr, dc) = self._frame(plane)
        rows, cols = s.images.shape[1:]
        w, h = cols * dc, rows * dr
        plan = plan_slices(protocol, geometry)
        out: list[tuple[tuple[float, float], tuple[float, float]] | None] = []
        for centre in plan.centers_mm:
            a = float(plan.normal @ rdir)
            b = float(plan.normal @ cdir)
            e = float(plan.normal @ (centre - first))
            pts: list[tuple[float, float]] = []
            u_lo, u_hi = -dc / 2, w - dc / 2      # image edges, mm from pixel (0, 0) centre
            v_lo, v_hi = -dr / 2, h - dr / 2
            if abs(a) > 1e-9:
                for v in (v_lo, v_hi):
                    u = (e - b * v) / a
                    if u_lo - 1e-9 <= u <= u_hi + 1e-9:
                        pts.append((u, v))
            if abs(b) > 1e-9:
                for u in (u_lo, u_hi):
                    v = (e - a * u) / b
                    if v_lo - 1e-9 <= v <= v_hi + 1e-9:
                        pts.append((u, v))
            uniq = list(dict.fromkeys((round(u, 6), round(v, 6)) for u, v in pts))
            if len(uniq) < 2:
                out.append(None)
                continue
            (u0, v0), (u1, v1) = uniq[0], uniq[-1]
            out.append(((v0 / dr, u0 / dc), (v1 / dr, u1 / dc)))
        return out


def localizer(anatomy: Anatomy, rng: np.random.Generator | int | None = None) -> Localizer:
    """Acquire the three-plane scout.

    Parameters
    ----------
    anatomy : Anatomy
        The patient.
    rng : numpy.random.Generator or int, optional
        Noise source; None gives noiseless scouts.

    Returns
    -------
    Localizer
    """
    base = localizer_protocol(anatomy)
    centre = default_geometry(anatomy, base).center_mm
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        rng = np.random.default_rng(int(rng))
    out = []
    for plane in PLANES:
        p = dataclasses.replace(base, orientation=plane, phase_dir=IN_PLANE_PHASE_DIRS[plane][0])
        out.append(scan(anatomy, p, Geometry(orientation=plane, center_mm=centre), rng=rng))
    return Localizer((out[0], out[1], out[2]))
