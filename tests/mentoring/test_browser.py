"""Headless Chromium opens the hub's mentor page and decodes the trainee's console video."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import json
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiohttp import web
from mentoring_fakes import SECRET, FakeConsole

from simulator.mentoring.client import create_room
from simulator.mentoring.server import HubConfig, make_app
from simulator.mentoring.trainee import TraineeLink
from tests.conftest import PAGE_HANG_GUARD_MS, free_port

pytestmark = pytest.mark.browser

#: a hang guard, not a budget: starting the hub and joining its trainee peers (ICE, WebRTC)
#: took over 15 s on a busy CI machine
HUB_HANG_GUARD_S = 120.0


@contextlib.contextmanager
def live_hub(
    tmp_path,  # noqa: ANN001
    labels: tuple[str, ...],
    prefix: str = "/",
    make_console=FakeConsole,  # noqa: ANN001
    modality: str = "mr",
    room_label: str | None = None,
) -> Iterator[SimpleNamespace]:
    """Hub and one trainee kernel per label, on their own loop in a thread (Playwright's sync
    API owns ours)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro, timeout: float = HUB_HANG_GUARD_S):  # noqa: ANN001, ANN202
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    port = free_port()
    site = f"http://127.0.0.1:{port}"
    config = HubConfig(
        secret=SECRET, public_url=site, audit_path=tmp_path / "a.jsonl", prefix=prefix
    )
    url = config.base  # the hub's root, under its prefix
    runner = web.AppRunner(make_app(config))

    async def start() -> tuple[list[dict], list[TraineeLink]]:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        rooms, links = [], []
        for label in labels:
            room = await create_room(url, SECRET, room_label or label, modality)
            link = TraineeLink(
                make_console(), url, room["tokens"]["trainee"], name=label, size=(320, 240)
            )
            await link.start()
            rooms.append(room)
            links.append(link)
        return rooms, links

    rooms, links = run(start())
    try:
        yield SimpleNamespace(url=url, rooms=rooms, links=links, run=run)
    finally:
        for link in links:
            run(link.close())
        run(runner.cleanup())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


@pytest.fixture
def live_room(tmp_path) -> Iterator[SimpleNamespace]:
    """One trainee console in a room of a live hub."""
    with live_hub(tmp_path, ("Alice",)) as live:
        link = live.links[0]
        yield SimpleNamespace(
            url=live.url, room=live.rooms[0], link=link, console=link.session, run=live.run
        )


def poll(page, expression: str, timeout_s: float = 15.0):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(expression)
        if value or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(200)


def test_mentor_page_decodes_console_and_drives_it(browser, live_room, artifacts_dir) -> None:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(
            live_room.room["links"]["mentor"].replace("/mentor#", "/mentor?name=DrWeb&lang=en#")
        )
        decoded = poll(page, "window.merm.stats().then(s => s.console)")
        assert not errors, errors
        assert decoded > 0, "no console frame decoded by Chromium"
        page.wait_for_selector(".merm-param-tr_ms:has-text('500')")

        # control handover through the page, granted by the trainee's kernel
        page.click(".merm-request")
        link = live_room.link
        deadline = time.monotonic() + 5
        while not link.control["pending"] and time.monotonic() < deadline:
            time.sleep(0.05)
        live_room.run(link.grant(link.control["pending"][0]["peer"]))
        page.wait_for_selector(".merm-control.ctl-you")
        page.select_option(".merm-param-name", "tr_ms")
        page.fill(".merm-param-value", "750")
        page.click(".merm-set")
        page.wait_for_selector(".merm-param-tr_ms:has-text('750')")
        assert live_room.console.params["tr_ms"] == 750.0
        # the outcome names the parameter and its values as the card does, not the key
        assert page.inner_text(".merm-result") == "✓ TR: 500 ms → 750 ms"
        assert live_room.console.log[-1][:2] == ("DrWeb", "mentor")

        # people's audio/video: the trainee's call page and the mentor page see each other
        call = context.new_page()
        call.goto(live_room.room["links"]["trainee_call"])
        people = poll(page, "window.merm.stats().then(s => s.people)")
        assert people > 0, "no people's video decoded between the browsers"
        page.screenshot(path=str(artifacts_dir / "mentor_page.png"))
    finally:
        context.close()


def test_class_link_opens_every_console_on_one_mentor_page(browser, tmp_path, artifacts_dir) -> None:  # noqa: ANN001
    """The staff's class link (``GET /api/rooms``) puts each open console in its own tile,
    each decoding its own video, as instructor."""
    with live_hub(tmp_path, ("Alice", "Bruno")) as live:
        req = urllib.request.Request(
            live.url + "/api/rooms", headers={"Authorization": "Bearer " + SECRET.decode()}
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            listing = json.loads(resp.read())
        assert len(listing["rooms"]) == 2
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            page.goto(listing["class_link"].replace("/mentor#", "/mentor?name=Prof&lang=en#"))
            every = (
                "Promise.all(window.merm.clients.map(c => c.stats()))"
                ".then(all => all.length === 2 && all.every(s => s.console > 0))"
            )
            assert poll(page, every, 20.0), "not every console decoded on the class page"
            assert page.locator(".tile").count() == 2 and not errors, errors
            titles = sorted(page.eval_on_selector_all(".tile h2 > span:first-child",
                                                      "es => es.map(e => e.innerText)"))
            assert titles == ["Alice (MR)", "Bruno (MR)"], titles  # each after its trainee
            faults = _layout_faults(page)
            assert not faults, faults
            page.screenshot(path=str(artifacts_dir / "mentor_class_two_tiles.png"))
            for link in live.links:  # each trainee kernel sees the instructor join its room
                assert any(p["role"] == "instructor" for p in link.peers), link.peers
        finally:
            page.close()


def test_mentor_page_works_under_a_jupyterhub_service_prefix(browser, tmp_path) -> None:  # noqa: ANN001
    """Behind JupyterHub's proxy the hub lives at /services/merm-hub/: the page loads its
    script, WebSocket and audit link relative to that prefix, never from the site root."""
    with live_hub(tmp_path, ("Alice",), prefix="/services/merm-hub/") as live:
        link = live.rooms[0]["links"]["mentor"]
        assert link.startswith(live.url + "/mentor#") and "/services/merm-hub/" in link
        context = browser.new_context()
        page = context.new_page()
        failed: list[str] = []
        page.on("requestfailed", lambda req: failed.append(req.url))
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
        try:
            page.goto(link.replace("/mentor#", "/mentor?lang=en&av=0#"))
            decoded = poll(page, "window.merm.stats().then(s => s.console)")
            assert decoded > 0, "no console frame decoded under the prefix"
            page.wait_for_selector(".merm-param-tr_ms:has-text('500')")
            audit = page.eval_on_selector("a.status[target=_blank]", "a => a.href")
            assert audit.startswith(live.url + "/api/rooms/")
            with urllib.request.urlopen(audit, timeout=10) as resp:
                assert resp.status == 200 and resp.read().startswith(b"seq,time,room")
            assert not failed, failed
        finally:
            context.close()


@contextlib.contextmanager
def _mentor_page(browser, live, lang: str):  # noqa: ANN001, ANN202
    """The first room's mentor page in ``lang`` at 1366×768 (no camera), its page errors
    collected; closed at the end."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        mentor = live.rooms[0]["links"]["mentor"]
        page.goto(mentor.replace("/mentor#", f"/mentor?name=Dr&lang={lang}&av=0#"))
        yield page, errors
    finally:
        page.close()


def _console_with_worklist_and_failed_pacs(lang: str = "en"):  # noqa: ANN202
    """A real MR console, in ``lang``, whose exam comes from a worklist entry, with one real series whose
    C-STORE failed (nothing listens on port 1): what the mentor's page must put in words."""
    from simulator.console.hospital_panel import patient_for_procedure
    from simulator.console.session import ConsoleSession
    from simulator.hospital.address import parse_address
    from simulator.hospital.exam import send_exam, set_worklist_entry
    from simulator.hospital.worklist import procedure_for_scenario, scenario_names

    s = ConsoleSession("mr", lang=lang, seed=5)
    sp = procedure_for_scenario(scenario_names()[0], datetime.datetime(2026, 12, 2, 9, 0))
    s.set_patient(patient_for_procedure(sp))
    s.set_screening("ok")
    set_worklist_entry(s, sp)
    small = dataclasses.replace(s.protocol, slices=3, matrix_read=64, matrix_phase=64)
    assert s.load_protocol(small)["ok"]
    s.clock = "max"
    started = s.apply_command({"type": "scan"})
    assert started["ok"], started
    s.wait(180)
    assert s.scan_state == "done", s.message
    statuses = send_exam(s, parse_address("ORTHANC@127.0.0.1:1"))
    assert [st.state for st in statuses] == ["failed"]
    return s, sp


WORDS = json.loads(
    (Path(__file__).resolve().parents[2] / "simulator/mentoring/static/words.json").read_text(
        "utf-8"
    )
)


def _english_only(lang: str) -> set[str]:
    """Words of the page's table that English says differently from ``lang``: none of them
    may fill a cell of a French or German page."""
    if lang == "en":
        return set()
    out = set()
    for table in ("params", "switch", "roles", "decisions", "finding_labels"):
        out |= {e["en"] for e in WORDS[table].values() if e[lang] != e["en"]}
    for values in WORDS["values"].values():
        out |= {e["en"] for e in values.values() if e[lang] != e["en"]}
    return out


def _layout_faults(page) -> list[str]:  # noqa: ANN001
    """What overflows at the page's size: the page wider than the window, a tile past its
    right edge, a cell or line whose text is wider than its box."""
    return page.evaluate(
        """() => {
        const out = [], W = document.documentElement.clientWidth;
        if (document.scrollingElement.scrollWidth > W + 1) out.push(`page ${document.scrollingElement.scrollWidth} > ${W}`);
        for (const t of document.querySelectorAll('.tile')) {
          const r = t.getBoundingClientRect();
          if (r.right > W + 1) out.push(`tile right ${r.right} > ${W}`);
        }
        for (const e of document.querySelectorAll('.tile td, .tile li, .tile .status, .tile h2, .tile button, header *')) {
          if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'auto')
            out.push(`${e.className || e.tagName}: ${e.innerText.slice(0, 40)} (${e.scrollWidth} > ${e.clientWidth})`);
        }
        return out; }"""
    )


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
def test_mentor_page_tells_worklist_and_pacs_in_words(
    browser, tmp_path, monkeypatch, lang, artifacts_dir
) -> None:  # noqa: ANN001
    """The worklist entry and each series' PACS status read as sentences of the page's
    language (patient, procedure, accession; series, state, reason), never as JSON; the
    protocol reads as the console's card (name, value and unit), never as its keys."""
    monkeypatch.setenv("MERM_HOME", str(tmp_path / "home"))
    session, sp = _console_with_worklist_and_failed_pacs(lang)  # the trainee's language too
    snap = session.snapshot()
    assert snap["worklist"]["accession"] == sp.accession_number and snap["pacs"]
    with live_hub(tmp_path, ("Alice",), make_console=lambda: session) as live:
        with _mentor_page(browser, live, lang) as (page, errors):
            page.wait_for_selector(".merm-state-pacs", timeout=PAGE_HANG_GUARD_MS)
            rows = page.eval_on_selector_all(
                "table.params tr", "rs => rs.map(r => [r.cells[0].innerText, r.cells[1].innerText])"
            )
            lines = dict(rows)  # the state lines; the protocol is beside them
            proto_rows = page.eval_on_selector_all(
                ".merm-protocol .kv",
                "rs => rs.map(r => [r.children[0].innerText, r.children[1].innerText])",
            )
            assert len(proto_rows) == len(snap["protocol"]), proto_rows
            cell = {k: page.inner_text(f".merm-param-{k}") for k in snap["protocol"]}
            label = {k: page.inner_text(f".merm-label-{k}") for k in snap["protocol"]}
            worklist = page.inner_text(".merm-state-worklist")
            pacs = page.inner_text(".merm-state-pacs")
            scan = page.inner_text(".merm-state-scan")
            window = page.inner_text(".merm-state-window")
            tile_title = page.inner_text(".tile h2 > span")
            options = page.eval_on_selector_all(
                ".merm-param-name option", "os => os.map(o => o.textContent)"
            )
            header = (
                page.inner_text("#name-label"),
                page.get_attribute("#add-token", "placeholder"),
            )
            faults = _layout_faults(page)
            page.screenshot(path=str(artifacts_dir / f"mentor_state_{lang}.png"))
            page.screenshot(
                path=str(artifacts_dir / f"mentor_state_{lang}_full.png"), full_page=True
            )
    assert not errors, errors
    assert not faults, faults
    for text in [worklist, pacs, scan, window]:
        assert "{" not in text and '"' not in text and "null" not in text, text
    assert sp.accession_number in worklist
    # the RIS's English procedure ("MR brain") in the page's language
    assert WORDS["procedures"][sp.procedure_description][lang] in worklist, worklist
    if lang != "en":
        assert sp.procedure_description not in worklist, worklist
    assert session.patient.name in worklist and sp.patient_id in worklist
    name = re.sub(r"^1\s*:\s*", "", session.series[0].name)  # "1: SE axial …", number said once
    expected = {
        "fr": ("Liste de travail", f"Série 1 {name} : échec (", "terminée"),
        "en": ("Worklist", f"Series 1 {name}: failed (", "done"),
        "de": ("Arbeitsliste", f"Serie 1 {name}: fehlgeschlagen (", "fertig"),
    }[lang]
    assert expected[0] in lines, lines
    assert pacs.startswith(expected[1]), pacs
    from simulator.hospital.exam import exam_for

    (status,) = exam_for(session).statuses.values()
    # nothing listens on port 1: the reason, and the operating system's error, in words
    assert "Connection refused" in status.reason_en
    reason = {
        "fr": status.reason_fr.replace("(Connection refused)", "(connexion refusée)"),
        "en": status.reason_en,
        "de": "ORTHANC@127.0.0.1:1: nicht erreichbar (Verbindung abgelehnt); "
        "läuft der Server, stimmt der Port?",
    }[lang]
    assert reason in pacs, pacs
    assert scan == expected[2], scan
    # words, not letters: the video's burnt-in "W … L …" is width/level, and a French "L"
    # (largeur) beside it would read as the level
    assert re.fullmatch(
        {
            "fr": r"centre \d+(,\d+)? / largeur \d+(,\d+)?",
            "en": r"center \d+(\.\d+)? / width \d+(\.\d+)?",
            "de": r"Zentrum \d+(,\d+)? / Breite \d+(,\d+)?",
        }[lang],
        window,
    ), window
    # the protocol as a technologist reads it: name, value and unit in the page's language
    p = session.protocol
    assert (p.sequence, p.body_part, p.orientation, p.tr_ms, p.flip_deg, p.fat_sat) == (
        "se",
        "head",
        "axial",
        500.0,
        90.0,
        False,
    )
    assert (label["tr_ms"], cell["tr_ms"]) == ("TR", "500 ms")
    assert cell["flip_deg"] == "90°" and cell["slice_mm"] == f"{p.slice_mm:g} mm"
    # the console card's own words (simulator.console.mentor_words builds the page's table)
    assert (label["sequence"], cell["sequence"]) == {
        "fr": ("Séquence", "SE"),
        "en": ("Sequence", "SE"),
        "de": ("Sequenz", "SE"),
    }[lang]
    # decimals with the page's separator: the 1.5 T field is "1,5 T" in French and German
    assert (label["field_t"], cell["field_t"]) == {
        "fr": ("Champ", "1,5 T"),
        "en": ("Field", "1.5 T"),
        "de": ("Feldstärke", "1,5 T"),
    }[lang]
    if lang != "en":
        pointed = [t for t in [*cell.values(), *lines.values()] if re.search(r"(?<![\d.])\d+\.\d+(?![\d.])", t)]
        assert not pointed, f"a decimal point on the {lang} page: {pointed}"
    assert (label["body_part"], cell["body_part"]) == {
        "fr": ("Antenne", "tête"),
        "en": ("Coil", "head"),
        "de": ("Spule", "Kopf"),
    }[lang]
    assert (label["orientation"], cell["orientation"]) == {
        "fr": ("Orientation", "axial"),
        "en": ("Orientation", "axial"),
        "de": ("Orientierung", "axial"),
    }[lang]
    assert cell["fat_sat"] == {"fr": "désactivé", "en": "off", "de": "aus"}[lang]
    for k in snap["protocol"]:  # no key, no Python literal
        assert k not in (label[k], cell[k]) and "_" not in label[k] + cell[k], (
            k,
            label[k],
            cell[k],
        )
        assert not re.search(r"\b(True|False|None|true|false|null)\b", cell[k]), (k, cell[k])
    assert "_" not in "".join(options), options
    english = _english_only(lang)
    leaked = [c for row in proto_rows for c in row if c in english]
    assert not leaked, f"English on the {lang} page: {leaked}"
    assert (
        tile_title
        == {
            "fr": "Alice (IRM)",
            "en": "Alice (MR)",
            "de": "Alice (MRT)",
        }[lang]
    ), tile_title
    # the header speaks the page's language too
    assert (
        header
        == {
            "fr": ("votre nom", "collez le lien d'invitation d'une console"),
            "en": ("your name", "paste a console's invitation link"),
            "de": ("Ihr Name", "Einladungslink einer Konsole einfügen"),
        }[lang]
    ), header


def _findings_console(lang: str):  # noqa: ANN202
    """A real MR console whose snapshot carries the detection AI's findings in the shape of
    simulator.findings (``Finding.to_dict``, ``Decision.to_dict``): ``test_findings = None``
    leaves the key out, as a console without the detector does."""
    from simulator.console.session import ConsoleSession
    from simulator.findings import Decision, Finding

    class ConsoleWithFindings(ConsoleSession):
        test_findings: dict | None = None

        def snapshot(self) -> dict:
            snap = super().snapshot()
            snap.pop("findings", None)
            if self.test_findings is not None:
                snap["findings"] = self.test_findings
            return snap

    s = ConsoleWithFindings("mr", lang=lang, seed=5)
    items = [
        Finding(
            "ms_lesion",
            11,
            (60.0, 80.0),
            (4.0, 5.0),
            0.87,
            {
                "fr": "Hypersignal périventriculaire gauche",
                "en": "Left periventricular hyperintensity",
                "de": "Periventrikuläre Hyperintensität links",
            },
            "F1",
            n_slices=2,
            measure={"diameter_mm": 6.0},
        ),
        Finding(
            "tumour",
            4,
            (100.0, 40.0),
            (9.0, 9.0),
            0.42,
            {
                "fr": "Masse frontale droite",
                "en": "Right frontal mass",
                "de": "Raumforderung frontal rechts",
            },
            "F2",
        ),
    ]
    full = {
        "shown": True,
        "items": [f.to_dict() for f in items],
        "decisions": {"F1": "accept"},
        "added": [
            Decision(
                "add", "T1", slice_index=7, centre_rc=(40.0, 52.0), label="ms_lesion"
            ).to_dict()
        ],
    }
    return s, full


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
def test_mentor_page_lists_the_ai_findings_and_the_trainees_decisions(
    browser, tmp_path, lang, artifacts_dir
) -> None:  # noqa: ANN001
    """While the console shows the detection AI's findings, the mentor reads each one (id,
    text in the page's language, confidence, slice, the trainee's decision in words) and
    the findings the trainee added; nothing when the console shows none or has no
    detector."""
    session, full = _findings_console(lang)
    with live_hub(tmp_path, ("Alice",), make_console=lambda: session) as live:
        link = live.links[0]
        with _mentor_page(browser, live, lang) as (page, errors):
            page.wait_for_selector(".merm-param-tr_ms", timeout=PAGE_HANG_GUARD_MS)
            absent = (page.is_hidden(".merm-findings"), page.locator(".merm-finding").count())

            session.test_findings = full
            live.run(link.send_state())
            page.wait_for_selector(".merm-finding[data-id=T1]", timeout=PAGE_HANG_GUARD_MS)
            heading = page.inner_text(".merm-findings h3")
            shown = page.eval_on_selector_all(
                ".merm-finding", "ls => ls.map(l => [l.dataset.id, l.className, l.innerText])"
            )
            faults = _layout_faults(page)
            page.locator(".merm-findings").scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts_dir / f"mentor_findings_{lang}.png"))

            session.test_findings = {**full, "decisions": {"F1": "accept", "F2": "reject"}}
            live.run(link.send_state())
            page.wait_for_selector(".merm-finding-reject[data-id=F2]", timeout=PAGE_HANG_GUARD_MS)

            session.test_findings = {"shown": True, "items": [], "decisions": {}, "added": []}
            live.run(link.send_state())
            page.wait_for_selector(".merm-findings .status", timeout=PAGE_HANG_GUARD_MS)
            none_found = page.inner_text(".merm-findings .status")

            session.test_findings = {**full, "shown": False}  # the trainee hid them
            live.run(link.send_state())
            page.wait_for_selector(".merm-findings", state="hidden", timeout=PAGE_HANG_GUARD_MS)
            hidden = page.locator(".merm-finding:visible").count()
    assert not errors, errors
    assert absent == (True, 0), absent
    assert hidden == 0
    assert (
        none_found
        == {
            "fr": "aucune détection de l'IA sur cette série",
            "en": "no AI finding on this series",
            "de": "kein KI-Befund in dieser Serie",
        }[lang]
    ), none_found
    assert not faults, faults
    assert heading == {"fr": "Détections de l'IA", "en": "AI findings", "de": "KI-Befunde"}[lang]
    words = {
        "fr": (
            "Hypersignal périventriculaire gauche",
            "confiance 87 %",
            "coupe 12",
            "Ø 6 mm",
            "acceptée",
            "Masse frontale droite",
            "confiance 42 %",
            "pas encore décidée",
            "lésion de SEP",
            "coupe 8",
            "ajoutée par le stagiaire",
        ),
        "en": (
            "Left periventricular hyperintensity",
            "confidence 87 %",
            "slice 12",
            "Ø 6 mm",
            "accepted",
            "Right frontal mass",
            "confidence 42 %",
            "not decided yet",
            "MS lesion",
            "slice 8",
            "added by the trainee",
        ),
        "de": (
            "Periventrikuläre Hyperintensität links",
            "Konfidenz 87 %",
            "Schicht 12",
            "Ø 6 mm",
            "angenommen",
            "Raumforderung frontal rechts",
            "Konfidenz 42 %",
            "noch nicht entschieden",
            "MS-Läsion",
            "Schicht 8",
            "von der/dem Auszubildenden ergänzt",
        ),
    }[lang]
    (f1_id, f1_cls, f1), (f2_id, _, f2), (t1_id, _, t1) = shown
    assert (f1_id, f2_id, t1_id) == ("F1", "F2", "T1")
    assert "merm-finding-accept" in f1_cls
    assert f1.startswith("F1 — ") and all(w in f1 for w in words[:5]), f1
    assert f2.startswith("F2 — ") and all(w in f2 for w in words[5:8]), f2
    assert t1.startswith("T1 — ") and all(w in t1 for w in words[8:]), t1
    for line in (f1, f2, t1):  # no key, no literal, no other language
        assert not re.search(r"_|\b(accept|reject|add|None|null|true|false)\b", line), line


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
def test_mentor_page_reads_the_pet_protocol_in_words(
    browser, tmp_path, lang, artifacts_dir
) -> None:  # noqa: ANN001
    """A real PET console's card on the mentor's page: each parameter named, with its unit,
    on/off and named values in the page's language; nothing overflows at 1366×768."""
    from simulator.console.session import ConsoleSession

    session = ConsoleSession("pet", lang=lang, seed=3)
    protocol = session.snapshot()["protocol"]
    with live_hub(tmp_path, ("Alice",), make_console=lambda: session, modality="pet") as live:
        with _mentor_page(browser, live, lang) as (page, errors):
            page.wait_for_selector(".merm-param-activity_mbq", timeout=PAGE_HANG_GUARD_MS)
            assert poll(page, "window.merm.stats().then(s => s.console)"), "no PET frame"
            slice_rows = page.locator(".merm-state-slice").count()  # no series yet
            rows = page.eval_on_selector_all(
                ".merm-protocol .kv",
                "rs => rs.map(r => [r.children[0].innerText, r.children[1].innerText])",
            )
            cell = {k: page.inner_text(f".merm-param-{k}") for k in protocol}
            title = page.inner_text(".tile h2 > span")
            faults = _layout_faults(page)
            page.screenshot(path=str(artifacts_dir / f"mentor_pet_{lang}.png"))
    assert not errors, errors
    assert not faults, faults
    assert len(rows) == len(protocol), rows
    assert slice_rows == 0 and not session.series
    p = session.protocol
    assert (p.tracer, p.recon, p.tof_ps, p.attenuation_correction) == ("F18-FDG", "osem", 0.0, True)
    assert cell["tracer"] == "¹⁸F-FDG" and cell["recon"] == "OSEM"
    assert (
        cell["activity_mbq"] == f"{p.activity_mbq:g} MBq"
        and cell["uptake_min"] == f"{p.uptake_min:g} min"
    )
    on, off = {"fr": ("activé", "désactivé"), "en": ("on", "off"), "de": ("ein", "aus")}[lang]
    # TOF 0 in the card's words: "TOF (ps, 0 = non)"
    no_tof = {"fr": "non", "en": "off", "de": "aus"}[lang]
    assert cell["attenuation_correction"] == on and cell["tof_ps"] == no_tof, cell
    assert cell["psf_modelling"] == off, cell
    english = _english_only(lang)
    for name, value in rows:
        assert "_" not in name + value and name not in protocol, (name, value)
        assert name not in english and value not in english, (lang, name, value)
    assert (
        title
        == {
            "fr": "Alice (TEP)",
            "en": "Alice (PET)",
            "de": "Alice (PET)",
        }[lang]
    ), title


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
def test_mentor_page_follows_the_consoles_own_findings(browser, tmp_path, lang) -> None:  # noqa: ANN001
    """The console's own findings, driven through its public commands as the trainee's
    panel drives them (show_findings, add_finding, decide_finding), reach the mentor's
    page line for line: what the detector reported (or that it reported nothing) and what
    the trainee added, in the page's language."""
    from simulator.console.session import ConsoleSession

    session = ConsoleSession("mr", lang=lang, seed=5)
    session.set_screening("ok")
    small = dataclasses.replace(session.protocol, slices=3, matrix_read=64, matrix_phase=64)
    assert session.load_protocol(small)["ok"]
    session.clock = "max"
    assert session.apply_command({"type": "scan"})["ok"]
    session.wait(180)
    assert session.scan_state == "done", session.message
    with live_hub(tmp_path, ("Alice",), make_console=lambda: session) as live:
        with _mentor_page(browser, live, lang) as (page, errors):
            page.wait_for_selector(".merm-param-tr_ms", timeout=PAGE_HANG_GUARD_MS)
            before = session.snapshot()["findings"]
            hidden_before = page.is_hidden(".merm-findings")
            assert session.apply_command({"type": "show_findings", "on": True})["ok"]
            added = session.apply_command(
                {"type": "add_finding", "row": 20, "col": 30, "slice": 1, "label": "ms_lesion"}
            )
            assert added["ok"], added
            items = session.findings_state()["items"]
            if items:  # the detector found something: the trainee accepts the first
                decided = {"type": "decide_finding", "id": items[0]["id"], "kind": "accept"}
                assert session.apply_command(decided)["ok"]
            state = session.findings_state()
            live.run(link_state(live))
            page.wait_for_selector(".merm-finding[data-id=T1]", timeout=PAGE_HANG_GUARD_MS)
            shown = page.eval_on_selector_all(
                ".merm-finding", "ls => ls.map(l => [l.dataset.id, l.innerText])"
            )
            status = page.locator(".merm-findings .status").all_inner_texts()
    assert not errors, errors
    assert before["shown"] is False and hidden_before
    ids = [i["id"] for i in state["items"]] + [a["finding_id"] for a in state["added"]]
    assert [i for i, _ in shown] == ids == [*ids[:-1], "T1"], (shown, state)
    decided_word = WORDS["decisions"]
    for item, (_, line) in zip(state["items"], shown[:-1], strict=True):
        assert item["text"][lang] in line and f"{round(100 * item['confidence'])} %" in line
        verdict = state["decisions"].get(item["id"], "undecided")
        assert line.endswith(decided_word[verdict][lang]), line
    assert status == (
        []
        if state["items"]
        else [
            {
                "fr": "aucune détection de l'IA sur cette série",
                "en": "no AI finding on this series",
                "de": "kein KI-Befund in dieser Serie",
            }[lang]
        ]
    ), status
    t1 = shown[-1][1]
    assert WORDS["finding_labels"]["ms_lesion"][lang] in t1 and t1.endswith(
        decided_word["add"][lang]
    ), t1
    assert {"fr": "coupe 2", "en": "slice 2", "de": "Schicht 2"}[lang] in t1, t1


async def link_state(live) -> None:  # noqa: ANN001
    """Publish the console's state now (its change events schedule the same send)."""
    await live.links[0].send_state()


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_mentor_page_says_the_hubs_refusal_in_its_language(browser, live_room, lang) -> None:  # noqa: ANN001
    """A mentor who sets a parameter without holding control reads the hub's refusal in the
    page's language (the hub sends English on the wire), and the console is untouched."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        page.goto(
            live_room.room["links"]["mentor"].replace(
                "/mentor#", f"/mentor?name=Dr&lang={lang}&av=0#"
            )
        )
        page.wait_for_selector(".merm-param-tr_ms:has-text('500')", timeout=PAGE_HANG_GUARD_MS)
        page.select_option(".merm-param-name", "tr_ms")
        page.fill(".merm-param-value", "750")
        page.click(".merm-set")
        page.wait_for_selector(".merm-result:has-text('✗')", timeout=PAGE_HANG_GUARD_MS)
        refusal = page.inner_text(".merm-result")
    finally:
        page.close()
    assert (
        refusal
        == {"fr": "✗ vous n'avez pas la main", "de": "✗ Sie haben die Steuerung nicht"}[lang]
    ), refusal
    assert live_room.console.params["tr_ms"] == 500.0


_SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
_LITERAL = re.compile(r"\b(True|False|None|true|false|null|undefined|NaN)\b|\{'|\['")


def _sar_console(lang: str):  # noqa: ANN202
    """A real MR console in an exercise, screening not yet validated (Scan blocked), with a
    TSE protocol at 3 T whose SAR comes close to the limit (the physics' warning)."""
    from simulator.console.patient import SCENARIOS
    from simulator.console.session import ConsoleSession

    s = ConsoleSession("mr", lang=lang, seed=5)
    s.set_patient(SCENARIOS["headache"])
    for name, value in (("sequence", "tse"), ("tr_ms", 3000), ("etl", 24), ("slices", 22),
                        ("field_t", 3.0)):
        assert s.apply_command({"type": "set_param", "name": name, "value": value})["ok"]
    s.set_exercise("mr-t1-contrast", editable=["tr_ms", "te_ms"])
    assert any(w.startswith("SAR ") for w in s.warnings), s.warnings
    assert not s.scan_allowed()[0]
    return s


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
def test_mentor_tile_names_the_trainee_with_step_safety_exercise_and_alerts(
    browser, tmp_path, lang, artifacts_dir
) -> None:  # noqa: ANN001
    """Item 7 of issue 14: the tile is named after its trainee (not the room's "MR —
    trainee"), says the exam step, the safety screening, the exercise's progress and the
    alerts (blocked scan, SAR, a declined call), in the page's language; the video is
    scaled to the column and the chat is beside it, above the fold at 1366×768; no key, no
    literal and no English word on a French or German tile."""
    session = _sar_console(lang)
    with live_hub(tmp_path, ("Alice",), make_console=lambda: session,
                  room_label="MR — trainee") as live:
        link = live.links[0]
        with _mentor_page(browser, live, lang) as (page, errors):
            page.wait_for_selector(".merm-alert-sar", timeout=PAGE_HANG_GUARD_MS)
            title = page.inner_text(".tile h2 > span")
            before = {k: page.inner_text(f".merm-state-{k}") for k in ("step", "safety", "exercise")}
            alerts = page.eval_on_selector_all(".merm-alert", "es => es.map(e => [e.className, e.innerText])")
            # the trainee declines the mentor's call (what the console banner's Decline sends)
            mentor = next(p for p in link.peers if p["role"] == "mentor")
            live.run(link.decline_call(mentor["id"]))
            page.wait_for_selector(".merm-alert-declined", timeout=PAGE_HANG_GUARD_MS)
            declined = page.inner_text(".merm-alert-declined")
            # the trainee validates the screening: Scan is free, the exercise one step on
            session.set_screening("ok")
            page.wait_for_function(
                "() => !document.querySelector('.merm-alert-blocked')", timeout=PAGE_HANG_GUARD_MS
            )
            after = {k: page.inner_text(f".merm-state-{k}") for k in ("step", "safety", "exercise")}
            boxes = page.evaluate(
                """() => Object.fromEntries(['.screen video', '.chat', '.merm-chat-input', '.tile']
                  .map(q => { const r = document.querySelector(q).getBoundingClientRect();
                              return [q, [r.left, r.top, r.right, r.bottom, r.width]]; }))"""
            )
            tile_text = page.inner_text(".tile")
            faults = _layout_faults(page)
            page.screenshot(path=str(artifacts_dir / f"mentor_tile_{lang}.png"))
    assert not errors, errors
    assert not faults, faults
    assert title == {"fr": "Alice (IRM)", "en": "Alice (MR)", "de": "Alice (MRT)"}[lang], title
    assert "trainee" not in title
    t = {
        "fr": ("questionnaire de sécurité", "questionnaire non validé", "0/2 étapes faites",
               "acquisition bloquée", "DAS 3,1 W/kg proche de la limite 3,2 W/kg",
               "le stagiaire a refusé l'appel", "protocole et planification", "questionnaire validé",
               "1/2 étapes faites"),
        "en": ("safety screening", "screening not validated", "0/2 steps done", "scan blocked",
               "SAR 3.1 W/kg close to the limit 3.2 W/kg", "the trainee declined the call",
               "protocol and planning", "screening validated", "1/2 steps done"),
        "de": ("Sicherheitsfragebogen", "Fragebogen nicht bestätigt", "0/2 Schritte erledigt",
               "Aufnahme gesperrt", "SAR 3,1 W/kg nahe der Grenze 3,2 W/kg",
               "hat den Anruf abgelehnt", "Protokoll und Planung", "Fragebogen bestätigt",
               "1/2 Schritte erledigt"),
    }[lang]
    assert before["step"] == t[0] and before["safety"] == t[1], before
    assert before["exercise"].startswith(t[2]), before
    kinds = {cls.split("merm-alert-")[-1]: text for cls, text in alerts}
    assert kinds.get("blocked", "").startswith(t[3]), alerts
    assert kinds.get("sar") == t[4], alerts
    assert t[5] in declined, declined
    assert (after["step"], after["safety"]) == (t[6], t[7]), after
    assert after["exercise"].startswith(t[8]), after
    # video scaled to its column, the chat beside it (to its right), above the fold
    video, chat, chat_input = boxes[".screen video"], boxes[".chat"], boxes[".merm-chat-input"]
    assert video[4] >= 560, video  # not a 415 px thumbnail
    assert chat[0] >= video[2], (video, chat)  # beside, not below
    assert chat_input[3] <= 768, chat_input  # the chat's input is on screen
    assert boxes[".tile"][4] >= 1300, boxes[".tile"]  # one tile fills the width
    # no key, no literal, no English word on a French or German tile
    assert not _SNAKE.search(tile_text), _SNAKE.findall(tile_text)
    assert not _LITERAL.search(tile_text), _LITERAL.findall(tile_text)
    if lang != "en":
        lines = {line.strip() for line in tile_text.splitlines()}
        for part in re.split(r"\t|\n", tile_text):
            lines.add(part.strip())
        assert not (lines & _english_only(lang)), lines & _english_only(lang)
        assert "steps done" not in tile_text and "no alert" not in tile_text


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_mentor_tile_alerts_a_pet_start_waiting_for_the_trainee(
    browser, tmp_path, lang, artifacts_dir
) -> None:  # noqa: ANN001
    """A mentor holding control of a real PET console asks for a scan: the tile says, in
    the page's language, that the start waits for the trainee's confirmation, until the
    trainee answers (here: declines)."""
    from simulator.console.session import ConsoleSession

    session = ConsoleSession("pet", lang=lang, seed=3)
    with live_hub(tmp_path, ("Alice",), make_console=lambda: session, modality="pet") as live:
        link = live.links[0]
        with _mentor_page(browser, live, lang) as (page, errors):
            page.wait_for_selector(".merm-param-activity_mbq", timeout=PAGE_HANG_GUARD_MS)
            page.click(".merm-request")
            deadline = time.monotonic() + 15  # hang guard
            while not link.control["pending"] and time.monotonic() < deadline:
                time.sleep(0.05)
            live.run(link.grant(link.control["pending"][0]["peer"]))
            page.wait_for_selector(".merm-control.ctl-you", timeout=PAGE_HANG_GUARD_MS)
            page.click(".merm-scan")
            alert = page.wait_for_selector(".merm-alert-confirm", timeout=PAGE_HANG_GUARD_MS)
            waiting = alert.inner_text()
            step = page.inner_text(".merm-state-step")
            safety_rows = page.locator(".merm-state-safety").count()
            page.screenshot(path=str(artifacts_dir / f"mentor_pet_confirm_{lang}.png"))
            deadline = time.monotonic() + 15
            while not link.pending_confirms and time.monotonic() < deadline:
                time.sleep(0.05)
            live.run(link.confirm(min(link.pending_confirms), False))
            page.wait_for_selector(".merm-alert-confirm", state="detached",
                                   timeout=PAGE_HANG_GUARD_MS)
    assert not errors, errors
    assert waiting == {
        "fr": "en attente de la confirmation du lancement TEP par le stagiaire",
        "de": "wartet auf die Bestätigung des PET-Starts durch die/den Auszubildende/n",
    }[lang]
    assert step == {"fr": "accueil du patient", "de": "Patientenaufnahme"}[lang]  # no patient yet
    assert safety_rows == 0  # the MR screening is not a PET step
    assert session.scan_state != "running"
