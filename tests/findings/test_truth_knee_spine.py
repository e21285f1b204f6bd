"""Ground truth of the knee and spine findings: what the pathology painters put there.

The disc herniation's level and side come from the painter's own plan
(:func:`simulator.mr._pathology.disc_herniation_plan`), not from the truth code; the
vertebral fracture's level from :func:`vertebral_fracture_plan`. The tissues the painters
name apart (herniation, tear_fluid, fracture_oedema) are the truth's masks, so the truth
holds exactly the painted voxels of the image grid and nothing of the healthy disc or fluid.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulator.findings import truth
from simulator.findings._place import level_text
from simulator.mr import load_anatomy, preset, scan
from simulator.mr._pathology import disc_herniation_plan, vertebral_fracture_plan
from simulator.mr.geometry import default_geometry


def _scan(anatomy, pathology, seed, name):
    a = load_anatomy(anatomy, pathology, seed)
    p = preset(anatomy, name)
    geo = dataclasses.replace(default_geometry(a, p), orientation=p.orientation)
    return scan(a, p, geo, rng=None)


@pytest.mark.parametrize("seed", [None, 2, 3])
def test_disc_herniation_truth_names_the_painted_level_and_side(seed):
    s = _scan("spine", "disc_herniation", seed, "t2_tse_sag")
    plan = disc_herniation_plan(load_anatomy("spine"), seed)
    t = [f for f in truth(s) if f.label == "disc_herniation"]
    assert len(t) == 1
    side = "left" if plan.centre_mm[0] > 4 else "right" if plan.centre_mm[0] < -4 else "midline"
    lev = level_text(plan.level)
    for lang, word in (("en", {"left": "patient's left", "right": "patient's right",
                               "midline": "midline"}[side]),
                       ("fr", {"left": "à gauche", "right": "à droite", "midline": "médian"}[side])):
        assert lev in t[0].text[lang] and t[0].text[lang].endswith(word), t[0].text
    # the truth is the fragment only: the healthy discs are no finding
    assert np.isin(s.labels, [s.names.index("disc")]).sum() > 20 * t[0].measure["diameter_mm"]


def test_a_healthy_spine_and_knee_have_no_truth():
    assert truth(_scan("spine", None, None, "t2_tse_sag")) == ()
    assert truth(_scan("knee", None, None, "pd_fs")) == ()


@pytest.mark.parametrize("seed", [None, 1])
def test_fracture_oedema_truth_is_at_the_fractured_body(seed):
    s = _scan("spine", "vertebral_fracture", seed, "t1_se_sag")
    level = vertebral_fracture_plan(load_anatomy("spine"), seed).level
    t = [f for f in truth(s) if f.label == "bone_marrow_oedema"]
    assert len(t) == 1 and f"oedema {level}," in t[0].text["en"], t


@pytest.mark.parametrize("name", ["pd_fs", "t1", "t2_fs"])
def test_meniscal_tear_is_one_finding_on_every_plane(name):
    """The 1.6 mm oblique cleft steps between 3 mm slices; it is still one tear."""
    s = _scan("knee", "meniscal_tear", None, name)
    t = truth(s)
    assert [f.label for f in t] == ["meniscal_tear"]
    cleft = s.labels == s.names.index("tear_fluid")
    z0 = t[0].slice_index
    assert cleft[z0].any() and t[0].n_slices >= 1


def test_knee_marrow_oedema_truth_covers_the_painted_oedema():
    s = _scan("knee", "bone_marrow_oedema", None, "t1")
    t = truth(s)
    assert [f.label for f in t] == ["bone_marrow_oedema"]
    oed = s.labels == s.names.index("marrow_oedema")
    zs = np.nonzero(oed.any(axis=(1, 2)))[0]
    assert t[0].n_slices == zs.max() - zs.min() + 1
