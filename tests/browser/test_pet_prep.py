"""The PET exam journey in real headless Chromium at 1366×768, in French and English: the
preparation card warns out of EANM 2015, the injection locks the activity, a click on the image
places a sphere ROI whose SUVmax / SUVmean / SUVpeak are read, and the kBq/mL switch."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.voila_server import voila
from tests.conftest import PAGE_HANG_GUARD_MS, free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]  # hang guard, not a budget

#: (locale, words the page must show): scan done, glucose warning, ROI row names.
LANGS = {
    "fr-FR": {"done": "acquise", "glucose": "Glycémie 12,5 mmol/L", "out": "hors guide",
              "mean": "SUVmoy", "lock": "verrouillée", "decimal": ",", "bad": "Glycémie « abc »"},
    "en-US": {"done": "acquired", "glucose": "Blood glucose 12.5 mmol/L",
              "out": "outside the EANM 2015", "mean": "SUVmean", "lock": "locked",
              "decimal": ".", "bad": 'Blood glucose "abc"'},
}


@pytest.fixture(scope="module")
def pet_url() -> Iterator[str]:
    with voila("pet_console.ipynb", free_port()) as base:
        yield base


def _type(page, cls: str, value: str) -> None:  # noqa: ANN001
    box = page.locator(f".{cls} input")
    box.fill(value)
    box.press("Tab")  # the card reads a field when it loses focus


def _roi_values(page) -> dict[str, float]:  # noqa: ANN001
    out = {}
    for key in ("max", "mean", "peak"):
        cell = page.locator(f".merm-roi .merm-roi-{key} .merm-roi-value").inner_text()
        out[key] = float(re.match(r"[\d.,]+", cell).group(0).replace(",", "."))
    return out


@pytest.mark.parametrize("locale", list(LANGS))
def test_prep_warning_lock_and_roi(browser, pet_url: str, artifacts_dir: Path, locale: str) -> None:  # noqa: ANN001
    words, tag = LANGS[locale], locale[:2]
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale=locale)
    page.set_default_timeout(PAGE_HANG_GUARD_MS)
    page.goto(pet_url)
    page.wait_for_selector(".merm-prep", state="visible")
    # the preparation card: 3 h fasting, 12,5 mmol/L, injected 08:00, scan at 08:40
    _type(page, "merm-prep-fasting", "3")
    _type(page, "merm-prep-glucose", "12,5")
    _type(page, "merm-prep-injection", "08:00")
    _type(page, "merm-prep-scan-start", "08:40")
    page.wait_for_function(
        "() => document.querySelectorAll('.merm-prep-status li.merm-prep-out').length === 3"
    )
    status = page.locator(".merm-prep-status").inner_text()
    assert words["glucose"] in status and words["out"] in status
    assert "55–75" in status and "4 h" in status
    # the consequence (40 min: −17 % SUV, Feng 1993 model) and the protocol's uptake follow
    page.wait_for_function(
        "() => document.querySelector('.merm-prep-consequence').innerText.includes('Feng 1993')"
        " && document.querySelector('.merm-prep-consequence').innerText.includes('40 min')"
    )
    page.wait_for_function(
        "() => document.querySelector('.merm-param-uptake_min input').value === '40'"
    )
    page.locator(".merm-prep").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / f"pet_prep_card_{tag}.png"))
    # bad input: a clear message in the page's language, the console goes on
    _type(page, "merm-prep-glucose", "abc")
    page.wait_for_selector(".merm-prep-errors .merm-err")
    errors = page.locator(".merm-prep-errors").inner_text()
    assert words["bad"] in errors and "mmol/L" in errors
    _type(page, "merm-prep-glucose", "12,5")
    page.wait_for_function("() => !document.querySelector('.merm-prep-errors .merm-err')")
    # the injection locks the activity
    page.locator(".merm-inject").click()
    page.wait_for_function(
        "() => document.querySelector('.merm-param-activity_mbq input').disabled"
    )
    page.wait_for_selector(".merm-activity-correct", state="visible")
    page.wait_for_function(
        "w => document.querySelector('.merm-activity-locked').innerText.includes(w)",
        arg=words["lock"],
    )
    page.locator(".merm-correction").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / f"pet_injection_locked_{tag}.png"))
    # scan (fastest clock), then a click on the image places a sphere ROI
    page.locator(".merm-clock select").select_option("max")
    page.locator(".merm-scan").click()
    page.wait_for_function(
        "w => document.querySelector('.merm-message').innerText.includes(w)", arg=words["done"]
    )
    image = page.locator("img.merm-image")
    box = image.bounding_box()
    image.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.5})
    page.wait_for_function(
        "() => document.querySelector('.merm-roi').innerText.includes('SUVpeak')"
    )
    roi = page.locator(".merm-roi").inner_text()
    assert "SUVmax" in roi and words["mean"] in roi and "1 cm³" in roi
    v = _roi_values(page)
    # SUVmean <= SUVmax by definition. SUVpeak (the 1 cm³ sphere mean around a region voxel,
    # PERCIST) takes in voxels outside a small region, so it may fall below its mean or
    # exceed its max: no order holds between them
    assert 0 < v["mean"] <= v["max"] and v["peak"] > 0, v
    assert words["decimal"] in page.locator(".merm-roi .merm-roi-max .merm-roi-value").inner_text()
    page.screenshot(path=str(artifacts_dir / f"pet_roi_{tag}.png"))
    page.locator(".merm-roi-panel").screenshot(path=str(artifacts_dir / f"pet_roi_panel_{tag}.png"))
    # the kBq/mL switch converts the ROI and the probe
    page.locator(".merm-value-unit button", has_text="kBq/mL").click()
    page.wait_for_function(
        "() => document.querySelector('.merm-roi').innerText.includes('kBq/mL')"
    )
    page.wait_for_function(
        "() => document.querySelector('.merm-suv').innerText.includes('kBq/mL')"
    )
    k = _roi_values(page)
    assert k["max"] > 0 and k["max"] != v["max"]
    page.close()
