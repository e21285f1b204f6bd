"""Every exercise of the course validates, its reference solution passes and its typical
wrong answer fails (so each exercise discriminates), graded with the real scanners."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.exercises import grade_setup, load_exercise
from simulator.exercises.loader import check_exercise

COURSE = Path(__file__).resolve().parents[2] / "course" / "exercises"
FILES = sorted(COURSE.glob("*.yaml"))

#: The course must keep at least this many exercises (issue 6).
MIN_EXERCISES = 15


def ai_ready(modality: str) -> str | None:
    """None when the AI denoiser of ``modality`` runs, else why not."""
    try:
        import numpy as np

        import simulator.ai as ai

        fn = ai.denoise_mr if modality == "mr" else ai.denoise_pet
        fn(np.ones((1, 16, 16), np.float32))
    except Exception as exc:  # noqa: BLE001 - the reason is reported in the skip
        return f"simulator.ai not usable for {modality}: {exc}"
    return None


def test_course_has_enough_exercises_with_unique_ids() -> None:
    ids = [load_exercise(f).id for f in FILES]
    assert len(ids) >= MIN_EXERCISES
    assert len(set(ids)) == len(ids)


def test_course_covers_the_required_topics() -> None:
    metrics = {o.metric for f in FILES for o in load_exercise(f).objectives}
    for m in ("scan_time_s", "snr", "signal_ratio", "wrap", "chemical_shift", "motion", "gibbs",
              "coverage", "sar_w_kg", "crc", "bv", "suv_mean", "dose_msv", "mentor_called"):
        assert m in metrics, m


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_exercise_discriminates(path: Path) -> None:
    assert check_exercise(path) == []
    ex = load_exercise(path)
    if "ai" in ex.tags:
        reason = ai_ready(ex.modality)
        if reason:
            pytest.skip(reason)
    ref = grade_setup(ex, "reference_solution", "en")
    assert ref.error is None, ref.error
    assert ref.passed, [(o.id, o.measured, o.target) for o in ref.objectives if not o.passed]
    assert ref.score == 100.0
    wrong = grade_setup(ex, "typical_wrong_answer", "fr")
    assert wrong.error is None, wrong.error
    assert not wrong.passed
    assert wrong.score < 100.0
    failed = [o for o in wrong.objectives if not o.passed]
    # the feedback of a failed objective is the exercise's French "fail" text
    by_id = {o.id: o for o in ex.objectives}
    assert all(o.feedback.startswith(by_id[o.id].feedback.failed.fr) for o in failed)
