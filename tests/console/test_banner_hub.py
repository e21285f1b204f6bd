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


async def _start_hub(tmp_path, monkeypatch: pytest.MonkeyPatch) -> tuple[web.AppRunner, str]:
    """A real hub on a free loopback port, and the console's environment pointing at it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = HubConfig(secret=SECRET, public_url=url, audit_path=tmp_path / "audit.jsonl",
                       recordings_dir=tmp_path / "rec", max_peers=6)
    runner = web.AppRunner(make_app(config))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    monkeypatch.setenv("MERM_HUB_URL", url)
    monkeypatch.setenv("MERM_HUB_SECRET", SECRET.decode())
    return runner, url


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


async def test_mentor_requests_show_in_the_banner_from_another_tab(tmp_path, monkeypatch) -> None:
    runner, url = await _start_hub(tmp_path, monkeypatch)
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


async def test_an_incoming_call_rings_in_the_banner_with_accept_and_decline(
    tmp_path, monkeypatch
) -> None:
    """A mentor who joins with camera and microphone (``av_ready``) is a call: the banner
    says who calls, in the console's language, while another tab is open. Decline tells
    that mentor (``av_hangup`` from the trainee's kernel); Accept opens the trainee's camera
    and microphone (the call page, with the room's trainee token)."""
    runner, url = await _start_hub(tmp_path, monkeypatch)
    from simulator.console import _shell
    from simulator.console.mr_console import MRConsole

    c = MRConsole(lang="fr")
    panel = _shell.mentor_panel(c.session, c.L)
    banner = c.shell.banner.widget
    panel.call_button.click()
    await until(lambda: panel.link is not None and panel.link.connected)
    c.tabs.selected_index = 0  # the Patient tab
    assert panel.call_box in banner.children and panel.call_box.layout.display == "none"
    assert banner.layout.display == "none"  # connected, nothing to answer: no banner
    observer = HubClient(url, panel.room["tokens"]["observer"], "Eve")
    weber = HubClient(url, panel.room["tokens"]["mentor"], "Dr Weber", client="browser")
    roth = HubClient(url, panel.room["tokens"]["instructor"], "Pr Roth", client="browser")
    try:
        await observer.connect()
        await observer.send({"type": "av_ready", "on": True})  # an observer does not call
        await weber.connect()  # joined, no camera yet: not a call
        await until(lambda: len(panel.link.peers) >= 3)
        assert panel.call_box.layout.display == "none"
        await weber.send({"type": "av_ready", "on": True})
        await until(lambda: panel.call_box.layout.display != "none")
        assert banner.layout.display != "none"
        assert "Dr Weber (mentor) vous appelle" in panel.call_text.value
        assert "Eve" not in panel.call_text.value
        assert panel.accept_call_button.description == "Accepter l'appel"
        c.session.set_lang("de")
        assert "Dr Weber (Mentor) ruft Sie an" in panel.call_text.value
        assert panel.decline_call_button.description == "Ablehnen"

        panel.decline_call_button.click()
        hangup = await weber.wait_for("av_hangup", timeout=10.0)
        assert hangup["from"] == panel.link.client.peer_id and hangup["name"]
        await until(lambda: panel.call_box.layout.display == "none")
        assert not panel.camera_toggle.value and panel.camera.value == ""

        await roth.connect()
        await roth.send({"type": "av_ready", "on": True})
        await until(lambda: panel.call_box.layout.display != "none")
        assert "Pr Roth (Ausbilder/in)" in panel.call_text.value
        assert "Dr Weber" not in panel.call_text.value  # declined, does not ring again
        panel.accept_call_button.click()
        assert panel.camera_toggle.value
        assert panel.call_box.layout.display == "none"
        assert "merm-call-frame" in panel.camera.value
        assert panel.room["links"]["trainee_call"].split("#")[1] in panel.camera.value
        assert not any(m.get("type") == "av_hangup" for m in roth.received)
    finally:
        for client in (observer, weber, roth):
            await client.close()
        await panel.hang_up()
        await runner.cleanup()
