"""The PET console's worklist wiring without a server: unchanged when none is configured,
one line when the worklist is unreachable, and what admitting a worklist patient sets."""

from __future__ import annotations

import dataclasses

import pytest

#: EANM FDG guideline (Boellaard et al., EJNMMI 2015): A ≈ 7 MBq·min·bed⁻¹·kg⁻¹ × weight.
EANM_MBQ_MIN_PER_KG = 7.0


def test_pet_console_without_worklist_is_unchanged(monkeypatch) -> None:
    monkeypatch.delenv("MERM_WORKLIST", raising=False)
    monkeypatch.delenv("MERM_PACS", raising=False)
    from simulator.console.pet_console import PETConsole

    c = PETConsole(lang="en")
    assert not hasattr(c, "worklist") and not hasattr(c, "pacs")
    assert c.session.patient is None and c.patient.card.value == ""
    assert c.session.anatomy_name == "nema-iec"


def test_pet_console_with_unreachable_worklist_says_one_line(monkeypatch) -> None:
    monkeypatch.setenv("MERM_WORKLIST", "WL@127.0.0.1:1")
    monkeypatch.delenv("MERM_PACS", raising=False)
    from simulator.console.pet_console import PETConsole

    c = PETConsole(lang="fr")
    assert c.worklist.widget is c.tabs.children[0].children[0]
    assert c.worklist.refresh() == []
    assert "injoignable" in c.worklist.status.value
    assert "Traceback" not in c.worklist.status.value


@pytest.mark.parametrize("weight_kg", [48.0, 95.0])
def test_admitting_a_patient_sets_weight_and_eanm_activity(monkeypatch, weight_kg) -> None:
    monkeypatch.delenv("MERM_WORKLIST", raising=False)
    monkeypatch.delenv("MERM_PACS", raising=False)
    from simulator.console.patient import SCENARIOS
    from simulator.console.pet_console import PETConsole

    c = PETConsole(lang="en")
    p = dataclasses.replace(SCENARIOS["ms"], weight_kg=weight_kg)
    c.patient.admit_patient(p)
    proto = c.session.protocol
    assert c.session.patient is p and proto.weight_kg == weight_kg
    assert c.session.anatomy_name == "brain"  # the scenario's region, as a PET phantom
    assert proto.activity_mbq == pytest.approx(
        EANM_MBQ_MIN_PER_KG * weight_kg / proto.minutes_per_bed, abs=0.5
    )
    assert f"{weight_kg:g} kg" in c.patient.card.value
    c.L.switch("de")
    assert "Gewicht" in c.patient.card.value


def test_a_weight_out_of_range_is_refused_with_a_message(monkeypatch) -> None:
    monkeypatch.delenv("MERM_WORKLIST", raising=False)
    monkeypatch.delenv("MERM_PACS", raising=False)
    from simulator.console.patient import SCENARIOS
    from simulator.console.pet_console import PETConsole

    c = PETConsole(lang="en")
    before = c.session.protocol
    c.patient.admit_patient(dataclasses.replace(SCENARIOS["knee"], weight_kg=400.0))
    assert c.session.protocol.weight_kg == before.weight_kg
    assert c.session.protocol.activity_mbq == before.activity_mbq
    assert "weight" in c.shell.message.value.lower() and "250" in c.shell.message.value
    assert c.session.anatomy_name == "nema-iec"  # a knee is no PET phantom: kept


def test_a_pet_worklist_entry_brings_its_scenario_patient_with_the_indication_in_french() -> None:
    import datetime as dt

    from simulator.console.hospital_panel import patient_for_procedure
    from simulator.hospital.worklist import procedure_for_scenario

    sp = procedure_for_scenario("lung_nodule", dt.datetime(2026, 12, 2, 9, 0), modality="PT")
    p = patient_for_procedure(sp)
    assert p.anatomy == "patient" and p.weight_kg == 58.0
    assert "Nodule pulmonaire" in p.indication("fr") and "Lungenrundherd" in p.indication("de")


def test_a_whole_body_entry_plans_the_beds_down_to_the_end_of_the_body(monkeypatch) -> None:
    import dataclasses as dc
    import datetime as dt

    monkeypatch.delenv("MERM_WORKLIST", raising=False)
    monkeypatch.delenv("MERM_PACS", raising=False)
    from simulator.console.hospital_panel import patient_for_procedure
    from simulator.console.pet_console import PETConsole
    from simulator.hospital.worklist import procedure_for_scenario
    from simulator.pet import wholebody

    c = PETConsole(lang="fr")
    sp = procedure_for_scenario("lung_nodule", dt.datetime(2026, 12, 2, 9, 0), modality="PT")
    c.patient.admit_patient(patient_for_procedure(sp))
    s = c.session
    assert s.anatomy_name == "patient" and s.protocol.beds > 1
    ph = s.anatomy
    length_mm = ph.shape[0] * ph.voxel_mm[0]
    planned = wholebody.planned_beds_mm(ph, s.protocol)
    assert planned[-1][1] >= length_mm - ph.voxel_mm[0]  # the last bed reaches the end
    one_less = wholebody.planned_beds_mm(ph, dc.replace(s.protocol, beds=s.protocol.beds - 1))
    assert one_less[-1][1] < length_mm - ph.voxel_mm[0]  # and no bed is spare
