"""The banner against a real mentoring hub: a mentor's control request and a PET remote
start appear at the top of the PET console while the Patient/injection tab is open, with
their buttons; granting locks Scan and the card with "Control: <name>"."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aioice.ice
import pytest
from aiohttp import web

from simulator.mentoring.client import HubClient
from simulator.mentoring.server import HubConfig, make_app
from tests.conftest import free_port

SECRET = b"banner-test-secret-0123456789abcdef01"


async def until(cond: Callable[[], bool], timeout: float = 15.0) -> None:  # hang guard only
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


async def test_mentor_requests_show_in_the_banner_from_another_tab(tmp_path, monkeypatch) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = HubConfig(secret=SECRET, public_url=url, audit_path=tmp_path / "audit.jsonl",
                       recordings_dir=tmp_path / "rec", max_peers=6)
    runner = web.AppRunner(make_app(config))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    monkeypatch.setenv("MERM_HUB_URL", url)
    monkeypatch.setenv("MERM_HUB_SECRET", SECRET.decode())
    from simulator.console import _shell
    from simulator.console.pet_console import PETConsole

    c = PETConsole(lang="en")
    c.session.clock = "max"
    panel = _shell.mentor_panel(c.session, c.L)  # the Mentor tab, opened once to call
    banner = c.shell.banner.widget
    panel.call_button.click()
    await until(lambda: panel.link is not None and panel.link.connected)
    c.tabs.selected_index = 0  # back to the injection tab
    mentor = HubClient(url, panel.room["tokens"]["mentor"], "Dr Weber")
    await mentor.connect()
    try:
        await mentor.send({"type": "request_control"})
        await until(lambda: panel.grant_button.layout.display != "none")
        assert banner.layout.display != "none" and panel.request_row in banner.children
        assert "Dr Weber" in panel.control.value
        panel.grant_button.click()  # the button in the banner is this same widget
        await until(lambda: c.session.controller == "Dr Weber")
        assert c.shell.scan.disabled and "Control: Dr Weber" in c.shell.controller.value
        assert all(w.disabled for w in c.params.fields.values())
        await mentor.send({"type": "command", "id": 1, "command": {"type": "scan"}})
        await until(lambda: panel.confirm_box.layout.display != "none")
        assert panel.confirm_box in banner.children and banner.layout.display != "none"
        panel.decline_button.click()
        await until(lambda: panel.confirm_box.layout.display == "none")
        panel.take_back_button.click()
        await until(lambda: c.session.controller in ("trainee", None, ""))
        assert not c.params.fields["activity_mbq"].disabled
    finally:
        await mentor.close()
        await panel.hang_up()
        await runner.cleanup()
