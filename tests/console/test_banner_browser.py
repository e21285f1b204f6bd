"""The banner in real headless Chromium: a real Voilà MR console whose trainee called a real
mentoring hub. While the Patient tab is open, the mentor's call (camera and microphone) and
control request appear at the top of the console with their buttons, and the buttons work."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiohttp import web

from simulator.mentoring.client import HubClient
from simulator.mentoring.server import HubConfig, make_app
from tests.browser.voila_server import voila
from tests.conftest import PAGE_HANG_GUARD_MS, free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]  # hang guard, not a budget

SECRET = b"banner-browser-secret-0123456789abcdef"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[SimpleNamespace]:
    """A hub on its own loop in a thread (Playwright's sync API owns this one)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro, timeout: float = 30.0):  # noqa: ANN001, ANN202 - hang guard only
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = HubConfig(secret=SECRET, public_url=url, audit_path=tmp_path / "audit.jsonl",
                       recordings_dir=tmp_path / "rec")
    runner = web.AppRunner(make_app(config))

    async def start() -> None:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()

    run(start())
    try:
        yield SimpleNamespace(url=url, run=run)
    finally:
        run(runner.cleanup())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def _tab(page, title: str) -> None:  # noqa: ANN001
    page.locator(".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab", has_text=title).first.click()


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_call_and_control_request_ring_in_the_banner_from_the_patient_tab(
    browser, hub, lang: str, artifacts_dir: Path  # noqa: ANN001
) -> None:
    env = {"MERM_HUB_URL": hub.url, "MERM_HUB_SECRET": SECRET.decode(), "MERM_LANG": lang}
    words = {
        "fr": ("Patient", "Mentor", "Dr Weber (mentor) vous appelle", "Contrôle : Dr Weber"),
        "de": ("Patient", "Mentor", "Dr Weber (Mentor) ruft Sie an", "Steuerung: Dr Weber"),
    }[lang]
    with voila("mr_console.ipynb", free_port(), env_extra=env) as base:
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.set_default_timeout(PAGE_HANG_GUARD_MS)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        mentor = None
        try:
            page.goto(f"{base}?lang={lang}")
            page.wait_for_selector(".merm-scan", state="visible")
            _tab(page, words[1])
            page.click(".merm-call-mentor")
            link = page.wait_for_selector(".merm-link-mentor")
            token = (link.get_attribute("href") or "").split("#t=")[1]
            _tab(page, words[0])  # the trainee goes back to the patient
            page.wait_for_selector(".merm-call-mentor", state="hidden")
            page.wait_for_selector(".merm-banner", state="hidden")  # nothing to answer yet

            mentor = HubClient(hub.url, token, "Dr Weber", client="browser")
            hub.run(mentor.connect())
            hub.run(mentor.send({"type": "av_ready", "on": True}))
            call = page.wait_for_selector(".merm-banner .merm-incoming-call", state="visible")
            assert words[2] in call.inner_text()
            box = call.bounding_box()
            assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 768, box
            page.screenshot(path=str(artifacts_dir / f"banner_call_{lang}.png"))
            page.click(".merm-banner .merm-decline-call")
            hangup = hub.run(mentor.wait_for("av_hangup", timeout=20.0))
            assert hangup["from"] != mentor.peer_id
            page.wait_for_selector(".merm-banner .merm-incoming-call", state="hidden")

            hub.run(mentor.send({"type": "request_control"}))
            grant = page.wait_for_selector(".merm-banner .merm-grant", state="visible")
            grant.click()
            page.wait_for_function(
                "w => (document.querySelector('.merm-held-by') || {}).innerText === w",
                arg=words[3],
            )
            assert page.locator(".merm-scan").is_disabled()
            page.wait_for_selector(".merm-banner .merm-take-back", state="visible")
            page.wait_for_selector(".merm-banner .merm-grant", state="hidden")
            page.screenshot(path=str(artifacts_dir / f"banner_control_{lang}.png"))
        finally:
            if mentor is not None:
                hub.run(mentor.close())
            page.close()
    assert not errors, errors
