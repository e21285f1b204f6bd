"""Progress store on SQLite (file, WAL) and on a real PostgreSQL server: concurrent
submissions from threads and processes, and a writer killed mid-transaction."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from simulator.errors import UserError
from simulator.exercises.grader import GradeResult, ObjectiveResult
from simulator.exercises.store import EVENT_MENTOR_CALLED, ProgressStore

ROOT = Path(__file__).resolve().parents[2]

#: Submissions per writer in the concurrency tests.
PER_WRITER = 8
THREADS = 4
PROCESSES = 2

WRITER = r"""
import sys
from simulator.exercises.grader import GradeResult, ObjectiveResult
from simulator.exercises.store import ProgressStore
url, user, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = ProgressStore(url)
for i in range(n):
    r = GradeResult(float(i), (ObjectiveResult("o", i % 2 == 0, float(i), "<= 1", "fb"),), "ex-p")
    store.record_attempt(user, "ex-p", {"tr_ms": 500 + i}, r)
print("done", flush=True)
"""

HALF_WRITER = r"""
import sys, time
from datetime import datetime, UTC
from simulator.exercises.store import ProgressStore, attempts
url = sys.argv[1]
store = ProgressStore(url)
tid = store.ensure_trainee("crash")
with store.engine.begin() as conn:
    conn.execute(attempts.insert().values(
        trainee_id=tid, exercise_id="half", exercise_version=1, protocol_json={"tr_ms": 1},
        score=50.0, passed=False, objectives_json=[], submitted_at=datetime.now(UTC)))
    print("inside", flush=True)
    time.sleep(120)
"""


def result(score: float, passed: bool) -> GradeResult:
    return GradeResult(score, (ObjectiveResult("a", passed, 1.0, "<= 2", "ok"),), "ex1")


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def exercise_store(store: ProgressStore) -> None:
    t0 = datetime.now(UTC)
    a1 = store.record_attempt("alice", "ex1", {"tr_ms": 500}, result(50.0, False),
                              started_at=t0 - timedelta(minutes=3), submitted_at=t0, lang="fr")
    a2 = store.record_attempt("alice", "ex1", {"tr_ms": 600}, result(100.0, True), lang="en")
    store.record_attempt("bob", "ex1", {"tr_ms": 3000}, result(0.0, False))
    store.record_attempt("bob", "ex2", {"tr_ms": 3000}, result(100.0, True))
    assert a2 > a1
    rows = store.attempts("alice")
    assert [r["score"] for r in rows] == [50.0, 100.0]
    assert rows[0]["protocol_json"] == {"tr_ms": 500}
    assert rows[0]["objectives_json"][0]["id"] == "a"
    assert rows[0]["time_on_task_s"] == pytest.approx(180.0)
    diff = {d["exercise_id"]: d for d in store.exercise_difficulty()}
    assert diff["ex1"]["attempts"] == 3 and diff["ex1"]["trainees"] == 2
    assert diff["ex1"]["pass_rate"] == pytest.approx(0.5)
    assert diff["ex1"]["mean_score"] == pytest.approx(50.0)
    assert diff["ex1"]["attempts_to_pass"] == pytest.approx(2.0)
    prog = {(r["username"], r["exercise_id"]): r for r in store.class_progress()}
    assert prog[("alice", "ex1")]["best_score"] == 100.0 and prog[("alice", "ex1")]["passed"]
    assert not prog[("bob", "ex1")]["passed"]
    assert not store.has_event("alice", EVENT_MENTOR_CALLED, exercise_id="ex1")
    store.record_event("alice", EVENT_MENTOR_CALLED, {"room": "r"}, exercise_id="ex1")
    assert store.has_event("alice", EVENT_MENTOR_CALLED, exercise_id="ex1")
    assert not store.has_event("alice", EVENT_MENTOR_CALLED, exercise_id="ex2")
    assert not store.has_event("alice", EVENT_MENTOR_CALLED, since=datetime.now(UTC) + timedelta(hours=1))
    csv_text = store.export_csv()
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("attempt_id,username") and len(lines) == 1 + 4
    # a serve sign-in names the cohort, for a known trainee and for a new one
    store.set_cohort("alice", "MERM-2026")
    store.set_cohort("dana", "MERM-2027")
    assert {r["username"] for r in store.attempts(cohort="MERM-2026")} == {"alice"}
    cohorts = {t["username"]: t["cohort"] for t in store.trainees()}
    assert cohorts["alice"] == "MERM-2026" and cohorts["dana"] == "MERM-2027" and cohorts["bob"] is None


def concurrent(store: ProgressStore, url: str) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, url, f"proc{i}", str(PER_WRITER)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
             for i in range(PROCESSES)]
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(PER_WRITER):
                store.record_attempt(f"thread{k}", "ex-t", {"i": i}, result(float(i), i % 2 == 0))
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert not errors, errors
    rows = store.attempts()
    assert len([r for r in rows if r["exercise_id"] == "ex-t"]) == THREADS * PER_WRITER
    assert len([r for r in rows if r["exercise_id"] == "ex-p"]) == PROCESSES * PER_WRITER
    assert len({r["id"] for r in rows}) == len(rows)
    for k in range(THREADS):
        assert sorted(r["protocol_json"]["i"] for r in store.attempts(f"thread{k}")) == list(range(PER_WRITER))


def crash_mid_write(store: ProgressStore, url: str) -> None:
    before = len(store.attempts())
    p = subprocess.Popen([sys.executable, "-c", HALF_WRITER, url], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env())
    assert p.stdout is not None
    line = p.stdout.readline()
    assert line.strip() == "inside", p.stderr.read() if p.stderr else ""
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=30)
    # the store is still usable, the committed attempts are all there, the half one is not
    store.record_attempt("after", "ex-after", {"tr_ms": 1}, result(100.0, True))
    rows = store.attempts()
    assert len(rows) == before + 1
    assert not [r for r in rows if r["exercise_id"] == "half"]


def test_sqlite_file_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'progress.sqlite'}"
    store = ProgressStore(url)
    exercise_store(store)
    with sqlite3.connect(tmp_path / "progress.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_sqlite_concurrent_and_crash(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'progress.sqlite'}"
    store = ProgressStore(url)
    concurrent(store, url)
    crash_mid_write(store, url)
    store.close()
    with sqlite3.connect(tmp_path / "progress.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_default_url_follows_merm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MERM_DB_URL", raising=False)
    monkeypatch.setenv("MERM_HOME", str(tmp_path))
    store = ProgressStore()
    store.ensure_trainee("carol")
    assert (tmp_path / "progress.sqlite").exists()
    store.close()


def test_bad_url_is_a_user_error() -> None:
    with pytest.raises(UserError):
        ProgressStore("nosuchdialect://x")


@pytest.mark.postgres
def test_postgresql_store(postgres_url: str) -> None:
    store = ProgressStore(postgres_url)
    assert store.engine.dialect.name == "postgresql"
    exercise_store(store)
    concurrent(store, postgres_url)
    crash_mid_write(store, postgres_url)
    store.close()
