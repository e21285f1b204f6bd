"""The AI-findings exercises of the course: each one's reference calls pass and its typical
wrong calls fail, graded against the truth on the real detector's output; and each case is
the case it claims to be (a real lesion flagged, a false mark on a healthy brain, a lesion
the AI misses, the AI kept off)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.exercises import _protocol, grade_setup, load_exercise

pytest.importorskip("simulator.findings.detect", reason="the detectors have not landed")
from simulator.findings import detect, match, truth  # noqa: E402

COURSE = Path(__file__).resolve().parents[2] / "course" / "exercises"
IDS = ("mr_ai_finding_t2", "mr_ai_false_positive", "mr_ai_missed_lesion", "mr_ai_own_eye")


def _detector_ready() -> str | None:
    from simulator.findings.detect import WEIGHTS_DIR

    return None if (WEIGHTS_DIR / "mr_brain.npz").is_file() else "no MR detector weights"


pytestmark = pytest.mark.skipif(_detector_ready() is not None, reason=str(_detector_ready()))


@pytest.mark.parametrize("name", IDS)
def test_reference_passes_and_wrong_fails(name: str) -> None:
    ex = load_exercise(COURSE / f"{name}.yaml")
    ok = grade_setup(ex, "reference_solution", "fr")
    assert ok.passed, ok.to_dict()
    bad = grade_setup(ex, "typical_wrong_answer", "en")
    assert not bad.passed, bad.to_dict()
    assert bad.metrics["ai_findings"]["records"] == 1  # failed on the calls, not for lack of them


def _start_series(name: str):  # noqa: ANN202
    from simulator.exercises._findings import _scan
    from simulator.exercises._measure import Context

    ex = load_exercise(COURSE / f"{name}.yaml")
    return ex, _scan(Context(ex, _protocol.start_protocol(ex)), None, None)


def test_the_cases_are_what_they_claim() -> None:
    # a mass the AI flags (a true finding), next to false marks
    _ex, s = _start_series("mr_ai_finding_t2")
    m = match(detect(s), truth(s))
    assert m.n_true_positive == 1 and m.pairs[0][1].label == "tumour"
    # a healthy brain: every mark the AI makes is false, and there is at least one
    _ex, s = _start_series("mr_ai_false_positive")
    assert truth(s) == () and len(detect(s)) >= 1
    # the lesion the reference marks is one the AI misses
    ex, s = _start_series("mr_ai_missed_lesion")
    m = match(detect(s, rng=np.random.default_rng(ex.seed)), truth(s))
    add = ex.reference_solution.findings["add"][0]
    assert any(t.slice_index == add["slice"] and abs(t.centre_rc[0] - add["row"]) < 3
               and abs(t.centre_rc[1] - add["col"]) < 3 for t in m.missed)
    # the own-eye exercise keeps the AI off and locked
    ex = load_exercise(COURSE / "mr_ai_own_eye.yaml")
    assert ex.findings is not None and ex.findings.locked and not ex.findings.shown
