"""The instructor's dashboard (Voilà): class progress, exercise difficulty, CSV export.

``build_instructor_dashboard(store=None, lang=None)`` returns the root widget. By default it
reads through the progress server (:func:`default_reader`): on JupyterHub the
``merm-progress`` service with the user's token, under ``serve`` the lab server with the
instructor's cookie; both refuse a trainee, and the dashboard shows that refusal. Tables are
plain HTML (fast to render for a class of a few dozen trainees); filters by cohort, exercise
and trainee; the CSV of all matching attempts downloads from a link (a ``data:`` URI, so it
works in Voilà without a file server).
"""

from __future__ import annotations

import base64
import html
import os
from typing import Any

import ipywidgets as W

from simulator.errors import UserError
from simulator.exercises.report_words import REPORT_WORDS
from simulator.exercises.store import ProgressStore

__all__ = ["build_instructor_dashboard", "InstructorDashboard", "progress_rows", "difficulty_rows",
           "default_reader"]

_TXT = {
    **REPORT_WORDS,
    "all": ("(tous)", "(all)"),
    "refresh": ("Actualiser", "Refresh"),
    "pacs": ("Séries envoyées au PACS", "Series sent to PACS"),
}


def _lang(lang: str | None) -> str:
    lang = lang or os.environ.get("MERM_LANG") or os.environ.get("LANG", "fr")
    return "en" if str(lang).startswith("en") else "fr"


def progress_rows(store: ProgressStore, cohort: str | None = None, exercise: str | None = None,
                  trainee: str | None = None) -> list[dict[str, Any]]:
    """Class progress rows (see :meth:`ProgressStore.class_progress`) after the filters."""
    rows = store.class_progress(cohort=cohort)
    if exercise:
        rows = [r for r in rows if r["exercise_id"] == exercise]
    if trainee:
        rows = [r for r in rows if trainee.lower() in r["username"].lower()]
    return rows


def difficulty_rows(store: ProgressStore, cohort: str | None = None,
                    exercise: str | None = None) -> list[dict[str, Any]]:
    """Per-exercise difficulty rows, hardest (lowest pass rate, then mean score) first."""
    rows = store.exercise_difficulty(cohort=cohort)
    if exercise:
        rows = [r for r in rows if r["exercise_id"] == exercise]
    return sorted(rows, key=lambda r: (r["pass_rate"], r["mean_score"]))


def _table(headers: list[str], rows: list[list[str]], css: str) -> str:
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td style='padding:2px 8px'>{html.escape(c)}</td>" for c in r) + "</tr>"
        for r in rows
    )
    return f"<table class='{css}' style='border-collapse:collapse'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class InstructorDashboard:
    """The dashboard's model and widgets; ``.widget`` is the root."""

    def __init__(self, store: Any = None, lang: str | None = None) -> None:
        self.store = store if store is not None else default_reader()
        self.lang = _lang(lang)
        t = self.t
        self.cohort = W.Dropdown(description=t("cohort"))
        self.cohort.add_class("merm-filter-cohort")
        self.exercise = W.Dropdown(description=t("exercise"))
        self.exercise.add_class("merm-filter-exercise")
        self.trainee = W.Text(description=t("trainee"), continuous_update=False)
        self.trainee.add_class("merm-filter-trainee")
        self.refresh_button = W.Button(description=t("refresh"), icon="refresh")
        self.refresh_button.add_class("merm-refresh")
        self.progress = W.HTML()
        self.progress.add_class("merm-progress-table")
        self.difficulty = W.HTML()
        self.difficulty.add_class("merm-difficulty-table")
        self.download = W.HTML()
        self.pacs = W.HTML()  # which series each trainee sent (simulator.hospital.progress)
        self.pacs.add_class("merm-instructor-pacs")
        self.download.add_class("merm-export-csv")
        for w in (self.cohort, self.exercise, self.trainee):
            w.observe(lambda _c: self.render(), names="value")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.widget = W.VBox([
            W.HTML(f"<h2>{html.escape(t('title'))}</h2>"),
            W.HBox([self.cohort, self.exercise, self.trainee, self.refresh_button]),
            W.HTML(f"<h3>{html.escape(t('progress'))}</h3>"), self.progress,
            W.HTML(f"<h3>{html.escape(t('difficulty'))}</h3>"), self.difficulty,
            self.download,
            self.pacs,
        ])
        self.widget.add_class("merm-instructor")
        self.refresh()

    def t(self, key: str) -> str:
        fr, en = _TXT[key]
        return en if self.lang == "en" else fr

    def _filters(self) -> tuple[str | None, str | None, str | None]:
        return (self.cohort.value or None, self.exercise.value or None,
                self.trainee.value.strip() or None)

    def refresh(self) -> None:
        """Reload the filter choices from the store and redraw (a refusal of the progress
        server, e.g. a trainee opening this dashboard, is shown instead of the tables)."""
        try:
            self._refresh()
        except UserError as exc:
            self.progress.value = (f"<p class='merm-instructor-refused' style='color:#b3261e'>"
                                   f"{html.escape(exc.message(self.lang))}</p>")
            self.difficulty.value = self.download.value = ""

    def _refresh(self) -> None:
        trainees = self.store.trainees()
        cohorts = sorted({t["cohort"] for t in trainees if t["cohort"]})
        exercises = sorted({a["exercise_id"] for a in self.store.attempts()})
        all_ = self.t("all")
        keep_c, keep_e = self.cohort.value, self.exercise.value
        self.cohort.options = [(all_, "")] + [(c, c) for c in cohorts]
        self.exercise.options = [(all_, "")] + [(e, e) for e in exercises]
        self.cohort.value = keep_c if keep_c in cohorts else ""
        self.exercise.value = keep_e if keep_e in exercises else ""
        self.render()

    def render(self) -> None:
        cohort, exercise, trainee = self._filters()
        t = self.t
        prog = progress_rows(self.store, cohort, exercise, trainee)
        if not prog:
            self.progress.value = f"<i>{html.escape(t('empty'))}</i>"
        else:
            self.progress.value = _table(
                [t("trainee"), t("cohort"), t("exercise"), t("attempts"), t("best"), t("passed"),
                 t("time"), t("last")],
                [[r["username"], r["cohort"] or "", r["exercise_id"], str(r["attempts"]),
                  f"{r['best_score']:.0f}", t("yes") if r["passed"] else t("no"),
                  f"{(r['time_on_task_s'] or 0) / 60:.1f}",
                  r["last_submitted"].strftime("%Y-%m-%d %H:%M") if r["last_submitted"] else ""]
                 for r in prog],
                "merm-progress",
            )
        diff = difficulty_rows(self.store, cohort, exercise)
        self.difficulty.value = _table(
            [t("exercise"), t("attempts"), t("trainees"), t("mean"), t("pass_rate"), t("to_pass")],
            [[r["exercise_id"], str(r["attempts"]), str(r["trainees"]), f"{r['mean_score']:.0f}",
              f"{100 * r['pass_rate']:.0f} %",
              "—" if r["attempts_to_pass"] is None else f"{r['attempts_to_pass']:.1f}"] for r in diff],
            "merm-difficulty",
        ) if diff else ""
        self.pacs.value = self._pacs_section(trainee)
        csv_text = self.csv(cohort, exercise, trainee)
        b64 = base64.b64encode(csv_text.encode("utf-8")).decode("ascii")
        self.download.value = (f"<a download='merm-progress.csv' href='data:text/csv;base64,{b64}' "
                               f"class='merm-export-csv-link'>⬇ {html.escape(t('csv'))}</a>")

    def _pacs_section(self, trainee: str | None) -> str:
        from simulator.hospital.progress import pacs_rows, pacs_table_html

        try:
            table = pacs_table_html(pacs_rows(self.store, trainee), self.lang)
        except Exception:  # a reader without the events (e.g. an older progress server)
            return ""
        return f"<h3>{html.escape(self.t('pacs'))}</h3>{table}" if table else ""

    def csv(self, cohort: str | None = None, exercise: str | None = None,
            trainee: str | None = None) -> str:
        """The CSV of the attempts that match the filters."""
        return self.store.export_csv(cohort=cohort, exercise_id=exercise, username_contains=trainee)


def default_reader() -> Any:
    """Where the dashboard reads: the progress server for staff (JupyterHub service or the
    ``serve`` lab server, which refuse a trainee), else the local store of a plain notebook."""
    from simulator.progress.client import StaffReader, progress_client

    client = progress_client()
    return StaffReader(client) if getattr(client, "remote", False) else client


def build_instructor_dashboard(store: ProgressStore | str | None = None, lang: str | None = None) -> W.Widget:
    """The instructor dashboard's root widget (store: a ProgressStore, a URL, or the default)."""
    if isinstance(store, str):
        store = ProgressStore(store)
    return InstructorDashboard(store, lang).widget
