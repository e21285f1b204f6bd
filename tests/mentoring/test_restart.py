"""``kill -9`` of the hub in the middle of a session, then a restart.

A real hub process (``merm-lab hub``), the project's real trainee peer (``TraineeLink``,
aiortc, publishing a console) and a real mentor peer (the hub's mentor page in headless
Chromium, holding control). The hub is killed with SIGKILL, started again on the same
files; both peers come back on their own, the console state is there, control is the
trainee's (and the audit says so), the audit chain verifies, and every event acknowledged
before the kill (the hub echoes a chat line only after its audit line is written) is on disk.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable

import pytest
from mentoring_fakes import SECRET, FakeConsole

from simulator.mentoring.client import create_room
from simulator.mentoring.trainee import TraineeLink
from tests.conftest import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The hub's process, with ICE on the loopback only as in conftest (this machine's other
# interfaces may not route); everything else is the real ``merm-lab hub``.
_HUB = (
    "import sys, aioice.ice\n"
    "aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ['127.0.0.1']\n"
    "from simulator.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
HANG_GUARD_S = 30.0  # generous: only stops a hung test


def _start_hub(home, port: int) -> subprocess.Popen:  # noqa: ANN001
    (home / "secret").write_text(SECRET.decode())
    proc = subprocess.Popen(
        [sys.executable, "-c", _HUB, "hub", "--port", str(port), "--secret-file",
         str(home / "secret")],
        env={**os.environ, "MERM_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    _until(lambda: _answers(port) or proc.poll() is not None)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    return proc


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as resp:
            return json.load(resp)["service"] == "merm-lab hub"
    except OSError:
        return False


def _until(cond: Callable[[], object], timeout: float = HANG_GUARD_S) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached (hang guard)"
        time.sleep(0.05)


def test_kill_9_and_restart_mid_session(browser, tmp_path, artifacts_dir) -> None:  # noqa: ANN001
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    hub = _start_hub(tmp_path, port)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro, timeout: float = HANG_GUARD_S):  # noqa: ANN001, ANN202
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    console = FakeConsole()
    room = run(create_room(url, SECRET, "MR — Alice", "mr", name="Alice"))
    link = TraineeLink(console, url, room["tokens"]["trainee"], name="Alice", size=(320, 240))
    run(link.start())
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(room["links"]["mentor"].replace("/mentor#", "/mentor?name=DrWeb&lang=en&av=0#"))
        _until(lambda: page.evaluate("window.merm.stats().then(s => s.console)") > 0)
        page.wait_for_selector(".merm-param-tr_ms:has-text('500')")
        page.click(".merm-request")
        _until(lambda: link.control["pending"])
        run(link.grant(link.control["pending"][0]["peer"]))
        page.wait_for_selector(".merm-control.ctl-you")
        page.select_option(".merm-param-name", "tr_ms")
        page.fill(".merm-param-value", "750")
        page.click(".merm-set")
        page.wait_for_selector(".merm-param-tr_ms:has-text('750')")
        acked = []
        for i in range(5):  # each echoed by the hub after its audit line is written
            text = f"before the crash {i}"
            run(link.say(text))
            _until(lambda t=text: any(c["text"] == t for c in link.chat))
            acked.append(text)
        time.sleep(1.0)  # the room store writes state and chat within half a second

        hub.send_signal(signal.SIGKILL)
        hub.wait(HANG_GUARD_S)
        page.wait_for_selector(".status:has-text('reconnecting…')")
        _until(lambda: link.reconnecting)
        hub = _start_hub(tmp_path, port)

        _until(lambda: link.connected and not link.reconnecting)
        assert link.reconnects == 1 and link.gave_up is None
        _until(lambda: page.evaluate("window.merm.clients[0].reconnects") >= 1)
        _until(lambda: page.evaluate("window.merm.stats().then(s => s.console)") > 0)
        page.wait_for_selector(".status:has-text('live')")
        page.wait_for_selector(".merm-param-tr_ms:has-text('750')")  # console state restored
        assert link.control["holder"] is None, "control is the trainee's again"
        assert page.inner_text(".merm-control") == "Control: trainee"
        chat = page.inner_text(".chat")
        assert all(text in chat for text in acked), chat
        page.screenshot(path=str(artifacts_dir / "mentor_after_restart.png"))

        # the audit: the chain verifies, nothing acknowledged is lost, the restart is said
        audit = tmp_path / "audit" / "mentoring-audit.jsonl"
        out = subprocess.run(
            [sys.executable, "-m", "simulator", "hub", "--verify-audit", str(audit)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        events = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        chats = [e["detail"]["text"] for e in events if e["action"] == "chat"]
        assert chats[: len(acked)] == acked
        restore = [e for e in events if e["action"] == "restore"]
        assert [(r["room"], r["detail"]["previous_holder"]) for r in restore] == [
            (room["room"], "DrWeb")
        ]
        later = events[events.index(restore[0]) :]
        assert {("Alice", "join"), ("DrWeb", "join")} <= {(e["actor"], e["action"]) for e in later}
    finally:
        context.close()
        run(link.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        if hub.poll() is None:
            hub.send_signal(signal.SIGINT)
            hub.wait(HANG_GUARD_S)
