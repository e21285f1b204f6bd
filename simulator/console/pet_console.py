"""The trainee's PET console: injection, uptake, beds, reconstruction, OSEM, SUV, MIP, NEMA.

``build_pet_console()`` is the only call of ``course/dashboards/pet_console.ipynb``. The
injected activity starts from the EANM guideline value computed by ``simulator.pet.derive``
(≈ 7 MBq·min/kg ÷ minutes per bed) and stays editable; the uptake timer runs on the
console clock; during a scan the viewer shows each OSEM iteration as it converges; a click
on the image (or x/y fields) reads the SUV; the NEMA tab tabulates CRC and BV per sphere.
A mentor's remote "start acquisition" is confirmed by the trainee in the mentor panel (the
hub holds it until then).
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any

import ipywidgets as W
import numpy as np

from simulator.console import _render, _shell, hospital_panel
from simulator.console.i18n import Labels, detect_lang
from simulator.console.params import PET_CHOICES, PET_GROUPS, ParamCard
from simulator.console.session import CLOCKS, ConsoleSession, format_mmss
from simulator.console.viewer import FRAME_H, FRAME_W, Viewer

__all__ = ["build_pet_console", "PETConsole", "suv_at", "nema_table_html"]

PHANTOM_CHOICES = [
    ("NEMA IEC 4:1", ("nema-iec", "4")),
    ("NEMA IEC 8:1", ("nema-iec", "8")),
    ("torso", ("torso", None)),
    ("brain / cerveau", ("brain", None)),
]


def suv_at(series: Any, z: int, row: int, col: int) -> tuple[float, float]:
    """(SUV, Bq/mL) of one voxel: C / (activity at scan start / weight in g)."""
    bq = float(series.images_bqml[z, row, col])
    weight_g = float(series.protocol.weight_kg) * 1000.0
    return bq / (float(series.dose_at_scan_bq) / weight_g), bq


def nema_table_html(nema: dict, lang: str, t: Any) -> str:
    """CRC / BV per sphere (percent) from ``metrics["nema"]`` of an IEC scan."""
    crc, bv, kind = nema.get("crc", {}), nema.get("bv", {}), nema.get("kind", {})
    rows = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{kind.get(k, '')}</td><td>{100 * crc[k]:.1f}</td>"
        f"<td>{100 * bv.get(k, float('nan')):.1f}</td></tr>"
        for k in crc
    )
    extra = ""
    if nema.get("lung_residual") is not None:
        extra = f"<p>{t('lung_residual')}: {100 * float(nema['lung_residual']):.1f} %</p>"
    return (
        f"<table class='merm-nema-table'><tr><th>{t('sphere_mm')}</th><th></th><th>{t('crc')}</th>"
        f"<th>{t('bv')}</th></tr>{rows}</table>{extra}"
    )


class PETConsole:
    """All widgets of the PET console and their wiring; ``.widget`` is the root."""

    def __init__(
        self,
        lang: str | None = None,
        exercise: str | None = None,
        seed: int = 1,
        session: ConsoleSession | None = None,
    ) -> None:
        lang = detect_lang(lang)
        self.L = L = Labels(lang)
        self._syncing = False
        self.session = s = session or ConsoleSession(
            "pet", lang=lang, seed=seed, anatomy="nema-iec", pathology="4"
        )
        self.shell = _shell.Shell(s, L, "pet_title")
        self.phantom = L(W.Dropdown(options=PHANTOM_CHOICES, value=("nema-iec", "4")), "phantom")
        self.phantom.add_class("merm-phantom")
        self.phantom.style.description_width = "initial"  # the French label is long
        self.phantom.observe(
            lambda ch: None if self._syncing else s.set_anatomy(ch["new"][0], ch["new"][1]), "value"
        )
        self.params = ParamCard(s, L, PET_GROUPS, PET_CHOICES)
        self.eanm = L(W.Button(icon="calculator", layout=W.Layout(width="auto")), "use_eanm")
        self.eanm.add_class("merm-use-eanm")
        self.eanm_text = W.HTML()
        self.eanm_text.add_class("merm-eanm-text")
        self.eanm.on_click(
            lambda _b: s.apply_command(
                {
                    "type": "set_param",
                    "name": "activity_mbq",
                    "value": round(s.consequences["eanm_activity_mbq"]),
                }
            )
        )
        self.inject = L(
            W.Button(button_style="warning", icon="syringe", layout=W.Layout(width="auto")), "inject"
        )
        self.inject.add_class("merm-inject")
        self.uptake = W.HTML()
        self.uptake.add_class("merm-uptake")
        self.injected_at: float | None = None
        self._timer: threading.Thread | None = None
        self.inject.on_click(lambda _b: self.do_inject())
        injection = W.VBox(
            [self.phantom, W.HBox([self.eanm, self.eanm_text]), W.HBox([self.inject, self.uptake])]
        )
        self.viewer = Viewer(s, L, on_click=self.probe_frame)
        self.probe_x = L(
            W.BoundedIntText(min=0, max=1023, value=64, layout=W.Layout(width="170px")), "probe_x"
        )
        self.probe_y = L(
            W.BoundedIntText(min=0, max=1023, value=64, layout=W.Layout(width="170px")), "probe_y"
        )
        self.probe_btn = L(W.Button(icon="crosshairs"), "probe")
        self.probe_btn.add_class("merm-suv-probe")
        self.probe_out = W.HTML()
        self.probe_out.add_class("merm-suv")
        self.probe_btn.on_click(lambda _b: self.probe(self.probe_x.value, self.probe_y.value))
        probe_hint = L(W.HTML(), "probe_hint", "value")
        self.viewer.widget.children = (
            *self.viewer.widget.children,
            W.VBox(
                [probe_hint, W.HBox([self.probe_x, self.probe_y, self.probe_btn]), self.probe_out]
            ),
        )
        self.nema = W.HTML()
        self.nema.add_class("merm-nema")
        ex = _shell.find_exercise(_shell.exercise_choice(exercise), "pet")
        self.course: dict[str, Any] = {ex.id: ex} if ex is not None else {}
        self.exercise_dd = L(
            W.Dropdown(options=self._exercise_options(), value=ex.id if ex else None), "exercise"
        )
        self.exercise_dd.add_class("merm-exercise-select")
        self.exercise_dd.observe(lambda ch: self.start_exercise(ch["new"]), "value")
        self.exercise_box = W.VBox([self.exercise_dd])
        self._mentor_box = W.VBox()  # built when its tab first opens (aiortc imports ~1 s)
        self.tabs = W.Tab(
            children=[
                W.VBox([injection, self.params.widget]),
                self.nema,
                self.exercise_box,
                self._mentor_box,
            ]
        )
        self.tabs.observe(lambda ch: self._tab_selected(ch["new"]), "selected_index")
        self._tab_keys = ["tab_injection", "tab_nema", "tab_exercise", "tab_mentor"]
        self._title_tabs()
        L.on_switch(self._on_language)
        right = W.VBox([self.viewer.widget], layout=W.Layout(width="600px"))
        self.viewer.widget.add_class("merm-dark")
        body = W.HBox(
            [W.VBox([self.tabs], layout=W.Layout(flex="1", min_width="560px")), right],
            layout=W.Layout(align_items="flex-start"),
        )
        self.widget = W.VBox(
            [
                W.HTML(_shell.CSS),
                self.shell.header,
                self.shell.scanbar,
                self.params.conseq_box,
                self.shell.message,
                body,
            ]
        )
        self.widget.add_class("merm-root")
        self.widget.add_class("merm-pet-console")
        hospital_panel.attach(self, viewer_box=right)  # MERM_PACS: Send to PACS
        self.shell.handlers.append(self._on_event)
        self.refresh_texts()
        if ex is not None:
            self.start_exercise(ex.id)
            self.tabs.selected_index = 2
        elif _shell.exercise_choice(exercise):  # an id from the URL that the course lacks
            wanted = str(_shell.exercise_choice(exercise))
            self.exercise_box.children = [self.exercise_dd, _shell.unknown_exercise(L, wanted)]
            self.shell.show_message(L.t("unknown_exercise", id=wanted), "error")
            self.tabs.selected_index = 2
        threading.Thread(target=self._load_course, daemon=True, name="merm-course").start()

    # -------------------------------------------------------------- exercises
    def _exercise_options(self) -> list[tuple[str, Any]]:
        return [(self.L.t("free_practice"), None)] + [
            (e.title.get(self.L.lang), k) for k, e in self.course.items()
        ]

    def _load_course(self) -> None:
        course = _shell.load_exercises("pet")
        if course:
            self.course = {**course, **self.course}
            self._relabel_exercises()

    def _relabel_exercises(self) -> None:
        self._syncing = True
        try:
            v = self.exercise_dd.value
            self.exercise_dd.options = self._exercise_options()
            self.exercise_dd.value = v
        finally:
            self._syncing = False

    def start_exercise(self, exercise_id: str | None) -> None:
        """Show the exercise's panel (it puts the console in the exercise's starting state)."""
        if self._syncing:
            return
        ex = self.course.get(exercise_id) if exercise_id else None
        panel = [_shell.exercise_panel(self.session, self.L, ex)] if ex is not None else []
        if ex is None:
            self.session.set_exercise(None)  # free practice: every parameter unlocked
        self.exercise_box.children = [self.exercise_dd, *panel]

    def _tab_selected(self, index: int | None) -> None:
        if index == 3 and not self._mentor_box.children:
            self._mentor_box.children = [_shell.mentor_panel(self.session, self.L)]

    def _title_tabs(self) -> None:
        for i, key in enumerate(self._tab_keys):
            self.tabs.set_title(i, self.L.t(key))

    # -------------------------------------------------------------- injection and uptake
    def do_inject(self) -> None:
        """Start the uptake timer (runs on the console clock; ends at the protocol's uptake)."""
        self.injected_at = time.monotonic()
        self.inject.disabled = True
        if self._timer is None or not self._timer.is_alive():
            self._timer = threading.Thread(target=self._tick, daemon=True, name="merm-uptake")
            self._timer.start()
        self.refresh_texts()

    def uptake_elapsed_s(self) -> float:
        if self.injected_at is None:
            return 0.0
        speed = CLOCKS.get(self.session.clock, 60.0)
        target = self.session.protocol.uptake_min * 60.0
        return (
            target
            if np.isinf(speed)
            else min(target, (time.monotonic() - self.injected_at) * speed)
        )

    def _tick(self) -> None:
        while self.injected_at is not None:
            self.refresh_texts()
            if self.uptake_elapsed_s() >= self.session.protocol.uptake_min * 60.0:
                return
            time.sleep(1.0)

    def refresh_texts(self) -> None:
        t, s = self.L.t, self.session
        c = s.consequences
        self.eanm_text.value = t("eanm_hint", a=c.get("eanm_activity_mbq", 0.0))
        target = s.protocol.uptake_min * 60.0
        if self.injected_at is None:
            self.uptake.value = t("not_injected")
        else:
            el = self.uptake_elapsed_s()
            text = t("uptake_timer", elapsed=format_mmss(el), target=format_mmss(target))
            if el >= target:
                text += " — " + t("uptake_done")
            self.uptake.value = f"<b>{text}</b>"
        self.refresh_nema()

    def _on_language(self, lang: str) -> None:
        self._title_tabs()
        self.refresh_texts()
        self._relabel_exercises()

    def refresh_nema(self) -> None:
        cur = self.session.current_series()
        nema = cur.metrics.get("nema") if cur is not None else None
        if cur is None or not nema:
            self.nema.value = self.L.t("nema_none")
            return
        self.nema.value = f"<b>{self.L.t('nema_table')}</b> — {html.escape(cur.name)}" + (
            nema_table_html(nema, self.L.lang, self.L.t)
        )

    # -------------------------------------------------------------- SUV probe
    def probe_frame(self, x: int, y: int) -> None:
        """A click on the viewer at frame pixel (x, y)."""
        cur = self.session.current_series()
        if cur is None:
            return
        hit = _render.frame_to_image(
            x, y, cur.images.shape[1:], FRAME_W, FRAME_H, self.session.zoom
        )
        if hit is not None:
            self.probe_x.value, self.probe_y.value = hit
            self.probe(*hit)

    def probe(self, col: int, row: int) -> None:
        cur = self.session.current_series()
        if cur is None:
            self.probe_out.value = self.L.t("no_series")
            return
        _n, rows, cols = cur.images.shape
        col, row = min(max(col, 0), cols - 1), min(max(row, 0), rows - 1)
        suv, bq = suv_at(cur.series, self.session.slice_index, row, col)
        self.probe_out.value = f"<b>{self.L.t('suv_at', x=col, y=row, suv=suv, bq=bq)}</b>"

    # -------------------------------------------------------------- events
    def _on_event(self, event: dict) -> None:
        kind = event.get("type")
        if kind in ("protocol", "param"):
            self.params.refresh()
            if event.get("actor", "local") != "local" or kind == "protocol":
                self.params.sync()
            if kind == "param":
                self.params.clear_error(event.get("name", ""))
            self.refresh_texts()
        elif (
            kind == "message"
            and event.get("level") == "error"
            and event.get("name") in self.params.errors
        ):
            self.params.errors[
                event["name"]
            ].value = f"<span class='merm-err'>⚠ {event['text']}</span>"
        elif (
            kind == "scan_progress"
            and event.get("state") == "running"
            and self.injected_at is not None
        ):
            el, target = self.uptake_elapsed_s(), self.session.protocol.uptake_min * 60.0
            if el < target and event.get("progress", 0) == 0:
                self.shell.show_message(
                    self.L.t("uptake_early", elapsed=format_mmss(el), target=format_mmss(target)),
                    "warning",
                )
        if kind == "anatomy":
            key = (event["anatomy"], event.get("pathology"))
            match = [
                v
                for _, v in PHANTOM_CHOICES
                if v[0] == key[0] and (v[1] == key[1] or key[1] is None)
            ]
            if match and self.phantom.value != match[0]:
                self._syncing = True
                self.phantom.value = match[0]
                self._syncing = False
        if kind in ("series", "select", "view", "lang"):
            self.viewer.refresh()
            self.refresh_nema()
        elif kind in ("slice", "window"):
            self.viewer.refresh()
        elif kind in ("iteration", "scan_progress"):
            if (
                kind == "scan_progress"
                and event.get("state") == "running"
                and int(event["progress"] * 100) % 5
            ):
                return
            self.viewer.refresh_image()


def build_pet_console(
    lang: str | None = None, exercise: str | None = None, seed: int = 1
) -> W.Widget:
    """Build the trainee PET console; returns its root widget.

    Parameters
    ----------
    lang : {"fr", "en"}, optional
        Interface language; default from ``?lang=``, ``MERM_LANG``, the browser, ``LANG``.
    exercise : str, optional
        Exercise id; default from the Voilà URL ``?exercise=<id>``.
    seed : int
        Base seed of the session's scans.
    """
    _shell.preheat_then_wait("pet")
    console = PETConsole(lang=lang, exercise=exercise, seed=seed)
    console.widget._merm_console = console
    return console.widget
