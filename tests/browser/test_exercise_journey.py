"""A trainee's exercise journey in real Chromium at 1366×768, in French, English and German:
the console opens on the exercise in the browser's language, Submit is blocked and says what
is missing, screening, scan, submit; no raw key or Python literal on the page; locked
parameters are disabled; two series compare; an unknown exercise id is named."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.console_steps import set_field
from tests.browser.voila_server import voila
from tests.conftest import PAGE_HANG_GUARD_MS, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

VIEWPORT = {"width": 1366, "height": 768}
LOCALES = {"fr": "fr-FR", "en": "en-US", "de": "de-DE"}
#: What the Submit step list and the scan message read in each language.
WORDS = {
    "fr": {"scan": "Acquérir", "acquired": "acquise", "score": "Note", "submit": "Soumettre"},
    "en": {"scan": "Scan", "acquired": "acquired", "score": "Score", "submit": "Submit"},
    "de": {"scan": "Messen", "acquired": "gemessen", "score": "Punkte", "submit": "Abgeben"},
}
_SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
_LITERAL = re.compile(r"\b(True|False|None)\b|\{'")
_TABS = ".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab"


@pytest.fixture(scope="module")
def mr_url() -> Iterator[str]:
    with voila("mr_console.ipynb", free_port()) as base:
        yield base


def page_problems(page) -> list[str]:  # noqa: ANN001
    """Raw keys and literals in the page's visible text."""
    text = page.locator("body").inner_text()
    out = [f"raw key {m.group(0)!r}" for m in _SNAKE.finditer(text)]
    out += [f"literal {m.group(0)!r}" for m in _LITERAL.finditer(text)]
    return out


def _luminance(rgb: list[float]) -> float:
    def f(c: float) -> float:
        c /= 255.0
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (f(x) for x in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(page, selector: str) -> float:  # noqa: ANN001
    """WCAG contrast ratio of an element's text colour on its background colour."""
    fg, bg = page.evaluate(
        """s => { const cs = getComputedStyle(document.querySelector(s));
                  const n = c => c.match(/[\\d.]+/g).map(Number);
                  return [n(cs.color), n(cs.backgroundColor)]; }""",
        selector,
    )
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def in_view(page, selector: str) -> bool:  # noqa: ANN001
    """Whether the element lies wholly inside the viewport."""
    return page.evaluate(
        """s => { const r = document.querySelector(s).getBoundingClientRect();
                  return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }""",
        selector,
    )


def cut_labels(page) -> list[str]:  # noqa: ANN001
    """Visible labels and buttons whose text overflows its box (cut or ellipsed)."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
              '.merm-root .widget-label, .merm-root button, .merm-root .widget-label-basic,' +
              ' .merm-root .lm-TabBar-tabLabel')]
            .filter(e => e.offsetParent !== null && e.innerText.trim()
                         && e.scrollWidth > e.clientWidth + 1)
            .map(e => e.innerText.trim())"""
    )


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
def test_exercise_journey(browser, mr_url: str, artifacts_dir: Path, lang: str) -> None:  # noqa: ANN001
    w = WORDS[lang]
    page = browser.new_page(viewport=VIEWPORT, locale=LOCALES[lang])
    page.set_default_timeout(PAGE_HANG_GUARD_MS)
    page.goto(mr_url + f"?exercise=mr-t1-contrast&lang={lang}")
    page.wait_for_selector(".merm-exercise-submit", state="visible")
    assert w["scan"] in page.locator(".merm-scan").inner_text()
    # Submit is blocked and the panel lists both missing steps
    assert page.locator(".merm-exercise-submit").is_disabled()
    assert page.locator(".merm-step-screening").is_visible()
    assert page.locator(".merm-step-series").is_visible()
    page.screenshot(path=str(artifacts_dir / f"journey_{lang}_1_blocked.png"))
    for sel in (".merm-scan", ".merm-stop", ".merm-safety-validate"):
        assert contrast(page, sel) >= 4.5, sel  # WCAG AA for the action buttons' text
    assert page_problems(page) == []

    # a parameter the exercise does not let change is locked on the card
    page.locator(_TABS).nth(2).click()
    page.wait_for_selector(".merm-param-nex input", state="visible")
    assert page.locator(".merm-param-nex input").is_disabled()
    assert not page.locator(".merm-param-tr_ms input").is_disabled()
    set_field(page, "tr_ms", "500")
    set_field(page, "te_ms", "12")
    page.wait_for_function("() => document.querySelector('.merm-message').innerText.includes('TE')")
    assert page_problems(page) == []
    # layout: with the page scrolled to the console, the exam bar is on top and the image,
    # slice and W/L sit beside the parameter card, all inside the 768 px window
    page.evaluate("() => document.querySelector('.merm-root').scrollIntoView()")
    page.wait_for_timeout(200)
    assert in_view(page, ".merm-scanbar") and in_view(page, "img.merm-image")
    for sel in (".merm-slice", ".merm-window", ".merm-level", ".merm-param-tr_ms"):
        assert in_view(page, sel), sel
    page.screenshot(path=str(artifacts_dir / f"journey_{lang}_2_params.png"))
    # scrolling further down the card, the exam bar stays visible
    page.mouse.wheel(0, 600)
    page.wait_for_timeout(300)
    top = page.evaluate("() => document.querySelector('.merm-scanbar').getBoundingClientRect().top")
    assert 0 <= top <= 16, top  # stuck at the top of the page (its padding)
    cut = cut_labels(page)

    # the planning tab's labels too
    page.locator(_TABS).nth(1).click()
    page.wait_for_selector(".merm-plan-z", state="visible")
    cut += cut_labels(page)

    # screening, then scan
    page.locator(_TABS).nth(0).click()
    for q in ("pacemaker", "neurostim", "cochlear", "metal_eye", "clips", "pregnant"):
        page.locator(f".merm-safety-{q} button").nth(2).click()
    page.locator(".merm-safety-validate").click()
    page.wait_for_function("() => !document.querySelector('.merm-scan').disabled")
    cut += cut_labels(page)
    page.locator(".merm-clock select").select_option("max")
    page.locator(".merm-scan").click()
    page.wait_for_function(
        "w => document.querySelector('.merm-message').innerText.includes(w)", arg=w["acquired"]
    )

    # submit: enabled now; the score and the graded series show
    page.locator(_TABS).nth(4).click()
    page.wait_for_selector(".merm-steps-done", state="visible")
    page.wait_for_function("() => !document.querySelector('.merm-exercise-submit').disabled")
    page.locator(".merm-exercise-submit").click()
    page.wait_for_selector(".merm-graded-series", state="visible")
    assert w["score"] in page.locator(".merm-exercise-score").inner_text()
    page.screenshot(path=str(artifacts_dir / f"journey_{lang}_3_submitted.png"))
    assert page_problems(page) == []
    cut += cut_labels(page)
    assert cut == [], f"labels cut at 1366×768 in {lang}: {sorted(set(cut))}"
    page.close()


def test_unknown_exercise_is_named(browser, mr_url: str) -> None:  # noqa: ANN001
    page = browser.new_page(viewport=VIEWPORT, locale="en-US")
    page.set_default_timeout(PAGE_HANG_GUARD_MS)
    page.goto(mr_url + "?exercise=no-such-exercise&lang=en")
    page.wait_for_selector(".merm-exercise-unknown", state="visible")
    assert "no-such-exercise" in page.locator(".merm-exercise-unknown").inner_text()
    assert "no-such-exercise" in page.locator(".merm-message").inner_text()
    page.close()
