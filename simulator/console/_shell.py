"""What the MR and PET consoles share: header bar, scan controls, message line, style, panels.

The shell listens to the session and routes each event to the widgets that show it. Events
may come from the scan worker thread or from the mentoring link; the widgets only read the
session's state here, they never compute.
"""

from __future__ import annotations

import html
import os
import weakref
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from simulator.console.i18n import Labels, query_params
from simulator.console.session import CLOCKS, ConsoleSession
from simulator.durations import format_mmss

__all__ = ["Shell", "CSS", "missing_panel", "mentor_panel", "exercise_choice", "exercise_panel"]

CSS = """
<style>
.merm-root {font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 13px; color:#1c2733;}
.merm-header {background:#1c2733; color:#e8eef5; padding:6px 10px; border-radius:6px 6px 0 0;
  align-items:center;}
.merm-header .widget-label, .merm-header .widget-html-content {color:#e8eef5;}
.merm-title {font-size:18px; font-weight:bold; margin-right:24px;}
.merm-scanbar {background:#263544; padding:6px 10px; align-items:stretch;}
.merm-scanbar .widget-label, .merm-scanbar .widget-html-content {color:#e8eef5;}
.merm-dark {background:#0b0f14; color:#d0d8e0; padding:8px; border-radius:4px;}
.merm-dark .widget-label, .merm-dark .widget-html-content, .merm-dark .widget-readout,
.merm-dark label {color:#d0d8e0 !important;}
.merm-metrics .widget-html-content {max-height:190px; overflow-y:auto;}
.merm-dark .merm-metrics-table th {color:#9fb3c8; text-align:left; padding-right:10px; font-weight:normal;}
.merm-consequences {background:#eef3f8; border:1px solid #c9d6e3; border-radius:0 0 6px 6px;
  padding:4px 10px; margin-bottom:6px;}
.merm-consequences > .widget-html {margin-right:26px;}
.merm-consequences .widget-html-content {font-family: 'DejaVu Sans Mono', monospace;}
.merm-consequences > .merm-ai-saving {flex-basis:100%; height:auto;}
.merm-ai-saving .widget-html-content {white-space:normal; line-height:1.4; color:#1b5e20;}
.merm-ai-caveat {color:#5a6b7c;}
.merm-ai-explain .widget-html-content {white-space:normal; line-height:1.35; font-size:12px;}
.merm-group {border:1px solid #c9d6e3; border-radius:4px; margin:4px; padding:4px 6px; background:#fbfdff;}
.merm-group-title .widget-html-content {font-weight:bold; color:#2a5d8f; text-transform:uppercase;
  letter-spacing:0.05em;}
.merm-field-error .widget-html-content, .merm-err {color:#b00020; font-size:12px; white-space:normal;}
.merm-message {min-height:22px; padding:2px 8px; border-radius:3px;}
.merm-card th {text-align:left; padding-right:12px; color:#2a5d8f;}
.merm-panel-missing {color:#7a5b00; font-style:italic;}
/* the exam bar (Scan, Stop, progress, clock) stays on screen while the page scrolls */
.merm-root {overflow:visible !important;}
.jp-OutputArea:has(.merm-root), .jp-OutputArea-child:has(.merm-root),
.jp-OutputArea-output:has(.merm-root) {overflow:visible !important;}
.merm-scanbar {position:sticky; top:0; z-index:20; overflow:visible !important;
  box-shadow:0 2px 4px rgba(0,0,0,0.25);}
.merm-scanbar-row {align-items:center;}
.merm-scanbar .merm-clock {margin-left:auto;}
.merm-banner {background:#fff4ce; border:2px solid #b36b00; border-radius:4px; padding:4px 10px;
  margin-top:6px; align-items:center;}
.merm-banner .widget-html-content, .merm-banner .widget-label {color:#3d2a00 !important;
  font-size:14px;}
.merm-held-by {background:#b36b00; color:#fff; padding:2px 8px; border-radius:3px;
  font-weight:bold;}
.merm-held .merm-param input, .merm-held .merm-param select {background:#f3e6cc;}
/* WCAG AA contrast (≥ 4.5:1) for white text on the action buttons */
.merm-root .jupyter-button.mod-success {background-color:#1b6e2f;}
.merm-root .jupyter-button.mod-danger {background-color:#b3261e;}
.merm-root .jupyter-button.mod-primary {background-color:#1565c0;}
.merm-root .jupyter-button.mod-warning {background-color:#8a4b00;}
.merm-locked input, .merm-locked select {background:#eceff3 !important; color:#5a6b7c !important;}
.merm-lock-note {color:#5a6b7c; font-size:12px;}
/* WCAG 2.2 AA: a visible focus ring on the image (keyboard W/L and slices, _a11y.py) and
   on every control; inactive tab labels at ≥ 4.5:1 (JupyterLab's #6d6d6d on #eee: 4.45) */
.merm-root img.merm-image:focus-visible {
  outline:3px solid #ffbf47; outline-offset:2px;}
.merm-root button:focus-visible, .merm-root select:focus-visible, .merm-root input:focus-visible,
.merm-root [role=slider]:focus-visible {outline:2px solid #1565c0; outline-offset:1px;}
.merm-root .lm-TabBar-tab, .merm-root .lm-TabBar-tabLabel {color:#4a4a4a !important;}
.merm-a11y-bridge {position:absolute; overflow:hidden;}
</style>
"""


class Banner:
    """The requests that cannot be missed, at the top of the console whatever tab is open:
    an incoming call (Accept / Decline), a mentor asking for control (Grant / Refuse), the
    control held by a mentor ("Control: name", Take back) and a PET remote start to confirm
    (Start / Decline). It shows the
    mentor panel's own rows (the same widgets, a second view), visible while one is."""

    def __init__(self) -> None:
        self.widget = W.VBox([], layout=W.Layout(display="none"))
        self.widget.add_class("merm-banner")
        self._rows: list[W.Widget] = []

    def attach(self, *rows: W.Widget) -> None:
        """Show ``rows`` (mentor panel widgets) here too, while their own display says so."""
        for row in rows:
            if row in self._rows:
                continue
            self._rows.append(row)
            row.layout.observe(lambda _ch: self.update(), "display")
        self.widget.children = tuple(self._rows)
        self.update()

    def update(self) -> None:
        shown = any(r.layout.display != "none" for r in self._rows)
        self.widget.layout.display = None if shown else "none"


#: The banner of each session's console (the mentor panel, built later, fills it).
_BANNERS: weakref.WeakKeyDictionary[Any, Banner] = weakref.WeakKeyDictionary()


def preheat_then_wait(modality: str) -> None:
    """Under Voilà's preheated kernels, pay imports and data loading before the request.

    With ``--preheat_kernel=True`` Voilà runs the notebook before anyone asks for it; the
    console then loads what every page needs, waits for the request (which brings the URL's
    query string and headers into ``os.environ``), and builds the widgets for that page.
    Without preheating this returns at once.
    """
    if os.environ.get("VOILA_PREHEAT", "False") != "True":
        return
    try:
        if modality == "mr":
            import simulator.mr as mr

            mr.derive(mr.preset("brain", "t1_se"))
            mr.load_anatomy("brain")
        else:
            import simulator.pet as pet

            pet.make_phantom("nema-iec", ratio=4.0)
        import simulator.mentoring.widget  # noqa: F401
    except Exception:
        pass
    from voila.utils import wait_for_request

    wait_for_request()


def missing_panel(labels: Labels, what_key: str, why: str) -> W.HTML:
    """A localized line saying a piece of the lab is not available (and why)."""
    h = W.HTML()
    h.add_class("merm-panel-missing")
    labels(h, "missing_piece", "value", what=labels.t(what_key), why=html.escape(why))
    return h


def mentor_panel(session: ConsoleSession, labels: Labels) -> W.Widget:
    """The "Call a mentor" panel of ``simulator.mentoring.widget`` (hub from MERM_HUB_URL)."""
    try:
        from simulator.mentoring.widget import MentorPanel
        from simulator.progress.identity import kernel_display_name

        # the trainee's account (JupyterHub) or signed-in name (serve) labels the room
        panel = MentorPanel(session, os.environ.get("MERM_HUB_URL"), labels.lang,
                            name=kernel_display_name())
    except Exception as exc:  # missing piece or hub misconfigured: the console keeps working
        return missing_panel(labels, "mentor_panel", f"{type(exc).__name__}: {exc}")
    if hasattr(panel, "set_lang"):
        labels.on_switch(panel.set_lang)
    banner = _BANNERS.get(session)
    rows = [getattr(panel, n) for n in ("call_box", "request_row", "confirm_box")
            if hasattr(panel, n)]
    if banner is not None and rows:
        banner.attach(*rows)
    return getattr(panel, "widget", panel)


def load_exercises(modality: str) -> dict[str, Any]:
    """The course's exercises of ``modality`` by id (files that fail to load are left out)."""
    try:
        from simulator.exercises.loader import load_exercise
        from simulator.paths import course_dir
    except ImportError:
        return {}
    out: dict[str, Any] = {}
    for path in sorted((course_dir() / "exercises").glob("*.yaml")):
        try:
            ex = load_exercise(path, check_simulator=False)
        except Exception:  # an instructor's broken file must not break the console
            continue
        if ex.modality == modality:
            out[ex.id] = ex
    return out


def find_exercise(exercise_id: str | None, modality: str) -> Any:
    """The exercise ``exercise_id`` (file ``<id>.yaml`` first, else any file with that id)."""
    if not exercise_id:
        return None
    try:
        from simulator.exercises.loader import load_exercise
        from simulator.paths import course_dir
    except ImportError:
        return None
    folder = course_dir() / "exercises"
    for name in (exercise_id, exercise_id.replace("-", "_")):
        path = folder / f"{name}.yaml"
        if path.is_file():
            try:
                ex = load_exercise(path, check_simulator=False)
            except Exception:
                break
            if ex.id == exercise_id and ex.modality == modality:
                return ex
    return load_exercises(modality).get(exercise_id)


def unknown_exercise(labels: Labels, exercise_id: str) -> W.HTML:
    """A localized note: the exercise ``exercise_id`` (from the URL) is not in the course."""
    h = W.HTML()
    h.add_class("merm-exercise-unknown")
    labels(h, "unknown_exercise", "value", id=html.escape(exercise_id))
    return h


def exercise_choice(explicit: str | None) -> str | None:
    """The exercise id: the argument, else ``?exercise=`` of the Voilà URL."""
    return explicit or query_params().get("exercise")


def exercise_panel(session: ConsoleSession, labels: Labels, exercise: Any) -> W.Widget:
    """``simulator.exercises.panel.ExercisePanel`` for the active exercise."""
    try:
        from simulator.exercises.panel import ExercisePanel
        from simulator.progress.client import progress_client

        # the progress service (JupyterHub) or the lab server (serve) records the attempt
        # under the verified name; a plain notebook keeps a local store
        store = progress_client()
        user = getattr(store, "user", None) or os.environ.get("USER") or "trainee"
        panel = ExercisePanel(session, exercise, store, user, labels.lang)
    except Exception as exc:
        return missing_panel(labels, "exercise_panel", f"{type(exc).__name__}: {exc}")
    if hasattr(panel, "set_lang"):
        labels.on_switch(panel.set_lang)
    return getattr(panel, "widget", panel)


class Shell:
    """Header (title, language, clock), scan bar (Scan, Stop, progress), message line."""

    def __init__(self, session: ConsoleSession, labels: Labels, title_key: str) -> None:
        self.session, self.L = session, labels
        self.title = labels(W.HTML(), title_key, "value")
        self.title.add_class("merm-title")
        self.lang = W.ToggleButtons(
            options=[("FR", "fr"), ("EN", "en"), ("DE", "de")], value=labels.lang, style={"button_width": "44px"}
        )
        self.lang.add_class("merm-lang")
        self.clock = labels(
            W.Dropdown(options=list(CLOCKS), value=session.clock, layout=W.Layout(width="170px")),
            "clock",
        )
        self.clock.style = {"description_width": "60px"}
        self.clock.add_class("merm-clock")
        self.scan = labels(
            W.Button(button_style="success", icon="play", layout=W.Layout(width="130px")), "scan"
        )
        self.scan.add_class("merm-scan")
        self.stop = labels(
            W.Button(
                button_style="danger", icon="stop", disabled=True, layout=W.Layout(width="110px")
            ),
            "stop",
        )
        self.stop.add_class("merm-stop")
        self.progress = W.FloatProgress(min=0.0, max=1.0, value=0.0, layout=W.Layout(width="260px"))
        self.progress.add_class("merm-progress")
        self.remaining = W.HTML()
        self.remaining.add_class("merm-remaining")
        self.message = W.HTML()
        self.message.add_class("merm-message")
        self.controller = W.HTML()
        self.controller.add_class("merm-controller")
        self.header = W.HBox(
            [
                self.title,
                self.controller,
                W.HBox([], layout=W.Layout(flex="1")),
                self.lang,
            ]
        )
        self.header.add_class("merm-header")
        # the exam bar: Scan, Stop, one progress readout (bar + % and time left), the clock;
        # under it the banner of requests that cannot wait (mentor control, PET remote start)
        row = W.HBox([self.scan, self.stop, self.progress, self.remaining, self.clock])
        row.add_class("merm-scanbar-row")
        self.banner = Banner()
        self.scanbar = W.VBox([row, self.banner.widget])
        self.scanbar.add_class("merm-scanbar")
        _BANNERS[session] = self.banner
        self.lang.observe(lambda ch: session.set_lang(ch["new"]), "value")
        self.clock.observe(lambda ch: setattr(session, "clock", ch["new"]), "value")
        self.scan.on_click(lambda _b: session.apply_command({"type": "scan"}, "local", "trainee"))
        self.stop.on_click(lambda _b: session.apply_command({"type": "stop"}, "local", "trainee"))
        self.handlers: list[Callable[[dict], None]] = []
        session.on_change(self._dispatch)
        self.update_scan_button()

    def _dispatch(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "lang":
            self.L.switch(event["lang"])
            if self.lang.value != event["lang"]:
                self.lang.value = event["lang"]
            self.update_scan_button()
        elif kind == "message":
            self.show_message(event["text"], event.get("level", "info"))
        elif kind == "scan_progress":
            self.progress.value = event["progress"]
            running = event["state"] == "running"
            self.stop.disabled = not running
            rem = event.get("remaining_s")
            self.remaining.value = (
                f"{int(event['progress'] * 100)} % — {format_mmss(rem)}"
                if running and rem is not None
                else ""
            )
            self.progress.bar_style = {
                "done": "success",
                "stopped": "warning",
                "error": "danger",
            }.get(event["state"], "info")
            self.update_scan_button()
        elif kind in ("screening", "patient"):
            self.update_scan_button()
        elif kind == "controller":
            who = event["controller"]
            self.controller.value = (
                ""
                if who in ("trainee", "local")
                else f"<span class='merm-held-by'>{html.escape(self.L.t('control_by', who=who))}</span>"
            )
            self.update_scan_button()
        for h in self.handlers:
            h(event)

    def update_scan_button(self) -> None:
        ok, why = self.session.scan_allowed()
        who = getattr(self.session, "controller", "trainee")
        held = who not in ("trainee", "local", None, "")
        if held:  # a mentor holds control: Scan is theirs until the trainee takes it back
            ok, why = False, self.L.t("control_by", who=who)
        self.scan.disabled = (not ok) or self.session.scan_state == "running"
        self.scan.tooltip = why or None

    def show_message(self, text: str, level: str = "info") -> None:
        colour = {"error": "#b00020", "warning": "#8a5a00", "info": "#1c4f80"}.get(level, "#1c4f80")
        self.message.value = f"<span style='color:{colour}'>{html.escape(text)}</span>"
