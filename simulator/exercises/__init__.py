"""Exercises as data: schema, loader, auto-grader, progress store and panels.

>>> from simulator.exercises import load_exercise, grade, ProgressStore   # doctest: +SKIP
>>> ex = load_exercise("course/exercises/mr_t1_contrast.yaml")            # doctest: +SKIP
>>> grade(ex, {"tr_ms": 500, "te_ms": 15}, lang="en").score               # doctest: +SKIP

The widget parts (``ExercisePanel``, ``build_instructor_dashboard``, which need ipywidgets)
and the progress store (``ProgressStore`` and its event names, which need SQLAlchemy) are
loaded on first use, so checking and grading an exercise needs neither.
"""

from __future__ import annotations

from typing import Any

from simulator.exercises.grader import GradeResult, ObjectiveResult, grade, grade_setup, live_status
from simulator.exercises.loader import ExerciseError, check_exercise, load_course, load_exercise
from simulator.exercises.objectives import METRICS, OPS
from simulator.exercises.schema import Exercise, Objective

__all__ = [
    "Exercise",
    "Objective",
    "ExerciseError",
    "load_exercise",
    "load_course",
    "check_exercise",
    "grade",
    "grade_setup",
    "live_status",
    "GradeResult",
    "ObjectiveResult",
    "ProgressStore",
    "EVENT_MENTOR_CALLED",
    "EVENT_EXERCISE_OPENED",
    "METRICS",
    "OPS",
    "ExercisePanel",
    "build_instructor_dashboard",
]


def __getattr__(name: str) -> Any:
    if name in ("ProgressStore", "EVENT_MENTOR_CALLED", "EVENT_EXERCISE_OPENED"):
        from simulator.exercises import store

        return getattr(store, name)
    if name == "ExercisePanel":
        from simulator.exercises.panel import ExercisePanel

        return ExercisePanel
    if name == "build_instructor_dashboard":
        from simulator.exercises.instructor import build_instructor_dashboard

        return build_instructor_dashboard
    raise AttributeError(f"module 'simulator.exercises' has no attribute {name!r}")
