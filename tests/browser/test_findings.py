"""AI findings at the MR console in real headless Chromium at 1366×768, in French and English.

On the false-positive exercise (a healthy brain): after the scan, the ``.merm-ai-findings``
toggle lists the real detector's findings and draws their boxes into the image (the pixels
differ from the same slice with the toggle off); a wrong call (accepting the false marks) is
graded as failed, the right calls (the exercise's reference: reject them) pass, and both
attempts are saved. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.browser.voila_server import voila
from tests.conftest import PAGE_HANG_GUARD_MS, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

pytest.importorskip("simulator.findings.detect", reason="the detectors have not landed")

VIEWPORT = {"width": 1366, "height": 768}
LOCALES = {"fr": "fr-FR", "en": "en-US"}
EXERCISE = "mr-ai-false-positive"
WORDS = {
    "fr": {"acquired": "acquise", "accepted": "acceptée", "rejected": "rejetée",
           "saved": "Tentative enregistrée", "toggle": "Résultats IA"},
    "en": {"acquired": "acquired", "accepted": "accepted", "rejected": "rejected",
           "saved": "Attempt saved", "toggle": "AI findings"},
}
_TABS = ".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab"


@pytest.fixture(scope="module")
def mr_url() -> Iterator[str]:
    with voila("mr_console.ipynb", free_port()) as base:
        yield base


def _pixels(page) -> np.ndarray:  # noqa: ANN001
    from PIL import Image

    data = page.locator("img.merm-image").screenshot()  # what the trainee sees
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=int)


def _submit(page, w: dict[str, str]) -> str:  # noqa: ANN001
    before = page.locator(".merm-exercise-score").inner_text()
    page.locator(".merm-exercise-submit").click()
    page.wait_for_function(
        "w => document.querySelector('.merm-exercise-message').innerText.includes(w)",
        arg=w["saved"],
    )
    page.wait_for_function(
        "b => document.querySelector('.merm-exercise-score').innerText !== b", arg=before
    )
    return page.locator(".merm-exercise-score").inner_text()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_toggle_marks_list_and_graded_calls(browser, mr_url: str, artifacts_dir: Path,  # noqa: ANN001
                                             lang: str) -> None:
    w = WORDS[lang]
    page = browser.new_page(viewport=VIEWPORT, locale=LOCALES[lang])
    page.set_default_timeout(PAGE_HANG_GUARD_MS)
    page.goto(mr_url + f"?exercise={EXERCISE}&lang={lang}")
    page.wait_for_selector(".merm-exercise-submit", state="visible")
    toggle = page.locator(".merm-ai-findings button, button.merm-ai-findings").first
    assert w["toggle"] in toggle.inner_text()
    assert page.locator(".merm-finding-row").count() == 0  # off until the trainee asks

    # screening, scan
    page.locator(_TABS).nth(0).click()
    for q in ("pacemaker", "neurostim", "cochlear", "metal_eye", "clips", "pregnant"):
        page.locator(f".merm-safety-{q} button").nth(2).click()
    page.locator(".merm-safety-validate").click()
    page.wait_for_function("() => !document.querySelector('.merm-scan').disabled")
    page.locator(".merm-clock select").select_option("max")
    page.locator(".merm-scan").click()
    page.wait_for_function(
        "w => document.querySelector('.merm-message').innerText.includes(w)", arg=w["acquired"]
    )
    page.locator(_TABS).nth(4).click()

    # the toggle lists the findings (a healthy brain: every mark is false, and there is one)
    toggle.click()
    page.wait_for_selector(".merm-finding-row")
    rows = page.locator(".merm-finding-row")
    ids = [c.split("merm-finding-", 1)[1].split()[0] for c in
           (rows.nth(i).get_attribute("class").replace("merm-finding-row", "") for i in
            range(rows.count()))]
    assert ids and all(i.startswith("F") for i in ids), ids
    assert "%" in rows.nth(0).inner_text()  # confidence shown
    cut = page.evaluate(
        """() => [...document.querySelectorAll('.merm-findings button, .merm-findings .widget-label')]
              .filter(e => e.offsetParent !== null && e.innerText.trim()
                           && e.scrollWidth > e.clientWidth + 1).map(e => e.innerText.trim())"""
    )
    assert cut == [], f"labels cut at 1366×768 in {lang}: {cut}"
    # "Show" goes to the first finding's slice: its box is drawn into the image…
    src = page.locator("img.merm-image").get_attribute("src")
    page.locator(f".merm-finding-{ids[0]} .merm-finding-goto").click()
    page.wait_for_function("s => document.querySelector('img.merm-image').src !== s", arg=src)
    page.wait_for_timeout(300)
    marked = _pixels(page)
    page.locator(".merm-viewer").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / f"findings_{lang}_1_shown.png"))
    page.locator("img.merm-image").screenshot(path=str(artifacts_dir / f"findings_{lang}_image.png"))
    # …and switching the toggle off takes it away (same slice, same window)
    src = page.locator("img.merm-image").get_attribute("src")
    toggle.click()
    page.wait_for_function("s => document.querySelector('img.merm-image').src !== s", arg=src)
    page.wait_for_timeout(300)
    bare = _pixels(page)
    changed = np.abs(marked - bare).max(axis=2) > 40
    colour = (np.abs(marked[..., 0] - marked[..., 2]) > 80) & changed
    assert changed.sum() > 100 and colour.sum() > 80, (changed.sum(), colour.sum())
    src = page.locator("img.merm-image").get_attribute("src")
    toggle.click()
    page.wait_for_selector(".merm-finding-row")
    page.wait_for_function("s => document.querySelector('img.merm-image').src !== s", arg=src)

    # a wrong call: accept every mark (automation bias) → graded as failed, saved
    for fid in ids:
        page.locator(f".merm-finding-{fid} .merm-finding-accept").click()
        page.wait_for_function(
            "a => document.querySelector(a[0]).innerText.includes(a[1])",
            arg=[f".merm-finding-{fid} .merm-finding-decision", w["accepted"]],
        )
    wrong = _submit(page, w)
    assert re.search(r"\b0/100", wrong), wrong
    page.screenshot(path=str(artifacts_dir / f"findings_{lang}_2_wrong.png"))

    # the right calls (the exercise's reference: every mark rejected) → passed, saved
    for fid in ids:
        page.locator(f".merm-finding-{fid} .merm-finding-reject").click()
        page.wait_for_function(
            "a => document.querySelector(a[0]).innerText.includes(a[1])",
            arg=[f".merm-finding-{fid} .merm-finding-decision", w["rejected"]],
        )
    right = _submit(page, w)
    assert re.search(r"\b100/100", right), right
    page.screenshot(path=str(artifacts_dir / f"findings_{lang}_3_right.png"))
    page.close()
