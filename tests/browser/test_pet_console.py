"""The PET console in real headless Chromium against a real Voilà server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.console_steps import scan_and_show_ai_change, set_field
from tests.browser.voila_server import voila
from tests.conftest import PAGE_HANG_GUARD_MS, free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]  # hang guard, not a budget


@pytest.fixture(scope="module")
def pet_url() -> Iterator[str]:
    with voila("pet_console.ipynb", free_port()) as base:
        yield base


def test_pet_scan_suv_and_nema_in_french(browser, pet_url: str, artifacts_dir: Path) -> None:  # noqa: ANN001
    # the browser asks for French: the console opens in French (Accept-Language → kernel)
    page = browser.new_page(viewport={"width": 1400, "height": 1050}, locale="fr-FR")
    page.set_default_timeout(PAGE_HANG_GUARD_MS)
    page.goto(pet_url)
    page.wait_for_selector(".merm-scan", state="visible")
    assert "Acquérir" in page.locator(".merm-scan").inner_text()
    page.locator(".merm-use-eanm").click()  # EANM activity for the weight and minutes per bed
    page.wait_for_function(
        "() => document.querySelector('.merm-param-activity_mbq input').value !== '250'"
    )
    page.locator(".merm-clock select").select_option("max")
    src = page.locator("img.merm-image").get_attribute("src")
    page.locator(".merm-scan").click()
    page.wait_for_function(
        "() => document.querySelector('.merm-message').innerText.includes('acquise')"
    )
    assert page.locator("img.merm-image").get_attribute("src") != src
    # SUV probe on a click in the image
    page.locator("img.merm-image").click(position={"x": 280, "y": 240})
    page.wait_for_function("() => document.querySelector('.merm-suv').innerText.includes('SUV')")
    page.screenshot(path=str(artifacts_dir / "pet_console.png"), full_page=True)
    # NEMA table
    page.locator(".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab").nth(1).click()
    page.wait_for_selector(".merm-nema table")
    assert page.locator(".merm-nema table tr").count() >= 7  # header + six spheres
    page.close()


def test_pet_ai_saving_change_view_and_language(browser, pet_url: str, artifacts_dir: Path) -> None:  # noqa: ANN001
    # half the minutes per bed and half the activity with AI on: time and dose saved show live
    # (in French); after the scan the "what the AI changed" view renders; then English
    page = browser.new_page(viewport={"width": 1400, "height": 1050}, locale="fr-FR")
    page.set_default_timeout(PAGE_HANG_GUARD_MS)
    page.goto(pet_url)
    page.wait_for_selector(".merm-scan", state="visible")
    assert page.locator(".merm-view-ai").is_disabled()  # nothing denoised by AI yet
    set_field(page, "minutes_per_bed", "1")
    set_field(page, "activity_mbq", "125")
    page.locator(".merm-param-ai_denoise input").check()
    page.wait_for_function(
        "() => document.querySelector('.merm-ai-saving').innerText.includes('gagnées')"
    )
    saving = page.locator(".merm-ai-saving").inner_text()
    assert "02:00 → 01:00" in saving and "−50 %" in saving
    assert "250 → 125 MBq" in saving and "épargnés" in saving
    page.locator(".merm-clock select").select_option("max")
    scan_and_show_ai_change(page, "bruit", artifacts_dir / "pet_ai_change.png")
    # the language switch relabels the console, the saving and the explanation
    page.locator(".merm-lang button", has_text="EN").click()
    page.wait_for_function("() => document.querySelector('.merm-scan').innerText.includes('Scan')")
    page.wait_for_function(
        "() => document.querySelector('.merm-ai-saving').innerText.includes('saved')"
    )
    page.wait_for_function(
        "() => document.querySelector('.merm-ai-explain').innerText.includes('noise')"
    )
    page.close()
