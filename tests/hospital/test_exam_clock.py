"""The exam clock: it starts at the patient's admission, runs with the wall clock between
scans and moves on by each scan's simulated time, and the exam ends like an MPPS procedure
step (IN PROGRESS from admission, COMPLETED once every series is in the PACS or the next
patient comes, DISCONTINUED when it ends without a series)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from types import SimpleNamespace

import pytest

from simulator.dicom.study import Study
from simulator.hospital.exam import Exam, exam_for, hospital_snapshot, watch

ADMITTED = dt.datetime(2026, 3, 2, 8, 0, 0)


def _mr_result(scan_time_s: float) -> SimpleNamespace:
    return SimpleNamespace(kind="mr", metrics={"scan_time_s": scan_time_s}, series=None)


def test_scans_move_the_clock_by_their_simulated_time() -> None:
    exam = Exam(study=Study(study_uid="1.2.3", started_at=ADMITTED))
    w0 = exam._wall0
    session = SimpleNamespace(series=[])
    assert exam.clock(w0 + 90) == ADMITTED + dt.timedelta(seconds=90)  # 90 s of talk first
    exam.scan_started(w0 + 90)
    session.series.append(_mr_result(300.0))  # a 5-min scan, run in 2 s at a fast clock
    exam.series_added(0, 300.0, w0 + 92)
    assert exam.series_time(session, 0) == ADMITTED + dt.timedelta(seconds=90)
    assert exam.clock(w0 + 92) == ADMITTED + dt.timedelta(seconds=390)
    exam.scan_started(w0 + 100)  # 8 s later the next scan
    session.series.append(_mr_result(240.0))
    exam.series_added(1, 240.0, w0 + 101)
    assert exam.series_time(session, 1) == ADMITTED + dt.timedelta(seconds=398)
    assert exam.state == "IN PROGRESS" and exam.duration_s(w0 + 101) == pytest.approx(638)
    exam.complete(session, w0 + 101)
    assert exam.state == "COMPLETED" and exam.ended_at == ADMITTED + dt.timedelta(seconds=638)
    exam.complete(session, w0 + 500)  # completing twice keeps the first end
    assert exam.duration_s() == 638


def test_a_scan_slower_than_its_simulated_time_never_turns_the_clock_back() -> None:
    exam = Exam(study=Study(study_uid="1.2.3", started_at=ADMITTED))
    w0 = exam._wall0
    exam.scan_started(w0 + 10)
    exam.series_added(0, 5.0, w0 + 40)  # 30 s of physics for a 5-s simulated scan
    assert exam.clock(w0 + 40) == ADMITTED + dt.timedelta(seconds=40)


def test_a_stopped_scan_leaves_the_clock_on_the_wall() -> None:
    exam = Exam(study=Study(study_uid="1.2.3", started_at=ADMITTED))
    w0 = exam._wall0
    exam.scan_started(w0 + 10)
    exam.scan_stopped()
    exam.scan_started(w0 + 20)
    exam.series_added(0, 60.0, w0 + 21)
    assert exam.acquired[0] == ADMITTED + dt.timedelta(seconds=20)


def test_an_exam_without_series_is_discontinued() -> None:
    exam = Exam(study=Study(study_uid="1.2.3", started_at=ADMITTED))
    exam.complete(SimpleNamespace(series=[]))
    assert exam.state == "DISCONTINUED" and exam.ended_at is None


def test_a_series_after_completion_reopens_the_exam() -> None:
    exam = Exam(study=Study(study_uid="1.2.3", started_at=ADMITTED))
    session = SimpleNamespace(series=[_mr_result(60.0)])
    exam.series_added(0, 60.0)
    exam.complete(session)
    assert exam.state == "COMPLETED"
    session.series.append(_mr_result(60.0))
    exam.series_added(1, 60.0)
    assert exam.state == "IN PROGRESS"


def test_a_pet_exam_ends_after_the_uptake_and_the_scan() -> None:
    exam = Exam(study=Study(study_uid="1.2.3", started_at=ADMITTED))
    pet = SimpleNamespace(
        kind="pet", metrics={"scan_time_s": 720.0}, series=SimpleNamespace(scan_start_offset_s=3600)
    )
    session = SimpleNamespace(series=[pet])
    exam.series_added(0, 720.0, exam._wall0 + 5)
    exam.complete(session, exam._wall0 + 6)
    assert exam.ended_at == ADMITTED + dt.timedelta(seconds=3600 + 720)


def test_console_scans_run_on_the_exam_clock_from_admission(monkeypatch) -> None:
    """A real MR session: the patient is admitted, two scans run at the fastest clock (a
    second or so of wall time each); the second series starts at least the first's simulated
    scan time after it, and the next patient completes the exam."""
    from simulator.console.patient import SCENARIOS
    from simulator.console.session import ConsoleSession

    s = ConsoleSession("mr", lang="en", seed=4)
    watch(s)  # what the consoles do when they open
    opened = exam_for(s)
    assert opened.state == "IN PROGRESS" and opened.first_index == 0
    s.set_patient(SCENARIOS["headache"])
    exam = exam_for(s)
    assert exam is not opened and exam.patient is SCENARIOS["headache"]
    assert opened.state == "DISCONTINUED"  # nobody was scanned before the admission
    s.set_screening("ok")
    assert s.load_protocol(
        dataclasses.replace(s.protocol, slices=2, matrix_read=64, matrix_phase=64)
    )["ok"]
    s.clock = "max"
    wall0 = time.monotonic()
    for _ in range(2):
        s.apply_command({"type": "scan"})
        s.wait(120)
    wall_s = time.monotonic() - wall0
    first_scan_s = float(s.series[0].metrics["scan_time_s"])
    assert first_scan_s > wall_s  # the fast clock: the clock must use the simulated time
    t0, t1 = exam.series_time(s, 0), exam.series_time(s, 1)
    assert exam.study.started_at <= t0
    assert (t1 - t0).total_seconds() >= round(first_scan_s)
    snap = hospital_snapshot(s)["exam"]
    assert snap["state"] == "IN PROGRESS" and snap["ended"] is None
    assert snap["duration_s"] >= round(first_scan_s + float(s.series[1].metrics["scan_time_s"]))
    s.set_patient(SCENARIOS["ms"])  # the next patient ends this exam
    assert exam.state == "COMPLETED" and exam.ended_at >= exam.series_end(s, 1)
    assert exam_for(s).state == "IN PROGRESS" and exam_for(s).first_index == 2
