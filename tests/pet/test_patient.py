"""The whole-body patient: anatomy, literature uptake, lesions, weight and height."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.errors import ParameterError
from simulator.pet import make_phantom
from simulator.pet.patient import lean_body_mass_kg, patient_phantom

ORGANS = (
    "brain_gray", "brain_white", "liver", "spleen", "kidney", "bladder", "myocardium",
    "blood_pool", "lung", "bowel", "muscle", "marrow", "fat", "bone",
)


@pytest.fixture(scope="module")
def patient():
    return make_phantom("patient")


def _suv(ph, name: str) -> float:
    return float(np.median(ph.activity_bqml[ph.mask(name)]) / ph.bqml_per_suv)


def test_skull_to_mid_thigh_with_every_organ(patient) -> None:
    assert set(ORGANS) <= set(patient.names)
    length_mm = patient.shape[0] * patient.voxel_mm[0]
    assert 0.54 * 1750 <= length_mm <= 0.60 * 1750  # vertex to mid-thigh of a 175-cm adult
    z_of = {n: np.argwhere(patient.mask(n))[:, 0].mean() for n in ("brain_gray", "lung",
                                                                    "liver", "bladder")}
    assert z_of["brain_gray"] > z_of["lung"] > z_of["liver"] > z_of["bladder"]  # top = head
    assert patient.activity_bqml.nbytes + patient.mu_per_cm.nbytes < 40e6  # compact


def test_uptake_is_the_literature_s(patient) -> None:
    """SUVbw 60 min p.i. (Paquet 2004, Boellaard 2015): typed here as ranges."""
    ranges = {
        "liver": (2.0, 2.5), "spleen": (1.5, 2.3), "blood_pool": (1.4, 2.0),
        "muscle": (0.5, 1.0), "lung": (0.3, 0.7), "fat": (0.2, 0.5), "marrow": (1.0, 2.0),
        "brain_gray": (6.0, 12.0), "bladder": (10.0, 60.0),
    }
    for organ, (lo, hi) in ranges.items():
        assert lo <= _suv(patient, organ) <= hi, organ
    assert _suv(patient, "brain_gray") / _suv(patient, "brain_white") >= 3.0


def test_attenuation_follows_the_labels(patient) -> None:
    mu = {n: float(np.median(patient.mu_per_cm[patient.mask(n)])) for n in ("lung", "liver",
                                                                             "bone", "fat")}
    assert mu["lung"] < 0.04 < mu["fat"] < mu["liver"] < mu["bone"]


def test_lesions_have_the_size_and_suv_asked(patient) -> None:
    ph = patient_phantom(lesions={"liver": (20.0, 8.0), "bone": (10.0, 4.0)})
    assert {"lesion_liver_20", "lesion_bone_10"} <= set(ph.features)
    assert not any(n.startswith("lesion_lung") for n in ph.names)
    voxel_ml = np.prod(ph.voxel_mm) / 1000.0
    vol_ml = ph.mask("lesion_liver_20").sum() * voxel_ml
    assert vol_ml == pytest.approx(np.pi / 6 * 2.0**3, rel=0.25)
    peak = ph.activity_bqml[ph.mask("lesion_liver_20")].max() / ph.bqml_per_suv
    assert peak == pytest.approx(8.0, rel=0.02)
    with pytest.raises(ParameterError, match="lung, liver, node, bone"):
        patient_phantom(lesions={"brain": (10.0, 5.0)})
    with pytest.raises(ParameterError):
        patient_phantom(lesions={"lung": (80.0, 5.0)})


def test_heavier_patient_attenuates_more_and_raises_lean_suvbw(patient) -> None:
    heavy = make_phantom("patient", weight_kg=110.0)
    # girth: wider body, longer paths in tissue at the liver
    def width_mm(ph):
        k = int(ph.features["liver"].centre_mm[0] / ph.voxel_mm[0])
        return (ph.mu_per_cm[k].max(axis=0) > 0.05).sum() * ph.voxel_mm[2]

    assert width_mm(heavy) > 1.15 * width_mm(patient)
    # SUL constant: SUVbw of lean organs scales as W/LBM; fat keeps its SUVbw
    expected = (110.0 / lean_body_mass_kg(110.0, 175.0)) / (70.0 / lean_body_mass_kg(70.0, 175.0))
    assert _suv(heavy, "liver") / _suv(patient, "liver") == pytest.approx(expected, rel=0.01)
    assert _suv(heavy, "fat") == pytest.approx(_suv(patient, "fat"), rel=0.01)


def test_janmahasatian_lbm_reference_values() -> None:
    """LBM of a 70-kg, 175-cm man ≈ 55 kg (Janmahasatian 2005, Table)."""
    assert lean_body_mass_kg(70.0, 175.0) == pytest.approx(55.2, abs=1.0)


def test_out_of_range_body_is_refused() -> None:
    with pytest.raises(ParameterError, match="30–150 kg"):
        make_phantom("patient", weight_kg=200.0)
    with pytest.raises(ParameterError, match="140–210 cm"):
        make_phantom("patient", height_cm=120.0)
