"""Grader behaviour: bad input is a failed attempt (never a traceback), locked parameters,
languages, determinism, live objectives, semantic checks with lines, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.exercises import ProgressStore, grade, live_status, load_exercise
from simulator.exercises.loader import ExerciseError, exercise_from_text

COURSE = Path(__file__).resolve().parents[2] / "course" / "exercises"
T1 = COURSE / "mr_t1_contrast.yaml"


@pytest.fixture(scope="module")
def t1():
    return load_exercise(T1)


def test_bad_value_is_a_failed_attempt_with_the_scanner_message(t1) -> None:
    r = grade(t1, {"tr_ms": 1.0}, lang="en")
    assert not r.passed and r.score == 0.0
    assert r.error is not None and "tr_ms" in r.error and "allowed" in r.error
    r_fr = grade(t1, {"tr_ms": 1.0}, lang="fr")
    assert "valeurs permises" in (r_fr.error or "")
    assert all(o.measured is None and not o.passed for o in r.objectives)


def test_wrong_types_and_unknown_names_do_not_raise(t1) -> None:
    for proto in ({"tr_ms": "abc"}, {"tr_ms": None}, {"nonsense": 3}, {"te_ms": [1, 2]}):
        r = grade(t1, proto, lang="en")
        assert not r.passed and r.error, proto


def test_locked_parameter_is_refused(t1) -> None:
    r = grade(t1, {"tr_ms": 500, "te_ms": 12, "nex": 2}, lang="en")
    assert r.error is not None and "locked" in r.error and "nex" in r.error


def test_same_seed_same_grade_and_feedback_language(t1) -> None:
    a = grade(t1, {"tr_ms": 520, "te_ms": 14}, lang="en")
    b = grade(t1, {"tr_ms": 520, "te_ms": 14}, lang="en")
    assert [o.measured for o in a.objectives] == [o.measured for o in b.objectives]
    fr = grade(t1, {"tr_ms": 520, "te_ms": 14}, lang="fr")
    by_id = {o.id: o for o in t1.objectives}
    for o_en, o_fr in zip(a.objectives, fr.objectives, strict=True):
        text = by_id[o_en.id].feedback.passed if o_en.passed else by_id[o_en.id].feedback.failed
        assert o_en.feedback == text.en and o_fr.feedback == text.fr


def test_score_is_the_weighted_share_of_passed_objectives(t1) -> None:
    r = grade(t1, {"tr_ms": 2400, "te_ms": 15}, lang="en")  # only the T1 contrast objective fails?
    total = sum(o.weight for o in t1.objectives)
    expect = 100.0 * sum(o.weight for o in r.objectives if o.passed) / total
    assert r.score == pytest.approx(expect, abs=0.05)


def test_live_status_needs_no_scan_for_cheap_objectives(t1) -> None:
    live = live_status(t1, {"tr_ms": 500, "te_ms": 12})
    assert live["time"] is True
    assert live["wm-brighter"] is None  # measured on the images only at Submit
    assert live_status(t1, {"tr_ms": 3000})["time"] is False


def test_mentor_call_is_read_from_the_store() -> None:
    ex = load_exercise(COURSE / "mr_remote_coaching.yaml")
    store = ProgressStore("sqlite://")
    r = grade(ex, {"field_t": 1.5}, lang="en", store=store, user="zoe")
    assert not r.passed and not {o.id: o for o in r.objectives}["mentor"].passed
    store.record_event("zoe", "mentor_called", {"room": "x"}, exercise_id=ex.id)
    r = grade(ex, {"field_t": 1.5}, lang="en", store=store, user="zoe")
    assert r.passed


def test_semantic_errors_point_at_their_line() -> None:
    text = T1.read_text(encoding="utf-8")
    bad = text.replace("tissues: [white_matter, gray_matter]", "tissues: [white_matter, grey_goo]")
    bad = bad.replace("preset: t1_se", "preset: t1_se")
    bad = bad.replace("overrides: {tr_ms: 500, te_ms: 12}", "overrides: {tr_ms: 500, te_ms: 0.5}")
    with pytest.raises(ExerciseError) as info:
        exercise_from_text(bad, "t1.yaml")
    lines = bad.splitlines()
    got = {n: m for _f, n, m in info.value.problems}
    goo = next(i for i, line in enumerate(lines, 1) if "grey_goo" in line)
    assert "unknown tissue 'grey_goo'" in got[goo]
    # the reference solution is checked with the scanner's own rules
    bad2 = text.replace("overrides: {tr_ms: 500, te_ms: 12}", "overrides: {tr_ms: 500, te_ms: 0.5}")
    with pytest.raises(ExerciseError) as info:
        exercise_from_text(bad2, "t1.yaml")
    [(_, n, m)] = info.value.problems
    assert n == next(i for i, line in enumerate(bad2.splitlines(), 1) if "te_ms: 0.5" in line)
    assert "te_ms" in m and "allowed" in m
    bad3 = text.replace("preset: t1_se", "preset: t1_fancy")
    with pytest.raises(ExerciseError) as info:
        exercise_from_text(bad3, "t1.yaml")
    assert any("unknown preset 't1_fancy'" in m for _f, _n, m in info.value.problems)
    bad4 = text.replace("editable: [tr_ms, te_ms]", "editable: [tr_ms, te_ms, warp_factor]")
    with pytest.raises(ExerciseError) as info:
        exercise_from_text(bad4, "t1.yaml")
    assert any("unknown parameter 'warp_factor'" in m for _f, _n, m in info.value.problems)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulator", "exercise", *args],
                          capture_output=True, text=True)


def test_cli_check_ok_and_grade(tmp_path: Path) -> None:
    out = run_cli("check", str(T1))
    assert out.returncode == 0 and out.stdout.strip().endswith("OK")
    proto = tmp_path / "p.yaml"
    proto.write_text("tr_ms: 500\nte_ms: 12\n", encoding="utf-8")
    out = run_cli("grade", str(T1), "--protocol", str(proto), "--lang", "en")
    assert out.returncode == 0, out.stderr
    assert "score: 100/100" in out.stdout and out.stdout.count("[PASS]") == len(load_exercise(T1).objectives)
    out = run_cli("grade", str(T1), "--protocol", str(proto), "--json")
    data = json.loads(out.stdout)
    assert data["passed"] and data["score"] == 100.0 and len(data["objectives"]) == 3
    proto.write_text("tr_ms: 2\n", encoding="utf-8")
    out = run_cli("grade", str(T1), "--protocol", str(proto), "--lang", "fr")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "erreur" in out.stdout and "tr_ms" in out.stdout
    proto.write_text("tr_ms: [500\n", encoding="utf-8")
    out = run_cli("grade", str(T1), "--protocol", str(proto))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and f"{proto}:" in out.stderr
