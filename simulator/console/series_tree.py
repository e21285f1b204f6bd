"""The viewer's series list as a technologist reads it: patient → exam → series.

A scanner's patient browser files every series under its exam and every exam under its
patient (name and ID), so that a knee scanned after a brain is never read as the brain
patient's. The console keeps every series of the session; the exams come from
:mod:`simulator.hospital.exam` (one Study per patient admitted or worklist entry chosen,
started at the admission, with the worklist's accession number when there is one). Each
series is named as on the scanner: its number in the exam (the DICOM Series Number) and
what was acquired, e.g. "2 — T2 TSE sagittal TR 4000 / TE 100 ms".

:func:`series_tree` builds the tree (plain frozen dataclasses); :class:`SeriesTree` shows
it (``.merm-series-tree``), a click on a series opens it in the viewer.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import ipywidgets as W

from simulator.console.i18n import Labels, text_of

__all__ = ["SeriesNode", "ExamNode", "PatientNode", "series_tree", "SeriesTree", "tree_text"]

_TEXT: dict[str, tuple[str, str, str]] = {
    "title": ("Patients, examens et séries", "Patients, exams and series",
              "Patienten, Untersuchungen und Serien"),
    "patient": ("{name} — ID {pid}", "{name} — ID {pid}", "{name} — ID {pid}"),
    "exam": ("Examen du {date} à {time}", "Exam of {date} at {time}",
             "Untersuchung vom {date} um {time}"),
    "accession": ("n° d'accès {acc}", "accession {acc}", "Zugangsnummer {acc}"),
    "no_series": ("Aucune série acquise.", "No series acquired.", "Keine Serie aufgenommen."),
    "empty_exam": ("pas encore de série", "no series yet", "noch keine Serie"),
    "open_tip": ("Afficher la série {label}", "Show series {label}", "Serie {label} anzeigen"),
    "default_patient": ("Patient de simulation", "Simulation patient", "Simulationspatient"),
}


def tree_text(key: str, lang: str, **kw: Any) -> str:
    """A text of the series list in ``lang``."""
    return text_of(_TEXT, key, lang, **kw)


@dataclass(frozen=True)
class SeriesNode:
    """One series: its index in ``session.series``, number in its exam, what it is."""

    index: int
    number: int
    description: str

    @property
    def label(self) -> str:
        return f"{self.number} — {self.description}"


@dataclass(frozen=True)
class ExamNode:
    """One exam (a DICOM Study): when it started, its accession number, its series."""

    study_uid: str
    started_at: Any  # datetime
    accession: str
    series: tuple[SeriesNode, ...]


@dataclass(frozen=True)
class PatientNode:
    """One patient (``key`` None: the console's default simulation patient)."""

    key: str | None
    name: str
    patient_id: str
    exams: tuple[ExamNode, ...]


_NUMBER_PREFIX = re.compile(r"^\s*\d+\s*[:—-]\s*")


def _description(name: str) -> str:
    """A series name without the session's running number ("3: T2 TSE …" → "T2 TSE …")."""
    return _NUMBER_PREFIX.sub("", name, count=1)


def _who(exam: Any, lang: str) -> tuple[str | None, str, str]:
    """(key, name, ID) of an exam's patient: the worklist's when the exam came from it, the
    console patient's (ID as the DICOM files carry it) otherwise."""
    import simulator.dicom as dicom
    from simulator.console.session import _dicom_patient

    sp: Any = exam.procedure
    wl_id = str(sp.patient_id or "") if sp is not None else ""
    if wl_id:
        name = str(sp.patient_name or "").replace("^", " ").strip()
        return f"wl:{wl_id}", name or wl_id, wl_id
    p = exam.patient
    if p is not None:
        d = _dicom_patient(dicom.FictitiousPatient, p)
        pid = d.patient_id if d is not None else str(getattr(p, "key", "")).upper()
        return str(getattr(p, "key", p.name)), str(p.name), pid
    return None, tree_text("default_patient", lang), dicom.FictitiousPatient().patient_id


def series_tree(session: Any, lang: str = "en") -> list[PatientNode]:
    """The session's series grouped by patient, then exam, in acquisition order.

    A patient seen again later (re-admitted) keeps one node with all of its exams.
    """
    from simulator.hospital.exam import exam_for

    exam_for(session)  # the exams are followed from the console's opening
    exams = sorted(getattr(session, "hospital_exams", []), key=lambda e: e.first_index)
    n = len(session.series)
    patients: dict[str | None, PatientNode] = {}
    order: list[str | None] = []
    for i, exam in enumerate(exams):
        stop = exams[i + 1].first_index if i + 1 < len(exams) else n
        series = tuple(
            SeriesNode(k, k - exam.first_index + 1, _description(session.series[k].name))
            for k in range(exam.first_index, min(stop, n))
        )
        if not series and i + 1 < len(exams):
            continue  # an exam closed without a series (the next patient came first)
        key, name, pid = _who(exam, lang)
        node = ExamNode(exam.study.study_uid, exam.study.started_at,
                        str(getattr(exam.study, "accession_number", "") or ""), series)
        if key not in patients:
            patients[key] = PatientNode(key, name, pid, ())
            order.append(key)
        old = patients[key]
        patients[key] = PatientNode(key, old.name, old.patient_id, (*old.exams, node))
    return [patients[k] for k in order]


def _exam_title(exam: ExamNode, lang: str) -> str:
    when = exam.started_at
    date = when.strftime("%d/%m/%Y" if lang == "fr" else "%d.%m.%Y" if lang == "de"
                         else "%Y-%m-%d")
    text = tree_text("exam", lang, date=date, time=when.strftime("%H:%M"))
    if exam.accession:
        text += " — " + tree_text("accession", lang, acc=exam.accession)
    return text


class SeriesTree:
    """The series list of a console's viewer (``.merm-series-tree``).

    Patients and exams are headings; each series is a button that opens it (the session's
    ``select_series`` command, attributed to the trainee); the series on view is pressed.
    """

    def __init__(self, session: Any, labels: Labels) -> None:
        self.session, self.L = session, labels
        self.widget = W.VBox(layout=W.Layout(width="540px"))
        self.widget.add_class("merm-series-tree")
        self.buttons: dict[int, W.Button] = {}
        self._shape: tuple = ()
        session.on_change(self._on_session)
        labels.on_switch(lambda lang: self.render(force=True))
        self.render(force=True)

    def _on_session(self, event: dict) -> None:
        if event.get("type") in ("series", "select", "patient", "worklist", "exercise"):
            self.render()

    def render(self, force: bool = False) -> None:
        """Rebuild the list when its content changed (else only the pressed series)."""
        lang = self.L.lang
        tree = series_tree(self.session, lang)
        shape = (lang, tuple(tree))
        current = self.session.current
        if force or shape != self._shape:
            self._shape = shape
            self.buttons = {}
            rows: list[W.Widget] = [W.HTML(f"<b>{html.escape(tree_text('title', lang))}</b>")]
            for p in tree if self.session.series else ():
                head = W.HTML(
                    "<div class='merm-tree-patient'><i class='fa fa-user'></i> "
                    f"{html.escape(tree_text('patient', lang, name=p.name, pid=p.patient_id))}"
                    "</div>"
                )
                rows.append(head)
                for exam in p.exams:
                    rows.append(W.HTML(
                        "<div class='merm-tree-exam' style='margin-left:16px'>"
                        f"{html.escape(_exam_title(exam, lang))}</div>"
                    ))
                    if not exam.series:
                        rows.append(W.HTML(
                            "<div class='merm-tree-empty' style='margin-left:32px'><i>"
                            f"{html.escape(tree_text('empty_exam', lang))}</i></div>"
                        ))
                    for s in exam.series:
                        b = W.Button(description=s.label,
                                     tooltip=tree_text("open_tip", lang, label=s.label),
                                     layout=W.Layout(width="auto", max_width="500px",
                                                     margin="1px 0 1px 32px"))
                        b.add_class("merm-series-item")
                        b.on_click(lambda _b, k=s.index: self.open(k))
                        self.buttons[s.index] = b
                        rows.append(b)
            if not self.session.series:
                rows.append(W.HTML(f"<i>{html.escape(tree_text('no_series', lang))}</i>"))
            self.widget.children = rows
        for k, b in self.buttons.items():
            b.button_style = "info" if k == current else ""
            if k == current:
                b.add_class("merm-series-current")
            else:
                b.remove_class("merm-series-current")

    def open(self, index: int) -> None:
        """Show series ``index`` in the viewer."""
        self.session.apply_command({"type": "select_series", "index": int(index)}, "local",
                                   "trainee")


def attach(viewer: Any) -> SeriesTree:
    """Put a :class:`SeriesTree` in ``viewer``'s column, right after the A/B comparison
    (before the metrics); returns it."""
    tree = SeriesTree(viewer.session, viewer.L)
    children = list(viewer.widget.children)
    at = children.index(viewer.metrics) if viewer.metrics in children else len(children)
    viewer.widget.children = [*children[:at], tree.widget, *children[at:]]
    return tree
