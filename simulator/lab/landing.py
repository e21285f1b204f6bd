"""The lab's front door at ``/``: consoles, lessons, exercises and staff links (fr/en/de).

:func:`landing_page` is pure: the page for a language, the signed-in name and whether the
viewer is staff, from the course folder (:func:`simulator.paths.course_dir`) through the
exercise loader (structure only, cached by file time, so a warm page answers at once). The
page follows the browser's language (the server passes it) and switches with ``?lang=``.
Each exercise links to its console opened on it (``?exercise=<id>``); lessons open in
JupyterLab where the lab runs under JupyterHub (``$JUPYTERHUB_SERVICE_PREFIX``), else
read-only as HTML (``/merm/lessons/<name>?lang=``, :func:`lesson_html`).

Each lesson exists in French and English at least: ``<name>.ipynb`` in the language its
metadata names (``metadata.merm.lang``; when absent, French unless a French translation sits
beside it) and ``<name>.<lang>.ipynb`` for each translation (same code cells). A link opens the visitor's language, else English,
else the lesson as written (:func:`lesson_file`).
"""

from __future__ import annotations

import html
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

__all__ = ["landing_page", "lesson_html", "lesson_handler", "LANGS", "T", "course_exercises",
           "course_lessons", "lesson_files", "lesson_file"]

LANGS = ("fr", "en", "de")

#: key → (fr, en, de)
T: dict[str, tuple[str, str, str]] = {
    "title": ("MERM Lab — laboratoire d'imagerie", "MERM Lab — imaging lab",
              "MERM Lab — Bildgebungslabor"),
    "tagline": ("Consoles IRM et TEP simulées pour se former : rien ici ne sert au diagnostic.",
                "Simulated MR and PET consoles for training: nothing here is for diagnosis.",
                "Simulierte MRT- und PET-Konsolen zum Üben: nichts hier dient der Diagnose."),
    "start": ("Commencer", "Start here", "Hier beginnen"),
    "start_text": ("Ouvrez une console pour vous exercer librement, ou choisissez un exercice : "
                   "la console s'ouvre dessus, avec ses objectifs.",
                   "Open a console to practise freely, or pick an exercise: the console opens "
                   "on it, with its objectives.",
                   "Öffnen Sie eine Konsole zum freien Üben oder wählen Sie eine Übung: die "
                   "Konsole öffnet sich mit deren Zielen."),
    "consoles": ("Consoles", "Consoles", "Konsolen"),
    "mr": ("Console IRM", "MR console", "MRT-Konsole"),
    "pet": ("Console TEP", "PET console", "PET-Konsole"),
    "mr_text": ("Patient, sécurité, planification, paramètres, acquisition et images.",
                "Patient, safety, planning, parameters, scan and images.",
                "Patient, Sicherheit, Planung, Parameter, Messung und Bilder."),
    "pet_text": ("Injection, fixation, pas de lit, reconstruction, SUV et NEMA.",
                 "Injection, uptake, beds, reconstruction, SUV and NEMA.",
                 "Injektion, Anreicherung, Betten, Rekonstruktion, SUV und NEMA."),
    "lessons": ("Leçons", "Lessons", "Lektionen"),
    "lessons_lab": ("ouvertes dans JupyterLab", "open in JupyterLab", "öffnen in JupyterLab"),
    "lessons_html": ("en lecture seule", "read-only", "nur lesen"),
    "exercises": ("Exercices", "Exercises", "Übungen"),
    "level": ("niveau", "level", "Stufe"),
    "none": ("Aucun exercice dans le cours.", "No exercise in the course.",
             "Keine Übung im Kurs."),
    "staff": ("Formateurs", "Staff", "Lehrkräfte"),
    "instructor": ("Tableau de bord formateur", "Instructor dashboard", "Lehrkraft-Übersicht"),
    "board": ("Tableau de la classe (salles de mentorat)", "Class board (mentoring rooms)",
              "Klassenübersicht (Mentoring-Räume)"),
    "signed_in": ("Connecté·e : {name}", "Signed in: {name}", "Angemeldet: {name}"),
    "sign_out": ("Se déconnecter", "Sign out", "Abmelden"),
    "language": ("Langue", "Language", "Sprache"),
    "lesson_missing": ("Leçon introuvable : {name}", "No such lesson: {name}",
                       "Lektion nicht gefunden: {name}"),
}

#: Lesson titles by notebook name (fr, en, de); a lesson not listed shows its first heading.
LESSON_TITLES: dict[str, tuple[str, str, str]] = {
    "contrast": ("Le contraste : T1, T2, DP, FLAIR, STIR", "Contrast: T1, T2, PD, FLAIR, STIR",
                 "Kontrast: T1, T2, PD, FLAIR, STIR"),
    "snr_resolution_time": ("Signal/bruit, résolution et temps", "SNR, resolution and time",
                            "SNR, Auflösung und Zeit"),
    "kspace_and_image": ("L'espace k et l'image", "k-space and the image", "k-Raum und Bild"),
    "artefacts": ("Les artefacts et leurs parades", "Artefacts and their fixes",
                  "Artefakte und ihre Behebung"),
    "pet_counts_and_recon": ("TEP : coups, bruit et reconstruction",
                             "PET: counts, noise and reconstruction",
                             "PET: Ereignisse, Rauschen und Rekonstruktion"),
    "ai_tradeoffs": ("Débruitage par IA : ce que coûte un examen deux fois plus court",
                     "AI denoising: what halving the scan time costs",
                     "KI-Entrauschung: was die halbe Messzeit kostet"),
    "authoring": ("Écrire un exercice en cinq minutes", "Write an exercise in five minutes",
                  "Eine Übung in fünf Minuten schreiben"),
}
_LESSON_ORDER = tuple(LESSON_TITLES)
_MODALITY = {"mr": ("IRM", "MR", "MRT"), "pet": ("TEP", "PET", "PET")}


def _lang(lang: str | None) -> str:
    lang = (lang or "").lower()[:2]
    return lang if lang in LANGS else "en"


def t(key: str, lang: str, **kw: Any) -> str:
    text = T[key][LANGS.index(_lang(lang))]
    return text.format(**kw) if kw else text


@dataclass(frozen=True)
class ExerciseLink:
    """One exercise as the landing page lists it."""

    id: str
    modality: str
    level: int
    titles: tuple[str, str, str]
    tags: tuple[str, ...]


_CACHE: dict[Path, tuple[float, ExerciseLink | None]] = {}
_LOCK = threading.Lock()
_LESSONS: dict[Path, tuple[float, str]] = {}


def course_exercises(folder: Path | None = None) -> list[ExerciseLink]:
    """The course's exercises (files that fail to load are left out), MR first, by level;
    each file is read again only when it changed (a new file appears on the next request)."""
    from simulator.exercises.loader import load_exercise
    from simulator.paths import course_dir

    root = folder if folder is not None else course_dir() / "exercises"
    out: list[ExerciseLink] = []
    for path in sorted(root.glob("*.yaml")):
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        with _LOCK:
            hit = _CACHE.get(path)
        if hit is None or hit[0] != mtime:
            try:
                ex = load_exercise(path, check_simulator=False)
                link: ExerciseLink | None = ExerciseLink(
                    ex.id, ex.modality, int(getattr(ex, "level", 1) or 1),
                    (ex.title.get("fr"), ex.title.get("en"), ex.title.get("de")),
                    tuple(getattr(ex, "tags", ()) or ()))
            except Exception:  # an instructor's broken file: left out, `exercise check` says why
                link = None
            hit = (mtime, link)
            with _LOCK:
                _CACHE[path] = hit
        if hit[1] is not None:
            out.append(hit[1])
    return sorted(out, key=lambda e: (e.modality != "mr", e.level, e.titles[1]))


def course_lessons(folder: Path | None = None) -> list[str]:
    """Names of the course's lesson notebooks (known ones first, in teaching order)."""
    from simulator.paths import course_dir

    root = folder if folder is not None else course_dir() / "lessons"
    names = [p.stem for p in sorted(root.glob("*.ipynb")) if "." not in p.stem]
    return sorted(names, key=lambda n: (_LESSON_ORDER.index(n) if n in _LESSON_ORDER else 99, n))


def _written_in(path: Path, translated: set[str]) -> str:
    """The language a lesson notebook is written in: ``metadata.merm.lang``, else the first of
    French and English that no translation beside it (``translated``) is in."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        meta = {}
    lang = str((meta.get("merm") or {}).get("lang", ""))
    if lang in LANGS:
        return lang
    return next((c for c in ("fr", "en") if c not in translated), "fr")


def lesson_files(name: str, folder: Path | None = None) -> dict[str, Path]:
    """Language → notebook of lesson ``name``: ``<name>.ipynb`` in its own language, and
    ``<name>.<lang>.ipynb`` translations."""
    from simulator.paths import course_dir

    root = folder if folder is not None else course_dir() / "lessons"
    variants = {lang: root / f"{name}.{lang}.ipynb" for lang in LANGS}
    variants = {lang: path for lang, path in variants.items() if path.is_file()}
    out: dict[str, Path] = {}
    base = root / f"{name}.ipynb"
    if base.is_file():
        out[_written_in(base, set(variants))] = base
    for lang, path in variants.items():
        out.setdefault(lang, path)
    return out


def lesson_file(name: str, lang: str, folder: Path | None = None) -> Path | None:
    """The notebook to open for a visitor in ``lang``: that language, else English, else the
    lesson as written; None when there is no such lesson."""
    files = lesson_files(name, folder)
    for want in (_lang(lang), "en"):
        if want in files:
            return files[want]
    return next(iter(files.values()), None)


def _lesson_title(name: str, lang: str, folder: Path | None = None) -> str:
    if name in LESSON_TITLES:
        return LESSON_TITLES[name][LANGS.index(lang)]
    path = lesson_file(name, lang, folder)
    if path is None:
        return name.replace("_", " ")
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "markdown":
                first = "".join(cell.get("source", "")).strip().splitlines()[0]
                return first.lstrip("# ").strip()
    except (OSError, ValueError, IndexError):
        pass
    return name.replace("_", " ")


def _console_url(modality: str, lang: str, exercise: str | None = None) -> str:
    query = {"lang": lang, **({"exercise": exercise} if exercise else {})}
    return f"/voila/render/{modality}_console.ipynb?{urlencode(query)}"


def _lesson_url(name: str, lang: str, folder: Path | None = None) -> tuple[str, bool]:
    """(URL, in JupyterLab) of a lesson in the visitor's language (:func:`lesson_file`)."""
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if prefix:
        path = lesson_file(name, lang, folder)
        file = path.name if path is not None else f"{name}.ipynb"
        return f"{prefix.rstrip('/')}/lab/tree/lessons/{quote(file)}", True
    return f"/merm/lessons/{quote(name)}?{urlencode({'lang': _lang(lang)})}", False


_CSS = """
body{font-family:'DejaVu Sans',Arial,sans-serif;margin:0;background:#f3f6f9;color:#1c2733}
header{background:#1c2733;color:#e8eef5;padding:14px 24px;display:flex;align-items:center;gap:18px;
  flex-wrap:wrap}
header h1{font-size:22px;margin:0;flex:1}
header a{color:#e8eef5}
nav.merm-langs a{color:#e8eef5;padding:4px 8px;border:1px solid #50657a;border-radius:4px;
  text-decoration:none;margin-left:4px}
nav.merm-langs a[aria-current=true]{background:#e8eef5;color:#1c2733}
main{max-width:1240px;margin:0 auto;padding:16px 24px;display:grid;
  grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:16px}
section{background:#fff;border:1px solid #c9d6e3;border-radius:6px;padding:12px 16px}
section h2{font-size:17px;margin:4px 0 10px;color:#1f4e79}
.merm-start{grid-column:1/-1}
a.merm-console{display:block;padding:10px 12px;margin:6px 0;border-radius:5px;background:#1f5f8b;
  color:#fff;text-decoration:none;font-weight:bold}
a.merm-console span{display:block;font-weight:normal;font-size:13px;color:#e3eef7}
ul{padding-left:18px;margin:4px 0} li{margin:5px 0}
.merm-tag{white-space:nowrap;font-size:11px;color:#31465a;border:1px solid #9fb3c8;border-radius:3px;padding:0 4px;
  margin-left:4px}
.merm-note{color:#31465a;font-size:13px}
a{color:#14507d}
"""


def landing_page(lang: str | None = None, user: str | None = None, staff: bool = False,
                 course: Path | None = None) -> str:
    """The HTML of the landing page.

    Parameters
    ----------
    lang : {"fr", "en", "de"}, optional
        Page language (anything else: English).
    user : str, optional
        The signed-in trainee's name.
    staff : bool
        Show the staff links (instructor dashboard, class board).
    course : Path, optional
        The course folder (default :func:`simulator.paths.course_dir`).
    """
    lang = _lang(lang)
    e = html.escape
    ex_folder = course / "exercises" if course is not None else None
    le_folder = course / "lessons" if course is not None else None
    langs = "".join(
        f"<a href='/?lang={code}' lang='{code}' aria-current={'true' if code == lang else 'false'}"
        f" class='merm-lang-{code}'>{code.upper()}</a>" for code in LANGS)
    who = ""
    if user:
        who = (f"<span class='merm-user'>{e(t('signed_in', lang, name=user))}</span> "
               f"<a href='/merm/signout'>{e(t('sign_out', lang))}</a>")
    consoles = "".join(
        f"<a class='merm-console merm-open-{m}' href='{e(_console_url(m, lang))}'>"
        f"{e(t(m, lang))}<span>{e(t(m + '_text', lang))}</span></a>" for m in ("mr", "pet"))
    items = []
    for x in course_exercises(ex_folder):
        title = x.titles[LANGS.index(lang)] or x.titles[1]
        items.append(
            f"<li><a class='merm-exercise-link' data-exercise='{e(x.id)}' "
            f"href='{e(_console_url(x.modality, lang, x.id))}'>{e(title)}</a>"
            f"<span class='merm-tag'>{_MODALITY[x.modality][LANGS.index(lang)]}</span>"
            f"<span class='merm-tag'>{e(t('level', lang))} {x.level}</span></li>")
    exercises = f"<ul>{''.join(items)}</ul>" if items else f"<p>{e(t('none', lang))}</p>"
    lesson_items = []
    for name in course_lessons(le_folder):
        url, in_lab = _lesson_url(name, lang, le_folder)
        how = t("lessons_lab" if in_lab else "lessons_html", lang)
        lesson_items.append(f"<li><a class='merm-lesson-link' href='{e(url)}'>"
                            f"{e(_lesson_title(name, lang, le_folder))}</a> "
                            f"<span class='merm-note'>({e(how)})</span></li>")
    staff_html = ""
    if staff:
        staff_html = (f"<section class='merm-staff'><h2>{e(t('staff', lang))}</h2><ul>"
                      f"<li><a href='/merm/instructor?lang={lang}'>{e(t('instructor', lang))}</a></li>"
                      f"<li><a href='/merm/board?lang={lang}'>{e(t('board', lang))}</a></li>"
                      "</ul></section>")
    return (
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(t('title', lang))}</title><style>{_CSS}</style></head>"
        f"<body><div class='merm-landing'><header><h1>{e(t('title', lang))}</h1>{who}"
        f"<nav class='merm-langs' aria-label='{e(t('language', lang))}'>{langs}</nav></header>"
        f"<main><section class='merm-start'><h2>{e(t('start', lang))}</h2>"
        f"<p>{e(t('start_text', lang))}</p><p class='merm-note'>{e(t('tagline', lang))}</p></section>"
        f"<section class='merm-consoles'><h2>{e(t('consoles', lang))}</h2>{consoles}</section>"
        f"<section class='merm-exercises'><h2>{e(t('exercises', lang))}</h2>{exercises}</section>"
        f"<section class='merm-lessons'><h2>{e(t('lessons', lang))}</h2><ul>{''.join(lesson_items)}"
        f"</ul></section>{staff_html}</main></div></body></html>"
    )


def lesson_html(name: str, lang: str | None = None, course: Path | None = None) -> str | None:
    """A lesson notebook as read-only HTML (nbconvert, as stored) in ``lang`` (else English,
    else as written: :func:`lesson_file`), or None if there is none."""
    from simulator.paths import course_dir

    if "/" in name or "\\" in name or "." in name:
        return None
    folder = course / "lessons" if course is not None else course_dir() / "lessons"
    path = lesson_file(name, lang or "en", folder)
    if path is None or not path.is_file():
        return None
    mtime = path.stat().st_mtime
    with _LOCK:
        hit = _LESSONS.get(path)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(
        nbformat.read(str(path), as_version=4))
    with _LOCK:
        _LESSONS[path] = (mtime, str(body))
    return str(body)


def lesson_handler() -> type:
    """The tornado handler of ``/merm/lessons/(name)`` (tornado imported only when asked)."""
    from tornado import web

    class _LessonHandler(web.RequestHandler):
        """``/merm/lessons/<name>``: a lesson as read-only HTML (404 with one line if none)."""

        def get(self, name: str) -> None:
            lang = _lang(self.get_argument("lang", None))
            page = lesson_html(name, lang)
            if page is None:
                self.set_status(404)
                self.finish(f"<p>{html.escape(t('lesson_missing', lang, name=name))}</p>")
                return
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(page)

    return _LessonHandler
