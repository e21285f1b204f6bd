"""Grading the trainee's calls on AI findings against the truth (simulator.exercises._findings).

The findings decided on here are built in the test from the truth (a perfect detector's
marks, plus a mark on no lesion): these tests check the grader's rule, not the detector.
Every figure expected is counted by hand from the records.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulator.exercises import _protocol, grade
from simulator.exercises.loader import ExerciseError, exercise_from_text

pytest.importorskip("simulator.findings.truth", reason="simulator.findings.truth has not landed")
from simulator.findings import Finding, truth  # noqa: E402

YAML = """
id: findings-grading-test
version: 1
title: {fr: "Test", en: "Test"}
brief: {fr: "Test", en: "Test"}
modality: mr
anatomy: brain
pathology: tumour
patient: {name: "Test Patient", age: 50, weight_kg: 70, indication: {fr: "céphalées", en: "headaches"}}
start: {preset: t2_tse, overrides: {matrix_read: 128, matrix_phase: 96, slices: 9}}
editable: []
findings: {shown: true, locked: false}
objectives:
  - id: accepted
    metric: ai_true_accepted
    op: present
    feedback: {pass: {fr: "ok", en: "ok"}, fail: {fr: "non", en: "no"}}
  - id: rejected
    metric: ai_false_rejected
    op: present
    feedback: {pass: {fr: "ok", en: "ok"}, fail: {fr: "non", en: "no"}}
  - id: score
    metric: ai_decision_score
    op: ">="
    value: 0.99
    feedback: {pass: {fr: "ok", en: "ok"}, fail: {fr: "non", en: "no"}}
seed: 3
reference_solution: {overrides: {}}
typical_wrong_answer: {overrides: {}}
"""


@pytest.fixture(scope="module")
def exercise():
    return exercise_from_text(YAML)


@pytest.fixture(scope="module")
def truth_and_record(exercise):
    import simulator.mr as mr

    proto = _protocol.start_protocol(exercise)
    geo = _protocol.make_geometry(exercise, None, proto)
    series = mr.scan(mr.load_anatomy("brain", pathology="tumour"), proto, geo,
                     rng=np.random.default_rng(99))  # another noise than the grader's
    t = truth(series)
    assert len(t) == 1  # the tumour
    tp = dataclasses.replace(t[0], id="F1", confidence=0.9)
    fp = Finding("ms_lesion", 1, (20.0, 20.0), (2.0, 2.0), 0.6, {"en": "MS lesion"}, "F2")
    record = {"series": 1, "protocol": _protocol.protocol_to_dict(proto), "geometry": None,
              "items": [tp.to_dict(), fp.to_dict()], "decisions": {}, "added": []}
    return t[0], record


def _with(record: dict, decisions: dict, added: list | None = None) -> dict:
    return {"findings": [dict(record, decisions=decisions, added=added or [])]}


def test_right_calls_pass(exercise, truth_and_record) -> None:
    _t, record = truth_and_record
    r = grade(exercise, _with(record, {"F1": "accept", "F2": "reject"}), lang="en")
    assert r.passed, r.to_dict()
    assert r.metrics["ai_findings"]["tp"] == 1 and r.metrics["ai_findings"]["fp"] == 1


@pytest.mark.parametrize(
    ("decisions", "failing"),
    [
        ({"F1": "accept", "F2": "accept"}, {"rejected", "score"}),  # followed a false mark
        ({"F1": "reject", "F2": "reject"}, {"accepted", "score"}),  # threw away the lesion
        ({"F1": "accept"}, {"rejected", "score"}),  # left one undecided
    ],
)
def test_wrong_calls_fail(exercise, truth_and_record, decisions: dict, failing: set) -> None:
    _t, record = truth_and_record
    r = grade(exercise, _with(record, decisions), lang="en")
    assert not r.passed
    assert {o.id for o in r.objectives if not o.passed} == failing
    score = next(o for o in r.objectives if o.id == "score")
    right = sum(decisions.get(f) == k for f, k in (("F1", "accept"), ("F2", "reject")))
    assert score.measured == pytest.approx(right / 2)


def test_no_record_fails_everything(exercise) -> None:
    r = grade(exercise, {}, lang="fr")
    assert not r.passed and all(not o.passed for o in r.objectives)


def test_own_marks_on_a_missed_lesion(exercise, truth_and_record) -> None:
    """With the AI silent, the trainee's mark on the lesion counts as found, a mark on
    nothing as a false mark — whatever type they named, when they named none."""
    from simulator.exercises._findings import measure_findings
    from simulator.exercises._measure import Context

    t, record = truth_and_record
    silent = dict(record, items=[])
    on = {"kind": "add", "finding_id": "T1", "slice_index": t.slice_index,
          "centre_rc": [t.centre_rc[0] + 1.0, t.centre_rc[1] - 1.0], "label": None}
    off = {"kind": "add", "finding_id": "T2", "slice_index": t.slice_index,
           "centre_rc": [2.0, 2.0], "label": "tumour"}

    def ctx_for(added: list) -> Context:
        ctx = Context(exercise, _protocol.start_protocol(exercise))
        ctx.findings_records = [dict(silent, added=added)]
        return ctx

    assert measure_findings("ai_missed_found", ctx_for([on])) == 1.0
    assert measure_findings("ai_false_added", ctx_for([on])) == 0.0
    assert measure_findings("ai_missed_found", ctx_for([off])) == 0.0
    assert measure_findings("ai_false_added", ctx_for([off])) == 1.0
    assert measure_findings("ai_decision_score", ctx_for([on, off])) == pytest.approx(0.5)
    wrong_type = dict(on, label="ms_lesion")  # a named type must be the lesion's
    assert measure_findings("ai_missed_found", ctx_for([wrong_type])) == 0.0


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("findings: {shown: yes-please}", "'shown' must be true/false"),
        ("findings: {hidden: true}", "unknown key 'hidden'"),
    ],
)
def test_bad_findings_keys_are_reported_with_their_line(snippet: str, message: str) -> None:
    text = YAML.replace("findings: {shown: true, locked: false}", snippet)
    with pytest.raises(ExerciseError) as err:
        exercise_from_text(text, check_simulator=False)
    assert message in str(err.value)


def test_bad_solution_decision_is_reported() -> None:
    text = YAML.replace("reference_solution: {overrides: {}}",
                        "reference_solution: {overrides: {}, findings: {decide: {F1: maybe}}}")
    with pytest.raises(ExerciseError) as err:
        exercise_from_text(text, check_simulator=False)
    assert "accept or reject" in str(err.value)
