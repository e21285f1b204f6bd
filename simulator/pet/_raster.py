"""Partial-volume rasterisation of simple solids on a voxel grid (private helpers).

Each function returns the fraction of every voxel that lies inside the solid, estimated by
sub-sampling each voxel ``ss`` times per axis, computed only inside the solid's bounding box.
Coordinates are mm from the centre of voxel (0, 0, 0), in array order (z, y, x).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

__all__ = ["ellipsoid_fraction", "shape2d_fraction", "Painter"]

Inside = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.bool_]]


def _sub(n0: int, n1: int, step: float, ss: int) -> NDArray[np.float64]:
    """Sub-sample centres (mm) of voxels n0..n1-1, shape (n, ss)."""
    off = (np.arange(ss) + 0.5) / ss - 0.5
    return (np.arange(n0, n1)[:, None] + off[None, :]) * step


def ellipsoid_fraction(
    shape: tuple[int, int, int],
    voxel_mm: tuple[float, float, float],
    centre_mm: tuple[float, float, float],
    semi_mm: tuple[float, float, float],
    ss: int = 4,
) -> tuple[tuple[slice, slice, slice], NDArray[np.float32]]:
    """Fraction of each voxel inside an axis-aligned ellipsoid, within its bounding box.

    Returns
    -------
    box : tuple of slice
        Where the fraction applies in the full volume.
    frac : ndarray of float32
        Fraction in [0, 1] for the voxels of ``box``.
    """
    box = []
    axes = []
    for n, v, c, r in zip(shape, voxel_mm, centre_mm, semi_mm, strict=True):
        lo = max(0, int(np.floor((c - r) / v)) - 1)
        hi = min(n, int(np.ceil((c + r) / v)) + 2)
        hi = max(hi, lo)
        box.append(slice(lo, hi))
        axes.append(((_sub(lo, hi, v, ss) - c) / r) ** 2)
    qz, qy, qx = axes
    # inside if qz + qy + qx <= 1, evaluated on (nz, ss, ny, ss, nx, ss)
    s = (
        qz[:, :, None, None, None, None]
        + qy[None, None, :, :, None, None]
        + qx[None, None, None, None, :, :]
    )
    frac = np.asarray(np.mean(s <= 1.0, axis=(1, 3, 5), dtype=np.float32), dtype=np.float32)
    return (box[0], box[1], box[2]), frac


def shape2d_fraction(
    shape: tuple[int, int], pixel_mm: float, inside: Inside, ss: int = 4
) -> NDArray[np.float32]:
    """Fraction of each pixel (y, x) inside a 2-D region given by ``inside(y_mm, x_mm)``."""
    ny, nx = shape
    y = _sub(0, ny, pixel_mm, ss).reshape(-1)
    x = _sub(0, nx, pixel_mm, ss).reshape(-1)
    inn = inside(y[:, None], x[None, :]).astype(np.float32)
    return inn.reshape(ny, ss, nx, ss).mean(axis=(1, 3))


class Painter:
    """Builds activity, attenuation and label volumes by painting solids in order.

    Each solid replaces what lies beneath it in proportion to the voxel fraction it covers
    (partial volume); the label goes to voxels it covers at least half.
    """

    def __init__(self, shape: tuple[int, int, int], voxel_mm: tuple[float, float, float]):
        self.shape = shape
        self.voxel_mm = voxel_mm
        self.activity = np.zeros(shape, np.float32)
        self.mu = np.zeros(shape, np.float32)
        self.labels = np.zeros(shape, np.uint8)
        self.names: list[str] = ["air"]

    def _label(self, name: str) -> int:
        if name not in self.names:
            self.names.append(name)
        return self.names.index(name)

    def paint(
        self,
        box: tuple[slice, slice, slice],
        frac: NDArray[np.float32],
        name: str,
        activity: float,
        mu_per_cm: float,
    ) -> None:
        """Paint a solid of fraction ``frac`` over ``box``."""
        lab = self._label(name)
        a, m, lb = self.activity[box], self.mu[box], self.labels[box]
        a += frac * (activity - a)
        m += frac * (mu_per_cm - m)
        lb[frac >= 0.5] = lab

    def ellipsoid(
        self,
        centre_mm: tuple[float, float, float],
        semi_mm: tuple[float, float, float],
        name: str,
        activity: float,
        mu_per_cm: float,
    ) -> None:
        """Paint an ellipsoid (centre and semi-axes in mm, order z, y, x)."""
        box, frac = ellipsoid_fraction(self.shape, self.voxel_mm, centre_mm, semi_mm)
        self.paint(box, frac, name, activity, mu_per_cm)

    def prism(
        self,
        z_mm: tuple[float, float],
        frac2d: NDArray[np.float32],
        name: str,
        activity: float,
        mu_per_cm: float,
    ) -> None:
        """Paint a 2-D region extruded over z ∈ [z0, z1) mm (whole voxels)."""
        dz = self.voxel_mm[0]
        k0 = max(0, int(round(z_mm[0] / dz)))
        k1 = min(self.shape[0], int(round(z_mm[1] / dz)))
        box = (slice(k0, k1), slice(None), slice(None))
        frac = np.broadcast_to(frac2d, (k1 - k0,) + frac2d.shape)
        self.paint(box, frac, name, activity, mu_per_cm)
