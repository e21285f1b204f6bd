"""Every lesson exists in French and English at least: ``<name>.ipynb`` in its own language and
``<name>.<lang>.ipynb`` translations with the same code cells (so each variant runs what the
other runs: ``test_notebooks`` executes them all), prose in the language it claims, and the
landing page opens the visitor's language."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from simulator.lab.landing import course_lessons, lesson_file, lesson_files, lesson_html

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ROOT / "course" / "lessons"
NAMES = course_lessons(LESSONS)

#: Function words that only one of the two languages uses (a language check on prose).
_WORDS = {
    "fr": {"le", "la", "les", "des", "est", "une", "du", "et", "dans", "qui", "pour", "sur", "que",
           "au", "aux", "ce", "plus", "sont", "avec", "ne", "pas"},
    "en": {"the", "and", "is", "of", "to", "in", "that", "with", "for", "on", "are", "it", "this",
           "a", "an", "by", "what", "not", "more", "its"},
}


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _prose(cell: dict) -> str:
    text = "".join(cell["source"])
    text = re.sub(r"`[^`]*`", " ", text)  # code spans
    return re.sub(r"\*[^*\n]*\*", " ", text)  # an italic gloss in the other language


def _score(text: str, lang: str) -> int:
    return sum(w in _WORDS[lang] for w in re.findall(r"[a-zà-ÿ']+", text.lower()))


def test_the_course_has_lessons() -> None:
    assert len(NAMES) >= 8 and "contrast" in NAMES and "ai_tradeoffs" in NAMES
    assert not [n for n in NAMES if "." in n]  # translations are not separate lessons


@pytest.mark.parametrize("name", NAMES)
def test_each_lesson_in_french_and_english(name: str) -> None:
    files = lesson_files(name, LESSONS)
    assert {"fr", "en"} <= set(files), files
    variants = {lang: _cells(path) for lang, path in files.items()}
    ref = variants["fr"]
    for lang, cells in variants.items():
        assert [c["cell_type"] for c in cells] == [c["cell_type"] for c in ref], lang
        for a, b in zip(cells, ref, strict=True):
            if a["cell_type"] == "code":  # the same code: one lesson, told in two languages
                assert "".join(a["source"]) == "".join(b["source"]), (lang, name)
    for lang, cells in variants.items():
        other = "en" if lang == "fr" else "fr"
        prose = " ".join(_prose(c) for c in cells if c["cell_type"] == "markdown")
        assert _score(prose, lang) > 3 * _score(prose, other), (name, lang)


def test_the_landing_page_opens_the_visitors_language() -> None:
    assert lesson_file("contrast", "en", LESSONS).name == "contrast.en.ipynb"
    assert lesson_file("contrast", "fr", LESSONS).name == "contrast.ipynb"
    assert lesson_file("contrast", "de", LESSONS).name == "contrast.en.ipynb"  # else English
    assert lesson_file("ai_tradeoffs", "fr", LESSONS).name == "ai_tradeoffs.fr.ipynb"
    assert lesson_file("ai_tradeoffs", "en", LESSONS).name == "ai_tradeoffs.ipynb"
    assert lesson_file("no_such_lesson", "fr", LESSONS) is None
    course = LESSONS.parent
    en = lesson_html("contrast", "en", course)
    fr = lesson_html("contrast", "fr", course)
    assert en is not None and fr is not None
    assert "TR sets T1 weighting" in en and "Le TR règle la pondération T1" not in en
    assert "Le TR règle la pondération T1" in fr
    assert lesson_html("contrast.en", "en", course) is None  # a file name is not a lesson


def test_landing_links_carry_the_language(monkeypatch: pytest.MonkeyPatch) -> None:
    from simulator.lab.landing import landing_page

    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    page = landing_page("de", course=LESSONS.parent)
    assert "/merm/lessons/contrast?lang=de" in page
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ana/")
    fr = landing_page("fr", course=LESSONS.parent)
    en = landing_page("en", course=LESSONS.parent)
    assert "/user/ana/lab/tree/lessons/contrast.ipynb" in fr
    assert "/user/ana/lab/tree/lessons/contrast.en.ipynb" in en
    assert "/user/ana/lab/tree/lessons/ai_tradeoffs.fr.ipynb" in fr
