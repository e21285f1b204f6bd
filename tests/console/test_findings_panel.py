"""AI findings at the console: session commands, snapshot shape, marks in the frame, panel.

The findings here are constructed :class:`~simulator.findings.Finding` objects put in
place of the detector's output (``simulator.findings.detect`` is monkeypatched): these tests
check the console, not the detector.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import simulator.findings as findings_pkg
from simulator.console._backend import ScanResult
from simulator.console.findings_panel import FindingsPanel
from simulator.console.i18n import Labels
from simulator.console.session import ConsoleSession
from simulator.findings import Finding

F1 = Finding(
    "ms_lesion",
    5,
    (20.0, 40.0),
    (3.0, 4.0),
    0.87,
    {"fr": "Lésion de SEP, 8 mm", "en": "MS lesion, 8 mm", "de": "MS-Läsion, 8 mm"},
    "F1",
    n_slices=3,
)
F2 = Finding(
    "tumour",
    2,
    (44.0, 12.0),
    (5.0, 5.0),
    0.55,
    {"fr": "Tumeur, 15 mm", "en": "Tumour, 15 mm", "de": "Tumor, 15 mm"},
    "F2",
)


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> ConsoleSession:
    calls: list[object] = []

    def fake_detect(series, *, rng=None):  # noqa: ANN001, ANN202
        calls.append(series)
        return (F1, F2)

    monkeypatch.setattr(findings_pkg, "detect", fake_detect, raising=False)
    s = ConsoleSession("mr", lang="en")
    images = np.zeros((8, 64, 64), np.float32)
    images[:, 8:56, 8:56] = 100.0
    result = ScanResult("T2 TSE", object(), images, {"snr": 10.0}, "mr", number=1)
    s.add_series(result)
    s.detect_calls = calls  # type: ignore[attr-defined]
    return s


def test_off_by_default_and_snapshot_shape(session: ConsoleSession) -> None:
    snap = session.snapshot()
    assert snap["findings"] == {"shown": False, "items": [], "decisions": {}, "added": []}
    json.dumps(snap)  # JSON-safe for the mentor's page


def test_toggle_lists_findings_and_records_decisions(session: ConsoleSession) -> None:
    events: list[dict] = []
    session.on_change(events.append)
    r = session.apply_command({"type": "show_findings", "on": True})
    assert r["ok"], r
    snap = session.snapshot()["findings"]
    assert snap["shown"] is True
    assert [Finding.from_dict(d) for d in snap["items"]] == [F1, F2]
    assert session.apply_command({"type": "decide_finding", "id": "F1", "kind": "accept"})["ok"]
    r = session.apply_command(
        {"type": "decide_finding", "id": "F2", "kind": "reject"}, "Dr Martin", "mentor"
    )
    assert r["ok"] and "mentor" in r["message"] and "Dr Martin" in r["message"]
    snap = session.snapshot()["findings"]
    assert snap["decisions"] == {"F1": "accept", "F2": "reject"}
    # attributed events, like the other console actions
    decided = [e for e in events if e["type"] == "findings" and e["action"] == "decide"]
    assert [(e["id"], e["kind"], e["actor"], e["role"]) for e in decided] == [
        ("F1", "accept", "local", "trainee"),
        ("F2", "reject", "Dr Martin", "mentor"),
    ]
    # the series' metrics carry the findings and decisions (snapshot, attempt, DICOM)
    carried = session.snapshot()["series"][0]["metrics"]["ai_findings"]
    assert carried["decisions"] == {"F1": "accept", "F2": "reject"}
    assert len(carried["items"]) == 2
    # undo
    assert session.apply_command({"type": "undo_finding", "id": "F2"})["ok"]
    assert session.snapshot()["findings"]["decisions"] == {"F1": "accept"}
    assert len(session.detect_calls) == 1  # the detector ran once for the series


def test_add_a_missed_finding(session: ConsoleSession) -> None:
    r = session.apply_command(
        {"type": "add_finding", "slice": 3, "row": 30, "col": 31, "label": "ms_lesion"}
    )
    assert r["ok"], r
    added = session.snapshot()["findings"]["added"]
    assert added == [
        {
            "kind": "add",
            "finding_id": "T1",
            "slice_index": 3,
            "centre_rc": [30.0, 31.0],
            "label": "ms_lesion",
        }
    ] or added == [
        {
            "kind": "add",
            "finding_id": "T1",
            "slice_index": 3,
            "centre_rc": (30.0, 31.0),
            "label": "ms_lesion",
        }
    ]
    assert session.apply_command({"type": "add_finding", "slice": 3, "row": 10, "col": 10})["ok"]
    assert [d["finding_id"] for d in session.snapshot()["findings"]["added"]] == ["T1", "T2"]
    session.apply_command({"type": "undo_finding", "id": "T1"})
    assert [d["finding_id"] for d in session.snapshot()["findings"]["added"]] == ["T2"]


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        ({"type": "decide_finding", "id": "F9", "kind": "accept"}, "F1, F2"),
        ({"type": "decide_finding", "id": "F1", "kind": "maybe"}, "accept or reject"),
        ({"type": "add_finding", "slice": 3, "row": 500, "col": 2}, "inside the image"),
        ({"type": "add_finding", "slice": 3, "row": 5, "col": 2, "label": "cyst"}, "ms_lesion"),
    ],
)
def test_bad_input_is_a_message_not_a_traceback(
    session: ConsoleSession, command: dict, needle: str
) -> None:
    session.apply_command({"type": "show_findings", "on": True})
    r = session.apply_command(command)
    assert not r["ok"] and needle in r["message"]


def test_exercise_lock_keeps_it_off(session: ConsoleSession) -> None:
    session.set_exercise("own-eye", ["tr_ms"])
    session.set_findings_policy(shown=False, locked=True)
    r = session.apply_command({"type": "show_findings", "on": True})
    assert not r["ok"] and "own reading" in r["message"]
    assert session.snapshot()["findings"]["shown"] is False
    session.set_lang("fr")
    r = session.apply_command({"type": "show_findings", "on": True})
    assert not r["ok"] and "propre lecture" in r["message"]
    # an instructor may still switch them on; free practice unlocks
    assert session.apply_command({"type": "show_findings", "on": True}, "prof", "instructor")["ok"]
    session.set_exercise(None)
    assert session.findings_locked is False


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pixels that differ between two frames (the marks), above the banner."""
    return (np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 30)[:340]


def test_marks_are_drawn_on_the_right_slices(session: ConsoleSession) -> None:
    bare = {}
    for k in (0, 4, 5):
        session.set_slice(k)
        bare[k] = session.render_frame(544, 420)
    session.apply_command({"type": "show_findings", "on": True})
    session.set_slice(5)
    on = session.render_frame(544, 420)
    changed = _changed(on, bare[5])
    assert changed.sum() > 100
    # the F1 box surrounds its centre (row 20, col 40 of 64 px shown 420 px high:
    # x = 62 + 40.5 · 6.5625 ≈ 328, y = 20.5 · 6.5625 ≈ 135), the id beside it
    ys, xs = np.nonzero(changed)
    near = (np.abs(xs - 328) < 60) & (np.abs(ys - 135) < 60)
    assert near.sum() > 60
    # F1 spans slices 4–6: on slice 4 it is still marked (thinner); on slice 0 nothing
    session.set_slice(4)
    assert 30 < _changed(session.render_frame(544, 420), bare[4]).sum() < changed.sum()
    session.set_slice(0)
    assert _changed(session.render_frame(544, 420), bare[0]).sum() == 0
    # the mark's colour follows the decision: green once accepted
    session.set_slice(5)
    session.apply_command({"type": "decide_finding", "id": "F1", "kind": "accept"})
    acc = session.render_frame(544, 420)
    mask = _changed(acc, bare[5])
    px = acc[:340][mask].astype(int)
    assert ((px[:, 1] > 150) & (px[:, 0] < 120)).sum() > 50
    # and the banner rows are never drawn over
    assert (acc[340:] == bare[5][340:]).all()


def test_added_finding_drawn_as_circle_even_with_ai_off(session: ConsoleSession) -> None:
    session.set_slice(3)
    bare = session.render_frame(544, 420)
    session.apply_command({"type": "add_finding", "slice": 3, "row": 32, "col": 32})
    frame = session.render_frame(544, 420)
    px = frame[:340][_changed(frame, bare)].astype(int)
    assert ((px[:, 2] > 200) & (px[:, 0] < 140)).sum() > 30  # blue: the trainee's own


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
def test_panel_lists_in_the_console_language(session: ConsoleSession, lang: str) -> None:
    session.set_lang(lang)
    panel = FindingsPanel(session, Labels(lang))
    assert "merm-ai-findings" in panel.toggle._dom_classes
    assert panel.list.children == ()
    panel.toggle.value = True
    assert session.findings_shown
    texts = [row.children[0].value for row in panel.list.children]
    assert len(texts) == 2
    expected = {
        "fr": ("Lésion de SEP", "confiance 87 %", "coupes 5–7", "à décider"),
        "en": ("MS lesion", "confidence 87%", "slices 5–7", "to decide"),
        "de": ("MS-Läsion", "Konfidenz 87 %", "Schichten 5–7", "offen"),
    }[lang]
    for needle in expected:
        assert needle in texts[0], (needle, texts[0])
    assert (
        panel.toggle.description
        == {"fr": "Résultats IA", "en": "AI findings", "de": "KI-Befunde"}[lang]
    )
    assert "docs/findings.md" in panel.honesty.value
    # Accept / Reject buttons record the decision
    row = panel.list.children[0]
    accept = next(b for b in row.children[1].children if "merm-finding-accept" in b._dom_classes)
    accept.click()
    assert session.finding_decisions() == {"F1": "accept"}
    row = panel.list.children[1]
    next(b for b in row.children[1].children if "merm-finding-reject" in b._dom_classes).click()
    assert session.finding_decisions() == {"F1": "accept", "F2": "reject"}
    decided = {"fr": "acceptée", "en": "accepted", "de": "angenommen"}[lang]
    assert decided in panel.list.children[0].children[0].value


def test_panel_click_adds_a_missed_finding(session: ConsoleSession) -> None:
    panel = FindingsPanel(session, Labels("en"))
    assert not panel.on_image_click(272, 210, 544, 420)  # not armed: W/L clicks stay clicks
    panel.add.value = True
    panel.kind.value = "ms_lesion"
    assert panel.on_image_click(272, 210, 544, 420)  # the frame's centre
    added = session.added_findings()
    assert len(added) == 1 and added[0].label == "ms_lesion"
    assert added[0].centre_rc == pytest.approx((32.0, 32.0), abs=1.0)
    assert added[0].slice_index == session.slice_index
    assert panel.add.value is False  # one click, one finding
    assert any("T1" in row.children[0].value for row in panel.list.children)


def test_panel_locked_toggle(session: ConsoleSession) -> None:
    session.set_exercise("own-eye", [])
    session.set_findings_policy(shown=False, locked=True)
    panel = FindingsPanel(session, Labels("fr"))
    assert panel.toggle.disabled
    assert "propre lecture" in panel.note.value


def test_detector_missing_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """No detector: no invented findings, a line that says why."""
    monkeypatch.delattr(findings_pkg, "detect", raising=False)
    s = ConsoleSession("mr", lang="en")
    s.add_series(ScanResult("T2", object(), np.zeros((3, 16, 16), np.float32), {}, "mr"))
    s.apply_command({"type": "show_findings", "on": True})
    assert s.snapshot()["findings"]["items"] == []
    panel = FindingsPanel(s, Labels("en"))
    assert "unavailable" in panel.note.value
