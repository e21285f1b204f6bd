"""Steps a trainee takes in either console, shared by the browser tests."""

from __future__ import annotations

from pathlib import Path


def set_field(page, name: str, value: str) -> None:  # noqa: ANN001
    """Type ``value`` in the protocol field ``name`` and press Enter."""
    box = page.locator(f".merm-param-{name} input")
    box.fill(value)
    box.press("Enter")


def scan_and_show_ai_change(page, explained_by: str, screenshot: Path) -> None:  # noqa: ANN001
    """Scan (AI denoising on), open "what the AI changed" and wait for the new frame and
    its explanation (which contains ``explained_by``)."""
    page.locator(".merm-scan").click()
    page.wait_for_function("() => !document.querySelector('.merm-view-ai').disabled")
    src = page.locator("img.merm-image").get_attribute("src")
    page.locator(".merm-view-ai").click()
    page.wait_for_function("s => document.querySelector('img.merm-image').src !== s", arg=src)
    page.wait_for_function(
        "w => document.querySelector('.merm-ai-explain').innerText.includes(w)", arg=explained_by
    )
    page.locator(".merm-viewer").screenshot(path=str(screenshot))
