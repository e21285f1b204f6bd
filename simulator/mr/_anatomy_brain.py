"""Head label volume from the MNI ICBM152 2009 template (build time only).

The template (Fonov et al., NeuroImage 2009 and 2011; Collins et al. 1999) is an average of
152 adult brains: a skull-stripped T1 image and grey- and white-matter probability maps on a
1 mm grid in RAS orientation. ``scripts/build_anatomy.py`` reads them with nilearn and calls
:func:`build_brain`, which needs only numpy and scipy. Tissue rules:

* brain: white or grey matter where their probabilities dominate, CSF where neither reaches
  the threshold (ventricles, cisterns, sulci);
* intracranial space: the brain closed and smoothed, plus a 1.5 mm subarachnoid CSF rim;
* skull from the distance to the intracranial space: inner table, diploe (fatty marrow),
  outer table; scalp: galea/temporalis muscle, subcutaneous fat, skin;
* a face block below the frontal lobes with eyes (vitreous), orbital fat, optic nerves,
  and air in the nasal cavity and maxillary sinuses.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from simulator.mr._anatomy_shapes import Grid, Painter, capsule, ellipsoid

PAD_MM = 30
# The MNI152 space is larger than native adult heads: its brain mask holds ~1.89 L where adult
# intracranial volume is ~1.4–1.5 L (e.g. Buckner RL et al., NeuroImage 2004;23:724-738).
# Scaling by 0.92 per axis (volume x0.78) brings it to a typical adult size.
NATIVE_SCALE = 0.92
# Tissue rules: CSF where the template T1 is dark or where neither GM nor WM is likely;
# WM where the WM probability dominates and the T1 is bright; GM elsewhere.
CSF_T1_MAX = 0.56
PARENCHYMA_MIN = 0.5
WM_T1_MIN = 0.72
MIDLINE_MM = 3.0
# Upper neck added below the template (which stops at the medulla): cord, C1-C2, pharynx.
NECK_MM = 45.0
MIDLINE_CSF_T1_MAX = 0.45
# Landmarks in MNI (RAS) mm: anterior and posterior commissures (approximate, MNI152).
_AC_RAS = (0.0, 2.0, -4.0)
_PC_RAS = (0.0, -26.0, -2.0)


def _ras_to_lps(p: tuple[float, float, float]) -> tuple[float, float, float]:
    """MNI RAS mm to native LPS mm."""
    return (-p[0] * NATIVE_SCALE, -p[1] * NATIVE_SCALE, p[2] * NATIVE_SCALE)


def _neck(paint: Painter, grid: Grid, z_bottom: float) -> None:
    """Upper neck below the template's lowest slice ``z_bottom`` (native LPS mm)."""
    x, y, z = grid.axes()
    # Up to 40 mm above the template's lowest slice the neck only fills air, so that it
    # meets the head under the skull base without a gap.
    band = (z >= z_bottom + 8.0) & (z < z_bottom + 40.0)
    below = (z < z_bottom + 8.0) | band
    soft = ("air", "skin", "fat", "muscle")
    # The neck narrows below the skull base (sternocleidomastoids converge), then widens a
    # little toward the shoulders: a curved outline on coronal slices, not a block.
    t = np.clip((z - (z_bottom - 45.0)) / 53.0, 0.0, 1.0)
    low = np.clip(((z_bottom - 45.0) - z) / 30.0, 0.0, 1.0)
    rx = 48.0 + 14.0 * t ** 2 + 6.0 * low
    ry = 50.0 + 6.0 * t ** 2
    r = np.sqrt((x / rx) ** 2 + ((y - 18.0 + 4.0 * t) / ry) ** 2)
    keep = ~paint.is_(*[n for n in paint.names if n not in soft])
    keep &= ~band | paint.is_("air")
    paint.paint((r <= 1.0) & below, "skin", keep)
    paint.paint((r <= 1.0 - 2.0 / 52.0) & below, "fat", keep)
    paint.paint((r <= 1.0 - 8.0 / 52.0) & below, "muscle", keep)
    low = z_bottom - 60.0
    # C2 body and dens, C1 anterior and posterior arches and lateral masses.
    for layer, grow in (("bone_cortex", 0.0), ("red_marrow", -1.5)):
        paint.paint_capsule((0.0, 22.0, z_bottom - 10.0), (0.0, 19.0, low), 7.5 + grow, layer)
        paint.paint_capsule(
            (-12.0, 10.0, z_bottom - 16.0), (12.0, 10.0, z_bottom - 16.0), 4.0 + grow, layer
        )
        for side in (-1.0, 1.0):
            paint.paint_capsule(
                (side * 21.0, 30.0, z_bottom - 22.0),
                (side * 21.0, 30.0, z_bottom - 12.0),
                8.0 + grow,
                layer,
            )
            paint.paint_capsule(
                (side * 21.0, 42.0, z_bottom - 18.0),
                (0.0, 54.0, z_bottom - 18.0),
                4.0 + grow,
                layer,
            )
    # Pharynx (air) in front of the spine, joining the nasal cavity.
    paint.paint_capsule((0.0, -8.0, z_bottom + 8.0), (0.0, 0.0, low), 6.0, "air")
    # Thecal sac and cord leaving the skull through the foramen magnum.
    sac = ((0.0, 40.0, z_bottom + 2.0), (0.0, 33.0, low))
    paint.paint_capsule(*sac, 9.0, "csf")
    paint.paint_capsule(*sac, 5.0, "spinal_cord")


def build_brain(
    t1: NDArray[np.floating],
    gm: NDArray[np.floating],
    wm: NDArray[np.floating],
    affine: NDArray[np.floating],
) -> dict[str, object]:
    """Derive a head label volume from the MNI template arrays.

    Parameters
    ----------
    t1, gm, wm : ndarray, shape (i, j, k)
        Skull-stripped T1 template (0–1) and GM, WM probability maps, RAS voxel order.
    affine : ndarray, shape (4, 4)
        Voxel-to-RAS affine (diagonal, 1 mm).

    Returns
    -------
    dict
        ``labels`` (z, y, x) uint8 in LPS order, ``names``, ``voxel_mm``, ``origin_mm``,
        ``landmarks`` (name -> LPS mm).
    """
    if not np.allclose(affine[:3, :3], np.diag(np.diag(affine)[:3])):
        raise ValueError("expected an axis-aligned affine")
    # Resample the template onto a 1 mm LPS grid in native (scaled) millimetres.
    diag, shift = np.diag(affine)[:3], affine[:3, 3]
    ends = np.stack([shift, shift + diag * (np.asarray(t1.shape) - 1)])
    lo_ras, hi_ras = ends.min(axis=0) * NATIVE_SCALE, ends.max(axis=0) * NATIVE_SCALE
    # LPS ranges: x_lps = -x_ras, y_lps = -y_ras, z unchanged; pad the sides and the top.
    x_rng = (np.floor(-hi_ras[0]) - PAD_MM, np.ceil(-lo_ras[0]) + PAD_MM)
    y_rng = (np.floor(-hi_ras[1]) - PAD_MM, np.ceil(-lo_ras[1]) + PAD_MM)
    z_rng = (np.ceil(lo_ras[2]) - NECK_MM, np.ceil(hi_ras[2]) + PAD_MM)
    grid = Grid.covering(x_rng, y_rng, z_rng, 1.0)
    x, y, z = grid.axes()
    shape = grid.shape

    def to_lps(a: NDArray[np.floating]) -> NDArray[np.float32]:
        # Template voxel index of each native LPS point: ras_mni = lps_native * (-1,-1,1) / s.
        coords = [
            np.broadcast_to((z / NATIVE_SCALE - shift[2]) / diag[2], shape),
            np.broadcast_to((-y / NATIVE_SCALE - shift[1]) / diag[1], shape),
            np.broadcast_to((-x / NATIVE_SCALE - shift[0]) / diag[0], shape),
        ]
        vol = np.transpose(np.asarray(a, dtype=np.float32), (2, 1, 0))
        return ndimage.map_coordinates(vol, coords, order=1, cval=0.0).astype(np.float32)

    t1l, gml, wml = to_lps(t1), to_lps(gm), to_lps(wm)
    x0, y0, z0 = grid.origin_mm
    paint = Painter(grid)

    tissue = t1l > 0.05
    closed = ndimage.binary_closing(tissue, ndimage.generate_binary_structure(3, 1), 6)
    closed = ndimage.binary_fill_holes(closed)
    icv = ndimage.gaussian_filter(closed.astype(np.float32), 2.0) > 0.5
    d_out = ndimage.distance_transform_edt(~icv).astype(np.float32)
    icv = icv | (d_out <= 1.5)  # subarachnoid space
    d_out = np.maximum(d_out - 1.5, 0.0)

    # Face block below the frontal lobes and the head outline around everything.
    face = ellipsoid(grid, (0.0, -42.0, -45.0), (58.0, 44.0, 42.0)) & (z < -12.0)
    # Temporalis: lateral, above the zygoma, thickness up to 8 mm.
    temporal = np.clip(1.0 - ((z - 5.0) / 30.0) ** 2 - ((y + 5.0) / 45.0) ** 2, 0.0, 1.0)
    temporal = temporal * (np.abs(x) > 35.0)
    muscle_mm = (1.0 + 7.0 * temporal).astype(np.float32)
    # Skull and scalp thickness vary over the vault (thicker frontal and occipital bone,
    # thinner temporal squama; scalp fat thicker at the back): no concentric rings.
    rng = np.random.default_rng(1152)
    vary = [ndimage.zoom(ndimage.gaussian_filter(rng.standard_normal(
        tuple(n // 4 + 2 for n in shape)).astype(np.float32), 5.0), 4, order=1)[
        : shape[0], : shape[1], : shape[2]] for _ in range(2)]
    vary = [v / max(float(v.std()), 1e-9) for v in vary]
    squama = np.clip(1.0 - ((z - 0.0) / 35.0) ** 2, 0.0, 1.0) * (np.abs(x) > 45.0)
    skull_out = np.clip(6.5 + 1.4 * vary[0] + 1.5 * (np.abs(y) / 90.0) - 2.0 * squama,
                        3.5, 10.0).astype(np.float32)
    fat_mm = np.clip(3.5 + 1.5 * vary[1] + 2.0 * np.clip(y / 90.0, 0.0, 1.0), 1.0,
                     8.0).astype(np.float32)
    skin_mm = 2.0
    head_core = (d_out <= skull_out + muscle_mm + fat_mm) | face
    head_core = ndimage.gaussian_filter(head_core.astype(np.float32), 2.0) > 0.5
    head = head_core | (ndimage.distance_transform_edt(~head_core) <= skin_mm)

    paint.paint(head, "skin")
    paint.paint(head_core, "fat")
    paint.paint((d_out > skull_out) & (d_out <= skull_out + muscle_mm) & ~face, "muscle")
    # Midface soft tissue (facial muscles, masseters) under 4 mm of subcutaneous fat.
    depth = ndimage.distance_transform_edt(head_core)
    paint.paint(face & (depth > 4.0) & (d_out > skull_out), "muscle")
    paint.paint((d_out > 0) & (d_out <= skull_out), "bone_cortex")
    paint.paint((d_out > 1.5) & (d_out <= skull_out - 1.8), "bone_marrow")  # diploë

    # Face: bony orbits with eyes, orbital fat and optic nerves; ethmoid cells, nasal
    # cavity and maxillary sinuses (air in bony shells).
    ethmoid = ellipsoid(grid, (0.0, -46.0, -38.0), (10.0, 20.0, 12.0))
    paint.paint(ethmoid, "bone_cortex", face)
    paint.paint(ellipsoid(grid, (0.0, -46.0, -38.0), (8.0, 18.0, 10.0)), "air", face)
    for side in (-1.0, 1.0):
        eye_c = (31.0 * side, -58.0, -36.0)
        orbit_c, orbit_r = (30.0 * side, -46.0, -36.0), (17.0, 22.0, 16.0)
        wall = ellipsoid(grid, orbit_c, tuple(r + 2.5 for r in orbit_r))  # type: ignore[arg-type]
        paint.paint(wall & (y > eye_c[1] + 2.0), "bone_cortex", ~icv)
        paint.paint(ellipsoid(grid, orbit_c, orbit_r), "fat")
        paint.paint(
            capsule(grid, (30.0 * side, -50.0, -36.0), (12.0 * side, -18.0, -28.0), 2.0),
            "nerve",
        )
        paint.paint(ellipsoid(grid, eye_c, (12.0, 12.0, 12.0)), "skin")
        paint.paint(ellipsoid(grid, eye_c, (11.0, 11.0, 11.0)), "vitreous")
        sinus_c = (26.0 * side, -50.0, -62.0)
        paint.paint(ellipsoid(grid, sinus_c, (13.0, 15.0, 14.0)), "bone_cortex")
        paint.paint(ellipsoid(grid, sinus_c, (11.0, 13.0, 12.0)), "air")
    paint.paint(ellipsoid(grid, (0.0, -60.0, -58.0), (9.0, 22.0, 16.0)), "air", face)
    paint.paint(ellipsoid(grid, (0.0, -60.0, -58.0), (1.0, 22.0, 16.0)), "bone_cortex", face)

    _neck(paint, grid, z_bottom=float(z_rng[0]) + NECK_MM)

    # Intracranial content: CSF, then grey and white matter from the probability maps.
    paint.paint(icv, "csf")
    # The averaged interhemispheric fissure is wider and darker than in one brain: near the
    # midline only clearly dark voxels are CSF, so the medial cortex shows on a sagittal.
    csf_max = np.where(np.abs(x) < MIDLINE_MM, MIDLINE_CSF_T1_MAX, CSF_T1_MAX)
    likely = (gml + wml > PARENCHYMA_MIN) | (np.abs(x) < MIDLINE_MM)
    parenchyma = icv & likely & (t1l >= csf_max)
    paint.paint(parenchyma, "gray_matter")
    paint.paint(parenchyma & (wml >= gml) & (t1l >= WM_T1_MIN), "white_matter")

    labels, names = paint.compact()
    # Crop to the head with a 2 mm margin (the bottom stays cut at the template's edge).
    nz = np.nonzero(labels)
    lo = [max(int(a.min()) - 2, 0) for a in nz]
    hi = [min(int(a.max()) + 3, n) for a, n in zip(nz, labels.shape, strict=True)]
    labels = np.ascontiguousarray(labels[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]])
    origin = (x0 + lo[2], y0 + lo[1], z0 + lo[0])
    marks = {
        "ac": _ras_to_lps(_AC_RAS),
        "pc": _ras_to_lps(_PC_RAS),
        "brain_centre": _ras_to_lps((0.0, -18.0, 12.0)),
    }
    return {
        "labels": labels,
        "names": names,
        "voxel_mm": (1.0, 1.0, 1.0),
        "origin_mm": tuple(float(v) for v in origin),
        "landmarks": marks,
    }
