"""Console widgets without a browser: i18n, parameter card, safety screening, queue, planning."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from simulator.console.i18n import STRINGS, Labels, detect_lang, tr
from simulator.console.patient import QUESTIONS, SCENARIOS, screen
from simulator.console.planning import SIZE, click_to_centre, draw_view, wrap_banner
from simulator.console.queue import ProtocolQueue


def test_every_string_has_both_languages() -> None:
    for key, (fr, en) in STRINGS.items():
        assert fr.strip() and en.strip(), key
        assert set(re.findall(r"{(\w+)", fr)) == set(re.findall(r"{(\w+)", en)), (
            key
        )  # same placeholders


@pytest.mark.parametrize(
    ("arg", "env", "expected"),
    [
        (None, {}, "en"),
        (None, {"LANG": "fr_FR.UTF-8"}, "fr"),
        (None, {"LANG": "fr_FR.UTF-8", "MERM_LANG": "en"}, "en"),
        (None, {"HTTP_ACCEPT_LANGUAGE": "fr-CH,fr;q=0.9", "LANG": "C.UTF-8"}, "fr"),
        (None, {"QUERY_STRING": "exercise=x&lang=fr", "MERM_LANG": "en"}, "fr"),
        ("en", {"MERM_LANG": "fr"}, "en"),
    ],
)
def test_detect_lang(arg: str | None, env: dict, expected: str) -> None:
    assert detect_lang(arg, env) == expected


def test_labels_switch() -> None:
    import ipywidgets as W

    L = Labels("fr")
    b = L(W.Button(), "scan")
    assert b.description == tr("scan", "fr") != tr("scan", "en")
    seen = []
    L.on_switch(seen.append)
    L.switch("en")
    assert b.description == tr("scan", "en") and seen == ["en"]


def _answers(patient) -> dict:  # noqa: ANN001
    kinds = {i.kind for i in patient.implants}
    return {k: bool(kinds & set(v)) for k, v in QUESTIONS.items()}


def test_screening_against_the_record() -> None:
    calm = SCENARIOS["headache"]
    assert screen(calm, {})[0] == "incomplete"
    assert screen(calm, _answers(calm)) == ("ok", "")
    wrong = {**_answers(calm), "q_pacemaker": True}
    assert screen(calm, wrong) == ("mismatch", "q_pacemaker")
    assert screen(SCENARIOS["tumour"], _answers(SCENARIOS["tumour"]))[0] == "blocked"
    assert screen(SCENARIOS["knee_oedema"], _answers(SCENARIOS["knee_oedema"]))[0] == "conditional"


def test_queue_operations() -> None:
    q = ProtocolQueue()
    q.add("a", 1)
    q.add("b", 2)
    assert q.duplicate(0) == 1 and [e.label for e in q.entries] == ["a", "a (2)", "b"]
    assert q.move(2, -1) == 1 and [e.protocol for e in q.entries] == [1, 2, 1]
    assert q.move(0, -1) == 0  # stays in range
    q.mark_done(0)
    assert q.next_pending() == 1
    assert q.remove(2) == 1 and len(q.entries) == 2


@pytest.mark.parametrize("view", ["axial", "coronal", "sagittal"])
def test_click_on_a_scout_moves_the_centre_within_that_plane(view: str) -> None:
    """A click puts the stack centre under the pointer and keeps its offset along the scout's
    normal; clicking back where the centre is drawn leaves it in place (round trip)."""
    from simulator.mr import Geometry, load_anatomy, localizer

    loc = localizer(load_anatomy("brain"), rng=1)
    centre = (3.0, 10.0, 20.0)
    new = click_to_centre(loc, view, 60.0, 150.0, centre)
    n = {"axial": 2, "coronal": 1, "sagittal": 0}[view]
    assert new[n] == pytest.approx(centre[n], abs=0.06)  # rounding to 0.1 mm
    assert new != centre
    r, c = loc.to_pixel(view, new)
    rows, cols = loc.image(view).shape
    back = click_to_centre(loc, view, (c + 0.5) / cols * SIZE, (r + 0.5) / rows * SIZE, new)
    assert np.allclose(back, new, atol=0.06)
    assert draw_view(loc, view, Geometry(orientation="axial", center_mm=new), _preset()).size == (
        SIZE,
        SIZE,
    )


def _preset():  # noqa: ANN202
    from simulator.mr import preset

    return preset("brain", "t1_se")


def test_wrap_banner_grows_as_phase_fov_shrinks() -> None:
    from simulator.mr import load_anatomy, preset
    from simulator.mr.planning import default_geometry

    anat = load_anatomy("brain")
    p = preset("brain", "t1_se")
    geo = default_geometry(anat, p)
    for lang in ("fr", "en", "de"):
        assert "⚠" not in wrap_banner(anat, p, geo, Labels(lang))  # the preset does not wrap
        small = wrap_banner(anat, dataclasses.replace(p, fov_mm=120.0), geo, Labels(lang))
        assert "⚠" in small and "120" in small  # the phase FOV it says is the one set


@pytest.mark.parametrize(
    ("move_mm", "angle_deg"), [(0.0, 0.0), (20.0, 0.0), (0.0, 30.0)], ids=["centred", "off-centre", "oblique"]
)
def test_wrap_banner_follows_the_stack_as_the_scan_folds_it(move_mm: float, angle_deg: float) -> None:
    # An axial brain stack, phase AP, phase FOV 230 mm: the head is about 207 mm long, so the
    # old banner (a bounding box of the body against the phase FOV, blind to the stack's
    # centre and angle) said "no wrap" for all three. Moved 20 mm forward or tilted 30°,
    # the back of the head leaves the phase FOV and folds: the banner must say so whenever
    # the scan itself (its k-space grid folded slice by slice, SeriesMetrics.wrap_share)
    # reports wrap, and only then.
    from simulator.mr import Geometry, load_anatomy, preset, scan
    from simulator.mr.planning import WRAP_WARN_SHARE, default_geometry

    anat = load_anatomy("brain")
    p = dataclasses.replace(preset("brain", "t1_se"), phase_dir="AP", matrix_read=128, matrix_phase=128)
    centre = default_geometry(anat, p).center_mm
    geo = Geometry(
        orientation="axial", center_mm=(centre[0], centre[1] + move_mm, centre[2]), angle_deg=angle_deg
    )
    scanned = scan(anat, p, geo, rng=None).metrics["wrap_share"] > WRAP_WARN_SHARE
    assert scanned == (move_mm > 0 or angle_deg > 0)  # the case is what its name says
    assert ("⚠" in wrap_banner(anat, p, geo, Labels("en"))) == scanned


def test_param_card_refuses_and_keeps_previous() -> None:
    from simulator.console.params import MR_CHOICES, MR_GROUPS, ParamCard
    from simulator.console.session import ConsoleSession

    s = ConsoleSession("mr", lang="fr")
    L = Labels("fr")
    card = ParamCard(s, L, MR_GROUPS, MR_CHOICES)
    s.on_change(lambda e: card.refresh() if e["type"] in ("protocol", "param") else None)
    before = card.conseq["scan-time"].value
    card.fields["tr_ms"].value = 1000.0
    assert card.conseq["scan-time"].value != before  # consequences redrawn
    card.fields["tr_ms"].value = 1.0
    assert card.fields["tr_ms"].value == 1000.0  # back to the last valid value
    assert "5–15000" in card.errors["tr_ms"].value  # why, at the field
    card.fields["te_ms"].value = 20.0
    assert s.protocol.te_ms == 20.0  # still working
    for name, w in card.fields.items():
        assert f"merm-param-{name}" in w._dom_classes


def test_mr_console_builds_and_switches_language() -> None:
    from simulator.console.mr_console import MRConsole

    c = MRConsole(lang="fr")
    assert c.shell.scan.disabled  # screening first
    for tb in c.patient.answers.values():
        tb.value = False
    c.patient.check()
    assert not c.shell.scan.disabled
    fr = c.params.fields["slice_mm"].description
    c.shell.lang.value = "en"
    assert c.params.fields["slice_mm"].description != fr
    assert c.tabs.get_title(2) == tr("tab_params", "en")
    c.session.apply_command(
        {"type": "set_param", "name": "tr_ms", "value": 650}, "Dupont", "mentor"
    )
    assert c.params.fields["tr_ms"].value == 650.0
    assert "Dupont" in c.shell.message.value


def test_language_switch_keeps_the_exam_state() -> None:
    """Relabelling dropdowns must not re-admit the patient or reset the screening."""
    from simulator.console.mr_console import MRConsole

    c = MRConsole(lang="en")
    for tb in c.patient.answers.values():
        tb.value = False
    c.patient.check()
    assert c.session.screening == "ok"
    c.shell.lang.value = "fr"
    assert c.session.screening == "ok" and not c.shell.scan.disabled
    assert c.anatomy.value == "brain" and dict(c.anatomy.options)[tr("brain", "fr")] == "brain"


def test_queue_run_all_scans_each_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    from simulator.console._backend import ScanResult
    from simulator.console.queue import QueuePanel
    from simulator.console.session import ConsoleSession

    s = ConsoleSession("mr", lang="en")
    s.set_screening("ok")
    s.clock = "max"
    s._anatomy = object()
    protocols = []

    def fake_scan(protocol, geometry, anatomy, rng, emit, name):  # noqa: ANN001
        protocols.append(protocol.tr_ms)
        return ScanResult(name, None, np.zeros((2, 4, 4), np.float32), {}, "mr")

    monkeypatch.setattr(s.backend, "scan", fake_scan)
    monkeypatch.delattr(type(s.backend), "preview")
    panel = QueuePanel(s, Labels("en"))
    panel.add_current()
    s.apply_command({"type": "set_param", "name": "tr_ms", "value": 700})
    panel.add_current()
    panel.press("queue_run_all")
    import time

    deadline = time.monotonic() + 10
    while (len(s.series) < 2 or panel.run_all) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert protocols == [500.0, 700.0]  # in queue order, each its own protocol
    assert all(e.done for e in panel.queue.entries) and not panel.run_all


def test_physics_warnings_in_french() -> None:
    """Every warning the MR rules give for a stressed protocol has a French rendering."""
    from simulator.console.i18n import localize_warning
    from simulator.mr import check_protocol, preset

    p = dataclasses.replace(preset("brain", "t2_tse"), bandwidth_hz_px=60.0, etl=32, te_ms=110.0)
    warnings = check_protocol(p)
    assert warnings  # the case exercises the table
    for w in warnings:
        assert localize_warning(w, "fr") != w, w
        assert localize_warning(w, "en") == w


def test_viewer_slider_is_one_based_and_follows_the_session() -> None:
    from simulator.console._backend import ScanResult
    from simulator.console.session import ConsoleSession
    from simulator.console.viewer import Viewer

    s = ConsoleSession("mr", lang="en")
    v = Viewer(s, Labels("en"))
    s.on_change(lambda e: v.refresh() if e["type"] in ("series", "slice", "window") else None)
    s.add_series(
        ScanResult("A", None, np.random.default_rng(0).random((6, 16, 16), np.float32), {}, "mr")
    )
    assert (v.slice.min, v.slice.max, v.slice.value) == (1, 6, 4)  # middle slice, shown 1-based
    v.slice.value = 1
    assert s.slice_index == 0
    s.apply_command({"type": "set_slice", "index": 5}, "Dupont", "mentor")
    assert v.slice.value == 6
    before = v.image.value
    s.apply_command({"type": "set_window", "center": 0.2, "width": 0.1}, "Dupont", "mentor")
    assert v.image.value != before  # the picture follows a remote W/L change


@pytest.mark.parametrize("modality", ["mr", "pet"])
def test_every_parameter_field_is_translated(modality: str) -> None:
    """New protocol fields from the physics packages must not show a raw name."""
    from simulator.console.params import HIDDEN
    from simulator.console.session import ConsoleSession

    s = ConsoleSession(modality)
    missing = [
        f.name
        for f in dataclasses.fields(s.protocol)
        if f.name not in HIDDEN and f.name not in STRINGS
    ]
    assert not missing, f"add to simulator/console/i18n.py STRINGS: {missing}"
