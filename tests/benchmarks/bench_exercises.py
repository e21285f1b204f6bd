"""Benchmarks of the course machinery (not collected by the default run).

Run: ``python -m pytest tests/benchmarks/bench_exercises.py --benchmark-only``

* live objectives after a console change (the panel's budget: well under 100 ms);
* a full grade of an MR and a PET exercise (one Submit);
* one stored attempt on SQLite (WAL, synchronous=FULL) — the cost of never losing one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.exercises import ProgressStore, grade, live_status, load_exercise
from simulator.exercises.grader import GradeResult, ObjectiveResult

COURSE = Path(__file__).resolve().parents[2] / "course" / "exercises"


@pytest.mark.parametrize("name", ["mr_t1_contrast", "mr_knee_planning", "mr_wrap"])
def test_live_status(benchmark, name: str) -> None:
    ex = load_exercise(COURSE / f"{name}.yaml")
    proto = dict(ex.reference_solution.overrides)
    live_status(ex, proto)  # warm caches (anatomy, structure coordinates)
    benchmark(live_status, ex, proto)


@pytest.mark.parametrize("name", ["mr_t1_contrast", "mr_motion", "pet_recon_iterations"])
def test_grade(benchmark, name: str) -> None:
    ex = load_exercise(COURSE / f"{name}.yaml")
    proto = dict(ex.reference_solution.overrides)
    benchmark.pedantic(grade, args=(ex, proto), kwargs={"lang": "en"}, rounds=3, iterations=1)


def test_record_attempt_sqlite(benchmark, tmp_path: Path) -> None:
    store = ProgressStore(f"sqlite:///{tmp_path / 'p.sqlite'}")
    r = GradeResult(50.0, (ObjectiveResult("a", True, 1.0, "<= 2", "ok"),), "ex")
    benchmark(store.record_attempt, "alice", "ex", {"tr_ms": 500}, r)
