"""Pathology painted on a copy of a healthy label volume at load time.

Each painter changes only a bounded region (a box of a few centimetres around the lesion)
and only the tissues the lesion replaces, so the rest of the anatomy is untouched.
``placement_seed=None`` gives the canonical placement; an integer draws another plausible one
from ``numpy.random.default_rng((1, seed))``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

Labels = NDArray[np.uint8]


class LabelVolume(Protocol):
    """What a painter reads of the healthy volume (``simulator.mr.anatomy.Anatomy`` has it):
    the seam is declared here, so the painters do not import the anatomy module that calls
    them."""

    @property
    def name(self) -> str: ...
    @property
    def labels(self) -> Labels: ...
    @property
    def names(self) -> tuple[str, ...]: ...
    @property
    def voxel_mm(self) -> tuple[float, float, float]: ...
    @property
    def origin_mm(self) -> tuple[float, float, float]: ...
    @property
    def landmarks(self) -> Mapping[str, tuple[float, float, float]]: ...

    def mm_to_index(self, point_mm: tuple[float, float, float]) -> tuple[float, float, float]: ...


class _Canvas:
    """Mutable copy of an anatomy's labels with helpers in patient mm."""

    def __init__(self, anat: LabelVolume) -> None:
        self.anat = anat
        self.labels = np.array(anat.labels, copy=True)
        self.names = list(anat.names)

    def index(self, name: str) -> int:
        if name not in self.names:
            self.names.append(name)
        return self.names.index(name)

    def ids(self, *names: str) -> list[int]:
        return [self.names.index(n) for n in names if n in self.names]

    def box(
        self, centre: tuple[float, float, float], half_mm: float
    ) -> tuple[tuple[slice, slice, slice], tuple[NDArray[np.float64], ...]]:
        """Slices of a cube around ``centre`` (x, y, z) and its coordinates x, y, z (mm)."""
        k, j, i = self.anat.mm_to_index(centre)
        dz, dy, dx = self.anat.voxel_mm
        sl = []
        for c, d, n in zip((k, j, i), (dz, dy, dx), self.labels.shape, strict=True):
            h = half_mm / d
            sl.append(slice(int(np.clip(c - h, 0, n)), int(np.clip(c + h + 1, 0, n))))
        sz, sy, sx = sl
        ox, oy, oz = self.anat.origin_mm
        x = ox + dx * np.arange(sx.start, sx.stop, dtype=np.float64).reshape(1, 1, -1)
        y = oy + dy * np.arange(sy.start, sy.stop, dtype=np.float64).reshape(1, -1, 1)
        z = oz + dz * np.arange(sz.start, sz.stop, dtype=np.float64).reshape(-1, 1, 1)
        return (sz, sy, sx), (x, y, z)

    def paint(
        self,
        sl: tuple[slice, slice, slice],
        mask: NDArray[np.bool_],
        name: str,
        replace: tuple[str, ...],
    ) -> None:
        view = self.labels[sl]
        mask = np.broadcast_to(mask, view.shape) & np.isin(view, self.ids(*replace))
        view[mask] = self.index(name)


def _rng(seed: int | None, canonical: int) -> np.random.Generator | None:
    return None if seed is None else np.random.default_rng((1, int(seed), canonical))


def _ellipsoid(
    xyz: tuple[NDArray[np.float64], ...], c: NDArray[np.float64], r: NDArray[np.float64]
) -> NDArray[np.bool_]:
    x, y, z = xyz
    return ((x - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((z - c[2]) / r[2]) ** 2 <= 1


def _ms_lesions(cv: _Canvas, seed: int | None) -> None:
    rng = _rng(seed, 1) or np.random.default_rng(20261122)
    centre = cv.anat.landmarks["brain_centre"]
    sl, xyz = cv.box(centre, 45.0)
    view = cv.labels[sl]
    ventricles = (view == cv.names.index("csf")) & (np.abs(xyz[0]) < 22.0)
    ventricles &= np.abs(xyz[2] - centre[2]) < 22.0
    ring = ndimage.binary_dilation(ventricles, iterations=6) & ~ndimage.binary_dilation(
        ventricles, iterations=2
    )
    wm = view == cv.names.index("white_matter")
    cand = np.argwhere(ring & wm)
    deep = np.argwhere(wm)
    picks = [cand[i] for i in rng.choice(len(cand), size=12, replace=False)]
    picks += [deep[i] for i in rng.choice(len(deep), size=5, replace=False)]
    x, y, z = xyz
    for p in picks:
        c = np.array([x[0, 0, p[2]], y[0, p[1], 0], z[p[0], 0, 0]])
        r = rng.uniform(2.5, 5.0)  # plaques of 5-10 mm
        radii = np.array([r, r, r * rng.uniform(1.3, 1.9)])  # ovoid, perpendicular to roof
        cv.paint(sl, _ellipsoid(xyz, c, radii), "lesion_ms", ("white_matter",))


def _tumour(cv: _Canvas, seed: int | None) -> None:
    rng = _rng(seed, 2)
    c = np.array([-32.0, -12.0, 28.0])  # right frontal lobe (LPS: right is -x)
    radius = 14.0
    if rng is not None:
        c = np.array(
            [
                rng.choice([-1.0, 1.0]) * rng.uniform(22.0, 38.0),
                rng.uniform(-35.0, 35.0),
                rng.uniform(10.0, 45.0),
            ]
        )
        radius = rng.uniform(9.0, 17.0)
    sl, xyz = cv.box(tuple(c), radius + 16.0)
    oedema = _ellipsoid(xyz, c, np.full(3, radius + 13.0))
    cv.paint(sl, oedema, "oedema", ("white_matter",))
    lobes = np.zeros(np.broadcast_shapes(*(a.shape for a in xyz)), dtype=bool)
    lrng = np.random.default_rng(7)
    for _ in range(3):
        offset = lrng.normal(0.0, radius * 0.25, size=3)
        lobes |= _ellipsoid(xyz, c + offset, np.full(3, radius * 0.8))
    cv.paint(sl, lobes, "tumour", ("white_matter", "gray_matter", "oedema", "csf"))


def _marrow_oedema(cv: _Canvas, seed: int | None) -> None:
    rng = _rng(seed, 3)
    site, radii = "lateral_femoral_condyle", np.array([12.0, 16.0, 11.0])
    jitter = np.zeros(3)
    if rng is not None:
        site = str(
            rng.choice(
                [
                    "lateral_femoral_condyle",
                    "medial_femoral_condyle",
                    "lateral_tibial_plateau",
                    "medial_tibial_plateau",
                ]
            )
        )
        radii = rng.uniform(8.0, 16.0, size=3)
        jitter = rng.uniform(-4.0, 4.0, size=3)
    c = np.asarray(cv.anat.landmarks[site]) + jitter
    sl, xyz = cv.box(tuple(c), 20.0)
    cv.paint(sl, _ellipsoid(xyz, c, radii), "marrow_oedema", ("bone_marrow",))


def _meniscal_tear(cv: _Canvas, seed: int | None) -> None:
    rng = _rng(seed, 4)
    c = np.asarray(cv.anat.landmarks["medial_meniscus_posterior_horn"], dtype=float)
    slope, shift = 0.25, 0.0  # oblique tear reaching the inferior surface
    if rng is not None:
        slope = rng.uniform(-0.3, 0.35)
        shift = rng.uniform(-4.0, 4.0)
    c = c + np.array([shift, 0.0, 0.0])
    sl, xyz = cv.box(tuple(c), 14.0)
    x, y, z = xyz
    plane = np.abs((z - c[2]) - slope * (y - c[1])) <= 0.7
    cleft = plane & (np.abs(x - c[0]) <= 9.0) & (y > c[1] - 9.0)
    cv.paint(sl, cleft, "synovial_fluid", ("meniscus",))
    # Joint effusion distending the suprapatellar recess.
    r = np.array([27.0, 8.0, 24.0]) * (1.0 if rng is None else rng.uniform(0.8, 1.15))
    rc = np.asarray(cv.anat.landmarks["suprapatellar_recess"], dtype=float)
    sl, xyz = cv.box(tuple(rc), 30.0)
    cv.paint(
        sl,
        _ellipsoid(xyz, rc + np.array([0.0, 1.0, 2.0]), r),
        "effusion",
        ("fat", "synovial_fluid"),
    )


def _disc_herniation(cv: _Canvas, seed: int | None) -> None:
    rng = _rng(seed, 5)
    level, side, size = "l4_l5_disc", 0.35, 7.0  # left paracentral (LPS: left is +x)
    if rng is not None:
        level = str(rng.choice(["l3_l4_disc", "l4_l5_disc", "l5_s1_disc"]))
        side = float(rng.uniform(-0.6, 0.6))
        size = float(rng.uniform(5.0, 9.0))
    d = np.asarray(cv.anat.landmarks[level], dtype=float)
    c = d + np.array([side * 20.0, 17.0 + 0.45 * size, 0.0])
    sl, xyz = cv.box(tuple(c), 20.0)
    canal = ("fat", "csf", "nerve")
    radii = np.array([size * 1.3, size, size * 0.75])
    cv.paint(sl, _ellipsoid(xyz, c, radii), "disc", canal)
    cv.paint(sl, _ellipsoid(xyz, c - np.array([0.0, 1.0, 0.0]), radii * 0.6), "nucleus", ("disc",))


_PAINTERS: dict[str, Callable[[_Canvas, int | None], None]] = {
    "ms_lesions": _ms_lesions,
    "tumour": _tumour,
    "bone_marrow_oedema": _marrow_oedema,
    "meniscal_tear": _meniscal_tear,
    "disc_herniation": _disc_herniation,
}


def apply_pathology(
    anat: LabelVolume, pathology: str, placement_seed: int | None
) -> tuple[Labels, tuple[str, ...]]:
    """Return new labels and names with ``pathology`` painted into ``anat``.

    Parameters
    ----------
    anat : LabelVolume
        Healthy volume (not modified).
    pathology : str
        A key of ``PATHOLOGIES[anat.name]``.
    placement_seed : int or None
        None for the canonical placement, else the seed of another placement.
    """
    cv = _Canvas(anat)
    _PAINTERS[pathology](cv, placement_seed)
    cv.labels.flags.writeable = False
    return cv.labels, tuple(cv.names)
