"""The PET console's patient step against a real Orthanc worklist: C-FIND for PT lists the
PET procedures only, and choosing one admits the patient with the weight and dose it brings."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from simulator.hospital.exam import exam_for
from simulator.hospital.worklist import procedure_for_scenario, write_worklist_files

pytestmark = [pytest.mark.orthanc, pytest.mark.slow]

#: EANM procedure guideline for FDG PET/CT (Boellaard et al., EJNMMI 2015, v2.0): about
#: 7 MBq·min·bed⁻¹·kg⁻¹ for bed overlaps up to 30 %, i.e. A = 7 · weight / (min per bed).
EANM_MBQ_MIN_PER_KG = 7.0


def _pet_entry(start: dt.datetime):  # noqa: ANN202
    """A whole-body FDG PET procedure for a patient who is no lab scenario (82 kg)."""
    base = procedure_for_scenario("ms", start + dt.timedelta(hours=1))  # its own Study UID
    return dataclasses.replace(
        base,
        patient_name="SIMULATION^Paul_Moreau",
        patient_id="PET-0001",
        sex="M",
        weight_kg=82.0,
        accession_number="PT2603020001",
        procedure_description="PET FDG whole body",
        step_description="PET FDG whole body - protocol patient",
        modality="PT",
        protocol="patient",
        reason="Lymphoma staging",
    )


def test_pet_console_lists_pt_entries_and_admits_the_one_chosen(orthanc, monkeypatch) -> None:
    start = dt.datetime(2026, 3, 2, 8, 0)
    mr_entry, pet_entry = procedure_for_scenario("ms", start), _pet_entry(start)
    write_worklist_files([mr_entry, pet_entry], orthanc.worklists)
    monkeypatch.setenv("MERM_WORKLIST", orthanc.address)
    monkeypatch.delenv("MERM_PACS", raising=False)
    from simulator.console.pet_console import PETConsole

    c = PETConsole(lang="fr")
    picker = c.worklist
    assert picker.widget in c.tabs.children[0].children  # in the patient/injection step
    listed = picker.refresh()
    assert [sp.accession_number for sp in listed] == [pet_entry.accession_number]
    assert listed[0].modality == "PT" and listed[0].weight_kg == 82.0
    assert "1 procédure(s)" in picker.status.value
    assert c.patient.card.value == ""  # nobody admitted yet: the console as it was
    picker.dropdown.value = 0  # what the trainee does
    exam = exam_for(c.session)
    assert exam.study.accession_number == pet_entry.accession_number
    assert exam.study.study_uid == pet_entry.study_uid
    assert exam.study.request.protocol == "patient"
    assert c.session.anatomy_name == "patient" and c.phantom.value == ("patient", None)
    p = c.session.protocol
    assert c.session.patient.weight_kg == 82.0 and p.weight_kg == 82.0
    assert p.activity_mbq == pytest.approx(EANM_MBQ_MIN_PER_KG * 82.0 / p.minutes_per_bed, abs=0.5)
    card = c.patient.card.value
    assert "Paul Moreau" in card and "82 kg" in card and "Lymphoma staging" in card
    assert pet_entry.accession_number in picker.status.value
    assert c.session.snapshot()["worklist"]["accession"] == pet_entry.accession_number
    # The MR console of the same worklist lists the MR entry only.
    from simulator.console.mr_console import MRConsole

    mr_listed = MRConsole(lang="en").worklist.refresh()
    assert [sp.accession_number for sp in mr_listed] == [mr_entry.accession_number]


def test_worklist_add_modality_pt_fills_the_pet_consoles_list(orthanc, monkeypatch, capsys):
    """``merm-lab worklist add --modality PT`` against a real Orthanc: the server lists the
    PET scenarios (C-FIND checked by the command itself, then by the test), the MR query
    does not see them, and the PET console's picker lists them and admits the one chosen."""
    from simulator.cli import main
    from simulator.hospital.address import parse_address
    from simulator.hospital.worklist import PET_SCENARIOS, find_worklist

    argv = ["worklist", "add", "--modality", "PT", "--scenario", "all", "--to", orthanc.address]
    argv += ["--folder", str(orthanc.worklists), "--start", "2026-03-02T08:00"]
    mr_entry = procedure_for_scenario("headache", dt.datetime(2026, 3, 2, 8, 0))
    write_worklist_files([mr_entry], orthanc.worklists)
    assert main(argv) == 0
    assert f"lists the {len(PET_SCENARIOS)} new entries" in capsys.readouterr().out
    addr = parse_address(orthanc.address)
    pt = find_worklist(addr, "PT")
    assert len(pt) == len(PET_SCENARIOS) and {sp.modality for sp in pt} == {"PT"}
    assert {sp.patient_id for sp in pt} == {f"MERM-PT-{k.upper()}" for k in PET_SCENARIOS}
    assert {sp.height_m for sp in pt} == {p.height_cm / 100 for p in PET_SCENARIOS.values()}
    assert [sp.accession_number for sp in find_worklist(addr, "MR")] == [mr_entry.accession_number]
    monkeypatch.setenv("MERM_WORKLIST", orthanc.address)
    monkeypatch.delenv("MERM_PACS", raising=False)
    from simulator.console.pet_console import PETConsole

    c = PETConsole(lang="en")
    listed = c.worklist.refresh()
    assert [sp.accession_number for sp in listed] == [sp.accession_number for sp in pt]
    brain = next(i for i, sp in enumerate(listed) if sp.protocol == "brain/fdg")
    c.worklist.dropdown.value = brain
    assert c.session.anatomy_name == "brain"
    assert exam_for(c.session).study.accession_number == listed[brain].accession_number
    assert "ROUX Gérard" in c.patient.card.value
