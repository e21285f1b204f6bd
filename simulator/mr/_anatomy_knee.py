"""Procedural right knee in extension (build time only, numpy/scipy).

Patient LPS with z toward the head: +x is medial for a right knee, -y anterior, +z proximal.
The joint line centre is the origin. Sizes are those of an average adult knee (femoral
condyles ~75 mm wide, tibial plateau ~75 mm, patella ~45 mm, cartilage 2–3 mm, meniscal rim
~6 mm high, ACL ~4–5 mm and PCL ~5–6 mm thick).
"""

from __future__ import annotations

import numpy as np

from simulator.mr._anatomy_shapes import (
    Grid,
    Painter,
    capsule,
    distance_inside,
    distance_outside,
    ellipsoid,
    polyline_distance,
    segment_distance,
)

VOXEL_MM = 0.8
# Femoral and tibial articular surfaces (mm): cartilage 2.4 mm on each side of z = 0.
CART_MM = 2.4
FEMUR_Z = CART_MM
TIBIA_Z = -CART_MM
MEDIAL_X, LATERAL_X = 21.0, -21.0
# Cruciate ligaments (before the warp): femoral and tibial ends (x, y, z) and radius, mm. The
# ACL runs from the lateral condyle's inner wall, posterior and high in the notch, forward and
# down to the anterior tibial spine area; the PCL from the medial condyle back and down.
ACL_FEMORAL_MM = (-9.0, 20.0, 20.0)
ACL_TIBIAL_MM = (2.0, -6.0, TIBIA_Z)
ACL_RADIUS_MM = 4.5
PCL_FEMORAL_MM = (7.0, 2.0, 20.0)
PCL_TIBIAL_MM = (0.0, 26.0, TIBIA_Z - 8.0)
PCL_RADIUS_MM = 5.5


def _belly(grid: Grid, a: tuple[float, float, float], b: tuple[float, float, float],
           r_mid: float, r_end: float) -> np.ndarray:
    """Fusiform muscle belly along a–b: radius r_end at the ends, r_mid in the middle."""
    x, y, z = grid.axes()
    pa, pb = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    ab = pb - pa
    t = np.clip(((x - pa[0]) * ab[0] + (y - pa[1]) * ab[1] + (z - pa[2]) * ab[2])
                / float(ab @ ab), 0.0, 1.0)
    d2 = (x - pa[0] - t * ab[0]) ** 2 + (y - pa[1] - t * ab[1]) ** 2 + (
        z - pa[2] - t * ab[2]) ** 2
    r = r_end + (r_mid - r_end) * np.sin(np.pi * t)
    return d2 <= r * r


def _meniscus(grid: Grid, cx: float, opening: float, horn_gap: float) -> np.ndarray:
    """C-shaped wedge on the tibial plateau around compartment centre x = cx."""
    x, y, z = grid.axes()
    dx, dy = x - cx, y - 4.0
    rho = np.sqrt((dx / 17.0) ** 2 + (dy / 21.0) ** 2)
    # Inner edge further in posteriorly (wider posterior horn).
    rho_in = 0.58 - 0.12 * np.clip(dy / 21.0, -1.0, 1.0)
    height = 7.0 * np.clip((rho - rho_in) / (1.0 - rho_in) * 1.6, 0.0, 1.0)
    wedge = (rho <= 1.0) & (rho >= rho_in) & (z >= TIBIA_Z) & (z - TIBIA_Z <= height)
    # Open toward the intercondylar area (direction -sign(cx) in x).
    angle = np.arctan2(dy, -np.sign(cx) * dx)
    return wedge & (np.abs(angle) > np.deg2rad(opening)) & ~(np.abs(dy) < horn_gap)


def build_knee() -> dict[str, object]:
    """Build the knee label volume.

    Returns
    -------
    dict
        ``labels`` (z, y, x) uint8, ``names``, ``voxel_mm``, ``origin_mm``, ``landmarks``.
    """
    grid = Grid.covering((-80.0, 80.0), (-78.0, 82.0), (-110.0, 110.0), VOXEL_MM)
    paint = Painter(grid)
    x, y, z = grid.axes()

    # Limb outline: thigh above, leg below, rounder at the knee; skin 2 mm, fat ~9 mm.
    rx = np.where(z > 0, 60.0 + 0.06 * z, 56.0 + 0.05 * z)
    ry = np.where(z > 0, 58.0 + 0.05 * z, 56.0 + 0.02 * z)
    r = np.sqrt((x / rx) ** 2 + ((y - 6.0) / ry) ** 2)
    limb = r <= 1.0
    paint.paint(limb, "skin")
    paint.paint(r <= 1.0 - 2.0 / 58.0, "fat")
    inner = r <= 1.0 - 11.0 / 58.0
    # Muscle bellies (fusiform, fat between them): quadriceps around the femur — vastus
    # medialis reaching lowest, beside the patella — hamstrings behind, and below the joint
    # tibialis anterior, the peroneal group, soleus and popliteus.
    bellies = (
        ((30.0, -4.0, 115.0), (21.0, -22.0, 34.0), 26.0, 8.0),     # vastus medialis
        ((-31.0, 0.0, 115.0), (-27.0, -19.0, 52.0), 24.0, 7.0),    # vastus lateralis
        ((0.0, -20.0, 115.0), (0.0, -29.0, 60.0), 17.0, 6.0),      # vastus intermedius/RF
        ((23.0, 33.0, 115.0), (25.0, 27.0, -4.0), 18.0, 5.0),      # semimembranosus
        ((-23.0, 33.0, 115.0), (-35.0, 24.0, -22.0), 17.0, 5.0),   # biceps femoris
        ((-12.0, -20.0, -38.0), (-15.0, -23.0, -118.0), 15.0, 10.0),  # tibialis anterior
        ((-30.0, -6.0, -34.0), (-31.0, -9.0, -118.0), 11.0, 8.0),  # peroneal group
        ((0.0, 34.0, -42.0), (0.0, 40.0, -118.0), 27.0, 18.0),     # soleus
        ((-30.0, 18.0, -6.0), (14.0, 24.0, -42.0), 7.0, 4.0),      # popliteus
    )
    for a, b, r_mid, r_end in bellies:
        paint.paint(_belly(grid, a, b, r_mid, r_end), "muscle", inner)
    # Gastrocnemius heads behind the condyles, running down into the calf.
    for side in (1.0, -1.0):
        gastro = capsule(grid, (17.0 * side, 40.0, 22.0), (10.0 * side, 42.0, -110.0), 15.0)
        paint.paint(gastro, "muscle", inner)
    # Medial (sartorius, semimembranosus) and lateral (biceps femoris) muscles crossing the
    # joint toward their insertions.
    paint.paint(capsule(grid, (44.0, 22.0, 110.0), (36.0, 24.0, -60.0), 9.0), "muscle", inner)
    paint.paint(capsule(grid, (20.0, 42.0, 110.0), (26.0, 30.0, -8.0), 9.0), "muscle", inner)
    paint.paint(capsule(grid, (-30.0, 38.0, 110.0), (-34.0, 26.0, -22.0), 10.0), "muscle", inner)
    # Popliteal artery and vein in the fat of the popliteal fossa: from the adductor hiatus
    # (medial, deep) down and laterally, closest to the capsule at the joint line, then
    # between the gastrocnemius heads; the vein behind and a little lateral of the artery.
    artery = [(14.0, 24.0, 110.0), (6.0, 28.0, 60.0), (0.0, 27.0, 20.0), (-3.0, 26.0, -10.0),
              (-6.0, 30.0, -50.0), (-10.0, 34.0, -110.0)]
    vein = [(x_ + 3.0, y_ + 5.0, z_) for x_, y_, z_ in artery]
    paint.paint(polyline_distance(grid, artery) <= 3.2, "blood")
    paint.paint(polyline_distance(grid, vein) <= 4.2, "blood")

    # Suprapatellar recess: a thin film of synovial fluid behind the quadriceps tendon.
    paint.paint(ellipsoid(grid, (0.0, -29.0, 46.0), (24.0, 2.0, 18.0)), "synovial_fluid")

    # Bones as solid masks first.
    femur = capsule(grid, (0.0, 2.0, 50.0), (0.0, 4.0, 120.0), 14.0)
    # Metaphysis flaring from the shaft (~28 mm) to the condyles (~76 mm wide).
    w = np.clip((100.0 - z) / 60.0, 0.0, 1.0)
    flare = ((x / (14.0 + 24.0 * w)) ** 2 + ((y - 2.0 - 5.0 * w) / (14.0 + 12.0 * w)) ** 2) <= 1
    femur |= flare & (z > 22.0) & (z < 105.0)
    for cx in (MEDIAL_X, LATERAL_X):
        femur |= ellipsoid(grid, (cx, 7.0, FEMUR_Z + 30.0), (17.0, 28.0, 30.0))
    femur &= ~(ellipsoid(grid, (0.0, 18.0, FEMUR_Z), (8.0, 26.0, 22.0)))  # notch
    femur &= z < 120.0
    tibia = ellipsoid(grid, (0.0, 5.0, TIBIA_Z - 8.0), (38.0, 27.0, 45.0)) & (z <= TIBIA_Z)
    for cx in (-5.0, 5.0):  # tibial spines
        tibia |= ellipsoid(grid, (cx, 6.0, TIBIA_Z), (3.5, 5.0, 5.0))
    tibia |= capsule(grid, (0.0, 6.0, -40.0), (0.0, 8.0, -130.0), 15.0)
    tibia |= ellipsoid(grid, (0.0, -18.0, -38.0), (10.0, 8.0, 12.0))  # tuberosity
    fibula = ellipsoid(grid, (-33.0, 22.0, -24.0), (10.0, 9.0, 11.0))
    fibula |= capsule(grid, (-34.0, 22.0, -26.0), (-36.0, 20.0, -130.0), 6.5)
    patella = ellipsoid(grid, (0.0, -38.0, 30.0), (22.0, 9.5, 21.0)) & (y < -31.5)

    # Articular cartilage: femoral condyles and trochlea, tibial plateau, patellar facets.
    near_femur = distance_outside(femur, VOXEL_MM)
    fem_cart = (near_femur > 0) & (near_femur <= CART_MM) & (z < 45.0) & (z > -0.5)
    fem_cart &= ~ellipsoid(grid, (0.0, 18.0, FEMUR_Z), (9.0, 30.0, 26.0))
    fem_cart &= (y < -10.0) | (z < 24.0) | (y > 18.0)
    tib_cart = (z > TIBIA_Z) & (z <= TIBIA_Z + CART_MM + 0.3) & ~(np.abs(x) < 9.0)
    tib_cart = tib_cart & ellipsoid(grid, (0.0, 5.0, TIBIA_Z), (35.0, 24.0, 10.0))
    pat_cart = ellipsoid(grid, (0.0, -38.0, 30.0), (21.0, 9.5, 20.0)) & (y >= -31.5)
    pat_cart = pat_cart & (y < -28.0)

    # Tendons: flat bands in the sagittal plane (distance measured in y-z only).
    flat = Grid((grid.shape[0], grid.shape[1], 1), grid.voxel_mm, (0.0, *grid.origin_mm[1:]))
    quad = polyline_distance(flat, [(0, -37, 52), (0, -31, 75), (0, -24, 110)]) <= 3.5
    paint.paint(quad & (np.abs(x) < 16.0), "tendon")
    pt = segment_distance(flat, (0.0, -41.0, 10.0), (0.0, -25.0, -38.0)) <= 2.6
    paint.paint(pt & (np.abs(x) < 13.0 - np.clip(-z - 20.0, 0.0, 6.0)), "tendon")
    # Iliotibial band (lateral) to Gerdy's tubercle.
    paint.paint((x > -50.5) & (x < -47.5) & (y > -12.0) & (y < 8.0) & (z > -20.0), "tendon", ~inner)
    # Hoffa's fat pad between the patellar tendon and the joint.
    hoffa = ellipsoid(grid, (0.0, -24.0, 2.0), (24.0, 14.0, 15.0)) & (y < -14.0)
    paint.paint(hoffa, "fat", ~paint.is_("tendon"))

    # Menisci: medial C-shaped (open laterally), lateral nearly O-shaped.
    paint.paint(fem_cart | tib_cart | pat_cart, "cartilage")
    # Menisci fill the wedge between the condyle's cartilage and the plateau at the rim.
    free = ~(fem_cart | femur)
    paint.paint(_meniscus(grid, MEDIAL_X, 42.0, 0.0) & free, "meniscus")
    paint.paint(_meniscus(grid, LATERAL_X, 28.0, 0.0) & free, "meniscus")

    # Bones: cortex shell, fatty marrow inside (thicker cortex along the shafts).
    for bone in (femur, tibia, fibula, patella):
        depth = distance_inside(bone, VOXEL_MM)
        cortex = np.where(np.abs(z) > 60.0, 4.0, 1.4)
        paint.paint(bone, "bone_cortex")
        paint.paint(depth > cortex, "bone_marrow")

    # Cruciate ligaments in the notch, collaterals at the sides.
    paint.paint(capsule(grid, ACL_FEMORAL_MM, ACL_TIBIAL_MM, ACL_RADIUS_MM), "ligament")
    paint.paint(capsule(grid, PCL_FEMORAL_MM, PCL_TIBIAL_MM, PCL_RADIUS_MM), "ligament")
    mcl = segment_distance(grid, (40.0, 4.0, 30.0), (38.0, 2.0, -50.0))
    paint.paint((mcl <= 7.0) & (x > 36.0) & (x < 40.0) & ~tibia & ~femur, "ligament")
    paint.paint(capsule(grid, (-41.0, 10.0, 28.0), (-38.0, 22.0, -18.0), 3.0), "ligament")

    labels, names = paint.compact()
    marks = {
        "joint_line_centre": (0.0, 5.0, 0.0),
        "patella_centre": (0.0, -38.0, 30.0),
        "medial_meniscus_posterior_horn": (MEDIAL_X, 19.0, TIBIA_Z + 2.5),
        "medial_femoral_condyle": (MEDIAL_X, 8.0, FEMUR_Z + 15.0),
        "lateral_femoral_condyle": (LATERAL_X, 8.0, FEMUR_Z + 15.0),
        "medial_tibial_plateau": (MEDIAL_X - 2.0, 5.0, TIBIA_Z - 12.0),
        "lateral_tibial_plateau": (LATERAL_X + 2.0, 5.0, TIBIA_Z - 12.0),
        "suprapatellar_recess": (0.0, -29.0, 46.0),
    }
    return {
        "labels": labels,
        "names": names,
        "voxel_mm": grid.voxel_mm,
        "origin_mm": grid.origin_mm,
        "landmarks": marks,
    }
