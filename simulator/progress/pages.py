"""The HTML pages of the progress servers: the instructor dashboard, the class board, the
sign-in page of ``serve`` and the refusals, in French and English.

Pure functions from data to HTML (escaped): the servers fetch, these render.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from simulator.exercises.report_words import REPORT_WORDS

__all__ = ["page_lang", "instructor_page", "board_page", "refusal_page", "signin_page", "T"]

T: dict[str, tuple[str, str]] = {
    **REPORT_WORDS,
    "board": ("Tableau de la classe", "Class board"),
    "board_intro": ("Salles de mentorat ouvertes, une par console. « Observer » ouvre la console "
                    "de l'élève sur la page mentor.",
                    "Open mentoring rooms, one per console. 'Watch' opens the trainee's console "
                    "on the mentor page."),
    "watch": ("Observer", "Watch"),
    "watch_all": ("Observer toute la classe", "Watch the whole class"),
    "no_rooms": ("Aucune salle ouverte pour l'instant.", "No open room at the moment."),
    "hub_down": ("Le hub de mentorat ne répond pas : ", "The mentoring hub does not answer: "),
    "hub_none": ("Aucun hub de mentorat n'est configuré pour ce service.",
                 "No mentoring hub is configured for this service."),
    "modality": ("Modalité", "Modality"),
    "peers": ("connectés", "connected"),
    "room": ("Salle", "Room"),
    "signed_in_as": ("Connecté en tant que", "Signed in as"),
    "signin_title": ("Bienvenue au MERM Lab", "Welcome to MERM Lab"),
    "signin_intro": ("Indiquez votre nom et votre promotion : vos tentatives, vos appels au "
                     "mentor et le journal les porteront.",
                     "Give your name and cohort: your attempts, your mentor calls and the audit "
                     "log will carry them."),
    "name": ("Nom", "Name"),
    "start": ("Commencer", "Start"),
    "bad_name": ("Le nom est obligatoire (1 à 40 caractères), la promotion facultative "
                 "(30 caractères au plus).",
                 "A name is required (1 to 40 characters), the cohort is optional (30 at most)."),
    "bad_token": ("Jeton formateur invalide : utilisez le lien affiché au démarrage de "
                  "« merm-lab serve ».",
                  "Invalid instructor token: use the link that 'merm-lab serve' printed at start."),
    "instructor_link": ("Tableau de bord formateur", "Instructor dashboard"),
}


def page_lang(accept_language: str | None, explicit: str | None = None) -> str:
    """``"en"`` or ``"fr"``: ``?lang=`` first, else the browser's first language."""
    for value in (explicit, (accept_language or "").split(",")[0]):
        if value:
            return "en" if value.strip().lower().startswith("en") else "fr"
    return "fr"


def _t(key: str, lang: str) -> str:
    fr, en = T[key]
    return en if lang == "en" else fr


def _page(title: str, body: str, lang: str, css: str) -> str:
    return (f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)} — MERM Lab</title><style>"
            "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d1d1f;max-width:70rem}"
            "table{border-collapse:collapse}th,td{text-align:left;padding:3px 10px;"
            "border-bottom:1px solid #ddd}a{color:#0b57d0}.merm-error{color:#b3261e}"
            "button,input{font-size:1rem;padding:4px 8px}"
            f"</style></head><body class='{css}'>{body}</body></html>")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], css: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def instructor_page(report: Mapping[str, Any], lang: str, *, staff_name: str,
                    csv_href: str, board_href: str, cohort: str | None = None) -> str:
    """The instructor dashboard: progress per trainee, difficulty per exercise, CSV link."""
    t = lambda k: _t(k, lang)  # noqa: E731
    prog = report.get("progress") or []
    diff = sorted(report.get("difficulty") or [], key=lambda r: (r["pass_rate"], r["mean_score"]))
    names = {r["username"]: r.get("display_name") or r["username"] for r in report.get("trainees") or []}
    if prog:
        progress = _table(
            [t("trainee"), t("cohort"), t("exercise"), t("attempts"), t("best"), t("passed"),
             t("time"), t("last")],
            [[_e(names.get(r["username"], r["username"])), _e(r.get("cohort")), _e(r["exercise_id"]),
              _e(r["attempts"]), f"{float(r['best_score']):.0f}", t("yes") if r["passed"] else t("no"),
              f"{(r.get('time_on_task_s') or 0) / 60:.1f}", _e((r.get("last_submitted") or "")[:16].replace("T", " "))]
             for r in prog], "merm-progress")
    else:
        progress = f"<p><i>{_e(t('empty'))}</i></p>"
    difficulty = _table(
        [t("exercise"), t("attempts"), t("trainees"), t("mean"), t("pass_rate"), t("to_pass")],
        [[_e(r["exercise_id"]), _e(r["attempts"]), _e(r["trainees"]), f"{r['mean_score']:.0f}",
          f"{100 * r['pass_rate']:.0f} %",
          "—" if r["attempts_to_pass"] is None else f"{r['attempts_to_pass']:.1f}"] for r in diff],
        "merm-difficulty") if diff else ""
    sel = f"?cohort={quote(cohort)}" if cohort else ""
    body = (f"<h1>{_e(t('title'))}</h1><p>{_e(t('signed_in_as'))} <b>{_e(staff_name)}</b> · "
            f"<a class='merm-board-link' href='{_e(board_href)}'>{_e(t('board'))}</a> · "
            f"<a class='merm-export-csv-link' download='merm-progress.csv' href='{_e(csv_href + sel)}'>"
            f"⬇ {_e(t('csv'))}</a></p>"
            f"<h2>{_e(t('progress'))}</h2>{progress}<h2>{_e(t('difficulty'))}</h2>{difficulty}")
    return _page(t("title"), body, lang, "merm-instructor")


def board_page(rooms: Sequence[Mapping[str, Any]] | None, class_link: str | None, lang: str, *,
               staff_name: str, instructor_href: str, error: str | None = None) -> str:
    """The class board: every open room with its trainee's name and a Watch link."""
    t = lambda k: _t(k, lang)  # noqa: E731
    if error is not None:
        listing = f"<p class='merm-error merm-board-error'>{_e(error)}</p>"
    elif not rooms:
        listing = f"<p class='merm-board-empty'><i>{_e(t('no_rooms'))}</i></p>"
    else:
        rows = []
        for r in rooms:
            links = r.get("links") or {}
            who = r.get("owner") or r.get("label") or r.get("room")
            rows.append([
                f"<span class='merm-board-trainee'>{_e(who)}</span>", _e(r.get("label")),
                _e(str(r.get("modality", "")).upper()), _e(r.get("peers", 0)),
                f"<a class='merm-board-watch' target='_blank' rel='noopener' "
                f"href='{_e(links.get('instructor', ''))}'>{_e(t('watch'))}</a>",
            ])
        listing = _table([t("trainee"), t("room"), t("modality"), t("peers"), ""], rows, "merm-board-rooms")
        if class_link:
            listing += (f"<p><a class='merm-board-watch-all' target='_blank' rel='noopener' "
                        f"href='{_e(class_link)}'>{_e(t('watch_all'))}</a></p>")
    body = (f"<h1>{_e(t('board'))}</h1><p>{_e(t('signed_in_as'))} <b>{_e(staff_name)}</b> · "
            f"<a href='{_e(instructor_href)}'>{_e(t('instructor_link'))}</a></p>"
            f"<p>{_e(t('board_intro'))}</p>{listing}")
    return _page(t("board"), body, lang, "merm-board")


def refusal_page(status: int, en: str, fr: str, lang: str) -> str:
    """A refusal (401/403/400) as a page: the reason in the page's language, then the other."""
    first, second = (en, fr) if lang == "en" else (fr, en)
    title = {401: "401", 403: "403"}.get(status, str(status))
    body = (f"<h1>{title}</h1><p class='merm-refusal'>{_e(first)}</p>"
            f"<p lang='{'fr' if lang == 'en' else 'en'}' style='color:#555'>{_e(second)}</p>")
    return _page(title, body, lang, "merm-refused")


def signin_page(action: str, next_url: str, xsrf_field: str, lang: str, *,
                error: bool = False, name: str = "", cohort: str = "") -> str:
    """The first-use page of ``serve``: name and cohort, remembered in the browser."""
    t = lambda k: _t(k, lang)  # noqa: E731
    err = f"<p class='merm-error merm-signin-error'>{_e(t('bad_name'))}</p>" if error else ""
    body = (f"<h1>{_e(t('signin_title'))}</h1><p>{_e(t('signin_intro'))}</p>{err}"
            f"<form method='post' action='{_e(action)}' class='merm-signin'>{xsrf_field}"
            f"<input type='hidden' name='next' value='{_e(next_url)}'>"
            f"<p><label>{_e(t('name'))} <input name='name' class='merm-signin-name' required "
            f"maxlength='40' autocomplete='name' value='{_e(name)}'></label></p>"
            f"<p><label>{_e(t('cohort'))} <input name='cohort' class='merm-signin-cohort' "
            f"maxlength='30' value='{_e(cohort)}'></label></p>"
            f"<p><button type='submit' class='merm-signin-submit'>{_e(t('start'))}</button></p></form>")
    return _page(t("signin_title"), body, lang, "merm-signin-page")
