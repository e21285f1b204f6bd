"""Pathology painted on a copy of a healthy label volume at load time.

Each painter changes only a bounded region (a box of a few centimetres around the lesion)
and only the tissues the lesion replaces, so the rest of the anatomy is untouched.
``placement_seed=None`` gives the canonical placement; an integer draws another plausible one
from ``numpy.random.default_rng((1, seed))``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
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


def _seed_int(seed: int | None, stream: int) -> tuple[int, ...]:
    """Seed of a texture stream: fixed for the canonical placement, else drawn from ``seed``."""
    return (2, stream) if seed is None else (1, int(seed), stream)


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
    """Oblique tear of the medial meniscus posterior horn reaching its inferior surface.

    The commonest meniscal tear: a line of fluid signal running obliquely up and back from
    the tibial (inferior) articular surface into the body of the horn, over about 16 mm
    from front to back of the horn's width, so that it reaches the surface on several 3 mm
    sagittal and coronal slices. Width 1.6 mm (two voxels): thin enough to read as a line,
    wide enough to survive the partial volume of a 3 mm slice. With a joint effusion.
    """
    rng = _rng(seed, 4)
    c = np.asarray(cv.anat.landmarks["medial_meniscus_posterior_horn"], dtype=float)
    angle_deg, shift, y0 = 35.0, 0.0, -1.5  # rising posteriorly from the inferior surface
    if rng is not None:
        angle_deg = float(rng.uniform(25.0, 45.0))
        shift = float(rng.uniform(-3.0, 3.0))
        y0 = float(rng.uniform(-3.0, 0.0))
    c = c + np.array([shift, 0.0, 0.0])
    sl, xyz = cv.box(tuple(c), 16.0)
    x, y, z = xyz
    # Oblique plane through (y0 behind the landmark, 3 mm below it), rising by tan(angle).
    slope = float(np.tan(np.deg2rad(angle_deg)))
    dist = ((z - (c[2] - 3.0)) - slope * (y - (c[1] + y0))) / np.hypot(1.0, slope)
    plane = np.abs(dist) <= 0.8
    cleft = plane & (np.abs(x - c[0]) <= 8.0) & (y > c[1] + y0 - 3.0) & (y < c[1] + 6.5)
    # ``tear_fluid`` is synovial fluid (same signal), named apart for the ground truth.
    cv.paint(sl, cleft, "tear_fluid", ("meniscus",))
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


@dataclass(frozen=True)
class DiscHerniation:
    """The disc herniation of a placement (the ground truth names its level and side).

    Attributes
    ----------
    level : str
        The disc's landmark (``"l3_l4_disc"``, ``"l4_l5_disc"`` or ``"l5_s1_disc"``).
    side : float
        Left-right offset of the fragment as a fraction of 20 mm (LPS: > 0 is the
        patient's left, < 0 the right).
    size_mm : float
        Antero-posterior semi-axis of the herniated fragment.
    centre_mm : tuple of float
        Centre (x, y, z) of the fragment.
    """

    level: str
    side: float
    size_mm: float
    centre_mm: tuple[float, float, float]


def disc_herniation_plan(anat: LabelVolume, seed: int | None) -> DiscHerniation:
    """The herniation :func:`apply_pathology` paints for ``placement_seed=seed``."""
    rng = _rng(seed, 5)
    level, side, size = "l4_l5_disc", 0.35, 7.0  # left paracentral (LPS: left is +x)
    if rng is not None:
        level = str(rng.choice(["l3_l4_disc", "l4_l5_disc", "l5_s1_disc"]))
        side = float(rng.uniform(-0.6, 0.6))
        size = float(rng.uniform(5.0, 9.0))
    d = np.asarray(anat.landmarks[level], dtype=float)
    c = d + np.array([side * 20.0, 17.0 + 0.45 * size, 0.0])
    return DiscHerniation(level, side, size, (float(c[0]), float(c[1]), float(c[2])))


def _disc_herniation(cv: _Canvas, seed: int | None) -> None:
    """Disc material pushed into the canal behind a lower lumbar disc.

    Painted as ``herniation`` (annulus) around ``herniated_nucleus``: the same tissues as
    ``disc`` and ``nucleus`` (same signal), named apart so that the ground truth is the
    fragment and nothing of the healthy disc.
    """
    plan = disc_herniation_plan(cv.anat, seed)
    c, size = np.asarray(plan.centre_mm), plan.size_mm
    sl, xyz = cv.box(plan.centre_mm, 20.0)
    canal = ("fat", "csf", "nerve")
    radii = np.array([size * 1.3, size, size * 0.75])
    cv.paint(sl, _ellipsoid(xyz, c, radii), "herniation", canal)
    cv.paint(
        sl,
        _ellipsoid(xyz, c - np.array([0.0, 1.0, 0.0]), radii * 0.6),
        "herniated_nucleus",
        ("herniation",),
    )


@dataclass(frozen=True)
class ACLTear:
    """Where the ACL tear of a placement lies (patient mm, along the ligament's own axis).

    Attributes
    ----------
    femoral_mm, tibial_mm : tuple of float
        Ends (x, y, z) of the healthy ligament's axis, as found in the warped volume.
    radius_mm : float
        Its radius (from the voxels around that axis).
    gap : tuple of float
        The torn stretch as fractions (from, to) of the axis, femur 0 → tibia 1.
    stump_sag_deg : float
        How far the lax distal stump is rotated toward the horizontal.
    """

    femoral_mm: tuple[float, float, float]
    tibial_mm: tuple[float, float, float]
    radius_mm: float
    gap: tuple[float, float]
    stump_sag_deg: float


def _axis_distance(
    xyz: tuple[NDArray[np.float64], ...], a: NDArray[np.float64], b: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fraction t along a→b of each point's projection, and its distance to the line a-b."""
    x, y, z = xyz
    ab = b - a
    t = ((x - a[0]) * ab[0] + (y - a[1]) * ab[1] + (z - a[2]) * ab[2]) / float(ab @ ab)
    d2 = (x - a[0] - t * ab[0]) ** 2 + (y - a[1] - t * ab[1]) ** 2 + (z - a[2] - t * ab[2]) ** 2
    return t, np.sqrt(d2)


def _acl_voxels(
    cv: _Canvas,
) -> tuple[tuple[slice, slice, slice], tuple[NDArray[np.float64], ...], NDArray[np.bool_]]:
    """Box around the cruciates, its coordinates, and the ligament voxels of the ACL there.

    The volume is warped after the build, so the ligament is found in the labels: the
    ligament voxels nearer (in units of radius) the built ACL axis than the PCL axis.
    """
    from simulator.mr import _anatomy_knee as knee

    a, b = np.asarray(knee.ACL_FEMORAL_MM), np.asarray(knee.ACL_TIBIAL_MM)
    pa, pb = np.asarray(knee.PCL_FEMORAL_MM), np.asarray(knee.PCL_TIBIAL_MM)
    sl, xyz = cv.box(tuple((a + b) / 2.0), 30.0)
    lig = cv.labels[sl] == cv.names.index("ligament")
    t, d = _axis_distance(xyz, a, b)
    tp, dp = _axis_distance(xyz, pa, pb)
    d = np.where((t >= 0) & (t <= 1), d, np.inf)
    dp = np.where((tp >= -0.1) & (tp <= 1.1), dp, np.inf)
    acl = lig & (d <= knee.ACL_RADIUS_MM + 4.0) & (d / knee.ACL_RADIUS_MM < dp / knee.PCL_RADIUS_MM)
    return sl, xyz, acl


def acl_tear_plan(anat: LabelVolume, seed: int | None) -> ACLTear:
    """The ACL tear :func:`apply_pathology` paints for ``placement_seed=seed``."""
    cv = _Canvas(anat)
    _, xyz, acl = _acl_voxels(cv)
    pts = np.stack([np.broadcast_to(c, acl.shape)[acl] for c in xyz], axis=1)
    centre = pts.mean(axis=0)
    _, _, vt = np.linalg.svd(pts - centre, full_matrices=False)
    u = vt[0] if vt[0][2] > 0 else -vt[0]  # pointing up, toward the femur
    s = (pts - centre) @ u
    radial = np.linalg.norm((pts - centre) - np.outer(s, u), axis=1)
    lo, hi = np.percentile(s, [1.0, 99.0])
    rng = _rng(seed, 6)
    gap, sag = (0.42, 0.60), 30.0
    if rng is not None:
        g0 = float(rng.uniform(0.32, 0.5))
        gap = (g0, g0 + float(rng.uniform(0.18, 0.24)))
        sag = float(rng.uniform(25.0, 40.0))
    return ACLTear(
        femoral_mm=tuple(float(v) for v in centre + hi * u),  # type: ignore[arg-type]
        tibial_mm=tuple(float(v) for v in centre + lo * u),  # type: ignore[arg-type]
        radius_mm=float(np.percentile(radial, 90.0)),
        gap=gap,
        stump_sag_deg=sag,
    )


def _acl_tear(cv: _Canvas, seed: int | None) -> None:
    """Complete mid-substance ACL tear with a pivot-shift bone bruise.

    Sagittal PD-FS / T2 signs: the ligament interrupted in its mid-substance, fluid filling
    the gap, oedema around the torn ends, a wavy lax distal stump lying flatter than the
    intact ligament (the normal ACL parallels the intercondylar roof); marrow oedema in the
    lateral femoral condyle (at the terminal sulcus) and the posterolateral tibial plateau.
    """
    plan = acl_tear_plan(cv.anat, seed)
    a, b = np.asarray(plan.femoral_mm), np.asarray(plan.tibial_mm)
    sl, xyz, acl = _acl_voxels(cv)
    t, d = _axis_distance(xyz, a, b)
    g0, g1 = plan.gap
    r = plan.radius_mm
    view = cv.labels[sl]
    fat, fluid = cv.names.index("fat"), cv.index("synovial_fluid")
    # The distal fibres are gone from their old course (replaced by notch fat) ...
    view[acl & (t > g1)] = fat
    # ... and hang lax from the tibial footprint: a wavy band sagging toward the plateau.
    tib_end = b
    up = a - b
    length = float(np.linalg.norm(a - b)) * (1.0 - g1) * 0.85  # retracted
    up /= np.linalg.norm(up)
    sag = np.deg2rad(plan.stump_sag_deg)
    # Rotate in the sagittal (y, z) plane toward +y (posterior, i.e. flatter).
    cy, cz = up[1], up[2]
    dirn = np.array(
        [up[0], cy * np.cos(sag) + cz * np.sin(sag), cz * np.cos(sag) - cy * np.sin(sag)]
    )
    dirn[0] *= 0.3  # it falls into the sagittal plane of its footprint
    dirn /= np.linalg.norm(dirn)
    normal = np.array([0.0, -dirn[2], dirn[1]]) / max(float(np.hypot(dirn[1], dirn[2])), 1e-9)
    s_pts = np.linspace(0.0, length, 25)
    wave = 1.3 * np.sin(2.0 * np.pi * s_pts / 7.0)
    line = tib_end + np.outer(s_pts, dirn) + np.outer(wave, normal)
    x, y, z = xyz
    dist = np.full(np.broadcast_shapes(*(c.shape for c in xyz)), np.inf)
    for p0, p1 in zip(line[:-1], line[1:], strict=True):
        seg = p1 - p0
        tt = np.clip(
            ((x - p0[0]) * seg[0] + (y - p0[1]) * seg[1] + (z - p0[2]) * seg[2]) / float(seg @ seg),
            0.0,
            1.0,
        )
        np.minimum(
            dist,
            np.sqrt(
                (x - p0[0] - tt * seg[0]) ** 2
                + (y - p0[1] - tt * seg[1]) ** 2
                + (z - p0[2] - tt * seg[2]) ** 2
            ),
            out=dist,
        )
    cv.paint(sl, dist <= 0.75 * r, "ligament", ("fat", "synovial_fluid"))
    # Fluid fills the gap and oedema surrounds the torn ends (intercondylar notch only).
    # Frayed, irregular torn ends: the gap's bounds wander by about 1 mm.
    shape = np.broadcast_shapes(*(c.shape for c in xyz))
    fray = ndimage.gaussian_filter(
        np.random.default_rng(_seed_int(seed, 61)).standard_normal((2, *shape)), (0, 2.0, 2.0, 2.0)
    )
    fray /= max(float(fray.std()), 1e-9)
    torn = (t >= g0 + 0.03 * fray[0]) & (t <= g1 + 0.03 * fray[1])
    cv.paint(sl, torn & (d <= r + 1.0), "synovial_fluid", ("ligament", "fat"))
    near = (t >= g0 - 0.08) & (t <= g1 + 0.05) & (d <= r + 2.0) & (dist > 0.75 * r)
    cv.paint(sl, near, "oedema", ("fat",))
    view = cv.labels[sl]
    view[acl & torn] = fluid  # every fibre of the torn stretch, whatever its distance
    # Pivot-shift bone bruise: lateral femoral condyle (anterior, subchondral) and the
    # posterolateral tibial plateau (subchondral).
    rng = _rng(seed, 7)
    size = 1.0 if rng is None else float(rng.uniform(0.8, 1.2))
    lfc = np.asarray(cv.anat.landmarks["lateral_femoral_condyle"], dtype=float)
    ltp = np.asarray(cv.anat.landmarks["lateral_tibial_plateau"], dtype=float)
    for c, radii in (
        (lfc + np.array([0.0, -9.0, -11.0]), np.array([10.0, 11.0, 7.0])),
        (ltp + np.array([0.0, 13.0, 6.0]), np.array([10.0, 9.0, 6.0])),
    ):
        bsl, bxyz = cv.box(tuple(c), 16.0)
        # Ill-defined, reticular, geographic: the outline wanders and the oedema is patchy.
        bshape = np.broadcast_shapes(*(a.shape for a in bxyz))
        n = ndimage.gaussian_filter(
            np.random.default_rng(_seed_int(seed, 71 + int(c[2] > 0))).standard_normal(
                (2, *bshape)
            ),
            (0, 3.0, 3.0, 3.0),
        )
        n /= max(float(n.std()), 1e-9)
        x, y, z = bxyz
        rr = (
            ((x - c[0]) / radii[0]) ** 2
            + ((y - c[1]) / radii[1]) ** 2
            + ((z - c[2]) / radii[2]) ** 2
        )
        patch = (rr <= (size * (1.0 + 0.3 * n[0])) ** 2) & (n[1] > -1.0)
        cv.paint(bsl, patch, "marrow_oedema", ("bone_marrow",))


@dataclass(frozen=True)
class VertebralFracture:
    """The compression fracture of a placement.

    Attributes
    ----------
    level : str
        The vertebra ("L1" or "L2").
    centre_mm : tuple of float
        Centre (x, y, z) of its body as found in the warped volume.
    tilt_rad : float
        Its axis tilt from vertical in the sagittal plane (u up = (0, sin, cos)).
    half_width_mm, half_depth_mm, height_mm : float
        Body size as built (left-right and antero-posterior semi-axes, height).
    anterior_loss : float
        Loss of anterior height (over the front 3 mm of the body) as a fraction of the
        body height (Genant: grade 1 20–25 %, grade 2 25–40 %); the loss tapers to none
        at a hinge 30 % of the half-depth behind the centre, so the posterior wall keeps
        its height (a wedge).
    oedema_mm : float
        Thickness of the band of marrow oedema under the collapsed superior endplate.
    anterior_height_mm : float
        Height of the healthy body's front 3 mm as warped (the loss is a fraction of it).
    endplate_u_mm : tuple of float
        Healthy superior endplate along the axis from the centre (mm), 2 mm behind the
        front wall and at the hinge of the wedge.
    """

    level: str
    centre_mm: tuple[float, float, float]
    tilt_rad: float
    half_width_mm: float
    half_depth_mm: float
    height_mm: float
    anterior_loss: float
    oedema_mm: float
    anterior_height_mm: float
    endplate_u_mm: tuple[float, float]


def vertebral_fracture_plan(anat: LabelVolume, seed: int | None) -> VertebralFracture:
    """The fracture :func:`apply_pathology` paints for ``placement_seed=seed``."""
    from simulator.mr import _anatomy_spine as spine

    rng = _rng(seed, 8)
    level, loss, band = "L1", 0.30, 8.0  # the thoracolumbar junction, grade 2
    if rng is not None:
        level = str(rng.choice(["L1", "L2"]))
        loss = float(rng.uniform(0.2, 0.4))
        band = float(rng.uniform(6.0, 10.0))
    i = spine.LEVELS.index(level)
    cy, cz, tilt = spine.level_frame(level)
    ax, ay, h = spine.HALF_WIDTH_MM[i], spine.HALF_DEPTH_MM[i], spine.HEIGHT_MM[i]
    e_u = np.array([0.0, np.sin(tilt), np.cos(tilt)])  # up the axis
    e_v = np.array([0.0, np.cos(tilt), -np.sin(tilt)])  # posterior
    e_x = np.array([1.0, 0.0, 0.0])
    ids = [anat.names.index(n) for n in ("bone_cortex", "red_marrow")]

    def run(p0: NDArray[np.float64], e: NDArray[np.float64]) -> tuple[float, float]:
        """Ends (mm from p0 along e) of the run of vertebral bone through p0."""
        s = np.arange(-30.0, 30.25, 0.25)
        k, j, i = (
            np.round(c).astype(int) for c in anat.mm_to_index(tuple((p0 + np.outer(s, e)).T))
        )
        shape = anat.labels.shape
        ok = (k >= 0) & (k < shape[0]) & (j >= 0) & (j < shape[1]) & (i >= 0) & (i < shape[2])
        bone = np.zeros(s.shape, dtype=bool)
        bone[ok] = np.isin(anat.labels[k[ok], j[ok], i[ok]], ids)
        # Bridge the fat of the marrow texture (gaps under 3 mm; discs are 8-10 mm).
        bone = ndimage.binary_closing(bone, structure=np.ones(13, dtype=bool))
        lab, _ = ndimage.label(bone)
        if not bone.any():
            return 0.0, 0.0
        c = lab[np.flatnonzero(bone)[np.argmin(np.abs(s[bone]))]]  # the run nearest p0
        inside = s[lab == c]
        return float(inside.min()), float(inside.max())

    # The warp moved and bent the body a few mm: find it in the labels. Height through the
    # centre, then the front and back walls beside the basivertebral notch, then again.
    c = np.array([0.0, cy, cz])
    for _ in range(2):
        lo, hi = run(c, e_u)
        c = c + 0.5 * (lo + hi) * e_u
        # The front wall (the back one runs into the pedicles or the notch).
        front_wall = np.mean([run(c + side * 4.0 * e_x, e_v)[0] for side in (-1.0, 1.0)])
        c = c + (front_wall + ay) * e_v
        lr = run(c, e_x)
        c = c + 0.5 * (lr[0] + lr[1]) * e_x
    # The healthy superior endplate at the front (3 mm behind the anterior wall) and back.
    v_front, v_back = -ay + 2.0, 0.3 * ay  # the front, and the hinge of the wedge
    front = np.median([run(c + x * e_x + v_front * e_v, e_u) for x in (-4, -2, 0, 2, 4)], axis=0)
    back = np.median([run(c + x * e_x + v_back * e_v, e_u) for x in (-4, -2, 0, 2, 4)], axis=0)
    centre = (float(c[0]), float(c[1]), float(c[2]))
    bottom_front, top_front = float(front[0]), float(front[1])
    top_back = float(back[1])
    return VertebralFracture(
        level=level,
        centre_mm=centre,
        tilt_rad=float(tilt),
        half_width_mm=float(ax),
        half_depth_mm=float(ay),
        height_mm=float(h),
        anterior_loss=loss,
        oedema_mm=band,
        anterior_height_mm=top_front - bottom_front,
        endplate_u_mm=(top_front, top_back),
    )


def _local_frame(
    xyz: tuple[NDArray[np.float64], ...], c: tuple[float, float], tilt: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Coordinates (x, u up the spine axis, v posterior) around centre (y, z) = ``c``."""
    x, y, z = xyz
    cy, cz = c
    u = (z - cz) * np.cos(tilt) + (y - cy) * np.sin(tilt)
    v = -(z - cz) * np.sin(tilt) + (y - cy) * np.cos(tilt)
    return x, u, v


def _vertebral_fracture(cv: _Canvas, seed: int | None) -> None:
    """Acute osteoporotic-type wedge compression fracture of a lumbar body.

    The superior endplate is driven down anteriorly (a wedge hinged near the posterior
    wall, which keeps its height); the disc above sags into the defect; a new endplate
    line caps the collapsed body, and a band of marrow oedema (dark on T1, bright on STIR)
    lies beneath it, crossed by a dark impaction line.
    """
    f = vertebral_fracture_plan(cv.anat, seed)
    sl, xyz = cv.box(f.centre_mm, 36.0)
    x, u, v = _local_frame(xyz, f.centre_mm[1:], f.tilt_rad)
    x = x - f.centre_mm[0]
    ax, ay = f.half_width_mm, f.half_depth_mm
    hinge = 0.3 * ay
    # The healthy endplate, sloping from front to back as warped; the collapse is the full
    # loss over the front 3 mm (the anterior wall), tapering to none at the hinge.
    v_front, v_back = -ay + 2.0, hinge
    top_front, top_back = f.endplate_u_mm
    healthy = top_front + (top_back - top_front) * (v - v_front) / (v_back - v_front)
    loss = (
        f.anterior_loss * f.anterior_height_mm * np.clip((hinge - v) / (hinge + ay - 3.0), 0.0, 1.0)
    )
    top = healthy - loss  # the collapsed superior endplate
    footprint = ((x / (ax + 2.5)) ** 2 + (v / (ay + 2.5)) ** 2 <= 1.0) & (v < hinge)
    bone = ("bone_cortex", "red_marrow")
    cv.paint(sl, footprint & (u > top) & (u <= healthy + 3.0), "disc", bone)
    inside = footprint & ((x / ax) ** 2 + (v / ay) ** 2 <= 1.0)
    cv.paint(sl, inside & (u > top - 1.4) & (u <= top), "bone_cortex", ("red_marrow",))
    band = inside & (u <= top - 1.4) & (u > top - 1.4 - f.oedema_mm)
    # The oedema fades posteriorly past the hinge but spans the whole anterior body.
    band &= v < ay - 4.0
    # Water floods the marrow between the trabeculae, which the oedema signal then
    # dominates: inside the outer cortical shell the band takes the trabeculae too.
    core = (x / (ax - 1.6)) ** 2 + (v / (ay - 1.6)) ** 2 <= 1.0
    cv.paint(sl, band & core, "fracture_oedema", ("red_marrow", "bone_cortex"))
    cv.paint(sl, band, "fracture_oedema", ("red_marrow",))
    line = inside & (np.abs(u - (top - 1.4 - 0.45 * f.oedema_mm)) <= 0.5) & (v < hinge)
    cv.paint(sl, line, "bone_cortex", ("fracture_oedema",))


_PAINTERS: dict[str, Callable[[_Canvas, int | None], None]] = {
    "ms_lesions": _ms_lesions,
    "tumour": _tumour,
    "bone_marrow_oedema": _marrow_oedema,
    "meniscal_tear": _meniscal_tear,
    "disc_herniation": _disc_herniation,
    "acl_tear": _acl_tear,
    "vertebral_fracture": _vertebral_fracture,
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
