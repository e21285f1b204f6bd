"""Small-lesion contrast measurements for the AI evaluation (numpy/scipy only).

MR: each connected lesion on a slice against a ring of surrounding tissue; PET: NEMA-style
contrast recovery of spheres and lesions from the phantom's features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from simulator.quality import crc_hot

__all__ = ["LesionROI", "mr_lesion_rois", "pet_feature_rois", "roi_contrast", "disk"]

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class LesionROI:
    """A lesion on one slice and the background it is compared with.

    ``true_ratio`` is the true lesion-to-background activity ratio (PET NEMA CRC), or 0
    when only the noise-free image is the reference (MR).
    """

    name: str
    slice_index: int
    lesion: Mask
    background: Mask
    diameter_mm: float
    true_ratio: float = 0.0


def disk(shape: tuple[int, int], centre_px: tuple[float, float], radius_px: float) -> Mask:
    """Pixels whose centre lies within ``radius_px`` of ``centre_px`` (row, col)."""
    yy, xx = np.indices(shape)
    return (yy - centre_px[0]) ** 2 + (xx - centre_px[1]) ** 2 <= radius_px**2


def mr_lesion_rois(
    lesions: Mask, body: Mask, pixel_mm: float, max_diameter_mm: float = 10.0, min_px: int = 3
) -> list[LesionROI]:
    """Connected lesions up to ``max_diameter_mm`` (equivalent-area diameter) per slice.

    The background ring lies 1–4 pixels outside the lesion, inside the body, away from
    other lesions.
    """
    out: list[LesionROI] = []
    for k in range(lesions.shape[0]):
        lab, n = ndimage.label(lesions[k])
        for i in range(1, n + 1):
            les = lab == i
            area = int(les.sum())
            d_mm = 2.0 * np.sqrt(area / np.pi) * pixel_mm
            if area < min_px or d_mm > max_diameter_mm:
                continue
            outer = ndimage.binary_dilation(les, iterations=4)
            inner = ndimage.binary_dilation(les, iterations=1)
            ring = outer & ~inner & body[k] & ~lesions[k]
            if ring.sum() < 8:
                continue
            out.append(LesionROI(f"slice {k} lesion {i}", k, les, ring, round(float(d_mm), 1)))
    return out


def pet_feature_rois(
    features: dict,
    shape: tuple[int, ...],
    pixel_mm: float,
    slice_mm: float,
    phantom_voxel_mm: tuple[float, float, float],
    background: Mask | None,
    lesion_any: Mask,
    names: tuple[str, ...] = (),
) -> list[LesionROI]:
    """ROIs of spheres/lesions on their central slice of the reconstruction grid.

    ``features`` maps names to :class:`simulator.pet.phantoms.Feature`. NEMA spheres use the
    phantom's background region (``background``, eroded) of the same slice and the true
    ratio; other lesions a ring 4–12 mm outside the lesion.
    """
    out: list[LesionROI] = []
    dz, dy, dx = phantom_voxel_mm
    plane = (int(shape[1]), int(shape[2]))
    for name, f in features.items():
        if f.kind not in ("sphere", "lesion") or (names and name not in names):
            continue
        zc, yc, xc = f.centre_mm
        k = int(round(zc / slice_mm))
        # feature mm are from the centre of phantom voxel 0; the grid edge is half a voxel out
        cy = (yc + dy / 2) / pixel_mm - 0.5
        cx = (xc + dx / 2) / pixel_mm - 0.5
        if not 0 <= k < shape[0]:
            continue
        r_px = f.diameter_mm / 2 / pixel_mm
        les = disk(plane, (cy, cx), r_px)
        if f.kind == "sphere" and background is not None:
            bg = ndimage.binary_erosion(background[k], iterations=3)
            ratio = float(f.suv)  # sphere SUV over background SUV 1
        else:
            bg = disk(plane, (cy, cx), r_px + 12 / pixel_mm) & ~disk(
                plane, (cy, cx), r_px + 4 / pixel_mm
            )
            bg &= ~lesion_any[k]
            ratio = 0.0
        if les.sum() and bg.sum() >= 8:
            out.append(LesionROI(name, k, les, bg, f.diameter_mm, ratio))
    return out


def roi_contrast(
    image: npt.NDArray[np.floating],
    truth: npt.NDArray[np.floating],
    roi: LesionROI,
    noise_sd: float,
) -> dict[str, float]:
    """Contrast of ``roi`` in ``image``: retained fraction vs ``truth``, CNR, CRC, max bias.

    - ``contrast_retained`` = (mean lesion − mean background) / the same in the truth;
    - ``cnr`` = that contrast / ``noise_sd`` (SD of image − truth over the body);
    - ``crc`` (PET spheres only) = NEMA CRC against the true ratio;
    - ``max_bias_pct`` = max over the lesion vs the truth's max (SUVmax bias).
    """
    img, ref = image[roi.slice_index], truth[roi.slice_index]
    c = float(img[roi.lesion].mean() - img[roi.background].mean())
    c_ref = float(ref[roi.lesion].mean() - ref[roi.background].mean())
    out = {
        "contrast_retained": c / c_ref if c_ref != 0 else float("nan"),
        "cnr": abs(c) / noise_sd if noise_sd > 0 else float("inf"),
        "max_bias_pct": 100.0 * (float(img[roi.lesion].max()) / float(ref[roi.lesion].max()) - 1.0),
    }
    if roi.true_ratio > 1:
        out["crc"] = crc_hot(
            float(img[roi.lesion].mean()), float(img[roi.background].mean()), roi.true_ratio
        )
    return out
