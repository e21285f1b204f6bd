"""ACL tear, vertebral compression fracture and meniscal tear: geometry and contrast.

Geometry is measured on the label volumes with coordinates of the healthy build (the
cruciate axes of ``_anatomy_knee``) or lines sampled through the vertebral body, not with
the painters' masks. Contrast is measured on real acquisitions (``simulator.mr.scan``) of
one slice, compared with the same slice of the healthy volume.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import ndimage

from simulator.errors import ParameterError
from simulator.mr import _anatomy_knee as knee_build
from simulator.mr import preset
from simulator.mr._pathology import acl_tear_plan, vertebral_fracture_plan
from simulator.mr.anatomy import PATHOLOGIES, Anatomy, load_anatomy
from simulator.mr.geometry import default_geometry
from simulator.mr.scan import MRSeries, scan

SEEDS = [None, 1, 2, 3]
_PHASE = {"axial": "RL", "sagittal": "AP", "coronal": "RL"}


def _coords(anat: Anatomy) -> tuple[NDArray[np.float64], ...]:
    """Patient x, y, z (mm) of every voxel, broadcastable to the label shape."""
    nz, ny, nx = anat.shape
    dz, dy, dx = anat.voxel_mm
    ox, oy, oz = anat.origin_mm
    return (
        ox + dx * np.arange(nx).reshape(1, 1, -1),
        oy + dy * np.arange(ny).reshape(1, -1, 1),
        oz + dz * np.arange(nz).reshape(-1, 1, 1),
    )


def _along(
    xyz: tuple[NDArray[np.float64], ...], a: tuple[float, ...], b: tuple[float, ...]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pa, pb = np.asarray(a), np.asarray(b)
    ab = pb - pa
    rel = [c - pa[i] for i, c in enumerate(xyz)]
    t = sum(r * ab[i] for i, r in enumerate(rel)) / float(ab @ ab)
    d = np.sqrt(sum((r - t * ab[i]) ** 2 for i, r in enumerate(rel)))
    return t, d


def _acl_course(anat: Anatomy) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Ligament voxels along the built ACL course (a 7.5 mm tube, clear of the PCL) and
    their fraction along it (femur 0, tibia 1)."""
    xyz = _coords(anat)
    t, d = _along(xyz, knee_build.ACL_FEMORAL_MM, knee_build.ACL_TIBIAL_MM)
    tp, dp = _along(xyz, knee_build.PCL_FEMORAL_MM, knee_build.PCL_TIBIAL_MM)
    dp = np.where((tp > -0.1) & (tp < 1.1), dp, np.inf)
    tube = (t > -0.05) & (t < 1.05) & (d < knee_build.ACL_RADIUS_MM + 3.0)
    tube &= d / knee_build.ACL_RADIUS_MM < dp / knee_build.PCL_RADIUS_MM
    return tube & anat.mask("ligament"), np.broadcast_to(t, anat.shape)


def _spans_course(lig: NDArray[np.bool_], t: NDArray[np.float64]) -> bool:
    """Whether one 26-connected piece of ligament runs from femur to tibia."""
    lab, n = ndimage.label(lig, structure=np.ones((3, 3, 3)))
    for c in range(1, n + 1):
        tc = t[lab == c]
        if tc.min() < 0.2 and tc.max() > 0.8:
            return True
    return False


def _elevation_deg(anat: Anatomy, mask: NDArray[np.bool_]) -> float:
    """Angle above the horizontal (axial plane) of a structure's long axis."""
    x, y, z = (np.broadcast_to(c, anat.shape)[mask] for c in _coords(anat))
    pts = np.stack([x, y, z], axis=1)
    _, _, vt = np.linalg.svd(pts - pts.mean(axis=0), full_matrices=False)
    return float(np.degrees(np.arcsin(abs(vt[0][2]))))


def _scan_slice(
    anat: Anatomy, name: str, orientation: str, centre: tuple[float, float, float], **changes: float
) -> MRSeries:
    anatomy = anat.name
    p = preset(anatomy, name)
    p = dataclasses.replace(p, orientation=orientation, phase_dir=_PHASE[orientation], **changes)
    geo = dataclasses.replace(default_geometry(anat, p), center_mm=centre)
    return scan(anat, p, geo, rng=np.random.default_rng(0), slices=[p.slices // 2])


# --- registration -----------------------------------------------------------------------


def test_new_pathologies_are_registered_and_named_in_errors() -> None:
    assert "acl_tear" in PATHOLOGIES["knee"]
    assert "vertebral_fracture" in PATHOLOGIES["spine"]
    assert load_anatomy("knee", pathology="acl_tear").pathology == "acl_tear"
    with pytest.raises(ParameterError) as err:
        load_anatomy("spine", "acl_tear")
    assert "vertebral_fracture" in str(err.value.allowed)


@pytest.mark.parametrize(
    ("name", "pathology", "max_span_mm"),
    [("knee", "acl_tear", 75.0), ("spine", "vertebral_fracture", 60.0)],
)
@pytest.mark.parametrize("seed", SEEDS)
def test_changes_stay_in_a_bounded_region(
    name: str, pathology: str, max_span_mm: float, seed: int | None
) -> None:
    base = load_anatomy(name)
    sick = load_anatomy(name, pathology, seed)
    changed = sick.labels != base.labels
    idx = np.argwhere(changed)
    span = (idx.max(axis=0) - idx.min(axis=0) + 1) * np.asarray(base.voxel_mm)
    assert span.max() <= max_span_mm
    assert 0 < changed.mean() < 0.002
    # Reproducible: the same seed paints the same voxels.
    load_anatomy.cache_clear()
    assert np.array_equal(load_anatomy(name, pathology, seed).labels, sick.labels)


# --- ACL tear ---------------------------------------------------------------------------


def test_healthy_acl_is_continuous_from_femur_to_tibia() -> None:
    lig, t = _acl_course(load_anatomy("knee"))
    assert _spans_course(lig, t)


@pytest.mark.parametrize("seed", SEEDS)
def test_torn_acl_is_broken_with_fluid_in_the_gap(seed: int | None) -> None:
    base = load_anatomy("knee")
    sick = load_anatomy("knee", "acl_tear", seed)
    lig, t = _acl_course(sick)
    assert not _spans_course(lig, t)
    # Both stumps remain: ligament near the femoral and near the tibial footprint.
    assert (lig & (t < 0.25)).sum() > 200 and (lig & (t > 0.8)).sum() > 50
    # The gap, where the ligament used to be, is fluid (or oedema around it).
    plan = acl_tear_plan(base, seed)
    a, b = np.asarray(plan.femoral_mm), np.asarray(plan.tibial_mm)
    g = 0.5 * (plan.gap[0] + plan.gap[1])
    was = base.mask("ligament")
    k, j, i = np.round(base.mm_to_index(tuple(a + g * (b - a)))).astype(int)
    core = (slice(k - 3, k + 4), slice(j - 3, j + 4), slice(i - 3, i + 4))
    assert was[core].mean() > 0.8  # the ligament's mid-substance was there ...
    fluid = sick.labels[core] == sick.label("synovial_fluid")
    assert fluid.mean() > 0.8  # ... and is now fluid


@pytest.mark.parametrize("seed", SEEDS)
def test_distal_stump_is_lax_and_there_is_a_pivot_shift_bruise(seed: int | None) -> None:
    base = load_anatomy("knee")
    sick = load_anatomy("knee", "acl_tear", seed)
    healthy_acl, _ = _acl_course(base)
    stump = (sick.labels == sick.label("ligament")) & (base.labels != base.label("ligament"))
    assert stump.sum() > 50
    # The normal ACL rises ~40° from the plateau; the lax stump lies flatter.
    assert _elevation_deg(sick, stump) < _elevation_deg(base, healthy_acl) - 10.0
    bruise = sick.mask("marrow_oedema")
    x, y, z = (np.broadcast_to(c, sick.shape)[bruise] for c in _coords(sick))
    joint = sick.landmarks["joint_line_centre"]
    assert np.all(x < joint[0])  # lateral compartment (+x is medial for this right knee)
    femoral, tibial = z > joint[2], z < joint[2]
    assert femoral.sum() > 500 and tibial.sum() > 500
    # Tibial bruise posterior, femoral bruise further forward (the pivot-shift impaction).
    assert y[tibial].mean() > sick.landmarks["lateral_tibial_plateau"][1] + 5.0
    assert y[femoral].mean() < y[tibial].mean() - 10.0


def test_acl_tear_contrast_on_sagittal_pd_fs_and_t1() -> None:
    base = load_anatomy("knee")
    sick = load_anatomy("knee", "acl_tear")
    plan = acl_tear_plan(base, None)
    a, b = np.asarray(plan.femoral_mm), np.asarray(plan.tibial_mm)
    mid = a + 0.5 * (plan.gap[0] + plan.gap[1]) * (b - a)
    centre = (float(mid[0]), 5.0, 5.0)
    for name, brighter in (("pd_fs", True), ("t1", False)):
        small = {"matrix_read": 256, "matrix_phase": 192}
        s = _scan_slice(sick, name, "sagittal", centre, **small)
        h = _scan_slice(base, name, "sagittal", centre, **small)
        gap = (s.labels[0] == s.names.index("synovial_fluid")) & (
            h.labels[0] == h.names.index("ligament")
        )
        assert gap.sum() > 20
        ratio = float(s.images[0][gap].mean() / h.images[0][gap].mean())
        if brighter:  # fluid where the dark ligament was
            assert ratio > 3.0
        else:  # on T1 the long-T1 fluid is no brighter than ligament
            assert ratio < 1.5
    s = _scan_slice(sick, "pd_fs", "sagittal", (-21.0, 5.0, 5.0))
    lab, img = s.labels[0], s.images[0]
    oedema, marrow = lab == s.names.index("marrow_oedema"), lab == s.names.index("bone_marrow")
    assert oedema.sum() > 50
    assert img[oedema].mean() > 2.0 * img[marrow].mean()  # bruise bright on fat-sat PD
    t1 = _scan_slice(sick, "t1", "sagittal", (-21.0, 5.0, 5.0))
    lab, img = t1.labels[0], t1.images[0]
    oedema, marrow = lab == t1.names.index("marrow_oedema"), lab == t1.names.index("bone_marrow")
    assert img[oedema].mean() < 0.8 * img[marrow].mean()  # and dark on T1


# --- vertebral compression fracture -----------------------------------------------------


def _line_labels(
    anat: Anatomy, p0: NDArray[np.float64], e_u: NDArray[np.float64], s: NDArray[np.float64]
) -> list[str]:
    pts = p0 + np.outer(s, e_u)
    idx = [np.round(anat.mm_to_index(tuple(p))).astype(int) for p in pts]
    return [anat.names[anat.labels[tuple(i)]] for i in idx]


_BONE = {"bone_cortex", "red_marrow", "fracture_oedema"}


def _height_mm(anat: Anatomy, centre: NDArray[np.float64], tilt: float, v: float) -> float:
    """Mean height of the vertebral body along its axis at AP offset ``v`` (mm, + back):
    the run of bone through the body centre's level, on five lines across the midline."""
    e_u = np.array([0.0, np.sin(tilt), np.cos(tilt)])
    e_v = np.array([0.0, np.cos(tilt), -np.sin(tilt)])
    step = 0.25
    s = np.arange(-24.0, 24.0 + step, step)
    heights = []
    for x in (-4.0, -2.0, 0.0, 2.0, 4.0):
        names = _line_labels(anat, centre + x * np.array([1.0, 0, 0]) + v * e_v, e_u, s)
        bone = np.array([n in _BONE for n in names])
        # Fat of the marrow texture bridged (gaps under 3 mm; a disc is 8-10 mm).
        bone = ndimage.binary_closing(bone, structure=np.ones(13, dtype=bool))
        lab, _ = ndimage.label(bone)
        c = lab[np.argmin(np.abs(s - (-4.0)))]  # the run through the lower half of the body
        assert c > 0
        heights.append(float((lab == c).sum()) * step)
    return float(np.mean(heights))


@pytest.mark.parametrize("seed", SEEDS)
def test_fractured_body_loses_anterior_height_as_stated(seed: int | None) -> None:
    base = load_anatomy("spine")
    sick = load_anatomy("spine", "vertebral_fracture", seed)
    f = vertebral_fracture_plan(base, seed)
    assert f.level in ("L1", "L2") and 0.2 <= f.anterior_loss <= 0.4
    c = np.asarray(f.centre_mm)
    # The front wall, and behind the centre (past the hinge of the wedge; the warped back
    # wall is too irregular for a line).
    front, back = -f.half_depth_mm + 1.8, 0.35 * f.half_depth_mm
    ant0, ant1 = _height_mm(base, c, f.tilt_rad, front), _height_mm(sick, c, f.tilt_rad, front)
    post0, post1 = _height_mm(base, c, f.tilt_rad, back), _height_mm(sick, c, f.tilt_rad, back)
    assert 0.7 * f.height_mm < ant0 < 1.4 * f.height_mm  # the healthy body (warped: ±30 %)
    # Anterior height loss relative to the healthy body: the stated fraction within 1.5 mm
    # (endplate discretisation and warp, over a 25 mm body).
    assert 1.0 - ant1 / ant0 == pytest.approx(f.anterior_loss, abs=1.5 / f.height_mm)
    assert post1 == pytest.approx(post0, abs=1.0)  # the posterior wall keeps its height
    # Relative to the neighbours (unchanged), the anterior/posterior (Genant) ratio falls.
    assert ant1 / post1 < (ant0 / post0) * (1.0 - 0.8 * f.anterior_loss)
    changed = sick.labels != base.labels
    z = base.index_to_mm((float(np.argwhere(changed)[:, 0].min()), 0.0, 0.0))[2]
    z_top = base.index_to_mm((float(np.argwhere(changed)[:, 0].max()), 0.0, 0.0))[2]
    below, above = c[2] - f.height_mm / 2 - 2.0, c[2] + f.height_mm / 2 + 6.0
    assert below < z and z_top < above  # the neighbours' bodies are untouched


@pytest.mark.parametrize("seed", SEEDS)
def test_oedema_band_lies_under_the_superior_endplate(seed: int | None) -> None:
    sick = load_anatomy("spine", "vertebral_fracture", seed)
    f = vertebral_fracture_plan(load_anatomy("spine"), seed)
    c, t = np.asarray(f.centre_mm), f.tilt_rad
    e_u = np.array([0.0, np.sin(t), np.cos(t)])
    e_v = np.array([0.0, np.cos(t), -np.sin(t)])
    step = 0.25
    s = np.arange(f.height_mm / 2 + 4.0, -f.height_mm / 2 - 4.0, -step)  # top down
    for v in (-f.half_depth_mm + 3.0, -5.0, 0.0):
        for x in (-6.0, 0.0, 6.0):
            names = _line_labels(sick, c + x * np.array([1.0, 0, 0]) + v * e_v, e_u, s)
            bone = [n in _BONE for n in names]
            first_bone = bone.index(True)
            oed = [i for i, n in enumerate(names) if n == "fracture_oedema"]
            assert oed, (v, x)
            # It starts under the (collapsed) endplate: its cortex and a trabecula or two ...
            assert (oed[0] - first_bone) * step <= 3.5
            # ... and reaches the stated thickness below the endplate (whose cortex, 1-2 mm,
            # trabeculae and impaction line are inside the band) ...
            depth = (oed[-1] - first_bone) * step
            assert depth == pytest.approx(f.oedema_mm + 1.5, abs=3.0)
            # ... and normal marrow remains below it.
            assert "red_marrow" in names[oed[-1] :]


def test_fracture_oedema_bright_on_stir_dark_on_t1() -> None:
    sick = load_anatomy("spine", "vertebral_fracture")
    f = vertebral_fracture_plan(load_anatomy("spine"), None)
    centre = (f.centre_mm[0], 0.0, 0.0)
    ratios = {}
    for name in ("stir_sag", "t1_se_sag"):
        s = _scan_slice(sick, name, "sagittal", centre, matrix_read=256, matrix_phase=256)
        lab, img = s.labels[0], s.images[0]
        oedema = lab == s.names.index("fracture_oedema")
        marrow = lab == s.names.index("red_marrow")
        assert oedema.sum() > 30
        ratios[name] = float(img[oedema].mean() / img[marrow].mean())
    assert ratios["stir_sag"] > 1.5
    assert ratios["t1_se_sag"] < 0.85


# --- meniscal tear ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_meniscal_tear_reaches_the_articular_surface_on_two_sagittal_slices(
    seed: int | None,
) -> None:
    base = load_anatomy("knee")
    sick = load_anatomy("knee", "meniscal_tear", seed)
    cleft = (sick.labels != base.labels) & base.mask("meniscus")
    cleft &= sick.mask("tear_fluid")
    # A cleft voxel at the surface has a face neighbour that is neither meniscus nor cleft.
    outside = ~(base.mask("meniscus"))
    surface = cleft & ndimage.binary_dilation(
        outside, structure=ndimage.generate_binary_structure(3, 1)
    )
    x = np.broadcast_to(_coords(base)[0], base.shape)
    xs = x[cleft]
    edges = np.arange(xs.min(), xs.max() + 3.3, 3.3)  # 3 mm slices, 0.3 mm gap
    reaching = sum(1 for lo in edges if (surface & (x >= lo) & (x < lo + 3.0)).sum() >= 3)
    assert reaching >= 2
    # It lies in the posterior horn of the medial meniscus.
    horn = np.asarray(base.landmarks["medial_meniscus_posterior_horn"])
    y = np.broadcast_to(_coords(base)[1], base.shape)[cleft]
    assert abs(float(np.median(xs)) - horn[0]) < 5.0 and abs(float(np.median(y)) - horn[1]) < 6.0


@pytest.mark.parametrize("orientation", ["sagittal", "coronal"])
def test_meniscal_tear_visible_on_pd_fs_at_default_resolution(orientation: str) -> None:
    base = load_anatomy("knee")
    sick = load_anatomy("knee", "meniscal_tear")
    horn = base.landmarks["medial_meniscus_posterior_horn"]
    centre = (horn[0], 5.0, 0.0) if orientation == "sagittal" else (0.0, horn[1] + 1.0, 0.0)
    s = _scan_slice(sick, "pd_fs", orientation, centre)
    h = _scan_slice(base, "pd_fs", orientation, centre)
    p = preset("knee", "pd_fs")
    assert s.images.shape[1:] == h.images.shape[1:]
    assert max(s.images.shape[1:]) >= min(p.matrix_read, p.matrix_phase)  # default matrix
    meniscus = h.labels[0] == h.names.index("meniscus")
    assert meniscus.sum() > 20
    diff = (s.noiseless[0] - h.noiseless[0])[meniscus]
    tear = diff > 0.5 * float(diff.max())
    assert tear.sum() >= 4  # a line of several pixels, not a dot
    img = s.images[0][meniscus]
    intact = img[diff < 0.05 * float(diff.max())]
    cnr = (img[tear].mean() - intact.mean()) / intact.std()
    assert cnr > 3.0
