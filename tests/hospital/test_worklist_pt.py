"""``worklist add --modality PT``: PET scenarios as worklist entries, without a server.

The entries round-trip through the ``.wl`` files Orthanc reads; the CLI refuses a wrong
modality or scenario in one line (French and English messages); and choosing a PET entry
in the PET console's picker admits the patient on the phantom its procedure names, with
the EANM activity for its weight, and the DICOM patient of the exam is the worklist's.
"""

from __future__ import annotations

import datetime as dt

import pytest
from pydicom import dcmread

from simulator.cli import main
from simulator.errors import UserError
from simulator.hospital.worklist import (
    PET_SCENARIOS,
    _from_dataset,
    parse_modality,
    procedure_for_scenario,
    scenario_names,
    write_worklist_files,
)

#: EANM FDG guideline (Boellaard et al., EJNMMI 2015, v2.0): A ≈ 7 MBq·min·bed⁻¹·kg⁻¹ × weight
#: ÷ minutes per bed (bed overlap ≤ 30 %).
EANM_MBQ_MIN_PER_KG = 7.0

START = dt.datetime(2026, 3, 2, 8, 0)


@pytest.mark.parametrize("name", list(PET_SCENARIOS))
def test_pet_entries_round_trip_through_the_worklist_file(tmp_path, name) -> None:
    sp = procedure_for_scenario(name, START, 2, modality="PT")
    (path,) = write_worklist_files([sp], tmp_path)
    ds = dcmread(path)
    assert ds.ScheduledProcedureStepSequence[0].Modality == "PT"
    assert str(ds.PatientName).startswith("SIMULATION^") and ds.PatientID.startswith("MERM-PT-")
    assert float(ds.PatientSize) == pytest.approx(PET_SCENARIOS[name].height_cm / 100)
    assert _from_dataset(ds) == sp
    assert len(sp.accession_number) <= 16 and sp.accession_number.startswith("PT")
    assert sp.procedure_id == "RP003" and sp.study().request.protocol == sp.protocol


def test_pet_entries_name_a_phantom_of_the_pet_console() -> None:
    from simulator.pet.catalogue import PHANTOMS

    whole_body = brain = 0
    for name in scenario_names("PT"):
        sp = procedure_for_scenario(name, START, modality="PT")
        phantom, _, tracer = sp.protocol.partition("/")
        assert phantom in PHANTOMS and phantom != "nema-iec" and tracer == "fdg"
        assert "FDG" in sp.procedure_description and sp.reason
        whole_body += phantom == "patient"
        brain += phantom == "brain"
    assert whole_body >= 1 and brain >= 1


def test_mr_and_pt_entries_of_one_time_differ() -> None:
    mr = procedure_for_scenario("headache", START)
    pt = procedure_for_scenario("lymphoma", START, modality="PT")
    assert mr.modality == "MR" and pt.modality == "PT"
    assert mr.accession_number != pt.accession_number and mr.study_uid != pt.study_uid


def test_cli_writes_a_day_of_pet_entries(tmp_path, capsys) -> None:
    argv = ["worklist", "add", "--modality", "pt", "--scenario", "all", "--to", str(tmp_path)]
    assert main([*argv, "--start", "2026-03-02T08:00"]) == 0
    files = sorted(tmp_path.glob("*.wl"))
    entries = sorted((_from_dataset(dcmread(f)) for f in files), key=lambda sp: sp.start)
    assert len(entries) == len(PET_SCENARIOS) and {e.modality for e in entries} == {"PT"}
    assert [e.start.strftime("%H:%M") for e in entries] == ["08:00", "08:30", "09:00"]
    out = capsys.readouterr().out
    assert all(e.accession_number in out for e in entries)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--modality", "CT", "--scenario", "all"], "--modality CT: allowed MR, PT"),
        (["--modality", "PT", "--scenario", "headache"], "allowed: lymphoma"),
        (["--scenario", "lymphoma"], "add --modality PT"),
    ],
)
def test_cli_refuses_a_wrong_modality_or_scenario_in_one_line(tmp_path, capsys, argv, says):
    assert main(["worklist", "add", *argv, "--to", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list(tmp_path.glob("*.wl")) == []


def test_the_refusals_exist_in_french() -> None:
    with pytest.raises(UserError) as e:
        parse_modality("CT")
    assert e.value.fr == "--modality CT : valeurs permises MR, PT"
    with pytest.raises(UserError) as e:
        procedure_for_scenario("lymphoma", START)
    assert "ajoutez --modality PT" in e.value.fr and "valeurs permises" in e.value.fr


@pytest.mark.parametrize(("name", "phantom"), [("dementia", "brain"), ("lymphoma", "patient")])
def test_choosing_a_pet_entry_admits_the_patient_on_its_phantom(monkeypatch, name, phantom):
    monkeypatch.setenv("MERM_WORKLIST", "WL@127.0.0.1:1")  # configured, never reached here
    monkeypatch.delenv("MERM_PACS", raising=False)
    from simulator.console.pet_console import PETConsole
    from simulator.hospital.exam import exam_for

    sp = procedure_for_scenario(name, START, modality="PT")
    c = PETConsole(lang="fr")
    picker = c.worklist
    picker.procedures = [sp]  # what a C-FIND for PT returned
    picker._fill()
    picker.dropdown.value = 0  # what the trainee does
    s, scenario = c.session, PET_SCENARIOS[name]
    assert s.anatomy_name == phantom and c.phantom.value == (phantom, None)
    assert s.patient.weight_kg == scenario.weight_kg == s.protocol.weight_kg
    expected = EANM_MBQ_MIN_PER_KG * scenario.weight_kg / s.protocol.minutes_per_bed
    assert s.protocol.activity_mbq == pytest.approx(expected, abs=0.5)
    card = c.patient.card.value
    assert scenario.name in card and f"{scenario.weight_kg:g} kg" in card
    exam = exam_for(s)
    assert exam.study.accession_number == sp.accession_number
    assert exam.study.study_uid == sp.study_uid
    # The images are filed under the ordered patient (IHE Scheduled Workflow).
    from simulator.hospital.exam import worklist_patient

    dp = worklist_patient(exam.procedure)
    assert dp.patient_id == sp.patient_id == f"MERM-PT-{name.upper()}"
    assert dp.name == sp.patient_name and dp.height_m == pytest.approx(scenario.height_cm / 100)
    assert dp.birth_date.strftime("%Y%m%d") == sp.birth_date


def test_a_pet_entry_gives_back_its_patient_in_three_languages() -> None:
    from simulator.console.session import _dicom_patient
    from simulator.dicom.patient import FictitiousPatient
    from simulator.hospital.worklist import pet_scenario_patient

    sp = procedure_for_scenario("lung_nodule", START, modality="PT")
    p = pet_scenario_patient(sp)
    assert p.name == "FAURE Hélène" and p.weight_kg == 58.0 and p.anatomy == "patient"
    assert "nodule" in p.indication("en") and "Nodule pulmonaire" in p.indication("fr")
    assert "Lungenrundherd" in p.indication("de")
    assert _dicom_patient(FictitiousPatient, p).patient_id == sp.patient_id  # same patient
    assert pet_scenario_patient(procedure_for_scenario("ms", START)) is None
