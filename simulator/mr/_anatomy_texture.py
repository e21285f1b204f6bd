"""Organic irregularity and tissue texture for the label volumes (build time only).

Procedural shapes have long straight boundaries and flat-shaded tissues; real anatomy has
neither. :func:`refine` adds, with a fixed seed:

* a smooth elastic warp (a few mm over a few cm) that bends every boundary, so no straight
  axis-aligned run survives, and breaks left–right symmetry; landmarks follow the warp;
* trabecular marrow: a sparse lattice of bone (bone volume fraction ~15 %, 1–2 mm
  spacing) inside fatty and red marrow, which the slice thickness averages into the grainy
  texture of cancellous bone;
* muscle fascicles: thin fatty septa running along each muscle's long axis;
* fibrous septa of subcutaneous and deep fat (Cooper-like strands);
* for the head, scalp and skull thickness varying over the vault (no concentric rings).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

F32 = NDArray[np.float32]


def smooth_noise(shape: tuple[int, ...], sigma_vox: float, rng: np.random.Generator,
                 step: int = 4) -> F32:
    """Zero-mean, unit-SD Gaussian random field of correlation ``sigma_vox`` voxels.

    Drawn on a grid ``step`` times coarser and interpolated (cheap for large volumes).
    """
    step = max(1, min(step, int(sigma_vox // 1.5) or 1))
    coarse_shape = tuple(n // step + 3 for n in shape)
    coarse = ndimage.gaussian_filter(rng.standard_normal(coarse_shape).astype(np.float32),
                                     sigma_vox / step)
    field = ndimage.zoom(coarse, step, order=1)[tuple(slice(0, n) for n in shape)]
    field -= field.mean()
    field /= max(float(field.std()), 1e-9)
    return field.astype(np.float32)


def warp(labels: NDArray[np.uint8], voxel_mm: float, amplitude_mm: float,
         wavelength_mm: float, rng: np.random.Generator) -> tuple[NDArray[np.uint8], F32]:
    """Resample ``labels`` through a smooth random displacement (nearest neighbour).

    Returns the warped labels and the displacement (3, z, y, x) in voxels, so that the
    structure at old index ``p`` now lies at about ``p − d(p)``.
    """
    sigma = wavelength_mm / voxel_mm / 4.0
    amp = amplitude_mm / voxel_mm
    disp = np.stack([smooth_noise(labels.shape, sigma, rng) * amp for _ in range(3)])
    grid = np.indices(labels.shape, dtype=np.float32)
    coords = grid + disp
    del grid
    out = ndimage.map_coordinates(labels, coords, order=0, mode="nearest").astype(np.uint8)
    return out, disp


def _label(names: list[str], name: str) -> int:
    if name not in names:
        names.append(name)
    return names.index(name)


def trabeculae(labels: NDArray[np.uint8], names: list[str], voxel_mm: float,
               rng: np.random.Generator, share: float = 0.12) -> None:
    """Turn ``share`` of every marrow voxel into a connected lattice of bone (in place)."""
    marrow = np.isin(labels, [names.index(n) for n in ("bone_marrow", "red_marrow")
                              if n in names])
    if not marrow.any():
        return
    idx = np.nonzero(marrow)
    lo = [int(i.min()) for i in idx]
    hi = [int(i.max()) + 1 for i in idx]
    box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    sub = marrow[box]
    field = np.abs(smooth_noise(sub.shape, max(0.8 / voxel_mm, 0.8), rng, step=1))
    # Thin shells where the field crosses zero: a lattice; the lowest |field| share of marrow.
    cut = float(np.quantile(field[sub], share))
    view = labels[box]
    view[sub & (field <= cut)] = _label(names, "bone_cortex")


def septa(labels: NDArray[np.uint8], names: list[str], tissue: str, into: str,
          voxel_mm: float, scale_mm: tuple[float, float, float], thickness_mm: float,
          rng: np.random.Generator) -> None:
    """Paint thin wavy sheets of ``into`` inside ``tissue`` (in place).

    The sheets are the zero set of a random field correlated over ``scale_mm`` (z, y, x):
    elongated along z for muscle fascicles, isotropic for the fibrous network of fat.
    """
    if tissue not in names:
        return
    mask = labels == names.index(tissue)
    if not mask.any():
        return
    idx = np.nonzero(mask)
    box = tuple(slice(int(i.min()), int(i.max()) + 1) for i in idx)
    sub = mask[box]
    step = 2
    coarse_shape = tuple(n // step + 3 for n in sub.shape)
    sig = tuple(m / voxel_mm / step for m in scale_mm)
    coarse = ndimage.gaussian_filter(rng.standard_normal(coarse_shape).astype(np.float32), sig)
    field = ndimage.zoom(coarse, step, order=1)[tuple(slice(0, n) for n in sub.shape)]
    grad = np.sqrt(sum(g * g for g in np.gradient(field)))
    sheet = np.abs(field) <= 0.5 * thickness_mm / voxel_mm * grad
    view = labels[box]
    view[sub & sheet] = _label(names, into)


def refine(vol: Mapping[str, object], seed: int, *, amplitude_mm: float = 1.6,
           wavelength_mm: float = 40.0, fat_septa: bool = True,
           fascicles: bool = True) -> dict[str, object]:
    """Warp a built volume and add texture; returns a new volume dict.

    Parameters
    ----------
    vol : mapping
        ``labels``, ``names``, ``voxel_mm``, ``origin_mm``, ``landmarks`` as built.
    seed : int
        Fixes the warp and the textures.
    amplitude_mm, wavelength_mm : float
        RMS displacement and correlation scale of the warp.
    fat_septa, fascicles : bool
        Add fibrous septa in fat, fatty septa in muscle.
    """
    rng = np.random.default_rng(seed)
    labels = np.asarray(vol["labels"], dtype=np.uint8)
    names = list(vol["names"])  # type: ignore[call-overload]
    voxel = float(np.asarray(vol["voxel_mm"], dtype=float)[0])
    labels, disp = warp(labels, voxel, amplitude_mm, wavelength_mm, rng)
    trabeculae(labels, names, voxel, rng)
    if fascicles:
        septa(labels, names, "muscle", "fat", voxel, (14.0, 3.0, 3.0), 0.5, rng)
    if fat_septa:
        septa(labels, names, "fat", "skin", voxel, (6.0, 6.0, 6.0), 0.5, rng)
    origin = np.asarray(vol["origin_mm"], dtype=float)
    marks: dict[str, tuple[float, float, float]] = {}
    for key, xyz in dict(vol["landmarks"]).items():  # type: ignore[call-overload]
        k, j, i = ((xyz[2] - origin[2]) / voxel, (xyz[1] - origin[1]) / voxel,
                   (xyz[0] - origin[0]) / voxel)
        at = np.clip(np.round([k, j, i]).astype(int), 0, np.array(labels.shape) - 1)
        dk, dj, di = (float(disp[a][tuple(at)]) for a in range(3))
        marks[key] = (xyz[0] - di * voxel, xyz[1] - dj * voxel, xyz[2] - dk * voxel)
    out = dict(vol)
    out.update(labels=labels, names=tuple(names), landmarks=marks)
    return out


#: Per volume: (seed, RMS warp mm, warp correlation scale mm, muscle fascicles). The brain
#: keeps the template's cortex (small warp: asymmetry and scalp irregularity only).
REFINE: dict[str, tuple[int, float, float, bool]] = {
    "brain": (11, 1.5, 50.0, False),
    "knee": (15, 2.0, 36.0, True),
    "spine": (19, 2.2, 40.0, True),
}


def refine_named(name: str, vol: Mapping[str, object]) -> dict[str, object]:
    """Refine a freshly built volume with its fixed settings (:data:`REFINE`)."""
    seed, amp, wave, fascicles = REFINE[name]
    return refine(vol, seed, amplitude_mm=amp, wavelength_mm=wave, fascicles=fascicles)
