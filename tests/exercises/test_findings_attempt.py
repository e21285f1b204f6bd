"""An exercise attempt carries the trainee's calls on the AI findings: the exercise sets the
console's toggle (shown, locked), Submit grades the calls and stores them with the attempt.

The detector is replaced by the truth of the series relabelled ``F1…`` plus one mark on no
lesion (a test double of ``simulator.findings.detect``): what is checked is the console →
panel → grader → store path, on a real scan.
"""

from __future__ import annotations

import dataclasses

import pytest

import simulator.findings as findings_pkg
from simulator.console.session import ConsoleSession
from simulator.exercises import ProgressStore
from simulator.exercises.loader import exercise_from_text
from simulator.exercises.panel import ExercisePanel

pytest.importorskip("simulator.findings.truth", reason="simulator.findings.truth has not landed")
from simulator.findings import Finding, truth  # noqa: E402
from tests.exercises.test_findings_grading import YAML  # noqa: E402


def _double(series, *, rng=None):  # noqa: ANN001, ANN202
    marks = [dataclasses.replace(t, id=f"F{i + 1}", confidence=0.9)
             for i, t in enumerate(truth(series))]
    fp = Finding("ms_lesion", 1, (20.0, 20.0), (2.0, 2.0), 0.6, {"en": "MS lesion"},
                 f"F{len(marks) + 1}")
    return (*marks, fp)


@pytest.fixture
def console(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(findings_pkg, "detect", _double, raising=False)
    session = ConsoleSession("mr", lang="en")
    store = ProgressStore("sqlite://")
    return session, store


def test_locked_exercise_keeps_the_ai_off(console) -> None:
    session, store = console
    ex = exercise_from_text(YAML.replace("findings: {shown: true, locked: false}",
                                         "findings: {shown: false, locked: true}"))
    ExercisePanel(session, ex, store, "ana", "en")
    assert session.findings_locked and not session.findings_shown
    assert not session.apply_command({"type": "show_findings", "on": True})["ok"]


def test_calls_are_graded_and_stored_with_the_attempt(console) -> None:
    session, store = console
    ex = exercise_from_text(YAML)
    panel = ExercisePanel(session, ex, store, "ana", "en")
    assert session.findings_shown and not session.findings_locked  # the exercise's setting
    session.set_screening("ok")
    session.start_scan()
    session.wait()
    items = session.snapshot()["findings"]["items"]
    assert [d["id"] for d in items] == ["F1", "F2"]
    session.apply_command({"type": "decide_finding", "id": "F1", "kind": "accept"})
    session.apply_command({"type": "decide_finding", "id": "F2", "kind": "accept"})  # wrong
    result = panel.submit_attempt()
    assert result is not None and not result.passed
    failed = {o.id for o in result.objectives if not o.passed}
    assert failed == {"rejected", "score"}
    session.apply_command({"type": "decide_finding", "id": "F2", "kind": "reject"})
    result = panel.submit_attempt()
    assert result is not None and result.passed, result.to_dict()
    attempts = store.attempts("ana", ex.id)
    assert len(attempts) == 2
    stored = [a["protocol_json"]["findings"][0]["decisions"] for a in attempts]
    assert {"F1": "accept", "F2": "accept"} in stored and {"F1": "accept", "F2": "reject"} in stored
