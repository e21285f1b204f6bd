"""PET hot-lesion candidates and their features (shared by detection and training).

Candidates are the local maxima (3×3×3) of the SUV volume at or above :data:`SUV_CANDIDATE`.
Each is described by :data:`N_FEATURES` figures measured in millimetres, so the IEC phantom
(2.5 mm voxels) and the whole-body patient (3.5 mm) read alike: the SUVmax, the in-plane
ring means around the maximum (relative to it), the axial fall-off, and the local
background. A small perceptron (:class:`simulator.findings.net.MLP`) scores them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["SUV_CANDIDATE", "RING_MM", "N_FEATURES", "candidates", "features", "lesion_extent"]

#: Lowest SUVmax a candidate may have.
SUV_CANDIDATE = 2.0
#: In-plane ring edges (mm) around a maximum.
RING_MM = (0.0, 3.6, 7.2, 10.8, 14.4, 18.0, 24.0)
#: Axial bins (mm) of the fall-off features.
AXIAL_MM = (0.1, 5.0, 10.0)
N_FEATURES = 1 + (len(RING_MM) - 1) + (len(AXIAL_MM) - 1) + 4


#: A candidate's SUVmax must exceed this multiple of the mean SUV on a ring
#: :data:`PREFILTER_RING_MM` away in its plane (cheap test before the features).
PREFILTER_CONTRAST = 1.5
PREFILTER_RING_MM = 12.0


def candidates(suv: NDArray[np.float32], voxel_mm: tuple[float, float, float]) -> NDArray[np.intp]:
    """(n, 3) voxel indices (z, y, x) of the candidate maxima, highest SUV first.

    A candidate is at or above :data:`SUV_CANDIDATE`, not below any of its 26 neighbours, and
    at least :data:`PREFILTER_CONTRAST` times the mean of 8 points on a ring of
    :data:`PREFILTER_RING_MM` around it (a hot organ's plateau fails that test).
    """
    nz, ny, nx = suv.shape
    ring = max(1, int(round(PREFILTER_RING_MM / voxel_mm[1])))
    zz, yy, xx = np.nonzero(suv >= SUV_CANDIDATE)
    v = suv[zz, yy, xx]

    def at(a: int, b: int, c: int) -> NDArray[np.float32]:
        # indices clipped at the borders: the edge voxel stands for what lies beyond
        return suv[np.clip(zz + a, 0, nz - 1), np.clip(yy + b, 0, ny - 1), np.clip(xx + c, 0, nx - 1)]

    # in-plane neighbours first: they reject most voxels
    offs = [(0, 0, 1), (0, 0, -1), (0, 1, 0), (0, -1, 0), (1, 0, 0), (-1, 0, 0)]
    offs += [(a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)
             if abs(a) + abs(b) + abs(c) > 1]
    for a, b, c in offs:
        keep = v >= at(a, b, c)
        zz, yy, xx, v = zz[keep], yy[keep], xx[keep], v[keep]
    d = int(round(ring / np.sqrt(2.0)))
    pts = [(0, ring), (0, -ring), (ring, 0), (-ring, 0), (d, d), (d, -d), (-d, d), (-d, -d)]
    ring_mean = np.mean([at(0, b, c) for b, c in pts], axis=0)
    keep = v >= PREFILTER_CONTRAST * ring_mean
    zz, yy, xx, v = zz[keep], yy[keep], xx[keep], v[keep]
    order = np.argsort(-v, kind="stable")
    return np.stack([zz[order], yy[order], xx[order]], axis=1).astype(np.intp)


def _offsets(voxel_mm: tuple[float, float, float]) -> tuple[int, int]:
    vz, vy, _ = voxel_mm
    return int(np.ceil(AXIAL_MM[-1] / vz)), int(np.ceil(RING_MM[-1] / vy))


def features(
    suv: NDArray[np.float32], idx: NDArray[np.intp], voxel_mm: tuple[float, float, float]
) -> NDArray[np.float32]:
    """(n, N_FEATURES) features of the candidates at ``idx``."""
    n = len(idx)
    out = np.zeros((n, N_FEATURES), dtype=np.float32)
    if n == 0:
        return out
    vz, vy, vx = voxel_mm
    hz, hr = _offsets(voxel_mm)
    nz, ny, nx = suv.shape
    dy = (np.arange(-hr, hr + 1) * vy)[:, None]
    dx = (np.arange(-hr, hr + 1) * vx)[None, :]
    rad = np.sqrt(dy**2 + dx**2)
    rings = [(rad >= a) & (rad < b) for a, b in zip(RING_MM[:-1], RING_MM[1:], strict=True)]
    rings[0] = rad < RING_MM[1]
    zmm = np.abs(np.arange(-hz, hz + 1) * vz)
    zbins = [(zmm >= a) & (zmm < b) for a, b in zip(AXIAL_MM[:-1], AXIAL_MM[1:], strict=True)]
    # patches by fancy indexing, clipped at the borders (edge values): the three planes
    # around the maximum, in full, and the 3×3 core through all 2hz+1 planes
    smax = suv[idx[:, 0], idx[:, 1], idx[:, 2]].astype(np.float32)
    inv = (1.0 / smax)[:, None, None, None]
    oy = np.clip(idx[:, 1, None] + np.arange(-hr, hr + 1), 0, ny - 1)
    ox = np.clip(idx[:, 2, None] + np.arange(-hr, hr + 1), 0, nx - 1)
    z3 = np.clip(idx[:, 0, None] + np.arange(-1, 2), 0, nz - 1)
    planes = suv[z3[:, :, None, None], oy[:, None, :, None], ox[:, None, None, :]]  # (n, 3, P, P)
    zc = np.clip(idx[:, 0, None] + np.arange(-hz, hz + 1), 0, nz - 1)
    core = suv[zc[:, :, None, None], oy[:, None, hr - 1 : hr + 2, None], ox[:, None, None, hr - 1 : hr + 2]]
    core = (core * inv).mean(axis=(2, 3))  # (n, 2hz+1)
    centre = planes[:, 1] * inv[:, 0]
    col = 0
    out[:, col] = np.log(smax)
    col += 1
    for r in rings:
        out[:, col] = centre[:, r].mean(axis=1)
        col += 1
    for zb in zbins:
        out[:, col] = core[:, zb].mean(axis=1)
        col += 1
    outer = rings[-1] | rings[-2]
    # the three planes, except where z clipping repeats one (hz ≥ 1 always: 10 mm / voxel)
    shell = planes[:, :, outer].reshape(n, -1)
    bg = np.maximum(shell.mean(axis=1), 0.05)
    out[:, col] = np.log(bg)
    out[:, col + 1] = np.log(smax / bg)
    out[:, col + 2] = (centre[:, outer] >= 0.5).mean(axis=1)
    out[:, col + 3] = centre[:, outer].std(axis=1)
    return out


def lesion_extent(
    suv: NDArray[np.float32], z: int, y: int, x: int, voxel_mm: tuple[float, float, float]
) -> tuple[NDArray[np.bool_], tuple[slice, slice, slice], float]:
    """Region around a maximum above half-way between the local background and SUVmax.

    Returns the mask (within a box), the box, and the background SUV.
    """
    hz, hr = _offsets(voxel_mm)
    nz, ny, nx = suv.shape
    box = (
        slice(max(z - hz, 0), min(z + hz + 1, nz)),
        slice(max(y - hr, 0), min(y + hr + 1, ny)),
        slice(max(x - hr, 0), min(x + hr + 1, nx)),
    )
    sub = suv[box]
    edge = np.concatenate([sub[:, 0].ravel(), sub[:, -1].ravel(), sub[:, :, 0].ravel(), sub[:, :, -1].ravel()])
    bg = float(np.median(edge))
    level = bg + 0.5 * (float(suv[z, y, x]) - bg)
    from scipy import ndimage

    lab, _ = ndimage.label(sub >= level, structure=np.ones((3, 3, 3), bool))
    mask = lab == lab[z - box[0].start, y - box[1].start, x - box[2].start]
    return mask, box, bg
