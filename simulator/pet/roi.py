"""Regions of interest on a PET volume: SUVmax, SUVmean and SUVpeak (PERCIST).

A region is a sphere (3D) or a circle (in one slice) of a given diameter centred on a voxel;
a voxel belongs to it when its centre lies within the diameter (at least the centre voxel).
SUVpeak follows PERCIST 1.0 (Wahl et al. 2009): the mean in a 1 cm³ sphere (diameter
12.4 mm) placed where that mean is highest, its centre inside the region. The 1 cm³ sphere
is drawn with partial-volume weights (each voxel weighted by the fraction of its volume
inside, estimated on a sub-grid) so that its volume is 1 cm³ whatever the voxel size.

The functions take any concentration image (Bq/mL) and return statistics in the same unit;
:meth:`ROIStats.scaled` converts them (e.g. to SUV with :func:`suv_factor`).

References
----------
- Wahl RL, Jacene H, Kasamon Y, Lodge MA. From RECIST to PERCIST: evolving considerations
  for PET response criteria in solid tumors. J Nucl Med. 2009;50 Suppl 1:122S–150S.
- Boellaard R, et al. EANM procedure guidelines for tumour imaging: version 2.0. Eur J
  Nucl Med Mol Imaging. 2015;42:328–354 (SUVmax, SUVpeak reporting).

Examples
--------
>>> import numpy as np
>>> img = np.full((20, 20, 20), 5000.0)
>>> st = roi_stats(img, (2.0, 2.0, 2.0), (10, 10, 10), 20.0)
>>> round(st.max), round(st.mean), round(st.peak)
(5000, 5000, 5000)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

__all__ = [
    "ROIStats",
    "ROI_KINDS",
    "PEAK_VOLUME_ML",
    "roi_mask",
    "peak_kernel",
    "roi_stats",
    "suv_factor",
]

ROI_KINDS = ("sphere", "circle")
#: PERCIST SUVpeak sphere: 1 cm³ (diameter ≈ 12.4 mm).
PEAK_VOLUME_ML = 1.0


@dataclass(frozen=True)
class ROIStats:
    """Statistics of one region (unit of the image unless :meth:`scaled`).

    Attributes
    ----------
    max, mean, peak : float
        Maximum voxel, mean over the region, PERCIST peak (1 cm³ sphere mean).
    n_voxels : int
        Voxels in the region.
    volume_ml : float
        n_voxels × voxel volume.
    center : tuple of int
        (slice, row, column) of the region's centre.
    peak_center : tuple of int
        Voxel where the 1 cm³ sphere mean is highest.
    diameter_mm : float
    kind : {"sphere", "circle"}
    """

    max: float
    mean: float
    peak: float
    n_voxels: int
    volume_ml: float
    center: tuple[int, int, int]
    peak_center: tuple[int, int, int]
    diameter_mm: float
    kind: str

    def scaled(self, factor: float) -> ROIStats:
        """The same region with max, mean and peak multiplied by ``factor``."""
        return dataclasses.replace(
            self, max=self.max * factor, mean=self.mean * factor, peak=self.peak * factor
        )


def _check(voxel_mm: tuple[float, float, float], diameter_mm: float) -> None:
    if len(voxel_mm) != 3 or min(voxel_mm) <= 0 or not all(map(math.isfinite, voxel_mm)):
        raise ValueError("voxel sizes must be three positive numbers (mm)")
    if not math.isfinite(diameter_mm) or diameter_mm <= 0:
        raise ValueError("ROI diameter must be > 0 mm")


def roi_mask(
    shape: tuple[int, int, int],
    center: tuple[int, int, int],
    diameter_mm: float,
    voxel_mm: tuple[float, float, float],
    kind: str = "sphere",
) -> NDArray[np.bool_]:
    """Voxels whose centre lies within ``diameter_mm / 2`` of the centre voxel's centre.

    Parameters
    ----------
    shape : (slices, rows, cols)
    center : (slice, row, col)
        Clipped into the volume.
    diameter_mm : float
    voxel_mm : (slice spacing, row spacing, column spacing) in mm
    kind : {"sphere", "circle"}
        A circle stays in the centre's slice.

    Returns
    -------
    ndarray of bool, shape ``shape``
        Always holds at least the centre voxel.
    """
    _check(voxel_mm, diameter_mm)
    if kind not in ROI_KINDS:
        raise ValueError(f"ROI kind must be one of {ROI_KINDS}")
    c = tuple(int(min(max(ci, 0), n - 1)) for ci, n in zip(center, shape, strict=True))
    grids = np.ogrid[tuple(slice(0, n) for n in shape)]
    d2 = sum(((g - ci) * v) ** 2 for g, ci, v in zip(grids, c, voxel_mm, strict=True))
    mask = np.asarray(d2 <= (diameter_mm / 2.0) ** 2, bool)
    if kind == "circle":
        in_slice = np.zeros(shape, bool)
        in_slice[c[0]] = True
        mask &= in_slice
    mask[c] = True
    return mask


def peak_kernel(
    voxel_mm: tuple[float, float, float], volume_ml: float = PEAK_VOLUME_ML, supersample: int = 7
) -> NDArray[np.float64]:
    """Partial-volume weights of a sphere of ``volume_ml`` centred on a voxel.

    Each weight is the fraction of the voxel inside the sphere, estimated on a
    ``supersample``³ sub-grid; ``weights.sum() × voxel volume ≈ volume_ml × 1000 mm³``.

    Returns
    -------
    ndarray of float64, shape (2a+1, 2b+1, 2c+1)
    """
    _check(voxel_mm, 1.0)
    radius = (3.0 * volume_ml * 1000.0 / (4.0 * math.pi)) ** (1.0 / 3.0)
    half = [int(math.ceil(radius / v + 0.5)) for v in voxel_mm]
    sub = (np.arange(supersample) + 0.5) / supersample - 0.5  # sub-voxel offsets
    axes = []
    for h, v in zip(half, voxel_mm, strict=True):
        centres = np.arange(-h, h + 1)[:, None] + sub[None, :]  # (voxel, sub)
        axes.append((centres * v) ** 2)
    dz, dy, dx = axes
    inside = (
        dz[:, None, None, :, None, None]
        + dy[None, :, None, None, :, None]
        + dx[None, None, :, None, None, :]
    ) <= radius**2
    return inside.mean(axis=(3, 4, 5))


def roi_stats(
    image: ArrayLike,
    voxel_mm: tuple[float, float, float],
    center: tuple[int, int, int],
    diameter_mm: float,
    kind: str = "sphere",
) -> ROIStats:
    """SUVmax, SUVmean and SUVpeak (in the image's unit) of a region centred at ``center``.

    Parameters
    ----------
    image : array_like, shape (slices, rows, cols)
        Concentration (Bq/mL) or SUV; not modified.
    voxel_mm : (slice spacing, row spacing, column spacing) in mm
    center : (slice, row, col)
    diameter_mm : float
    kind : {"sphere", "circle"}

    Returns
    -------
    ROIStats
    """
    img = np.asarray(image, np.float64)
    if img.ndim != 3:
        raise ValueError("image must be a volume of shape (slices, rows, cols)")
    mask = roi_mask(img.shape, center, diameter_mm, voxel_mm, kind)  # type: ignore[arg-type]
    values = img[mask]
    kernel = peak_kernel(voxel_mm)
    # the 1 cm³ sphere mean around each region voxel, on the region's box padded by the
    # kernel; voxels outside the image do not count (the mean is over the weights inside)
    idx = np.nonzero(mask)
    half = [k // 2 for k in kernel.shape]
    lo = [max(int(i.min()) - h, 0) for i, h in zip(idx, half, strict=True)]
    hi = [min(int(i.max()) + h + 1, n) for i, h, n in zip(idx, half, img.shape, strict=True)]
    box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    num = ndimage.correlate(img[box], kernel, mode="constant", cval=0.0)
    den = ndimage.correlate(np.ones(num.shape), kernel, mode="constant", cval=0.0)
    means = np.where(mask[box], num / den, -np.inf)
    k = int(np.argmax(means))
    peak_idx = tuple(int(i) + a for i, a in zip(np.unravel_index(k, means.shape), lo, strict=True))
    n = int(mask.sum())
    c = tuple(int(min(max(ci, 0), s - 1)) for ci, s in zip(center, img.shape, strict=True))
    return ROIStats(
        max=float(values.max()),
        mean=float(values.mean()),
        peak=float(means.flat[k]),
        n_voxels=n,
        volume_ml=n * float(np.prod(voxel_mm)) / 1000.0,
        center=c,  # type: ignore[arg-type]
        peak_center=peak_idx,  # type: ignore[arg-type]
        diameter_mm=float(diameter_mm),
        kind=kind,
    )


def suv_factor(dose_at_scan_bq: float, weight_kg: float) -> float:
    """Bq/mL → SUV (body weight): weight in g over the activity at scan start.

    SUV = C / (A / W) with A the injected activity decayed to the scan start (the image is
    decay-corrected to the same time) and 1 g of tissue taken as 1 mL.
    """
    if not (dose_at_scan_bq > 0 and weight_kg > 0):
        raise ValueError("activity and weight must be > 0")
    return weight_kg * 1000.0 / dose_at_scan_bq
