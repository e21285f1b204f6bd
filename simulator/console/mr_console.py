"""The trainee's MR console: exam card, safety screening, planning, parameters, queue, viewer.

``build_mr_console()`` is the only call of ``course/dashboards/mr_console.ipynb``. Layout,
as on a scanner: a header (title, clock, language), a scan bar (Scan, Stop, progress, time
left), the message line; on the left the exam tabs (patient & safety, planning, parameter
card, queue, exercise, mentor); on the right the dark viewer with the live consequences
of the parameters under it.
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as W

from simulator.console import _shell, hospital_panel, series_tree
from simulator.console.findings_panel import FindingsPanel
from simulator.console.i18n import Labels, detect_lang
from simulator.console.params import MR_CHOICES, MR_GROUPS, ParamCard
from simulator.console.patient import SCENARIOS, PatientCard, patient_from_exercise
from simulator.console.planning import Planning
from simulator.console.queue import QueuePanel
from simulator.console.session import ConsoleSession
from simulator.console.viewer import FRAME_H, FRAME_W, Viewer
from simulator.console.words import preset_label

__all__ = ["build_mr_console", "MRConsole"]

_BODY_PART = {"brain": "head", "knee": "knee", "spine": "spine"}


class MRConsole:
    """All widgets of the MR console and their wiring; ``.widget`` is the root."""

    def __init__(
        self,
        lang: str | None = None,
        exercise: str | None = None,
        seed: int = 1,
        session: ConsoleSession | None = None,
    ) -> None:
        lang = detect_lang(lang)
        self.L = Labels(lang)
        self.session = session or ConsoleSession("mr", lang=lang, seed=seed)
        s, L = self.session, self.L
        self.shell = _shell.Shell(s, L, "mr_title")
        self.anatomy = L(
            # labelled at once: the course loads in a thread and relabels when it is read
            W.Dropdown(options=[(L.t(a), a) for a in ("brain", "knee", "spine")],
                       value=s.anatomy_name),
            "anatomy",
        )
        self.anatomy.add_class("merm-anatomy")
        self.preset = L(W.Dropdown(options=self._preset_options()), "preset_name")  # T1 SE…
        self.preset.add_class("merm-preset")
        self.coils = L(
            W.Dropdown(
                options=[8, 12, 16],
                value=s.protocol.coils if s.protocol.coils in (8, 12, 16) else 8,
            ),
            "coil",
        )
        self.coils.add_class("merm-param-coils")
        self.patient = PatientCard(s, L, on_patient=lambda p: self._after_anatomy())
        self.params = ParamCard(s, L, MR_GROUPS, {**MR_CHOICES})
        self.planning = Planning(s, L)
        self.findings = FindingsPanel(s, L)
        # a click on the image marks a finding the AI missed (when armed in the list)
        self.viewer = Viewer(
            s, L, on_click=lambda x, y: self.findings.on_image_click(x, y, FRAME_W, FRAME_H)
        )
        self.viewer.attach_beside(self.findings.widget)
        self.series_tree = series_tree.attach(self.viewer)  # patient → exam → series
        self.queue = QueuePanel(s, L, on_load=self.params.sync)
        self._syncing = False
        self.anatomy.observe(lambda ch: self._anatomy_changed(), "value")
        self.preset.observe(lambda ch: self._preset_changed(ch["new"]), "value")
        self.coils.observe(
            lambda ch: (
                None
                if self._syncing
                else s.apply_command({"type": "set_param", "name": "coils", "value": ch["new"]})
            ),
            "value",
        )
        exercise_id = _shell.exercise_choice(exercise)
        first = _shell.find_exercise(exercise_id, "mr")
        self.course: dict[str, Any] = {first.id: first} if first is not None else {}
        self.exercise_dd = L(
            W.Dropdown(options=self._exercise_options(), value=first.id if first else None),
            "exercise",
        )
        self.exercise_dd.add_class("merm-exercise-select")
        self.exercise_box = W.VBox([self.exercise_dd])
        self.exercise_dd.observe(lambda ch: self.start_exercise(ch["new"]), "value")
        exam = W.VBox(
            [
                W.HBox(
                    [self.anatomy, self.preset, self.coils], layout=W.Layout(flex_flow="row wrap")
                ),
                self.patient.widget,
            ]
        )
        # the mentor panel (aiortc, aiohttp: ~1 s of imports) is built when its tab first opens
        self._mentor_box = W.VBox()
        self._mentor_box.add_class("merm-mentor-tab")
        self._plan_dirty = True
        self.tabs = W.Tab(
            children=[
                exam,
                self.planning.widget,
                self.params.widget,
                self.queue.widget,
                self.exercise_box,
                self._mentor_box,
            ]
        )
        self.tabs.observe(lambda ch: self._tab_selected(ch["new"]), "selected_index")
        self._tab_keys = [
            "tab_patient",
            "tab_planning",
            "tab_params",
            "tab_queue",
            "tab_exercise",
            "tab_mentor",
        ]
        self._title_tabs()
        L.on_switch(self._on_language)
        right = W.VBox([self.viewer.widget], layout=W.Layout(width="600px"))
        right.children[0].add_class("merm-dark")
        left = W.VBox([self.tabs], layout=W.Layout(flex="1", min_width="560px"))
        body = W.HBox([left, right], layout=W.Layout(align_items="flex-start"))
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
        self.widget.add_class("merm-mr-console")
        hospital_panel.attach(self, exam_box=exam, viewer_box=right)  # MERM_WORKLIST / MERM_PACS
        self.shell.handlers.append(self._on_event)
        self.patient.admit(self.patient.scenario.value)
        if first is not None:
            self.start_exercise(first.id)
            self.tabs.selected_index = 4
        elif exercise_id:
            self.exercise_box.children = [self.exercise_dd, _shell.unknown_exercise(L, exercise_id)]
            self.shell.show_message(L.t("unknown_exercise", id=exercise_id), "error")
            self.tabs.selected_index = 4
        # the course list fills in behind the page (reading every YAML takes ~1 s)
        threading.Thread(target=self._load_course, daemon=True, name="merm-course").start()
        self.queue.add_current()

    # -------------------------------------------------------------- labels
    def _title_tabs(self) -> None:
        for i, key in enumerate(self._tab_keys):
            self.tabs.set_title(i, self.L.t(key))

    def _anatomy_options(self) -> list[tuple[str, str]]:
        return [(self.L.t(a), a) for a in ("brain", "knee", "spine")]

    def _preset_options(self) -> list[tuple[str, str]]:
        names = self.session.backend.preset_names(self.session.anatomy_name)
        return [(preset_label(n), n) for n in names]

    def _exercise_options(self) -> list[tuple[str, Any]]:
        return [(self.L.t("free_practice"), None)] + [
            (e.title.get(self.L.lang), k) for k, e in self.course.items()
        ]

    def _load_course(self) -> None:
        course = _shell.load_exercises("mr")
        if course:
            self.course = {**course, **self.course}
            self._relabel_options()

    def _on_language(self, lang: str) -> None:
        self._title_tabs()
        self._relabel_options()

    def _relabel_options(self) -> None:
        self._syncing = True
        try:
            v = self.exercise_dd.value
            self.exercise_dd.options = self._exercise_options()
            self.exercise_dd.value = v
            a = self.anatomy.value
            self.anatomy.options = self._anatomy_options()
            self.anatomy.value = a
        finally:
            self._syncing = False

    # -------------------------------------------------------------- exam flow
    def _anatomy_changed(self) -> None:
        if self._syncing:
            return
        s = self.session
        anatomy = self.anatomy.value
        # patient-first: another region is another patient, from that region's scenarios
        current = s.patient.key if s.patient is not None else None
        if current not in SCENARIOS or SCENARIOS[current].anatomy != anatomy:
            key = next((k for k, p in SCENARIOS.items() if p.anatomy == anatomy), None)
            if key is not None:
                self.patient.scenario.value = key  # admits the patient (anatomy, screening)
        if s.anatomy_name != anatomy:
            s.set_anatomy(anatomy, None)
        s.apply_command({"type": "set_param", "name": "body_part", "value": _BODY_PART[anatomy]})
        self._after_anatomy()

    def _after_anatomy(self) -> None:
        s = self.session
        self._syncing = True
        try:
            self.anatomy.value = s.anatomy_name
            self.preset.options = self._preset_options()
        finally:
            self._syncing = False
        self.params.sync()
        self._plan_changed()

    def _preset_changed(self, name: str | None) -> None:
        if self._syncing or name is None:
            return
        s = self.session
        proto = s.backend.default_protocol(s.anatomy_name, name)
        s.load_protocol(proto, name)
        self.params.sync()

    def start_exercise(self, exercise_id: str | None) -> None:
        """Set up the console for an exercise (patient, anatomy, start protocol) and show its panel."""
        if self._syncing:
            return
        if exercise_id is None or exercise_id not in self.course:
            self.exercise_box.children = [self.exercise_dd]
            self.session.set_exercise(None)
            self._lock_exam_card(False)
            return
        ex = self.course[exercise_id]
        s = self.session
        self.patient.admit_patient(patient_from_exercise(ex))
        # the exercise panel puts the console in the exercise's starting state itself
        self.exercise_box.children = [self.exercise_dd, _shell.exercise_panel(s, self.L, ex)]
        self._lock_exam_card(True)
        self._after_anatomy()

    def _lock_exam_card(self, exercise: bool) -> None:
        """In an exercise the region and preset are the exercise's (the coil is a parameter)."""
        self.anatomy.disabled = exercise
        self.preset.disabled = exercise
        self.coils.disabled = self.session.is_locked("coils")

    # -------------------------------------------------------------- events
    def _plan_changed(self) -> None:
        """Redraw the planning views now if they are shown, else when their tab opens."""
        if self.tabs.selected_index == 1:
            self.planning.refresh()
            self._plan_dirty = False
        else:
            self._plan_dirty = True

    def _tab_selected(self, index: int | None) -> None:
        if index == 1 and self._plan_dirty:
            self.planning.refresh()
            self._plan_dirty = False
        if index == 5 and self._mentor_box is not None and not self._mentor_box.children:
            self._mentor_box.children = [_shell.mentor_panel(self.session, self.L)]

    def _on_event(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "protocol":
            self.params.refresh()
            self.params.sync()
            self._plan_changed()
        elif kind == "param":
            self.params.clear_error(event.get("name", ""))
            if event.get("name") == "coils":
                self._syncing = True
                self.coils.value = event["after"]
                self._syncing = False
        elif (
            kind == "message"
            and event.get("level") == "error"
            and event.get("name") in self.params.errors
        ):
            self.params.errors[
                event["name"]
            ].value = f"<span class='merm-err'>⚠ {event['text']}</span>"
        elif kind in ("geometry", "anatomy"):
            self._plan_changed()
        if kind in ("series", "select", "view", "lang"):
            self.viewer.refresh()
        elif kind in ("slice", "window"):
            self.viewer.refresh()
        elif kind in ("scan_progress", "iteration", "preview"):
            if (
                kind == "scan_progress"
                and event.get("state") == "running"
                and int(event["progress"] * 100) % 5
            ):
                return
            self.viewer.refresh_image()


def build_mr_console(
    lang: str | None = None, exercise: str | None = None, seed: int = 1
) -> W.Widget:
    """Build the trainee MR console; returns its root widget (display it, or let Voilà do so).

    Parameters
    ----------
    lang : {"fr", "en"}, optional
        Interface language; default from ``?lang=``, ``MERM_LANG``, the browser, ``LANG``.
    exercise : str, optional
        Exercise id; default from the Voilà URL ``?exercise=<id>``.
    seed : int
        Base seed of the session's scans.
    """
    _shell.preheat_then_wait("mr")
    console = MRConsole(lang=lang, exercise=exercise, seed=seed)
    console.widget._merm_console = console  # keep the Python side alive with the widget
    return console.widget


_ = SCENARIOS
