"""The exercise panel on a real console session, and the instructor dashboard."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pytest

from simulator.exercises import ProgressStore, load_exercise

COURSE = Path(__file__).resolve().parents[2] / "course" / "exercises"


@pytest.fixture()
def session():
    from simulator.console.session import ConsoleSession

    s = ConsoleSession("mr", "fr", "brain")
    s.clock = "max"
    return s


def _screen_and_scan(session) -> None:
    """The exercise's required steps: screening validated, a series with this protocol."""
    session.set_screening("ok")
    assert session.start_scan()["ok"]
    session.wait(300.0)  # hang guard only
    assert session.scan_state == "done", session.message


def test_panel_goes_green_live_and_submit_stores_the_attempt(session) -> None:
    from simulator.exercises.panel import ExercisePanel

    ex = load_exercise(COURSE / "mr_t1_contrast.yaml")
    store = ProgressStore("sqlite://")
    panel = ExercisePanel(session, ex, store, "alice", "fr")
    # the console now holds the exercise's starting protocol
    assert session.snapshot()["protocol"]["tr_ms"] == 2400.0
    assert panel.live["time"] is False
    assert "merm-objective-time merm-objective-fail" in panel.objectives_box.value
    assert session.apply_command({"type": "set_param", "name": "tr_ms", "value": 500})["ok"]
    assert session.apply_command({"type": "set_param", "name": "te_ms", "value": 12})["ok"]
    assert panel.live["time"] is True
    assert "merm-objective-time merm-objective-pass" in panel.objectives_box.value
    assert "merm-objective-wm-brighter merm-objective-pending" in panel.objectives_box.value
    assert "merm-exercise-submit" in panel.submit._dom_classes
    # Submit stays disabled, and says which steps are missing, until they are done
    assert panel.submit.disabled and panel.submit_attempt() is None
    assert "merm-step-screening" in panel.steps.value and "merm-step-series" in panel.steps.value
    assert store.attempts("alice") == []
    session.set_screening("ok")
    assert panel.submit.disabled and "merm-step-screening" not in panel.steps.value
    _screen_and_scan(session)
    assert not panel.submit.disabled and "merm-steps-done" in panel.steps.value
    result = panel.submit_attempt()
    assert result is not None
    assert result.passed and "100/100" in panel.score.value
    # the attempt records the series it graded: the one acquired with this protocol
    assert result.series is not None and result.series["number"] == 1
    assert result.series["protocol"]["tr_ms"] == 500.0
    assert result.series["name"] in panel.score.value
    assert "merm-objective-wm-brighter merm-objective-pass" in panel.objectives_box.value
    [row] = store.attempts("alice")
    assert row["exercise_id"] == ex.id and row["passed"] and row["protocol_json"]["tr_ms"] == 500.0
    assert row["time_on_task_s"] is not None and row["time_on_task_s"] >= 0
    assert store.has_event("alice", "exercise_opened", exercise_id=ex.id)
    assert store.has_event("alice", "attempt_series", exercise_id=ex.id)
    # a change after the scan: the series no longer matches, Submit is disabled again
    assert session.apply_command({"type": "set_param", "name": "te_ms", "value": 14})["ok"]
    assert panel.submit.disabled and "merm-step-series" in panel.steps.value
    panel.set_lang("en")
    assert ex.title.en in panel.header.value and panel.submit.description == "Submit"
    panel.show_hint()
    assert html.escape(ex.hints[0].en) in panel.hints.value


def test_locked_parameter_is_refused_by_the_console_and_the_grader(session) -> None:
    from simulator.exercises import grade
    from simulator.exercises.panel import ExercisePanel

    ex = load_exercise(COURSE / "mr_t1_contrast.yaml")
    assert "nex" not in ex.editable
    ExercisePanel(session, ex, None, "bob", "en")
    session.set_lang("en")
    before = session.snapshot()["protocol"]["nex"]
    out = session.apply_command({"type": "set_param", "name": "nex", "value": 2})
    assert not out["ok"] and "locked" in out["message"] and "TR (ms)" in out["message"]
    assert session.snapshot()["protocol"]["nex"] == before
    # a mentor is held to the exercise too; the exercise itself (instructor) is not
    assert not session.apply_command({"type": "set_param", "name": "nex", "value": 2},
                                     "m1", "mentor")["ok"]
    assert session.apply_command({"type": "set_param", "name": "tr_ms", "value": 600})["ok"]
    # a protocol that changed a locked parameter some other way is refused by the grader
    proto = dict(session.snapshot()["protocol"], nex=2)
    result = grade(ex, proto, lang="en")
    assert not result.passed and "locked" in (result.error or "") and "nex" in result.error
    # free practice unlocks everything
    session.set_exercise(None)
    assert session.apply_command({"type": "set_param", "name": "nex", "value": 2})["ok"]


def test_console_mentor_event_is_recorded_for_the_exercise(session) -> None:
    from simulator.exercises.panel import ExercisePanel

    ex = load_exercise(COURSE / "mr_remote_coaching.yaml")
    store = ProgressStore("sqlite://")
    panel = ExercisePanel(session, ex, store, "carl", "fr")
    assert panel.live["mentor"] is False
    session._emit({"type": "mentor_called", "room": "r1"})  # what the mentoring panel emits
    assert store.has_event("carl", "mentor_called", exercise_id=ex.id)
    assert panel.live["mentor"] is True


def test_instructor_dashboard_tables_filters_and_csv() -> None:
    from simulator.exercises.grader import GradeResult, ObjectiveResult
    from simulator.exercises.instructor import InstructorDashboard

    store = ProgressStore("sqlite://")
    store.ensure_trainee("ana", cohort="2026A")
    store.ensure_trainee("ben", cohort="2026B")
    ok = GradeResult(100.0, (ObjectiveResult("a", True, 1.0, "<= 2", "ok"),), "ex1")
    ko = GradeResult(0.0, (ObjectiveResult("a", False, 3.0, "<= 2", "no"),), "ex1")
    store.record_attempt("ana", "ex1", {}, ko)
    store.record_attempt("ana", "ex1", {}, ok)
    store.record_attempt("ben", "ex2", {}, ko)
    dash = InstructorDashboard(store, "en")
    assert "ana" in dash.progress.value and "ben" in dash.progress.value
    assert "merm-difficulty" in dash.difficulty.value
    dash.cohort.value = "2026A"
    assert "ana" in dash.progress.value and "ben" not in dash.progress.value
    href = dash.download.value.split("base64,")[1].split("'")[0]
    csv_text = base64.b64decode(href).decode()
    assert csv_text.count("\n") == 1 + 2 and "ben" not in csv_text
    dash.cohort.value = ""
    dash.exercise.value = "ex2"
    assert "ben" in dash.progress.value and "ana" not in dash.progress.value
    # hardest first: ex2 (nobody passed) before ex1
    dash.exercise.value = ""
    assert dash.difficulty.value.index("ex2") < dash.difficulty.value.index("ex1")


def test_patient_motion_is_the_exercises_not_the_consoles(session) -> None:
    from simulator.console.patient import patient_from_exercise
    from simulator.exercises.panel import ExercisePanel

    ex = load_exercise(COURSE / "mr_motion.yaml")
    session.set_patient(patient_from_exercise(ex))  # the console's own motion for "agitated"
    panel = ExercisePanel(session, ex, None, "dan", "en")
    start_motion = ex.start.overrides["motion"]
    assert session.snapshot()["protocol"]["motion"] == start_motion  # what is seen is graded
    for name, value in ex.reference_solution.overrides.items():
        assert session.apply_command({"type": "set_param", "name": name, "value": value})["ok"]
    _screen_and_scan(session)
    result = panel.submit_attempt()
    assert result is not None and result.passed
    # a protocol that carries another motion level is graded with the exercise's anyway
    from simulator.exercises import grade

    proto = dict(session.snapshot()["protocol"], motion="none")
    assert grade(ex, proto, lang="en").passed
