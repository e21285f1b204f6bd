"""The injected activity is locked once the injection is recorded: the field, the EANM button,
a mentor's command and any protocol load keep it; only an audited correction changes it. A
worklist admission keeps what an exercise locks (weight, activity) and an injected activity."""

from __future__ import annotations

import dataclasses
import time

import pytest

from simulator.console.patient import SCENARIOS
from simulator.console.pet_console import PETConsole


@pytest.fixture
def console(monkeypatch) -> PETConsole:
    monkeypatch.delenv("MERM_WORKLIST", raising=False)
    monkeypatch.delenv("MERM_PACS", raising=False)
    return PETConsole(lang="fr")


def test_activity_is_editable_until_injection(console: PETConsole) -> None:
    s = console.session
    assert s.apply_command({"type": "set_param", "name": "activity_mbq", "value": 280})["ok"]
    assert not console.params.fields["activity_mbq"].disabled
    console.do_inject()
    assert console.activity_lock.activity_mbq == 280
    assert console.params.fields["activity_mbq"].disabled and console.eanm.disabled
    assert console.correction_box.layout.display is None  # the correction is offered
    assert "verrouillée : 280 MBq" in console.locked_note.value


@pytest.mark.parametrize(("actor", "role"), [("local", "trainee"), ("Dr Anna", "mentor")])
def test_typed_activity_while_locked_is_refused_in_the_users_language(
    console: PETConsole, actor: str, role: str
) -> None:
    s = console.session
    console.do_inject()
    r = s.apply_command({"type": "set_param", "name": "activity_mbq", "value": 400}, actor, role)
    assert not r["ok"] and "verrouillée" in r["message"] and "Correction" in r["message"]
    assert s.protocol.activity_mbq == 250
    assert "verrouillée" in console.params.errors["activity_mbq"].value
    assert "verrouillée" in console.shell.message.value
    # the session goes on: other parameters still change, in English after a switch
    assert s.apply_command({"type": "set_param", "name": "minutes_per_bed", "value": 3})["ok"]
    s.set_lang("en")
    r = s.apply_command({"type": "set_param", "name": "activity_mbq", "value": 400})
    assert "locked" in r["message"]


def test_the_field_typed_while_locked_goes_back(console: PETConsole) -> None:
    console.do_inject()
    field = console.params.fields["activity_mbq"]
    field.value = 999.0  # a stale browser value arriving after the lock
    assert console.session.protocol.activity_mbq == 250 and field.value == 250


def test_a_protocol_load_keeps_the_injected_activity(console: PETConsole) -> None:
    s = console.session
    console.do_inject()
    s.load_protocol(dataclasses.replace(s.protocol, activity_mbq=111, beds=2), standard=False)
    assert s.protocol.beds == 2 and s.protocol.activity_mbq == 250
    assert "reste 250 MBq" in console.shell.message.value
    console.eanm.click()  # disabled in the page; a click that still arrives does nothing
    assert s.protocol.activity_mbq == 250


def test_correction_is_audited_and_bad_input_refused(console: PETConsole) -> None:
    s = console.session
    events: list[dict] = []
    s.on_change(lambda e: events.append(e) if e["type"] == "activity_correction" else None)
    console.do_inject()
    console.correct_activity.value, console.correct_reason.value = "abc", "relue"
    assert not console.correct_injection()
    assert "« abc »" in console.correct_error.value and s.protocol.activity_mbq == 250
    console.correct_activity.value, console.correct_reason.value = "230,5", "  "
    assert not console.correct_injection() and "motif" in console.correct_error.value
    console.correct_activity.value, console.correct_reason.value = "230,5", "seringue relue"
    assert console.correct_injection()
    assert s.protocol.activity_mbq == 230.5 and console.activity_lock.activity_mbq == 230.5
    assert events == [
        {"type": "activity_correction", "before_mbq": 250.0, "after_mbq": 230.5,
         "reason": "seringue relue", "actor": "trainee"}
    ]
    assert "250 → 230 MBq" in console.audit.value or "250 → 231 MBq" in console.audit.value
    assert "seringue relue" in console.audit.value
    # still locked after the correction
    assert not s.apply_command({"type": "set_param", "name": "activity_mbq", "value": 300})["ok"]
    console.L.switch("de")
    assert "Korrektur" in console.audit.value


def test_correction_before_injection_is_refused(console: PETConsole) -> None:
    console.correct_activity.value, console.correct_reason.value = "200", "x"
    assert not console.correct_injection()
    assert "pas encore enregistrée" in console.correct_error.value


def test_worklist_admission_keeps_the_exercise_locks(console: PETConsole) -> None:
    """pet-ai-9min locks weight (78 kg) and activity (270 MBq): a worklist patient of 48 kg
    arriving during the exercise changes neither (it used to set 48 kg and its EANM dose)."""
    c = PETConsole(lang="en", exercise="pet-ai-9min")
    s = c.session
    assert s.is_locked("weight_kg") and s.is_locked("activity_mbq")
    before, anatomy = s.protocol, s.anatomy_name
    c.patient.admit_patient(dataclasses.replace(SCENARIOS["ms"], weight_kg=48.0))
    assert s.protocol.weight_kg == before.weight_kg == 78
    assert s.protocol.activity_mbq == before.activity_mbq == 270
    assert s.anatomy_name == anatomy != "brain"  # the exercise's phantom, not the patient's
    assert "exercise keeps" in c.shell.message.value and "48 kg" in c.shell.message.value


def test_worklist_admission_keeps_the_exercise_phantom(console: PETConsole) -> None:
    c = PETConsole(lang="en", exercise="pet-activity-time")
    s = c.session
    anatomy, weight = s.anatomy_name, s.protocol.weight_kg
    c.patient.admit_patient(dataclasses.replace(SCENARIOS["ms"], weight_kg=60.0))
    assert s.anatomy_name == anatomy and s.protocol.weight_kg == weight == 90


def test_a_new_patient_is_a_new_exam_the_same_patient_keeps_the_injection(
    console: PETConsole,
) -> None:
    p = dataclasses.replace(SCENARIOS["ms"], weight_kg=80.0)
    console.patient.admit_patient(p)
    console.do_inject()
    injected = console.session.protocol.activity_mbq
    console.patient.admit_patient(dataclasses.replace(p, weight_kg=90.0))  # same patient again
    assert console.session.protocol.activity_mbq == injected and console.activity_lock.locked
    other = dataclasses.replace(SCENARIOS["tumour"], weight_kg=60.0)
    console.patient.admit_patient(other)
    assert not console.activity_lock.locked and not console.inject.disabled
    assert console.session.protocol.weight_kg == 60.0
    assert not console.params.fields["activity_mbq"].disabled


def test_a_scan_out_of_the_guideline_is_warned(console: PETConsole) -> None:
    s = console.session
    s.load_protocol(dataclasses.replace(s.protocol, iterations=1, subsets=4, matrix=64))
    said: list[str] = []
    show = console.shell.show_message
    console.shell.show_message = lambda text, level="info": (said.append(text), show(text, level))
    console.prep.glucose.value = "13"
    console.do_inject()  # the uptake timer has only started: an early scan too
    s.clock = "1x"  # real time: 60 min of uptake have not passed
    s.apply_command({"type": "scan"})
    for _ in range(200):
        if any("EANM 2015" in t for t in said):
            break
        time.sleep(0.05)
    s.apply_command({"type": "stop"})
    s.wait(120)
    # the start warning: uptake and glucose in one message
    warned = [t for t in said if "EANM 2015" in t]
    assert warned and "13,0 mmol/L" in warned[0] and "fixation incomplète" in warned[0].lower()
