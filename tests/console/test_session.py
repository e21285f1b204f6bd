"""ConsoleSession: the ConsoleLike contract, parameter rules, attribution, scan clock."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from simulator.console._backend import ScanResult
from simulator.console.patient import SCENARIOS
from simulator.console.session import ConsoleSession, format_mmss


@pytest.fixture
def session() -> ConsoleSession:
    s = ConsoleSession("mr", lang="en")
    s.set_screening("ok")
    return s


def test_format_mmss() -> None:
    assert format_mmss(0) == "00:00"
    assert format_mmss(96) == "01:36"
    assert format_mmss(3725) == "1:02:05"


def test_scan_time_follows_tr(session: ConsoleSession) -> None:
    """TA = TR·N_phase·NEX/(ETL·R): doubling TR doubles the scan time (one concatenation)."""
    t1 = session.consequences["scan_time_s"]
    tr = session.protocol.tr_ms
    r = session.apply_command({"type": "set_param", "name": "tr_ms", "value": 2 * tr})
    assert r["ok"], r
    assert session.consequences["scan_time_s"] == pytest.approx(2 * t1, rel=1e-9)


def test_refused_value_keeps_previous_and_says_range(session: ConsoleSession) -> None:
    before = session.protocol
    events: list[dict] = []
    session.on_change(events.append)
    r = session.apply_command({"type": "set_param", "name": "tr_ms", "value": 1.0})
    assert not r["ok"]
    assert "15000" in r["message"]  # the allowed range is in the message
    assert session.protocol == before
    assert any(
        e["type"] == "message" and e["level"] == "error" and e.get("name") == "tr_ms"
        for e in events
    )
    session.set_lang("fr")
    r = session.apply_command({"type": "set_param", "name": "tr_ms", "value": "abc"})
    assert not r["ok"] and "permises" in r["message"]


@pytest.mark.parametrize(
    "command",
    [
        None,
        42,
        "scan",
        {},
        {"type": "nope"},
        {"type": "set_param"},
        {"type": "set_param", "name": "zz", "value": 1},
        {"type": "set_slice", "index": "x"},
        {"type": "set_window", "center": 1, "width": -5},
        {"type": "set_geometry", "angle_deg": 400},
        {"type": "set_geometry", "bogus": 1},
        {"type": "set_param", "name": "sequence", "value": "epi"},
    ],
)
def test_bad_commands_never_raise(session: ConsoleSession, command: object) -> None:
    before = session.snapshot()
    r = session.apply_command(command, "Dupont", "mentor")  # type: ignore[arg-type]
    assert r["ok"] is False and r["message"]
    after = session.snapshot()
    assert after["protocol"] == before["protocol"] and after["geometry"] == before["geometry"]


def test_mentor_command_is_attributed(session: ConsoleSession) -> None:
    events: list[dict] = []
    session.on_change(events.append)
    r = session.apply_command(
        {"type": "set_param", "name": "te_ms", "value": 20}, "Dupont", "mentor"
    )
    assert r["ok"] and r["before"] == 15.0 and r["after"] == 20.0
    assert r["message"].startswith("TE changed by mentor Dupont")
    param = [e for e in events if e["type"] == "param"]
    assert param and param[-1]["actor"] == "Dupont" and param[-1]["role"] == "mentor"


def test_observer_cannot_command(session: ConsoleSession) -> None:
    r = session.apply_command(
        {"type": "set_param", "name": "te_ms", "value": 20}, "Eve", "observer"
    )
    assert not r["ok"]
    assert session.protocol.te_ms != 20


def test_snapshot_is_json(session: ConsoleSession) -> None:
    snap = json.loads(json.dumps(session.snapshot()))
    for key in ("protocol", "geometry", "series", "scan", "slice", "window", "controller"):
        assert key in snap
    assert snap["protocol"]["tr_ms"] == session.protocol.tr_ms


def test_scan_blocked_by_safety() -> None:
    s = ConsoleSession("mr", lang="en")
    assert not s.apply_command({"type": "scan"})["ok"]  # screening not done
    s.set_patient(SCENARIOS["tumour"])  # non-MR-conditional pacemaker
    s.set_screening("blocked", "pacemaker")
    r = s.apply_command({"type": "scan"})
    assert not r["ok"] and "pacemaker" in r["message"]


def test_patient_state_sets_motion() -> None:
    s = ConsoleSession("mr")
    s.set_patient(SCENARIOS["spine"])  # agitated
    assert s.protocol.motion == "severe"
    s.set_patient(SCENARIOS["ms"])  # calm
    assert s.protocol.motion == "none"


def _fake_result(name: str, n: int = 4) -> ScanResult:
    rng = np.random.default_rng(0)
    return ScanResult(name, None, rng.random((n, 32, 32)).astype(np.float32), {"snr": 10.0}, "mr")


def test_scan_runs_in_background_and_stops(
    session: ConsoleSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel is never blocked; Stop ends the scan without adding a series."""
    gate = threading.Event()

    def slow_scan(protocol, geometry, anatomy, rng, emit, name):  # noqa: ANN001
        gate.wait(5)
        return _fake_result(name)

    monkeypatch.setattr(session.backend, "scan", slow_scan)
    monkeypatch.setattr(session.backend, "preview", lambda *a: (np.ones((8, 8), np.float32), 1.0))
    events: list[str] = []
    session.on_change(lambda e: events.append(e["type"]))
    session._anatomy = object()
    session.clock = "max"
    assert session.apply_command({"type": "scan"})["ok"]
    # returned while the backend is still held by the gate: a blocking call would only come
    # back once ``gate.wait`` gave up, with the scan already done
    assert session.scan_state == "running"
    assert not session.apply_command({"type": "scan"})["ok"]  # one at a time
    session.apply_command({"type": "stop"})
    session.wait(5)
    assert session.scan_state == "stopped" and session.series == []
    gate.set()
    assert session.apply_command({"type": "scan"})["ok"]
    session.wait(5)
    assert session.scan_state == "done" and len(session.series) == 1
    assert session.slice_index == 2  # middle slice shown
    assert events.index("preview") < events.index(
        "series"
    )  # fast clock: a first look before the series
    assert session.live_image is None


def test_real_clock_reveals_over_scan_time(
    session: ConsoleSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session.backend, "scan", lambda *a: _fake_result(a[-1]))
    session._anatomy = object()
    session.consequences = {**session.consequences, "scan_time_s": 0.6}
    session.clock = "1x"
    progress: list[float] = []
    session.on_change(
        lambda e: progress.append(e["progress"]) if e["type"] == "scan_progress" else None
    )
    t0 = time.monotonic()
    session.apply_command({"type": "scan"})
    session.wait(5)
    assert time.monotonic() - t0 >= 0.6  # not before the simulated time has passed
    assert progress == sorted(progress) and progress[-1] == 1.0


def test_viewer_commands_and_frame(session: ConsoleSession) -> None:
    session.add_series(_fake_result("A", 5))
    session.add_series(_fake_result("B", 5))
    assert session.apply_command({"type": "set_slice", "index": 4})["ok"]
    assert not session.apply_command({"type": "set_slice", "index": 5})["ok"]
    assert session.apply_command({"type": "set_window", "center": 0.5, "width": 0.2})["ok"]
    frame = session.render_frame(320, 240)
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    banner = frame[-6:, :, :].reshape(-1, 3)
    assert (banner[:, 0] > banner[:, 2]).mean() > 0.5  # the dark red "simulated" band
    for mode in ("side", "diff", "mip"):
        assert session.apply_command({"type": "set_view", "mode": mode, "a": 0, "b": 1})["ok"]
        assert session.render_frame(320, 240).shape == (240, 320, 3)
    assert not session.apply_command({"type": "set_view", "mode": "3d"})["ok"]
    # identical series: the difference view is zero everywhere → uniform image above the banner
    session.add_series(session.series[0])
    session.apply_command({"type": "set_view", "mode": "diff", "a": 0, "b": 2})
    assert session.render_frame(200, 200)[60:150, 60:150].std() < 1.0


def test_real_scan_and_dicom_zip(tmp_path) -> None:  # noqa: ANN001
    """A small real MR scan through the session; its DICOM zip reads back slice by slice."""
    import dataclasses
    import io
    import zipfile

    import pydicom

    s = ConsoleSession("mr", lang="fr")
    s.set_patient(SCENARIOS["ms"])
    s.set_screening("ok")
    small = dataclasses.replace(s.protocol, slices=3, matrix_read=128, matrix_phase=96)
    assert s.load_protocol(small)["ok"]
    s.clock = "max"
    assert s.apply_command({"type": "scan"})["ok"]
    s.wait(120)
    assert s.scan_state == "done", s.message
    result = s.current_series()
    assert result is not None and result.images.shape[0] == 3
    name, data = s.dicom_zip()
    assert name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = zf.namelist()
        assert len(files) == 3
        ds = pydicom.dcmread(io.BytesIO(zf.read(files[0])))
    assert float(ds.RepetitionTime) == pytest.approx(small.tr_ms)
    assert str(ds.PatientName).startswith("SIMULATION")  # never a real-looking name
    # same seed and scan number → same image (reproducible session)
    s2 = ConsoleSession("mr", lang="fr")
    s2.set_patient(SCENARIOS["ms"])
    s2.set_screening("ok")
    s2.load_protocol(small)
    s2.clock = "max"
    s2.apply_command({"type": "scan"})
    s2.wait(120)
    assert np.array_equal(s2.current_series().images, result.images)


def test_orientation_change_moves_phase_direction_into_the_plane(session: ConsoleSession) -> None:
    assert session.protocol.orientation == "axial" and session.protocol.phase_dir == "RL"
    r = session.apply_command({"type": "set_param", "name": "orientation", "value": "sagittal"})
    assert r["ok"], r
    assert session.protocol.phase_dir in ("AP", "HF")  # RL is not in a sagittal plane
    assert session.geometry.orientation == "sagittal"
    assert not session.apply_command(
        {"type": "set_param", "name": "orientation", "value": "oblique"}
    )["ok"]
