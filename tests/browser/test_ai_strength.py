"""The AI strength slider in real headless Chromium (1366×768) against a real Voilà server.

A trainee turns AI denoising on in the PET console, moves the strength slider with the
keyboard (the slider's own handle), scans at 100 % and at 50 %, and the images on screen
differ the way the blend says: the 50 % image keeps more of the reconstruction's noise, so
its pixel-to-pixel variation is larger. Each scan has its own noise draw (a new acquisition),
so "the pixels differ" alone would prove nothing; the ordering of the noise is the check.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.browser.voila_server import voila
from tests.conftest import PAGE_HANG_GUARD_MS, free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]  # hang guard, not a budget

VIEWPORT = {"width": 1366, "height": 768}
NAMES = {"fr": "Force de l'IA", "en": "AI strength", "de": "KI-Stärke"}
LOCALES = {"fr": "fr-FR", "en": "en-GB", "de": "de-DE"}
#: Words of the message line once a series is acquired.
ACQUIRED = {"fr": "acquise", "en": "acquired", "de": "gemessen"}
#: The 50 % image must be noisier than the 100 % one by at least this factor (high-pass
#: spread over the phantom). At 50 % the noise is about (1 + r)/2 of the reconstruction's,
#: r ≈ 0.5 the network's residual noise ratio on this phantom (lesson 'ai_tradeoffs', §4:
#: background CoV 0.33 vs 0.27 at 50 % vs 100 %); 1.1 leaves room for two noise draws.
NOISIER_AT_HALF = 1.1

SLIDER = ".merm-param-ai_strength"


@pytest.fixture(scope="module")
def pet_url() -> Iterator[str]:
    with voila("pet_console.ipynb", free_port()) as base:
        yield base


@pytest.fixture(scope="module")
def mr_url() -> Iterator[str]:
    with voila("mr_console.ipynb", free_port()) as base:
        yield base


def _ai_on(page) -> None:  # noqa: ANN001
    """Switch AI denoising on and wait until the strength slider is no longer greyed."""
    page.locator(".merm-param-ai_denoise input").check()
    page.wait_for_function(
        "s => !document.querySelector(s).classList.contains('merm-ai-off')", arg=SLIDER
    )


def _open(browser, url: str, lang: str):  # noqa: ANN001, ANN202
    page = browser.new_page(viewport=VIEWPORT, locale=LOCALES[lang])
    page.set_default_timeout(PAGE_HANG_GUARD_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector(".merm-scan", state="visible")
    return page, errors


def _label(page) -> str:  # noqa: ANN001
    return page.locator(f"{SLIDER} .widget-label").inner_text().strip()


def _readout(page) -> str:  # noqa: ANN001
    return page.locator(".merm-ai-strength-readout").inner_text().strip()


def _strength_to(page, target_pct: int) -> None:  # noqa: ANN001
    """Press the arrow keys on the slider's handle until the readout says ``target_pct``."""
    handle = page.locator(f"{SLIDER} .noUi-handle")
    handle.focus()
    for _ in range(40):  # 5 % steps: 20 presses span the slider; more is a hang
        now = int(_readout(page).rstrip(" %"))
        if now == target_pct:
            return
        handle.press("ArrowLeft" if now > target_pct else "ArrowRight")
        page.wait_for_function(
            "([s, v]) => document.querySelector(s).innerText.trim() !== v",
            arg=[".merm-ai-strength-readout", f"{now} %"],
        )
    raise AssertionError(f"slider stuck at {_readout(page)}")


def _scan(page, lang: str) -> np.ndarray:  # noqa: ANN001
    """Scan, wait for the new series on screen, return the image as the trainee sees it."""
    src = page.locator("img.merm-image").get_attribute("src")
    before = page.locator(".merm-message").inner_text()
    page.locator(".merm-scan").click()
    page.wait_for_function(
        "([w, b]) => { const t = document.querySelector('.merm-message').innerText;"
        " return t.includes(w) && t !== b; }",
        arg=[ACQUIRED[lang], before],
    )
    page.wait_for_function("s => document.querySelector('img.merm-image').src !== s", arg=src)
    from PIL import Image

    png = page.locator("img.merm-image").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)


def _high_pass_spread(img: np.ndarray) -> float:
    """Std of the 4-neighbour Laplacian inside the phantom (pixels above a quarter of the
    99th percentile), relative to their mean: noise, whatever the window."""
    rows, cols = img.shape
    core = img[rows // 6 : rows - rows // 6, cols // 6 : cols - cols // 6]  # off the captions
    lap = 4 * core[1:-1, 1:-1] - core[:-2, 1:-1] - core[2:, 1:-1] - core[1:-1, :-2] - core[1:-1, 2:]
    inside = core[1:-1, 1:-1] > 0.25 * np.percentile(core, 99)
    return float(np.std(lap[inside]) / np.mean(core[1:-1, 1:-1][inside]))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_strength_slider_changes_the_scan(browser, pet_url: str, artifacts_dir: Path,  # noqa: ANN001
                                          lang: str) -> None:
    page, errors = _open(browser, pet_url, lang)
    assert _label(page) == NAMES[lang]
    slider = page.locator(SLIDER)
    # AI off: the strength is greyed and its handle cannot be moved
    assert "merm-ai-off" in (slider.get_attribute("class") or "")
    assert page.locator(f"{SLIDER} [disabled], {SLIDER} .noUi-target[disabled]").count() > 0
    _ai_on(page)
    assert _readout(page) == "100 %"
    page.locator(".merm-clock select").select_option("max")
    full = _scan(page, lang)
    _strength_to(page, 50)
    # the session took it (the AI panel quotes the evaluation at 50 %)
    page.wait_for_function(
        "() => document.querySelector('.merm-ai-evaluation')?.innerText.includes('50 %')"
    )
    half = _scan(page, lang)
    page.screenshot(path=str(artifacts_dir / f"ai_strength_{lang}.png"))
    assert full.shape == half.shape and not np.array_equal(full, half)
    noisy_half, noisy_full = _high_pass_spread(half), _high_pass_spread(full)
    (artifacts_dir / f"ai_strength_{lang}.json").write_text(
        json.dumps({"high_pass_spread": {"strength_0.5": noisy_half, "strength_1.0": noisy_full}})
    )
    assert noisy_half > NOISIER_AT_HALF * noisy_full, (noisy_half, noisy_full)
    assert errors == []
    page.close()


def test_strength_label_and_gating_in_german(browser, pet_url: str, artifacts_dir: Path) -> None:  # noqa: ANN001
    page, errors = _open(browser, pet_url, "de")
    assert _label(page) == NAMES["de"]
    assert "merm-ai-off" in (page.locator(SLIDER).get_attribute("class") or "")
    _ai_on(page)
    _strength_to(page, 70)
    assert _readout(page) == "70 %"
    page.locator(".merm-param-ai_strength").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "ai_strength_de.png"))
    # the console's AI panel names the evaluated strength nearest to 70 %: 50 %
    page.wait_for_function(
        "() => document.querySelector('.merm-ai-saving').innerText.includes('(70 %)')"
    )
    assert "50 %" in page.locator(".merm-ai-saving").inner_text()
    page.locator(".merm-ai-saving").screenshot(path=str(artifacts_dir / "ai_strength_de_eval.png"))
    assert errors == []
    page.close()


def test_mr_console_has_the_strength_too(browser, mr_url: str, artifacts_dir: Path) -> None:  # noqa: ANN001
    page, errors = _open(browser, mr_url, "fr")
    page.locator(".lm-TabBar-tab", has_text="Paramètres").first.click()  # the MR card's tab
    page.wait_for_selector(".merm-param-ai_denoise input", state="visible")
    assert _label(page) == NAMES["fr"]
    assert "merm-ai-off" in (page.locator(SLIDER).get_attribute("class") or "")
    _ai_on(page)
    _strength_to(page, 50)
    page.wait_for_function(
        "() => document.querySelector('.merm-ai-evaluation')?.innerText.includes('force 50 %')"
    )
    page.locator(SLIDER).scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "ai_strength_mr_fr.png"))
    # AI off again: the strength is greyed, its value kept
    page.locator(".merm-param-ai_denoise input").uncheck()
    page.wait_for_function(
        "s => document.querySelector(s).classList.contains('merm-ai-off')", arg=SLIDER
    )
    assert _readout(page) == "50 %"
    assert errors == []
    page.close()
