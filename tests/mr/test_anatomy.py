"""Invariants of the anatomy label volumes and their pathologies."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.errors import ParameterError
from simulator.mr.anatomy import ANATOMIES, PATHOLOGIES, Anatomy, load_anatomy
from simulator.mr.tissues import FIELDS_T, tissue_table

CASES = [(a, None) for a in ANATOMIES] + [(a, p) for a in ANATOMIES for p in PATHOLOGIES[a]]
# Tissues each pathology may add or write.
WRITES = {
    "ms_lesions": {"lesion_ms"},
    "tumour": {"tumour", "oedema"},
    "bone_marrow_oedema": {"marrow_oedema"},
    "meniscal_tear": {"tear_fluid", "effusion"},
    "disc_herniation": {"herniation", "herniated_nucleus"},
    "acl_tear": {"synovial_fluid", "oedema", "ligament", "fat", "marrow_oedema"},
    "vertebral_fracture": {"disc", "bone_cortex", "fracture_oedema"},
}
# Healthy tissues each pathology may replace.
REPLACES = {
    "ms_lesions": {"white_matter"},
    "tumour": {"white_matter", "gray_matter", "csf"},
    "bone_marrow_oedema": {"bone_marrow"},
    "meniscal_tear": {"meniscus", "fat", "synovial_fluid"},
    "disc_herniation": {"fat", "csf", "nerve", "disc"},
    "acl_tear": {"ligament", "fat", "synovial_fluid", "bone_marrow"},
    "vertebral_fracture": {"bone_cortex", "red_marrow"},
}
# A lesion stays within a few centimetres: bounding box edge of the changed voxels (mm).
MAX_LESION_EXTENT_MM = 100.0


@pytest.mark.parametrize(("name", "pathology"), CASES)
def test_labels_are_named_and_known_to_the_tissue_tables(name: str, pathology: str) -> None:
    a = load_anatomy(name, pathology)
    assert a.labels.dtype == np.uint8 and a.labels.ndim == 3
    assert a.names[0] == "air"
    assert int(a.labels.max()) < len(a.names)
    assert len(set(a.names)) == len(a.names)
    for field_t in FIELDS_T:
        assert set(a.names) <= set(tissue_table(field_t))
    assert max(a.voxel_mm) <= 1.0
    assert not a.labels.flags.writeable
    with pytest.raises(ValueError):
        a.labels[0, 0, 0] = 1


@pytest.mark.parametrize("name", ANATOMIES)
def test_geometry_helpers_agree(name: str) -> None:
    a = load_anatomy(name)
    nz, ny, nx = a.labels.shape
    ext = a.extent_mm()
    assert ext == pytest.approx((nx * a.voxel_mm[2], ny * a.voxel_mm[1], nz * a.voxel_mm[0]))
    centre = a.center_mm()
    idx = a.mm_to_index(centre)
    assert idx == pytest.approx(((nz - 1) / 2, (ny - 1) / 2, (nx - 1) / 2))
    assert a.index_to_mm(idx) == pytest.approx(centre)
    for point in a.landmarks.values():  # landmarks lie inside the volume, in the body
        k, j, i = (int(round(c)) for c in a.mm_to_index(point))
        assert 0 <= k < nz and 0 <= j < ny and 0 <= i < nx
        assert a.labels[k, j, i] != 0


def test_brain_tissue_volumes_are_physiological() -> None:
    # Young adults: GM ~ 600–800 mL, WM ~ 400–600 mL, intracranial ~1.2–1.7 L
    # (Good CD et al., NeuroImage 2001;14:21-36; Buckner RL et al., NeuroImage 2004).
    a = load_anatomy("brain")
    gm, wm, csf = (a.volume_ml(n) for n in ("gray_matter", "white_matter", "csf"))
    assert 500 <= gm <= 800
    assert 400 <= wm <= 600
    assert 1200 <= gm + wm + csf <= 1700
    assert gm > wm


def test_brain_is_oriented_lps() -> None:
    a = load_anatomy("brain")
    # Eyes are anterior (-y) and below the brain's centre; the vertex is up (+z).
    k, j, i = np.nonzero(a.mask("vitreous"))
    eyes = a.index_to_mm((k.mean(), j.mean(), i.mean()))
    k, j, i = np.nonzero(a.mask("white_matter"))
    wm = a.index_to_mm((k.mean(), j.mean(), i.mean()))
    assert eyes[1] < wm[1] - 30 and eyes[2] < wm[2]
    assert a.landmarks["pc"][1] > a.landmarks["ac"][1]  # PC is posterior to AC
    # Template-derived check: the cerebellum (lowest grey matter above the neck) lies behind
    # the commissures; the frontal lobes reach further forward than the occipital poles.
    gm = a.mask("gray_matter")
    k = np.nonzero(gm.any(axis=(1, 2)))[0]
    low = np.zeros_like(gm)
    low[k.min() : k.min() + 20] = gm[k.min() : k.min() + 20]
    assert _centroid_mm(a, low)[1] > a.landmarks["ac"][1] + 30
    j = np.nonzero(gm.any(axis=(0, 2)))[0]
    front, back = a.index_to_mm((0, j.min(), 0))[1], a.index_to_mm((0, j.max(), 0))[1]
    assert abs(front - a.landmarks["ac"][1]) > 50 and abs(back - a.landmarks["ac"][1]) > 80


def test_knee_and_spine_structures() -> None:
    knee = load_anatomy("knee")
    for tissue in ("cartilage", "meniscus", "ligament", "tendon", "bone_marrow", "fat"):
        assert knee.mask(tissue).any(), tissue
    spine = load_anatomy("spine")
    for tissue in ("disc", "nucleus", "spinal_cord", "csf", "red_marrow", "nerve", "fat"):
        assert spine.mask(tissue).any(), tissue
    # The cord ends (conus) above the L3 body; the CSF sac continues below it.
    k_cord = np.nonzero(spine.mask("spinal_cord").any(axis=(1, 2)))[0]
    z_cord_end = spine.index_to_mm((k_cord.min(), 0, 0))[2]
    assert z_cord_end > spine.landmarks["l3_centre"][2]
    k_csf = np.nonzero(spine.mask("csf").any(axis=(1, 2)))[0]
    assert spine.index_to_mm((k_csf.min(), 0, 0))[2] < spine.landmarks["l4_l5_disc"][2]


@pytest.mark.parametrize(("name", "pathology"), [c for c in CASES if c[1] is not None])
def test_pathology_is_bounded_and_adds_its_tissue(name: str, pathology: str) -> None:
    base = load_anatomy(name)
    sick = load_anatomy(name, pathology)
    assert sick.pathology == pathology and base.pathology is None
    assert sick.labels.shape == base.labels.shape
    assert sick.names[: len(base.names)] == base.names
    changed = sick.labels != base.labels
    assert changed.any()
    written = {sick.names[i] for i in np.unique(sick.labels[changed])}
    assert written <= WRITES[pathology]
    replaced = {base.names[i] for i in np.unique(base.labels[changed])}
    assert replaced <= REPLACES[pathology]
    for tissue in WRITES[pathology]:
        assert sick.mask(tissue).any()
    idx = np.argwhere(changed)
    span_mm = (idx.max(axis=0) - idx.min(axis=0) + 1) * np.asarray(base.voxel_mm)
    assert span_mm.max() <= MAX_LESION_EXTENT_MM
    assert changed.mean() < 0.01


@pytest.mark.parametrize(("name", "pathology"), [c for c in CASES if c[1] is not None])
def test_placement_seed(name: str, pathology: str) -> None:
    load_anatomy.cache_clear()
    canonical = load_anatomy(name, pathology)
    load_anatomy.cache_clear()
    again = load_anatomy(name, pathology)
    assert np.array_equal(canonical.labels, again.labels)  # canonical is deterministic
    seeded = load_anatomy(name, pathology, placement_seed=3)
    assert not np.array_equal(seeded.labels, canonical.labels)
    load_anatomy.cache_clear()
    assert np.array_equal(seeded.labels, load_anatomy(name, pathology, 3).labels)


def test_cache_returns_same_object() -> None:
    assert load_anatomy("knee") is load_anatomy("knee")
    assert load_anatomy("knee", "none") is load_anatomy("knee")


@pytest.mark.parametrize(
    ("name", "pathology", "param"),
    [
        ("liver", None, "anatomy"),
        ("brain", "meniscal_tear", "pathology"),
        ("spine", "bogus", "pathology"),
    ],
)
def test_bad_names_raise_with_allowed_list(name: str, pathology: str, param: str) -> None:
    with pytest.raises(ParameterError) as err:
        load_anatomy(name, pathology)
    assert err.value.name == param
    allowed = ANATOMIES if param == "anatomy" else PATHOLOGIES[name]
    for option in allowed:
        assert option in err.value.allowed


def test_mask_of_unknown_tissue_raises() -> None:
    a = load_anatomy("knee")
    assert not a.mask("white_matter").any()  # a table tissue absent from the knee
    with pytest.raises(ParameterError):
        a.mask("unobtainium")


def test_anatomy_validates() -> None:
    with pytest.raises(ValueError):
        Anatomy("x", np.zeros((2, 2, 2), np.uint8), (1.0, 1.0, 1.0), ("fat",), (0, 0, 0))
    with pytest.raises(ValueError):
        Anatomy("x", np.full((2, 2, 2), 3, np.uint8), (1.0, 1.0, 1.0), ("air",), (0, 0, 0))


def _centroid_mm(a: Anatomy, mask: np.ndarray) -> np.ndarray:
    k, j, i = np.nonzero(mask)
    return np.asarray(a.index_to_mm((k.mean(), j.mean(), i.mean())))


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_meniscal_tear_cleaves_the_medial_posterior_horn(seed: int | None) -> None:
    base = load_anatomy("knee")
    sick = load_anatomy("knee", "meniscal_tear", seed)
    cleft = (base.labels == base.label("meniscus")) & (sick.labels != base.labels)
    assert cleft.sum() >= 10
    x, y, _ = _centroid_mm(base, cleft)
    centre = base.landmarks["joint_line_centre"]
    assert x > centre[0] + 10  # medial (+x for a right knee)
    assert y > centre[1] + 5  # posterior horn
    assert sick.mask("effusion").sum() * np.prod(sick.voxel_mm) > 2000  # > 2 mL of fluid


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_disc_herniation_protrudes_into_the_canal(seed: int | None) -> None:
    base = load_anatomy("spine")
    sick = load_anatomy("spine", "disc_herniation", seed)
    changed = sick.labels != base.labels
    into_canal = changed & np.isin(base.labels, [base.label("csf"), base.label("fat")])
    assert into_canal.sum() > 50
    x, y, z = _centroid_mm(base, changed)
    discs = [base.landmarks[k] for k in ("l3_l4_disc", "l4_l5_disc", "l5_s1_disc")]
    nearest = min(discs, key=lambda d: abs(d[2] - z))
    assert abs(nearest[2] - z) < 8.0  # at a disc level
    assert y > nearest[1] + 10.0  # behind the disc, in the canal


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_brain_lesions_sit_in_the_brain(seed: int | None) -> None:
    base = load_anatomy("brain")
    for pathology in PATHOLOGIES["brain"]:
        sick = load_anatomy("brain", pathology, seed)
        changed = sick.labels != base.labels
        parenchyma = base.mask("white_matter") | base.mask("gray_matter")
        assert parenchyma[changed].mean() > 0.9
    tumour = load_anatomy("brain", "tumour", seed)
    # Oedema surrounds the tumour: its centroid is close to the tumour's.
    assert (
        np.linalg.norm(
            _centroid_mm(tumour, tumour.mask("oedema"))
            - _centroid_mm(tumour, tumour.mask("tumour"))
        )
        < 15.0
    )


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_bad_placement_seed_raises(seed: object) -> None:
    with pytest.raises(ParameterError) as err:
        load_anatomy("knee", "meniscal_tear", seed)  # type: ignore[arg-type]
    assert err.value.name == "placement_seed"


@pytest.mark.slow
def test_shipped_knee_matches_its_generator() -> None:
    # The procedural volumes are deterministic: the shipped data is not stale.
    from simulator.mr._anatomy_knee import build_knee
    from simulator.mr._anatomy_texture import refine_named

    built = refine_named("knee", build_knee())
    shipped = load_anatomy("knee")
    assert tuple(built["names"]) == shipped.names  # type: ignore[arg-type]
    assert np.array_equal(built["labels"], shipped.labels)  # type: ignore[arg-type]
    assert tuple(built["origin_mm"]) == pytest.approx(shipped.origin_mm)  # type: ignore[arg-type]
