"""The MR console in real headless Chromium against a real Voilà server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import simulator.mr
from tests.browser.console_steps import scan_and_show_ai_change, set_field
from tests.browser.voila_server import voila
from tests.conftest import PAGE_HANG_GUARD_MS, free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]  # hang guard, not a budget



@pytest.fixture(scope="module")
def mr_url() -> Iterator[str]:
    with voila("mr_console.ipynb", free_port()) as base:
        yield base


def open_console(browser, url: str, locale: str = "en-US"):  # noqa: ANN001, ANN201
    page = browser.new_page(viewport={"width": 1400, "height": 1050}, locale=locale)
    page.set_default_timeout(PAGE_HANG_GUARD_MS)
    page.goto(url)
    page.wait_for_selector(".merm-scan", state="visible")
    page.wait_for_selector("img.merm-image")
    return page


def test_params_bad_value_and_language(browser, mr_url: str, artifacts_dir: Path) -> None:  # noqa: ANN001
    page = open_console(browser, mr_url)
    page.locator(".jupyter-widgets.widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab").nth(
        2
    ).click()
    scan_time = page.locator(".merm-scan-time")
    before = scan_time.inner_text()
    set_field(page, "tr_ms", "1000")
    page.wait_for_function(
        "b => document.querySelector('.merm-scan-time').innerText !== b", arg=before
    )
    assert scan_time.inner_text() != before

    # a refused value: the message says the allowed range, the field keeps the last valid value
    set_field(page, "tr_ms", "1")
    page.wait_for_function(
        "() => document.querySelector('.merm-message').innerText.includes('15000')"
    )
    page.wait_for_function(
        "() => document.querySelector('.merm-error-tr_ms').innerText.includes('15000')"
    )
    page.wait_for_function(
        "() => document.querySelector('.merm-param-tr_ms input').value === '1000'"
    )
    page.screenshot(path=str(artifacts_dir / "mr_console_bad_value.png"), full_page=True)
    # …and the console keeps working
    after_bad = scan_time.inner_text()
    set_field(page, "tr_ms", "2000")
    page.wait_for_function(
        "b => document.querySelector('.merm-scan-time').innerText !== b", arg=after_bad
    )

    # language switch in the page
    assert "Scan" in page.locator(".merm-scan").inner_text()
    page.locator(".merm-lang button", has_text="FR").click()
    page.wait_for_function(
        "() => document.querySelector('.merm-scan').innerText.includes('Acquérir')"
    )
    page.wait_for_function(
        "() => document.querySelector('.merm-scan-time').innerText.includes('Durée')"
    )
    page.screenshot(path=str(artifacts_dir / "mr_console_fr.png"), full_page=True)
    page.close()


def screen_patient(page) -> None:  # noqa: ANN001
    """Answer the safety questionnaire (scenario 1 has no implant) and validate it."""
    for q in ("pacemaker", "neurostim", "cochlear", "metal_eye", "clips", "pregnant"):
        page.locator(f".merm-safety-{q} button").nth(2).click()
    page.locator(".merm-safety-validate").click()
    page.wait_for_function("() => !document.querySelector('.merm-scan').disabled")


@pytest.mark.skipif(not hasattr(simulator.mr, "scan"), reason="simulator.mr.scan has not landed")
def test_scan_shows_new_image(browser, mr_url: str, artifacts_dir: Path) -> None:  # noqa: ANN001
    page = open_console(browser, mr_url)
    assert page.locator(".merm-scan").is_disabled()  # safety screening first
    screen_patient(page)
    page.locator(".merm-clock select").select_option("max")
    src = page.locator("img.merm-image").get_attribute("src")
    page.locator(".merm-scan").click()
    page.wait_for_function(
        "() => document.querySelector('.merm-message').innerText.match(/acquired|acquise/)"
    )
    page.wait_for_function("s => document.querySelector('img.merm-image').src !== s", arg=src)
    assert page.locator("img.merm-image").get_attribute("src") != src
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts_dir / "mr_console.png"), full_page=True)
    page.locator(".merm-image").screenshot(path=str(artifacts_dir / "mr_console_image.png"))

    # DICOM download: a zip as a data: link
    page.locator(".merm-download").click()
    page.wait_for_selector("a.merm-download-file")
    assert (
        page.locator("a.merm-download-file")
        .get_attribute("href")
        .startswith("data:application/zip;base64,")
    )

    # window/level by mouse drag on the image (ipyevents): the width readout follows
    page.locator("img.merm-image").scroll_into_view_if_needed()
    width = page.locator(".merm-window-readout").inner_text()
    box = page.locator("img.merm-image").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 200, box["y"] + 200)
    page.mouse.down()
    page.mouse.move(box["x"] + 320, box["y"] + 240, steps=6)
    page.mouse.up()
    page.wait_for_function(
        "w => document.querySelector('.merm-window-readout').innerText !== w", arg=width
    )

    # a second series with a longer TR, then side-by-side compare and the difference view
    page.locator(".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab").nth(2).click()
    set_field(page, "tr_ms", "2500")
    set_field(page, "te_ms", "90")
    page.wait_for_function("() => document.querySelector('.merm-message').innerText.includes('TE')")
    page.locator(".merm-scan").click()
    page.wait_for_function("() => document.querySelectorAll('.merm-series-b option').length === 2")
    # by default A is the new series and B the one before: nothing to pick
    page.wait_for_function(
        "() => document.querySelector('.merm-series-a select').selectedIndex === 1"
        " && document.querySelector('.merm-series-b select').selectedIndex === 0"
    )
    page.locator(".merm-view-mode button").nth(1).click()
    page.wait_for_timeout(500)
    page.locator(".merm-viewer").screenshot(path=str(artifacts_dir / "mr_console_compare.png"))
    src = page.locator("img.merm-image").get_attribute("src")
    page.locator(".merm-view-mode button").nth(2).click()
    page.wait_for_function("s => document.querySelector('img.merm-image').src !== s", arg=src)
    page.wait_for_timeout(500)
    diff_png = artifacts_dir / "mr_console_difference.png"
    page.locator(".merm-image").screenshot(path=str(diff_png))
    from PIL import Image

    diff = np.asarray(Image.open(diff_png).convert("RGB"), dtype=float)
    assert diff[60:360, 60:480].std() > 5.0  # two different images: the difference is not black
    # planning: the stack drawn on the localizer; a click moves its centre
    page.locator(".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab").nth(1).click()
    page.wait_for_function(
        "() => document.querySelector('img.merm-localizer-sagittal').src.startsWith('blob:')"
    )
    page.wait_for_timeout(500)
    centre_z = page.locator(".merm-plan-z .widget-readout").inner_text()
    page.locator("img.merm-localizer-sagittal").click(
        position={"x": 125, "y": 40}
    )  # toward the head
    page.wait_for_function(
        "z => document.querySelector('.merm-plan-z .widget-readout').innerText !== z", arg=centre_z
    )
    assert float(page.locator(".merm-plan-z .widget-readout").inner_text()) > float(centre_z)
    page.screenshot(path=str(artifacts_dir / "mr_console_planning.png"), full_page=True)

    # AI denoising: half the phase lines of the standard T1 SE (01:36) with AI on → the time
    # saved shows live; after the scan the "what the AI changed" view renders
    page.locator(".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab").nth(2).click()
    assert page.locator(".merm-view-ai").is_disabled()  # no series denoised by AI yet
    set_field(page, "te_ms", "15")
    set_field(page, "tr_ms", "500")
    set_field(page, "matrix_phase", "96")
    page.locator(".merm-param-ai_denoise input").check()
    page.wait_for_function(
        "() => document.querySelector('.merm-ai-saving').innerText.includes('00:48 saved')"
    )
    saving = page.locator(".merm-ai-saving").inner_text()
    assert "01:36 → 00:48" in saving and "−50 %" in saving and "not a promise" in saving
    page.locator(".merm-consequences").screenshot(path=str(artifacts_dir / "mr_ai_saving.png"))
    scan_and_show_ai_change(page, "noise", artifacts_dir / "mr_ai_change.png")

    page.close()


def test_exercise_from_url(browser, mr_url: str, artifacts_dir: Path) -> None:  # noqa: ANN001
    """``?exercise=<id>&lang=fr`` opens the console on that exercise, in French."""
    page = browser.new_page(viewport={"width": 1400, "height": 1050}, locale="en-US")
    page.set_default_timeout(PAGE_HANG_GUARD_MS)
    page.goto(mr_url + "?exercise=mr-wrap&lang=fr")
    page.wait_for_selector(".merm-exercise-submit", state="visible")
    assert "Acquérir" in page.locator(".merm-scan").inner_text()
    # the exercise's starting protocol is loaded: rectangular FOV that wraps
    page.locator(".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab").nth(1).click()
    page.wait_for_function(
        "() => document.querySelector('.merm-wrap').innerText.includes('Repliement')"
    )
    page.screenshot(path=str(artifacts_dir / "mr_console_exercise.png"), full_page=True)
    page.close()
