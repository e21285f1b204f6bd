"""The exercise panel embedded in the trainee console (ipywidgets).

``ExercisePanel(session, exercise, store, user, lang)`` shows the exercise's title, brief and
patient, its objectives going green or red live as the console changes (cheap objectives
only: scan time, SAR, fat shift, parameters…; objectives that need images stay grey until
Submit), a Submit button that runs the full grader and stores the attempt, the score and
per-objective feedback, and hints one at a time.

The panel talks to the console only through ``ConsoleLike`` (``snapshot``, ``on_change``)
plus, when present, ``set_anatomy``/``load_protocol``/``set_geometry`` to put the console in
the exercise's starting state.
"""

from __future__ import annotations

import html
import threading
from datetime import UTC, datetime
from typing import Any

import ipywidgets as W

from simulator.exam import steps as exercise_steps
from simulator.exercises import _protocol
from simulator.exercises.grader import GradeResult, grade, live_status
from simulator.exercises.objectives import format_value, objective_label, objective_target
from simulator.exercises.schema import Exercise
from simulator.exercises.store import EVENT_EXERCISE_OPENED, EVENT_MENTOR_CALLED

__all__ = ["ExercisePanel", "record_mentor_call", "MENTOR_EVENT_TYPES"]

#: Console/mentoring events (``on_change`` event ``type``) that mean "the trainee called a
#: mentor"; the panel records :data:`EVENT_MENTOR_CALLED` in the store when it sees one.
MENTOR_EVENT_TYPES = ("mentor_called", "call_mentor", "mentor_call")

_TXT = {  # key: (fr, en, de)
    "submit": ("Soumettre", "Submit", "Abgeben"),
    "hint": ("Indice", "Hint", "Hinweis"),
    "no_more_hints": ("Plus d'indice.", "No more hints.", "Keine weiteren Hinweise."),
    "reset": ("Recommencer", "Start again", "Neu beginnen"),
    "objectives": ("Objectifs", "Objectives", "Ziele"),
    "patient": ("Patient", "Patient", "Patient"),
    "pending": ("mesuré à la soumission", "measured on submit", "gemessen bei der Abgabe"),
    "score": ("Note", "Score", "Punkte"),
    "grading": ("Correction en cours…", "Grading…", "Bewertung läuft…"),
    "saved": ("Tentative enregistrée.", "Attempt saved.", "Versuch gespeichert."),
    "not_saved": ("Tentative NON enregistrée : ", "Attempt NOT saved: ",
                  "Versuch NICHT gespeichert: "),
    "call_mentor": ("Appeler un mentor", "Call a mentor", "Mentor rufen"),
    "mentor_called": ("Mentor appelé.", "Mentor called.", "Mentor gerufen."),
    "target": ("cible", "target", "Ziel"),
    "measured": ("mesuré", "measured", "gemessen"),
    "editable": ("Paramètres modifiables", "Parameters you may change", "Änderbare Parameter"),
    "implants": ("implants", "implants", "Implantate"),
    "years": ("ans", "years", "Jahre"),
    "steps": ("Avant de soumettre", "Before you submit", "Vor der Abgabe"),
    "step_screening": ("valider le questionnaire de sécurité IRM (onglet Patient)",
                       "validate the MR safety screening (Patient tab)",
                       "den MRT-Sicherheitsfragebogen bestätigen (Reiter Patient)"),
    "step_series": ("acquérir une série avec le protocole à soumettre (Acquérir)",
                    "acquire a series with the protocol you submit (Scan)",
                    "eine Serie mit dem abzugebenden Protokoll messen (Messen)"),
    "steps_done": ("Prêt : la série {name} sera soumise.", "Ready: series {name} will be submitted.",
                   "Bereit: Serie {name} wird abgegeben."),
    "missing": ("Soumission impossible : il reste à {what}.", "Cannot submit yet: still to {what}.",
                "Abgabe noch nicht möglich: noch {what}."),
    "graded_series": ("Série corrigée : {name}", "Graded series: {name}", "Bewertete Serie: {name}"),
}

def _lang(lang: Any) -> str:
    lang = str(lang or "fr")
    return "en" if lang.startswith("en") else ("de" if lang.startswith("de") else "fr")


#: Event recorded beside each attempt: the series it graded (number, name, protocol).
EVENT_ATTEMPT_SERIES = "attempt_series"


def _series_record(series: dict[str, Any] | None) -> dict[str, Any]:
    """The series of an attempt as a JSON-safe record (number, name, protocol, geometry)."""
    if not series:
        return {"series": None}
    return {"series": {k: series.get(k) for k in ("number", "name", "protocol", "geometry")}}


_COLORS = {True: "#1b7f3b", False: "#b3261e", None: "#777777"}
_ICONS = {True: "✔", False: "✘", None: "○"}


def record_mentor_call(store: Any, user: str, exercise_id: str | None, **payload: Any) -> None:
    """Record that ``user`` called a mentor during ``exercise_id`` (the ``mentor_called``
    metric reads this event)."""
    store.record_event(user, EVENT_MENTOR_CALLED, payload, exercise_id=exercise_id)


class ExercisePanel:
    """Exercise side panel of a console; ``.widget`` is the root widget."""

    def __init__(self, session: Any, exercise: Exercise, store: Any = None, user: str = "trainee",
                 lang: str = "fr", prepare_session: bool = True) -> None:
        self.session = session
        self.exercise = exercise
        self.store = store
        self.user = user
        self.lang = _lang(lang)
        self.opened_at = datetime.now(UTC)
        self.result: GradeResult | None = None
        self.live: dict[str, bool | None] = {}
        self._hints_shown = 0
        self._fresh = False  # the shown grade matches the console's protocol
        self._last_key = ""
        self._lock = threading.Lock()
        self._build()
        if prepare_session:
            self.reset_console()
        if store is not None:
            try:
                store.record_event(user, EVENT_EXERCISE_OPENED, {"version": exercise.version},
                                   exercise_id=exercise.id, at=self.opened_at)
            except Exception as exc:  # the store may be down; the exercise still works
                self._message(f"{self.t('not_saved')}{exc}", error=True)
        session.on_change(self._on_change)
        self.refresh()
        self.update_steps()

    # ---------------------------------------------------------------- helpers
    def t(self, key: str) -> str:
        fr, en, de = _TXT[key]
        return {"fr": fr, "en": en, "de": de}.get(self.lang, en)

    def set_lang(self, lang: str) -> None:
        """Switch the panel's language (fr/en/de)."""
        self.lang = _lang(lang)
        self.submit.description = self.t("submit")
        self.hint_button.description = self.t("hint")
        self.reset_button.description = self.t("reset")
        self.mentor_button.description = self.t("call_mentor")
        self._render_header()
        self._render_objectives()
        self.update_steps()
        if self.result is not None:
            self._render_result()

    def _message(self, text: str, error: bool = False) -> None:
        color = "#b3261e" if error else "#333"
        self.message.value = f"<span style='color:{color}'>{html.escape(text)}</span>"

    # ---------------------------------------------------------------- widgets
    def _build(self) -> None:
        self.header = W.HTML()
        self.header.add_class("merm-exercise-brief")
        self.objectives_box = W.HTML()
        self.objectives_box.add_class("merm-exercise-objectives")
        self.submit = W.Button(description=self.t("submit"), button_style="primary", icon="check")
        self.submit.add_class("merm-exercise-submit")
        self.submit.on_click(lambda _b: self.submit_attempt())
        self.hint_button = W.Button(description=self.t("hint"), icon="lightbulb-o")
        self.hint_button.add_class("merm-exercise-hint")
        self.hint_button.on_click(lambda _b: self.show_hint())
        self.reset_button = W.Button(description=self.t("reset"), icon="undo")
        self.reset_button.add_class("merm-exercise-reset")
        self.reset_button.on_click(lambda _b: self.reset_console())
        self.mentor_button = W.Button(description=self.t("call_mentor"), icon="phone")
        self.mentor_button.add_class("merm-exercise-call-mentor")
        self.mentor_button.on_click(lambda _b: self.call_mentor())
        wants_mentor = any(o.metric == "mentor_called" for o in self.exercise.objectives)
        self.mentor_button.layout.display = None if wants_mentor else "none"
        self.hints = W.HTML()
        self.hints.add_class("merm-exercise-hints")
        self.score = W.HTML()
        self.score.add_class("merm-exercise-score")
        self.message = W.HTML()
        self.message.add_class("merm-exercise-message")
        self.steps = W.HTML()
        self.steps.add_class("merm-exercise-steps")
        buttons = W.HBox([self.submit, self.hint_button, self.reset_button, self.mentor_button])
        self.widget = W.VBox([self.header, self.objectives_box, self.steps, buttons, self.score,
                              self.hints, self.message], layout=W.Layout(width="100%"))
        self.widget.add_class("merm-exercise-panel")
        self._render_header()

    def _render_header(self) -> None:
        from simulator.console.i18n import tr
        from simulator.console.patient import IMPLANTS

        ex, lang = self.exercise, self.lang
        p = ex.patient
        state = html.escape(tr(p.state, lang))
        implants = ", ".join(IMPLANTS[k].label(lang) if k in IMPLANTS else k.replace("_", " ")
                             for k in p.implants) or "—"
        editable = ", ".join(tr(n, lang) for n in ex.editable)
        self.header.value = (
            f"<h3 style='margin:4px 0'>{html.escape(ex.title.get(lang))}</h3>"
            f"<p>{html.escape(ex.brief.get(lang))}</p>"
            f"<p style='font-size:90%'><b>{self.t('patient')}</b>: {html.escape(p.name)}, "
            f"{p.age} {self.t('years')}, {p.weight_kg:g} kg — "
            f"{html.escape(p.indication.get(lang))} — {state}; {self.t('implants')}: "
            f"{html.escape(implants)}<br><b>{self.t('editable')}</b>: {html.escape(editable)}</p>"
        )

    def _row(self, obj: Any, status: bool | None, measured: Any = None, feedback: str = "") -> str:
        label = objective_label(obj, self.lang)
        color, icon = _COLORS[status], _ICONS[status]
        detail = f"{self.t('target')} {html.escape(objective_target(obj, self.lang))}"
        if measured is not None:
            m = format_value(obj, measured, self.lang)
            detail = f"{self.t('measured')} {html.escape(m)}, " + detail
        elif status is None:
            detail += f" — {self.t('pending')}"
        fb = f"<div style='font-size:90%;margin-left:1.4em'>{html.escape(feedback)}</div>" if feedback else ""
        state = {True: "pass", False: "fail", None: "pending"}[status]
        return (f"<li class='merm-objective merm-objective-{html.escape(obj.id)} merm-objective-{state}' "
                f"style='color:{color};list-style:none'>{icon} <b>{html.escape(label)}</b> "
                f"<span style='font-size:90%'>({detail})</span>{fb}</li>")

    def _render_objectives(self) -> None:
        rows = []
        fresh = self.result is not None and self._fresh
        graded = {o.id: o for o in self.result.objectives} if fresh and self.result else {}
        for obj in self.exercise.objectives:
            if obj.id in graded:
                g = graded[obj.id]
                rows.append(self._row(obj, g.passed, g.measured, g.feedback))
            else:
                rows.append(self._row(obj, self.live.get(obj.id)))
        self.objectives_box.value = (f"<b>{self.t('objectives')}</b><ul style='padding-left:0'>"
                                     + "".join(rows) + "</ul>")

    def _render_result(self) -> None:
        r = self.result
        if r is None:
            return
        color = _COLORS[r.passed]
        err = f"<div style='color:#b3261e'>{html.escape(r.error)}</div>" if r.error else ""
        name = (r.series or {}).get("name")
        graded = (f"<div class='merm-graded-series' style='font-size:90%'>"
                  f"{html.escape(self.t('graded_series').format(name=name))}</div>" if name else "")
        self.score.value = (f"<div style='font-size:120%;color:{color}'><b>{self.t('score')}: "
                            f"{r.score:.0f}/100</b></div>{graded}{err}")
        self._render_objectives()

    # ---------------------------------------------------------------- behaviour
    def _current(self) -> tuple[dict[str, Any], dict[str, Any] | None]:
        snap = self.session.snapshot()
        proto = dict(snap.get("protocol") or {})
        geo = snap.get("geometry")
        record = getattr(self.session, "findings_record", None)
        if callable(record):  # the trainee's calls on the AI findings go with the attempt
            proto["findings"] = record()
        return proto, (dict(geo) if isinstance(geo, dict) else None)

    def refresh(self, force: bool = False) -> None:
        """Recompute the live (cheap) objectives from the console's current protocol."""
        proto, geo = self._current()
        key = repr((sorted(proto.items()), sorted((geo or {}).items())))
        if key == self._last_key and not force:
            return  # the console reported the same change twice (protocol + param events)
        self._last_key = key
        self._fresh = False
        self.live = live_status(self.exercise, proto, geo, store=self.store, user=self.user,
                                since=self.opened_at)
        self._render_objectives()

    def _on_change(self, event: dict) -> None:
        kind = event.get("type") if isinstance(event, dict) else None
        if kind in MENTOR_EVENT_TYPES:
            self.call_mentor(source=str(kind))
            return
        if kind in ("protocol", "param", "geometry", "anatomy", "patient"):
            self.refresh()
        if kind in ("protocol", "param", "geometry", "anatomy", "patient", "screening", "series",
                    "lang"):
            self.update_steps()

    # ---------------------------------------------------------------- required steps
    def graded_series(self) -> dict[str, Any] | None:
        """The newest series acquired with the console's current protocol (and geometry)."""
        return exercise_steps.graded_series(self.session.snapshot())

    def missing_steps(self) -> list[str]:
        """The required steps not done yet: ``step_screening`` (MR), ``step_series``."""
        snap = dict(self.session.snapshot(), modality=self.exercise.modality)
        return [k for k, done in exercise_steps.required_steps(snap).items() if not done]

    def update_steps(self) -> None:
        """Enable Submit only when the required steps are done; say which one is missing."""
        missing = self.missing_steps()
        if missing:
            items = "".join(f"<li class='merm-step-missing merm-{k.replace('_', '-')}'>✘ "
                            f"{html.escape(self.t(k))}</li>" for k in missing)
            self.steps.value = (f"<div style='color:#8a5a00'><b>{self.t('steps')}</b>"
                                f"<ul style='margin:2px 0;padding-left:1.2em'>{items}</ul></div>")
        else:
            series = self.graded_series() or {}
            self.steps.value = ("<div class='merm-steps-done' style='color:#1b7f3b'>✔ "
                                f"{html.escape(self.t('steps_done').format(name=series.get('name', '')))}"
                                "</div>")
        if not self._lock.locked():
            self.submit.disabled = bool(missing)
        self.submit.tooltip = "; ".join(self.t(k) for k in missing) or None

    def reset_console(self) -> None:
        """Put the console in the exercise's starting state (anatomy, protocol, geometry)."""
        s, ex = self.session, self.exercise
        try:
            if hasattr(s, "set_exercise"):  # the console locks what the exercise does not let change
                s.set_exercise(ex.id, ex.editable)
            if hasattr(s, "set_findings_policy"):  # AI findings: shown or not, locked or not
                fs = ex.findings
                s.set_findings_policy(shown=bool(fs and fs.shown), locked=bool(fs and fs.locked))
            if ex.modality == "mr" and hasattr(s, "set_anatomy"):
                s.set_anatomy(ex.anatomy, ex.pathology, ex.preset)
            elif ex.modality == "pet" and hasattr(s, "set_anatomy"):
                s.set_anatomy(ex.phantom, None)
            if hasattr(s, "load_protocol"):
                start = _protocol.start_protocol(ex)
                s.load_protocol(start, ex.title.get(self.lang))
                # the patient's restlessness is the exercise's, whatever the console's
                # default for this patient state: what the trainee sees is what is graded
                motion = getattr(start, "motion", None)
                if motion is not None and s.snapshot().get("protocol", {}).get("motion") != motion:
                    s.apply_command({"type": "set_param", "name": "motion", "value": motion},
                                    "exercise", "instructor")
            if ex.start.geometry and hasattr(s, "set_geometry"):
                s.set_geometry(**dict(ex.start.geometry))
        except Exception as exc:  # never break the console
            self._message(str(exc), error=True)

    def show_hint(self) -> None:
        """Reveal the next hint."""
        hints = self.exercise.hints
        if self._hints_shown < len(hints):
            self._hints_shown += 1
        items = "".join(f"<li>{html.escape(h.get(self.lang))}</li>" for h in hints[: self._hints_shown])
        more = "" if self._hints_shown < len(hints) else f"<i>{self.t('no_more_hints')}</i>"
        self.hints.value = f"<ol>{items}</ol>{more}"
        if self.store is not None:
            try:
                self.store.record_event(self.user, "hint_shown", {"n": self._hints_shown},
                                        exercise_id=self.exercise.id)
            except Exception:
                pass

    def call_mentor(self, source: str = "panel") -> None:
        """Record a mentor call for this exercise (metric ``mentor_called``)."""
        if self.store is not None:
            try:
                record_mentor_call(self.store, self.user, self.exercise.id, source=source)
            except Exception as exc:
                self._message(f"{self.t('not_saved')}{exc}", error=True)
                return
        self._message(self.t("mentor_called"))
        self.refresh(force=True)

    def _submit_remote(self, proto: dict[str, Any], geo: dict[str, Any] | None,
                       series: dict[str, Any] | None) -> None:
        """Submit through :mod:`simulator.progress.client`: the server's grade is shown and
        kept; when the server cannot take it, the console's own grade is shown and the
        attempt is kept for the next Submit, with the reason in one line."""
        from simulator.progress.client import submit_remote

        def local() -> GradeResult:
            return grade(self.exercise, proto, geo, self.lang, since=self.opened_at, series=series)

        self.result, attempt_id, failure = submit_remote(
            self.store, self.exercise, proto, geo, lang=self.lang, started_at=self.opened_at,
            series=series, local_grade=local)
        self._fresh = True
        self._render_result()
        if failure is not None:
            self._message(f"{self.t('not_saved')}{failure}", error=True)
            return
        try:
            self.store.record_event(self.user, EVENT_ATTEMPT_SERIES,
                                    {"attempt_id": attempt_id, **_series_record(series)},
                                    exercise_id=self.exercise.id)
        except Exception:  # the attempt itself is saved (and names its series)
            pass
        self._message(self.t("saved"))

    def submit_attempt(self) -> GradeResult | None:
        """Grade the console's current protocol, store the attempt, show the feedback.

        Refused (None, with the missing step in the message) until the required steps are
        done: the MR safety screening validated and a series acquired with this protocol.
        """
        missing = self.missing_steps()
        if missing:
            self._message(self.t("missing").format(what=" ; ".join(self.t(k) for k in missing)),
                          error=True)
            self.update_steps()
            return None
        with self._lock:
            self.submit.disabled = True
            self._message(self.t("grading"))
            try:
                proto, geo = self._current()
                series = self.graded_series()
                if getattr(self.store, "remote", False):  # a progress server grades and records
                    self._submit_remote(proto, geo, series)
                    return self.result
                self.result = grade(self.exercise, proto, geo, self.lang, store=self.store,
                                    user=self.user, since=self.opened_at, series=series)
                self._fresh = True
                self._render_result()
                if self.store is not None:
                    try:
                        attempt_id = self.store.record_attempt(
                            self.user, self.exercise.id, proto, self.result,
                            exercise_version=self.exercise.version, geometry=geo,
                            started_at=self.opened_at, lang=self.lang)
                        self.store.record_event(
                            self.user, EVENT_ATTEMPT_SERIES,
                            {"attempt_id": attempt_id, **_series_record(series)},
                            exercise_id=self.exercise.id)
                        self._message(self.t("saved"))
                    except Exception as exc:
                        self._message(f"{self.t('not_saved')}{exc}", error=True)
                else:
                    self._message("")
            finally:
                self.submit.disabled = False
                self.update_steps()
            return self.result
