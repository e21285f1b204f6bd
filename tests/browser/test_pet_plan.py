"""The PET console's exam planning in real headless Chromium: scout with the planned beds,
total exam time and the NECR-against-activity panel for the whole-body patient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.voila_server import voila
from tests.conftest import PAGE_HANG_GUARD_MS, free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]  # hang guard, not a budget


@pytest.fixture(scope="module")
def pet_url() -> Iterator[str]:
    with voila("pet_console.ipynb", free_port()) as base:
        yield base


def test_whole_body_plan_renders(browser, pet_url: str, artifacts_dir: Path) -> None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": 1400, "height": 1400}, locale="en-GB")
    page.set_default_timeout(PAGE_HANG_GUARD_MS)
    page.goto(pet_url)
    page.wait_for_selector(".merm-scan", state="visible")
    # the NECR panel is there for any phantom: the curve and the current activity
    page.wait_for_selector(".merm-necr svg polyline")
    assert "peak" in page.locator(".merm-necr").inner_text()
    page.locator(".merm-phantom select").select_option(label="Patient corps entier / whole-body patient")
    page.wait_for_function(
        "() => document.querySelector('.merm-exam-time').innerText.includes('Planned range')",
        timeout=120_000,
    )
    page.wait_for_function(
        "() => { const i = document.querySelector('.merm-scout img, img.merm-scout');"
        " return i && i.naturalHeight > 100; }"
    )
    text = page.locator(".merm-exam-time").inner_text()
    assert "Exam time" in text and "with AI" in text
    page.screenshot(path=str(artifacts_dir / "pet_plan.png"), full_page=True)
    page.close()
