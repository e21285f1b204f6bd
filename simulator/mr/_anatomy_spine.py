"""Procedural lumbar spine, T12 to the sacrum, in the abdomen (build time only).

Patient LPS with z toward the head, origin at the centre of the L3 body. The spine axis
follows a lordotic curve (apex at L3, sacral slope ~40°). Vertebral bodies (cortex and
red marrow), discs (annulus and nucleus), pedicles, laminae, transverse and spinous processes,
a thecal sac with the cord ending in a conus at L1–L2 and the cauda equina below, exiting
nerve roots in foraminal fat, epidural fat, psoas, quadratus lumborum and erector spinae
muscles, kidneys, liver, aorta and IVC, bowel, abdominal wall, subcutaneous fat and skin.
Sizes follow adult lumbar morphometry (bodies 25–27 mm high, 40–50 mm wide; discs 8–10 mm at the centre, before the warp of _anatomy_texture).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from simulator.mr._anatomy_shapes import Grid, Painter, ellipsoid

VOXEL_MM = 1.0
LEVELS = ("T12", "L1", "L2", "L3", "L4", "L5")
HEIGHT_MM = (24.0, 25.0, 26.0, 27.0, 27.0, 26.0)
DISC_MM = (8.0, 8.5, 9.0, 9.5, 10.0, 9.5)  # below each level (L5: L5–S1)
HALF_WIDTH_MM = (20.0, 21.0, 22.0, 23.0, 24.0, 25.0)
HALF_DEPTH_MM = (14.0, 15.0, 16.0, 16.5, 17.0, 17.0)
CANAL_MM = 11.0  # canal centre behind the posterior body wall
# Axis tilt from vertical (deg) at arc-length knots (mm, 0 = top of T12, downward).
_TILT_KNOTS = (
    (-60.0, 18.0),
    (0.0, 14.0),
    (100.0, 3.0),
    (150.0, -6.0),
    (210.0, -22.0),
    (250.0, -40.0),
    (330.0, -55.0),
)


def _axis() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, float]]:
    """Axis samples (s, y, z, tilt) with L3 centre at y = z = 0, and each level's arc length."""
    s = np.arange(-60.0, 330.0, 0.5)
    knots = np.array(_TILT_KNOTS)
    tilt = np.deg2rad(np.interp(s, knots[:, 0], knots[:, 1]))
    # Going down the arc: z decreases by cos, y changes by sin (tilt>0: upper spine posterior).
    dz = -np.cos(tilt) * 0.5
    dy = -np.sin(tilt) * 0.5
    z = np.concatenate([[0.0], np.cumsum(dz)[:-1]])
    y = np.concatenate([[0.0], np.cumsum(dy)[:-1]])
    centres: dict[str, float] = {}
    top = 0.0
    for name, h, d in zip(LEVELS, HEIGHT_MM, DISC_MM, strict=True):
        centres[name] = top + h / 2
        centres[name + "_disc"] = top + h + d / 2
        top += h + d
    centres["S1"] = top + 15.0
    i3 = int(np.searchsorted(s, centres["L3"]))
    return s, y - y[i3], z - z[i3], tilt, centres


def _local(grid: Grid, c: tuple[float, float], tilt: float) -> tuple[np.ndarray, ...]:
    """Local coordinates (x, u along the axis upward, v posterior) around centre (y, z)."""
    x, y, z = grid.axes()
    cy, cz = c
    u = (z - cz) * np.cos(tilt) + (y - cy) * np.sin(tilt)
    v = -(z - cz) * np.sin(tilt) + (y - cy) * np.cos(tilt)
    return x, u, v


def level_frame(name: str) -> tuple[float, float, float]:
    """Centre (y, z) in mm and axis tilt in radians of a level before the warp.

    ``name`` is one of :data:`LEVELS` or ``"<level>_disc"`` (the disc below that level). The
    local frame of :func:`_local` around it has u up the axis and v posterior.
    """
    s_ax, y_ax, z_ax, t_ax, arc = _axis()
    i = int(np.searchsorted(s_ax, arc[name]))
    return float(y_ax[i]), float(z_ax[i]), float(t_ax[i])


Point = tuple[float, float, float]
Frame = tuple[float, float, float]


def _bone(
    paint: Painter, frame: Frame, a: Point, b: Point, r: float, layers: str = "cortex+marrow"
) -> None:
    """Capsule of cortex with a marrow core, ends given in the local frame (x, u, v)."""
    cy, cz, tilt = frame

    def to_xyz(p: Point) -> Point:
        px, pu, pv = p
        return (
            px,
            cy + pu * float(np.sin(tilt)) + pv * float(np.cos(tilt)),
            cz + pu * float(np.cos(tilt)) - pv * float(np.sin(tilt)),
        )

    pa, pb = to_xyz(a), to_xyz(b)
    if "cortex" in layers:
        paint.paint_capsule(pa, pb, r, "bone_cortex")
    if r > 2.2 and "marrow" in layers:
        paint.paint_capsule(pa, pb, r - 1.5, "red_marrow")


def build_spine() -> dict[str, object]:
    """Build the lumbar spine label volume.

    Returns
    -------
    dict
        ``labels`` (z, y, x) uint8, ``names``, ``voxel_mm``, ``origin_mm``, ``landmarks``.
    """
    s_ax, y_ax, z_ax, t_ax, arc = _axis()
    grid = Grid.covering((-150.0, 150.0), (-145.0, 110.0), (-150.0, 150.0), VOXEL_MM)
    paint = Painter(grid)
    x, y, z = grid.axes()
    zz = z[:, 0, 0]
    order = np.argsort(z_ax)
    yc = np.interp(zz, z_ax[order], y_ax[order]).reshape(-1, 1, 1)
    tc = np.interp(zz, z_ax[order], t_ax[order]).reshape(-1, 1, 1)
    sec = 1.0 / np.cos(tc)

    def at(name: str) -> tuple[float, float, float]:
        i = int(np.searchsorted(s_ax, arc[name]))
        return float(y_ax[i]), float(z_ax[i]), float(t_ax[i])

    def tube(xc: float, v: float, rx: float, rv: float) -> np.ndarray:
        """Tube along the axis at lateral xc and AP offset v (horizontal section)."""
        return ((x - xc) / rx) ** 2 + ((y - yc - v * sec) / (rv * sec)) ** 2 <= 1.0

    # Body outline, skin, subcutaneous fat, abdominal wall, then the abdominal cavity.
    # The trunk is narrowest at the waist (L3) and widens toward the ribs and the pelvis;
    # subcutaneous fat is thicker over the flanks and the lower back.
    waist = (z / 150.0) ** 2
    wx, wy = 1.0 + 0.10 * waist, 1.0 + 0.05 * waist
    body = ((x / (145.0 * wx)) ** 2 + ((y + 22.0) / (118.0 * wy)) ** 2) <= 1.0
    paint.paint(body, "skin")
    paint.paint(((x / (142.5 * wx)) ** 2 + ((y + 22.0) / (115.5 * wy)) ** 2) <= 1.0, "fat")
    wall = ((x / (122.0 * wx)) ** 2 + ((y + 26.0) / (98.0 * wy)) ** 2) <= 1.0
    cavity = ((x / (112.0 * wx)) ** 2 + ((y + 28.0) / (88.0 * wy)) ** 2) <= 1.0
    paint.paint(wall, "muscle")
    paint.paint(cavity, "bowel")
    # Mesenteric fat between bowel loops: smoothed noise (fixed seed) at 4 mm, thresholded.
    rng = np.random.default_rng(5)
    coarse = ndimage.gaussian_filter(
        rng.normal(size=tuple(n // 4 + 2 for n in grid.shape)), 1.2
    ).astype(np.float32)
    noise = ndimage.zoom(coarse, 4.0, order=1)[: grid.shape[0], : grid.shape[1], : grid.shape[2]]
    paint.paint(cavity & (noise > 0.5 * float(coarse.std())), "fat")
    # Retroperitoneal fat around the spine, psoas and kidneys; kidneys, liver, spleen.
    retro = ((x / 100.0) ** 2 + ((y - yc - 10.0) / 42.0) ** 2 <= 1.0) & (y > yc - 40.0)
    paint.paint(cavity & retro, "fat")
    for side in (-1.0, 1.0):
        kz = 55.0 if side > 0 else 42.0
        paint.paint(ellipsoid(grid, (68.0 * side, 18.0, kz), (24.0, 20.0, 55.0)), "kidney", cavity)
    paint.paint(ellipsoid(grid, (-55.0, -30.0, 150.0), (75.0, 70.0, 110.0)), "liver", cavity)
    paint.paint(ellipsoid(grid, (80.0, 20.0, 150.0), (28.0, 35.0, 55.0)), "spleen", cavity)
    # Muscles: psoas (growing downward), quadratus lumborum, erector spinae.
    z_t12 = at("T12")[1]
    grow = np.clip((z_t12 - z) / 200.0, 0.0, 1.0)
    for side in (-1.0, 1.0):
        psoas = ((x - side * (28.0 + 22.0 * grow)) / (6.0 + 16.0 * grow)) ** 2 + (
            (y - yc - 4.0) / (6.0 + 12.0 * grow)
        ) ** 2 <= 1.0
        paint.paint(psoas & (z < z_t12 + 10.0), "muscle")
        ql = tube(side * 62.0, 32.0, 16.0, 9.0) & (z < z_t12 + 20.0) & (z > at("L5")[1])
        paint.paint(ql, "muscle")
        # Erector spinae: bulkier toward the sacrum, where it is the thickest muscle.
        paint.paint(tube(side * (32.0 + 4.0 * grow), 52.0, 24.0 + 8.0 * grow,
                         19.0 + 6.0 * grow), "muscle", body)
    # Aorta (left of midline) dividing at L4 into the iliacs; IVC on the right.
    z_l4 = at("L4")[1]
    aorta_y = yc - 30.0 * sec
    paint.paint(((x - 14.0) ** 2 + (y - aorta_y) ** 2 <= 121.0) & (z > z_l4), "blood")
    paint.paint(((x + 20.0) / 14.0) ** 2 + ((y - aorta_y - 4.0) / 9.0) ** 2 <= 1.0, "blood")
    # Canal: epidural fat, thecal sac (CSF), cord with conus, cauda equina roots.
    paint.paint(tube(0.0, 16.5 + CANAL_MM, 12.0, 10.0), "fat")
    z_s2 = at("S1")[1] - 20.0
    paint.paint(tube(0.0, 17.0 + CANAL_MM, 8.5, 7.5) & (z > z_s2), "csf")
    z_conus = at("L1_disc")[1]
    taper = np.clip((z - z_conus) / 22.0, 0.0, 1.0)
    cord = (x / (4.8 * taper + 1e-3)) ** 2 + (
        (y - yc - 26.0 * sec) / (4.0 * taper + 1e-3)
    ) ** 2 <= 1.0
    paint.paint(cord & (z > z_conus), "spinal_cord")
    roots = (
        (-2.0, 2.0),
        (2.0, 2.0),
        (-5.0, 1.0),
        (5.0, 1.0),
        (-3.5, 5.0),
        (3.5, 5.0),
        (0.0, 4.5),
        (-6.0, -2.0),
        (6.0, -2.0),
    )
    below = (z < z_conus + 2.0) & (z > z_s2 + 4.0)
    for rx_, rv_ in roots:
        paint.paint(tube(rx_, 26.0 + rv_, 1.2, 1.2) & below, "nerve")

    # Vertebrae, discs and exiting roots, level by level.
    for i, name in enumerate(LEVELS):
        cy, cz, tilt = at(name)
        ax, ay, h = HALF_WIDTH_MM[i], HALF_DEPTH_MM[i], HEIGHT_MM[i]
        lx, u, v = _local(grid, (cy, cz), tilt)
        # Disc below this level (annulus, nucleus), and its exiting nerve roots.
        dy_, dz_, dt = at(name + "_disc")
        dx_, du, dv = _local(grid, (dy_, dz_), dt)
        dh = DISC_MM[i]
        annulus = ((dx_ / (ax + 0.5)) ** 2 + (dv / (ay + 0.5)) ** 2 <= 1.0) & (
            np.abs(du) <= dh / 2 + 0.5
        )
        paint.paint(annulus, "disc")
        nucleus = (dx_ / (0.55 * ax)) ** 2 + ((dv - 2.0) / (0.5 * ay)) ** 2 + (
            du / (0.33 * dh)
        ) ** 2 <= 1.0
        paint.paint(nucleus, "nucleus")
        for side in (-1.0, 1.0):
            a = (side * 9.0, dy_ + 24.0, dz_ + 6.0)
            b = (side * 34.0, dy_ + 12.0, dz_ - 10.0)
            paint.paint_capsule(a, b, 5.0, "fat", ("disc", "nucleus"))
            paint.paint_capsule(a, b, 2.6, "nerve", ("disc", "nucleus"))
        # Body: kidney-shaped elliptic cylinder, 1.2 mm cortex, red marrow.
        shape = (lx / ax) ** 2 + (v / ay) ** 2
        notch = (lx / (0.35 * ax)) ** 2 + ((v - ay - 2.0) / 5.0) ** 2 <= 1.0
        vb = (shape <= 1.0) & (np.abs(u) <= h / 2) & ~notch
        inner = (
            (((lx / (ax - 1.2)) ** 2 + (v / (ay - 1.2)) ** 2) <= 1.0)
            & (np.abs(u) <= h / 2 - 1.2)
            & vb
        )
        paint.paint(vb, "bone_cortex")
        paint.paint(inner, "red_marrow")
        # Posterior elements as capsules of cortex with marrow cores.
        pv = ay + CANAL_MM  # canal centre

        def bone(
            a: Point,
            b: Point,
            r: float,
            layers: str = "cortex+marrow",
            frame: Frame = (cy, cz, tilt),
        ) -> None:
            _bone(paint, frame, a, b, r, layers)

        for side in (-1.0, 1.0):
            bone((side * 13.0, 3.0, ay - 4.0), (side * 14.0, 3.0, pv + 2.0), 5.0)  # pedicle
            bone((side * 14.0, 2.0, pv + 4.0), (side * 3.0, -1.0, pv + 11.0), 3.5)  # lamina
            tp = 22.0 if name == "L3" else 17.0
            bone((side * 15.0, 3.0, pv), (side * (15.0 + tp), 3.0, pv - 2.0), 3.5)
            bone(
                (side * 15.0, -h / 2 + 1.0, pv + 6.0), (side * 15.0, h / 2 + 3.0, pv + 6.0), 4.0
            )  # articular processes (facets)
        for layer in ("cortex", "marrow"):  # spinous process: a plate of capsules
            for k in (-6.0, -4.0, -2.0, 0.0, 2.0, 4.0, 6.0):
                bone((0.0, k, pv + 10.0), (0.0, k - 5.0, pv + 42.0), 3.5, layer)

    # Sacrum: S1 body tilted, alae, then the iliac wings.
    cy, cz, tilt = at("S1")
    lx, u, v = _local(grid, (cy, cz), tilt)
    s1 = (((lx / 26.0) ** 2 + (v / 17.0) ** 2 <= 1.0) & (u <= 15.0) & (u >= -35.0)) | (
        ((lx / 52.0) ** 2 + ((v - 12.0) / 14.0) ** 2 <= 1.0) & (u <= 10.0) & (u >= -40.0)
    )
    s1 &= ~(((lx / 11.0) ** 2 + ((v - 27.0) / 6.0) ** 2) <= 1.0)  # sacral canal
    paint.paint(s1, "bone_cortex")
    s1_in = (((lx / 24.5) ** 2 + (v / 15.5) ** 2 <= 1.0) & (u <= 13.5) & (u >= -33.0)) | (
        ((lx / 50.0) ** 2 + ((v - 12.0) / 12.5) ** 2 <= 1.0) & (u <= 8.5) & (u >= -38.0)
    )
    paint.paint(s1_in & s1, "red_marrow")
    ilium_c, ilium_r = (0.0, 55.0, cz - 20.0), (115.0, 75.0, 85.0)
    outer = ellipsoid(grid, ilium_c, ilium_r)
    inner_r = tuple(r - 8.0 for r in ilium_r)
    shell = outer & ~ellipsoid(grid, ilium_c, inner_r)  # type: ignore[arg-type]
    wing = shell & (np.abs(x) > 48.0) & (y > -10.0) & (y < 60.0) & (z < cz + 25.0) & wall
    paint.paint(wing, "bone_cortex")
    core = ellipsoid(grid, ilium_c, tuple(r - 2.0 for r in ilium_r))  # type: ignore[arg-type]
    core &= ~ellipsoid(grid, ilium_c, tuple(r - 6.0 for r in ilium_r))  # type: ignore[arg-type]
    paint.paint(wing & core, "red_marrow")

    labels, names = paint.compact()
    marks: dict[str, tuple[float, float, float]] = {}
    for name in ("L3", "L4_disc", "L1", "L5_disc", "L3_disc"):
        cy, cz, _ = at(name)
        key = name.lower().replace("_disc", "_disc")
        marks[key + ("_centre" if "disc" not in name else "")] = (0.0, cy, cz)
    marks["l4_l5_disc"] = marks.pop("l4_disc")
    marks["l5_s1_disc"] = marks.pop("l5_disc")
    marks["l3_l4_disc"] = marks.pop("l3_disc")
    cy, cz, _ = at("L1_disc")
    marks["conus"] = (0.0, cy + 26.0, cz)
    return {
        "labels": labels,
        "names": names,
        "voxel_mm": grid.voxel_mm,
        "origin_mm": grid.origin_mm,
        "landmarks": marks,
    }
