"""FDG brain phantom built on the MR brain anatomy (:func:`simulator.mr.load_anatomy`).

Uptake as SUV 60 min after [18F]FDG in an adult at rest: grey matter ≈ 8, white matter ≈ 2
(grey:white ≈ 4:1), CSF ≈ 0, scalp and muscle ≈ 1, fat and cortical bone low; a high-grade
tumour hypermetabolic, MS plaques and oedema hypometabolic. Attenuation at 511 keV in 1/cm.
The 1-mm labels are turned into concentration and μ maps at 1 mm, then averaged over blocks
of about 2 mm (exact partial volume); labels on the coarse grid are the most common label of
each block.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from simulator.pet.phantoms import MU_BONE, MU_WATER, Feature, Phantom

__all__ = ["brain_phantom", "BRAIN_UPTAKE"]

#: tissue → (SUV, μ in 1/cm); tissues not listed: SUV 1, soft tissue μ.
BRAIN_UPTAKE = MappingProxyType(
    {
        "air": (0.0, 0.0),
        "gray_matter": (8.0, MU_WATER),
        "white_matter": (2.0, MU_WATER),
        "csf": (0.05, MU_WATER),
        "vitreous": (0.1, MU_WATER),
        "fat": (0.4, 0.09),
        "muscle": (1.0, MU_WATER),
        "skin": (0.8, MU_WATER),
        "bone_cortex": (0.3, 0.17),
        "bone_marrow": (0.9, MU_BONE),
        "red_marrow": (1.2, MU_BONE),
        "blood": (1.6, MU_WATER),
        "lesion_ms": (1.4, MU_WATER),
        "tumour": (12.0, MU_WATER),
        "oedema": (1.2, MU_WATER),
    }
)
_TARGET_MM = 2.0


def _block_mean(vol: np.ndarray, f: tuple[int, int, int]) -> np.ndarray:
    nz, ny, nx = (s // k * k for s, k in zip(vol.shape, f, strict=True))
    v = vol[:nz, :ny, :nx].reshape(nz // f[0], f[0], ny // f[1], f[1], nx // f[2], f[2])
    return v.mean(axis=(1, 3, 5), dtype=np.float64).astype(np.float32)


def _block_mode(labels: np.ndarray, f: tuple[int, int, int], n_labels: int) -> np.ndarray:
    nz, ny, nx = (s // k * k for s, k in zip(labels.shape, f, strict=True))
    v = labels[:nz, :ny, :nx].reshape(nz // f[0], f[0], ny // f[1], f[1], nx // f[2], f[2])
    v = v.transpose(0, 2, 4, 1, 3, 5).reshape(nz // f[0], ny // f[1], nx // f[2], -1)
    counts = np.stack([(v == k).sum(axis=-1) for k in range(n_labels)], axis=-1)
    return counts.argmax(axis=-1).astype(np.uint8)


def _pad_square(vol: np.ndarray) -> np.ndarray:
    # the projector sees the inscribed circle only: leave room for the head's corners
    n = int(np.ceil(1.25 * max(vol.shape[1], vol.shape[2])))
    n += n % 2
    out = np.zeros((vol.shape[0], n, n), vol.dtype)
    oy, ox = (n - vol.shape[1]) // 2, (n - vol.shape[2]) // 2
    out[:, oy : oy + vol.shape[1], ox : ox + vol.shape[2]] = vol
    return out


def brain_phantom(activity_mbq: float, weight_kg: float, pathology: str | None = None) -> Phantom:
    """FDG brain phantom for ``activity_mbq`` injected in ``weight_kg``."""
    from simulator.mr.anatomy import load_anatomy

    anat = load_anatomy("brain", pathology=pathology)
    s = activity_mbq * 1e6 / (weight_kg * 1000.0)
    suv = np.array([BRAIN_UPTAKE.get(n, (1.0, MU_WATER))[0] for n in anat.names], np.float32)
    mu = np.array([BRAIN_UPTAKE.get(n, (1.0, MU_WATER))[1] for n in anat.names], np.float32)
    f = tuple(max(1, int(round(_TARGET_MM / v))) for v in anat.voxel_mm)
    lab = anat.labels
    act = _block_mean(suv[lab] * np.float32(s), f)  # type: ignore[arg-type]
    mmap = _block_mean(mu[lab], f)  # type: ignore[arg-type]
    labels = _block_mode(lab, f, len(anat.names))  # type: ignore[arg-type]
    voxel = tuple(v * k for v, k in zip(anat.voxel_mm, f, strict=True))
    # square in-plane grid with isotropic pixels (dy == dx required by the projector)
    if abs(voxel[1] - voxel[2]) > 1e-6:
        raise ValueError("brain anatomy must have square in-plane voxels")
    act, mmap, labels = (_pad_square(v) for v in (act, mmap, labels))
    names = anat.names
    feats = {}
    if "gray_matter" in names:
        feats["gray_matter"] = Feature(
            (0.0, 0.0, 0.0), 0.0, float(suv[names.index("gray_matter")]), "region"
        )
        feats["white_matter"] = Feature(
            (0.0, 0.0, 0.0), 0.0, float(suv[names.index("white_matter")]), "region"
        )
    return Phantom(
        name="brain",
        activity_bqml=act,
        mu_per_cm=mmap,
        labels=labels,
        names=names,
        voxel_mm=voxel,  # type: ignore[arg-type]
        activity_mbq=activity_mbq,
        weight_kg=weight_kg,
        features=MappingProxyType(feats),
    )
