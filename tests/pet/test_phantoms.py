"""Phantoms: geometry against the IEC/NEMA drawing, uptake against dose/weight."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.errors import ParameterError
from simulator.pet import make_phantom
from simulator.pet.phantoms import IEC_SPHERES_MM

#: Partial-volume sub-sampling (4³ per voxel) estimates volumes to about 1 % for spheres
#: ≥ 10 mm on a 2-mm grid.
PV_TOLERANCE = 0.03


def test_iec_names_and_nema_background() -> None:
    ph = make_phantom("nema-iec")
    for name in ("background", "lung", *(f"sphere_{d:.0f}" for d in IEC_SPHERES_MM)):
        assert name in ph.names
    bg = ph.activity_bqml[ph.mask("background")]
    assert np.median(bg) == pytest.approx(370e6 / 70e3, rel=1e-6)  # NEMA 5.3 kBq/mL
    assert ph.activity_bqml[ph.mask("lung")].max() <= 0.5 * np.median(bg)  # labels: ≥ half


@pytest.mark.parametrize("ratio", [4.0, 8.0])
def test_iec_sphere_volumes_and_ratio(ratio: float) -> None:
    ph = make_phantom("nema-iec", ratio=ratio)
    bg = ph.bqml_per_suv
    voxel_ml = float(np.prod(ph.voxel_mm)) / 1000.0
    for d in IEC_SPHERES_MM:
        f = ph.features[f"sphere_{d:.0f}"]
        assert f.suv == ratio
        z, y, x = (int(round(c / v)) for c, v in zip(f.centre_mm, ph.voxel_mm, strict=True))
        near = np.zeros(ph.shape, bool)
        r = int(d / 2 / ph.voxel_mm[1]) + 3
        near[z - r : z + r + 1, y - r : y + r + 1, x - r : x + r + 1] = True
        excess = (ph.activity_bqml[near] - bg).sum() / ((ratio - 1) * bg) * voxel_ml
        assert excess == pytest.approx(np.pi / 6 * (d / 10) ** 3, rel=PV_TOLERANCE)


def test_iec_spheres_on_the_ring_in_one_plane() -> None:
    ph = make_phantom("nema-iec")
    lung = ph.features["lung"].centre_mm
    for d in IEC_SPHERES_MM:
        c = ph.features[f"sphere_{d:.0f}"].centre_mm
        assert c[0] == lung[0]
        assert np.hypot(c[1] - lung[1], c[2] - lung[2]) == pytest.approx(57.2)


def test_cold_variant_empties_the_two_largest() -> None:
    ph = make_phantom("nema-iec", cold_spheres=True)
    for d, cold in zip(IEC_SPHERES_MM, (False,) * 4 + (True,) * 2, strict=True):
        core = ph.activity_bqml[ph.mask(f"sphere_{d:.0f}")].min()
        assert (core < 0.6 * ph.bqml_per_suv) == cold


def test_uptake_scales_as_dose_over_weight() -> None:
    ph = make_phantom("torso")
    other = ph.with_dose(ph.activity_mbq * 2, ph.weight_kg * 4)
    np.testing.assert_allclose(other.activity_bqml, ph.activity_bqml * 0.5, rtol=1e-6)
    assert other.mu_per_cm is ph.mu_per_cm
    assert not other.activity_bqml.flags.writeable


def test_torso_organs_lesions_and_suv() -> None:
    ph = make_phantom("torso")
    suv = ph.activity_bqml / ph.bqml_per_suv
    liver = np.median(suv[ph.mask("liver")])
    assert 2.0 <= liver <= 2.5
    assert np.median(suv[ph.mask("myocardium")]) > 2 * liver
    assert np.median(suv[ph.mask("lung")]) < 0.5 * liver
    assert np.median(ph.mu_per_cm[ph.mask("lung")]) < 0.05
    assert np.median(ph.mu_per_cm[ph.mask("spine")]) > 0.096
    sizes = sorted(f.diameter_mm for f in ph.features.values() if f.kind == "lesion")
    assert sizes[0] <= 6 and sizes[-1] >= 20
    for name, f in ph.features.items():
        if f.kind == "lesion":
            assert ph.mask(name).any() or f.diameter_mm < 2 * ph.voxel_mm[0]


def test_brain_grey_white_contrast() -> None:
    ph = make_phantom("brain")
    gm = np.median(ph.activity_bqml[ph.mask("gray_matter")])
    wm = np.median(ph.activity_bqml[ph.mask("white_matter")])
    assert gm / wm == pytest.approx(4.0, rel=0.25)  # block averaging mixes tissues
    assert np.median(ph.activity_bqml[ph.mask("csf")]) < 0.5 * wm
    assert ph.voxel_mm[1] == ph.voxel_mm[2]


def test_unknown_phantom_and_bad_ratio_are_refused() -> None:
    with pytest.raises(ParameterError, match="nema-iec"):
        make_phantom("jaszczak")
    with pytest.raises(ParameterError, match="1–20"):
        make_phantom("nema-iec", ratio=0.5)
