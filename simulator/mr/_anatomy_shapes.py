"""Geometry helpers for building label volumes (build time only, numpy/scipy).

Coordinates are patient mm in LPS with z toward the head; arrays are (z, y, x).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Bool3 = NDArray[np.bool_]
F32 = NDArray[np.float32]


@dataclass(frozen=True)
class Grid:
    """A regular grid: ``shape`` (z, y, x), ``voxel_mm`` (dz, dy, dx), ``origin_mm`` (x, y, z)."""

    shape: tuple[int, int, int]
    voxel_mm: tuple[float, float, float]
    origin_mm: tuple[float, float, float]

    @classmethod
    def covering(
        cls,
        x_mm: tuple[float, float],
        y_mm: tuple[float, float],
        z_mm: tuple[float, float],
        voxel_mm: float,
    ) -> Grid:
        """Grid of isotropic voxels covering the given patient-mm ranges."""
        n = [int(round((hi - lo) / voxel_mm)) + 1 for lo, hi in (z_mm, y_mm, x_mm)]
        return cls(
            (n[0], n[1], n[2]),
            (voxel_mm, voxel_mm, voxel_mm),
            (x_mm[0], y_mm[0], z_mm[0]),
        )

    def axes(self) -> tuple[F32, F32, F32]:
        """Broadcastable coordinate arrays x (1,1,nx), y (1,ny,1), z (nz,1,1) in mm."""
        nz, ny, nx = self.shape
        dz, dy, dx = self.voxel_mm
        ox, oy, oz = self.origin_mm
        x = (ox + dx * np.arange(nx, dtype=np.float32)).reshape(1, 1, nx)
        y = (oy + dy * np.arange(ny, dtype=np.float32)).reshape(1, ny, 1)
        z = (oz + dz * np.arange(nz, dtype=np.float32)).reshape(nz, 1, 1)
        return x, y, z


def distance_outside(mask: Bool3, voxel_mm: float) -> F32:
    """Distance in mm from each voxel outside ``mask`` to the mask (0 inside)."""
    from scipy import ndimage

    return (ndimage.distance_transform_edt(~mask) * voxel_mm).astype(np.float32)


def distance_inside(mask: Bool3, voxel_mm: float) -> F32:
    """Distance in mm from each voxel inside ``mask`` to its surface (0 outside)."""
    from scipy import ndimage

    return (ndimage.distance_transform_edt(mask) * voxel_mm).astype(np.float32)


def ellipse_xy(grid: Grid, centre: tuple[float, float], radii: tuple[float, float]) -> Bool3:
    """Elliptic cylinder along z: ((x-cx)/rx)^2 + ((y-cy)/ry)^2 <= 1, shape (1, ny, nx)."""
    x, y, _ = grid.axes()
    return ((x - centre[0]) / radii[0]) ** 2 + ((y - centre[1]) / radii[1]) ** 2 <= 1.0


def ellipsoid(
    grid: Grid, centre: tuple[float, float, float], radii: tuple[float, float, float]
) -> Bool3:
    """Axis-aligned ellipsoid; ``centre`` (x, y, z) and ``radii`` (rx, ry, rz) in mm."""
    x, y, z = grid.axes()
    cx, cy, cz = centre
    rx, ry, rz = radii
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 + ((z - cz) / rz) ** 2 <= 1.0


def segment_distance(
    grid: Grid, a: tuple[float, float, float], b: tuple[float, float, float]
) -> F32:
    """Distance in mm from each voxel centre to the segment a–b (points x, y, z)."""
    x, y, z = grid.axes()
    pa = np.asarray(a, dtype=np.float32)
    ab = np.asarray(b, dtype=np.float32) - pa
    denom = float(ab @ ab) or 1.0
    t = ((x - pa[0]) * ab[0] + (y - pa[1]) * ab[1] + (z - pa[2]) * ab[2]) / denom
    t = np.clip(t, 0.0, 1.0)
    dx = x - (pa[0] + t * ab[0])
    dy = y - (pa[1] + t * ab[1])
    dz = z - (pa[2] + t * ab[2])
    return np.sqrt(dx * dx + dy * dy + dz * dz).astype(np.float32)


def capsule(
    grid: Grid, a: tuple[float, float, float], b: tuple[float, float, float], radius: float
) -> Bool3:
    """Cylinder with round ends of ``radius`` mm around the segment a–b."""
    return segment_distance(grid, a, b) <= radius


def polyline_distance(grid: Grid, points: list[tuple[float, float, float]]) -> F32:
    """Distance in mm from each voxel to a polyline through ``points``."""
    d = segment_distance(grid, points[0], points[1])
    for a, b in zip(points[1:-1], points[2:], strict=True):
        np.minimum(d, segment_distance(grid, a, b), out=d)
    return d


class Painter:
    """Paints tissues in order into a label volume; later paints win.

    Parameters
    ----------
    grid : Grid
        The volume grid.
    """

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.names: list[str] = ["air"]
        self.labels = np.zeros(grid.shape, dtype=np.uint8)

    def index(self, name: str) -> int:
        """Label index of ``name``, added on first use."""
        if name not in self.names:
            self.names.append(name)
        return self.names.index(name)

    def paint(self, mask: Bool3, name: str, where: Bool3 | None = None) -> None:
        """Set ``mask`` (restricted to ``where`` if given) to tissue ``name``."""
        if where is not None:
            mask = mask & where
        self.labels[np.broadcast_to(mask, self.labels.shape)] = self.index(name)

    def paint_capsule(
        self,
        a: tuple[float, float, float],
        b: tuple[float, float, float],
        radius: float,
        name: str,
        protect: tuple[str, ...] = (),
    ) -> None:
        """Paint a capsule, evaluated only in its bounding box; ``protect`` keeps tissues."""
        g = self.grid
        lo = np.minimum(a, b) - radius - 1.0
        hi = np.maximum(a, b) + radius + 1.0
        sl = []
        origin = []
        for axis, (o, d, n) in enumerate(
            zip(g.origin_mm, g.voxel_mm[::-1], g.shape[::-1], strict=True)
        ):
            i0 = int(np.clip(np.floor((lo[axis] - o) / d), 0, n))
            i1 = int(np.clip(np.ceil((hi[axis] - o) / d) + 1, 0, n))
            sl.append(slice(i0, i1))
            origin.append(o + i0 * d)
        sx, sy, sz = sl
        if min(s_.stop - s_.start for s_ in sl) <= 0:
            return
        sub = Grid(
            (sz.stop - sz.start, sy.stop - sy.start, sx.stop - sx.start),
            g.voxel_mm,
            (origin[0], origin[1], origin[2]),
        )
        mask = capsule(sub, a, b, radius)
        view = self.labels[sz, sy, sx]
        if protect:
            ids = [self.names.index(n) for n in protect if n in self.names]
            mask &= ~np.isin(view, ids)
        view[mask] = self.index(name)

    def is_(self, *names: str) -> Bool3:
        """Mask of voxels currently labelled with any of ``names``."""
        ids = [self.names.index(n) for n in names if n in self.names]
        return np.isin(self.labels, ids)

    def compact(self) -> tuple[NDArray[np.uint8], tuple[str, ...]]:
        """Labels renumbered so that only used tissues keep an index (air stays 0)."""
        used = np.unique(self.labels)
        lut = np.zeros(256, dtype=np.uint8)
        names = []
        for new, old in enumerate(sorted(set(used.tolist()) | {0})):
            lut[old] = new
            names.append(self.names[old])
        return lut[self.labels], tuple(names)
