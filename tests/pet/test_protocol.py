"""PET protocol: refusals name the allowed range, warnings follow the guidelines, derived laws."""

from __future__ import annotations

import dataclasses
import math

import pytest

from simulator.errors import ParameterError
from simulator.pet import TRACERS, PETProtocol, check_protocol, derive


def test_default_protocol_is_valid_and_quiet() -> None:
    assert check_protocol(PETProtocol()) == ()


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("activity_mbq", 0.0, "800"),
        ("activity_mbq", 900.0, "800"),
        ("activity_mbq", float("nan"), "800"),
        ("weight_kg", 1.0, "250"),
        ("minutes_per_bed", 0.0, "30"),
        ("beds", 0, "1–12"),
        ("beds", 2.5, "1–12"),
        ("tof_ps", 50.0, "150"),
        ("recon", "art", "osem"),
        ("iterations", 0, "1–100"),
        ("subsets", 5, "21"),
        ("postfilter_mm", -1.0, "20"),
        ("matrix", 300, "256"),
        ("tracer", "C11-choline", "F18-FDG"),
        ("attenuation_correction", "yes", "true"),
    ],
)
def test_bad_values_raise_with_allowed_range(name: str, value: object, allowed: str) -> None:
    with pytest.raises(ParameterError) as err:
        check_protocol(dataclasses.replace(PETProtocol(), **{name: value}))
    assert err.value.name == name
    assert allowed in str(err.value)
    assert allowed in err.value.message("fr")


def test_subsets_must_divide_the_angles() -> None:
    for s in (1, 7, 21, 28):
        check_protocol(dataclasses.replace(PETProtocol(), subsets=s))
    with pytest.raises(ParameterError, match="divide"):
        check_protocol(dataclasses.replace(PETProtocol(), subsets=20))


def test_low_activity_warns_with_the_eanm_figure() -> None:
    p = dataclasses.replace(PETProtocol(), activity_mbq=100.0, weight_kg=80.0, minutes_per_bed=2.0)
    (w,) = check_protocol(p)
    assert "EANM" in w and "280" in w  # 7 MBq·min/kg × 80 kg / 2 min


def test_eanm_activity_scales_with_weight_over_time() -> None:
    a = derive(PETProtocol(weight_kg=70.0, minutes_per_bed=2.0)).eanm_activity_mbq
    b = derive(PETProtocol(weight_kg=140.0, minutes_per_bed=4.0)).eanm_activity_mbq
    assert a == pytest.approx(b, rel=1e-12)


def test_fdg_half_life_from_the_standard() -> None:
    t = TRACERS["F18-FDG"]
    assert t.half_life_s / 60.0 == pytest.approx(109.77, abs=0.01)
    one_half_life = derive(PETProtocol(uptake_min=t.half_life_s / 60.0))
    assert one_half_life.decay_to_scan == pytest.approx(0.5, rel=1e-12)


def test_counts_scale_with_activity_and_time_and_dose_with_activity() -> None:
    # the ideal linear scanner (count losses: tests/pet/test_countrate.py)
    base = derive(PETProtocol(activity_mbq=200.0, minutes_per_bed=2.0, count_losses=False))
    more = derive(PETProtocol(activity_mbq=400.0, minutes_per_bed=2.0, count_losses=False))
    assert more.expected_trues == pytest.approx(2 * base.expected_trues, rel=1e-12)
    assert more.effective_dose_msv == pytest.approx(2 * base.effective_dose_msv, rel=1e-12)
    longer = derive(PETProtocol(activity_mbq=200.0, minutes_per_bed=4.0, count_losses=False))
    # twice the time, less the extra decay during the longer frame
    ratio = longer.expected_trues / base.expected_trues
    assert ratio == pytest.approx(
        2 * longer.frame_decay_factor / base.frame_decay_factor, rel=1e-12
    )
    assert 1.95 < ratio < 2.0


def test_patient_bed_has_believable_counts() -> None:
    """A 70-kg patient, 3.5 MBq/kg, 2 min: tens of millions of prompts, NEC ~10 M (mCT)."""
    d = derive(PETProtocol(activity_mbq=245.0, weight_kg=70.0, minutes_per_bed=2.0))
    assert 1e7 < d.expected_prompts < 1e8
    assert 5e6 < d.expected_nec < 2e7
    assert d.effective_dose_msv == pytest.approx(0.019 * 245.0)
    assert math.isclose(d.scan_time_s, 120.0)


def test_excess_activity_and_long_exams_warn() -> None:
    p = PETProtocol(activity_mbq=600.0, weight_kg=70.0, minutes_per_bed=2.0)  # EANM 245 MBq
    assert any("ALARA" in w for w in check_protocol(p))
    long = PETProtocol(activity_mbq=100.0, minutes_per_bed=5.0, beds=8)
    assert any("still" in w for w in check_protocol(long))
    assert not any("ALARA" in w or "still" in w for w in check_protocol(PETProtocol()))
