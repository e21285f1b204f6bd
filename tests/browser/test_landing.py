"""The lab's front door in real Chromium: ``merm-lab serve --course DIR`` on a course with an
exercise just written, a trainee signs in, lands on ``/`` in the browser's language, switches
language, and opens the new exercise in its console (the authoring loop)."""

from __future__ import annotations

import os
import re
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PAGE_HANG_GUARD_MS, free_port
from tests.lab_signin import serving_lab

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
VIEWPORT = {"width": 1366, "height": 768}
START_GUARD_S = 240.0  # a hang guard: the lab starts slowly on a loaded machine
HEADINGS = {"fr": "Exercices", "en": "Exercises", "de": "Übungen"}
_SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")


def _new_exercise(folder: Path) -> str:
    """An instructor's new exercise: a copy of one with a new id and title (fr, en, de)."""
    text = (ROOT / "course" / "exercises" / "mr_t1_contrast.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^id: .*$", "id: my-new-t1", text, count=1)
    text = re.sub(r'(?ms)^title:\n  fr: [^\n]*\n  en: [^\n]*\n(  de: [^\n]*\n)?',
                  'title:\n  fr: "Mon nouvel exercice T1"\n  en: "My new T1 exercise"\n'
                  '  de: "Meine neue T1-Übung"\n', text, count=1)
    assert "Meine neue T1-Übung" in text
    (folder / "my_new_t1.yaml").write_text(text, encoding="utf-8")
    return "my-new-t1"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("landing")
    course = tmp / "course"
    for part in ("dashboards", "exercises", "lessons"):
        shutil.copytree(ROOT / "course" / part, course / part)
    port, hub_port = free_port(), free_port()
    env = dict(os.environ, MERM_HOME=str(tmp / "home"))
    env.pop("MERM_DB_URL", None)
    env.pop("MERM_COURSE_DIR", None)
    args = ["--port", str(port), "--hub-port", str(hub_port), "--course", str(course)]
    with serving_lab(args, env, tmp / "serve.log", START_GUARD_S) as base:
        # the instructor writes a new exercise while the lab runs
        lab_course = course
        lab_course_new = _new_exercise(lab_course / "exercises")
        assert lab_course_new == "my-new-t1"
        yield base


def _sign_in(page, base: str) -> None:  # noqa: ANN001
    page.goto(base + "/")
    page.wait_for_selector(".merm-signin-name")
    page.locator(".merm-signin-name").fill("Alex Martin")
    page.locator(".merm-signin-submit").click()
    page.wait_for_selector(".merm-landing")


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
def test_landing_follows_the_browser_and_switches(browser, lab: str, artifacts_dir: Path,
                                                  lang: str) -> None:  # noqa: ANN001
    locale = {"fr": "fr-FR", "en": "en-GB", "de": "de-DE"}[lang]
    page = browser.new_page(viewport=VIEWPORT, locale=locale)
    page.set_default_timeout(PAGE_HANG_GUARD_MS)
    _sign_in(page, lab)
    assert page.locator("html").get_attribute("lang") == lang
    assert HEADINGS[lang] in page.locator(".merm-exercises h2").inner_text()
    assert page.locator(".merm-open-mr").is_visible() and page.locator(".merm-open-pet").is_visible()
    assert page.locator(".merm-lesson-link").count() >= 5
    assert page.locator(".merm-staff").count() == 0  # a trainee sees no staff links
    text = page.locator("body").inner_text()
    assert _SNAKE.findall(text) == [], _SNAKE.findall(text)
    page.screenshot(path=str(artifacts_dir / f"landing_{lang}.png"), full_page=True)
    # switchable: another language in place
    other = "en" if lang != "en" else "de"
    page.locator(f".merm-lang-{other}").click()
    page.wait_for_function("l => document.documentElement.lang === l", arg=other)
    assert HEADINGS[other] in page.locator(".merm-exercises h2").inner_text()
    page.close()


def test_new_exercise_opens_in_its_console(browser, lab: str, artifacts_dir: Path) -> None:  # noqa: ANN001
    page = browser.new_page(viewport=VIEWPORT, locale="de-DE")
    page.set_default_timeout(PAGE_HANG_GUARD_MS)
    _sign_in(page, lab)
    link = page.locator(".merm-exercise-link[data-exercise='my-new-t1']")
    assert link.inner_text() == "Meine neue T1-Übung"
    link.click()
    page.wait_for_selector(".merm-exercise-submit", state="visible")
    assert "Meine neue T1-Übung" in page.locator(".merm-exercise-brief").inner_text()
    assert "Messen" in page.locator(".merm-scan").inner_text()
    page.screenshot(path=str(artifacts_dir / "landing_new_exercise_console.png"))
    # a lesson read-only (no JupyterLab under serve)
    page.goto(lab + "/?lang=en")
    href = page.locator(".merm-lesson-link").first.get_attribute("href")
    assert href is not None and href.startswith("/merm/lessons/")
    with urllib.request.urlopen(lab + href, timeout=300) as r:  # noqa: S310
        assert r.status == 200 and b"<html" in r.read()[:2000].lower()
    page.close()
