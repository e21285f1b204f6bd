"""The data seam: findings round-trip, refuse bad values, and carry three languages."""

from __future__ import annotations

import json

import pytest

from simulator.findings import FINDING_LABELS, Decision, Finding, finding_text


def _finding(**kw):
    base = dict(
        label="ms_lesion",
        slice_index=11,
        centre_rc=(120.5, 88.0),
        extent_px=(4.0, 3.5),
        confidence=0.83,
        text=finding_text("ms_lesion", 11, 6.2),
        id="F1",
        n_slices=2,
        measure={"diameter_mm": 6.2},
    )
    base.update(kw)
    return Finding(**base)


def test_to_dict_from_dict_round_trip_through_json():
    f = _finding()
    back = Finding.from_dict(json.loads(json.dumps(f.to_dict())))
    assert back == f


def test_round_trip_without_measure():
    f = _finding(measure=None, n_slices=1)
    assert Finding.from_dict(f.to_dict()) == f


def test_texts_in_three_languages_name_size_and_slice_from_one():
    t = finding_text("ms_lesion", 11, 6.2)
    assert t["fr"] == "Lésion hyperintense de la substance blanche, 6 mm, coupe 12"
    assert t["en"].endswith("6 mm, slice 12")
    assert t["de"].endswith("6 mm, Schicht 12")
    pet = finding_text("pet_hot_lesion", 0, 12.0, suv_max=6.14, side="left")
    assert "SUVmax 6,1" in pet["fr"] and "SUVmax 6.1" in pet["en"] and "links" in pet["de"]


@pytest.mark.parametrize("label", FINDING_LABELS)
def test_every_label_has_a_text_in_each_language(label):
    t = finding_text(label, 0, 10.0)
    assert set(t) == {"fr", "en", "de"} and len(set(t.values())) == 3


def test_bad_values_are_refused():
    with pytest.raises(ValueError, match="label"):
        _finding(label="wart")
    with pytest.raises(ValueError, match="confidence"):
        _finding(confidence=1.5)
    with pytest.raises(ValueError, match="add"):
        Decision("add", "T1")
