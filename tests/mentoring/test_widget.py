"""The trainee's MentorPanel against a real hub: call, invitations, grant, confirm, take back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from mentoring_fakes import SECRET, FakeConsole

from simulator.mentoring.client import HubClient
from simulator.mentoring.widget import MentorPanel


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def shown(widget) -> bool:  # noqa: ANN001
    return widget.layout.display != "none"


def test_panel_without_hub_says_so(monkeypatch) -> None:
    monkeypatch.delenv("MERM_HUB_URL", raising=False)
    panel = MentorPanel(FakeConsole(), None, lang="fr")
    assert panel.call_button.disabled and "indisponible" in panel.status.value
    assert "merm-call-mentor" in panel.call_button._dom_classes
    panel.set_lang("en")
    assert panel.call_button.description == "Call a mentor"


async def test_panel_drives_a_pet_session(hub) -> None:
    console = FakeConsole("pet")
    panel = MentorPanel(console, hub.url, lang="en", name="Alice", secret=SECRET)
    panel.call_button.click()
    await until(lambda: panel.link is not None and panel.link.connected)
    assert "merm-link-mentor" in panel.links.value and "expires" in panel.links.value
    assert panel.call_button.disabled
    mentor_token = panel.room["tokens"]["mentor"]
    assert panel.room["links"]["mentor"].endswith(mentor_token)
    mentor = HubClient(hub.url, mentor_token, "Dr Martin")
    await mentor.connect()
    try:
        await mentor.send({"type": "request_control"})
        await until(lambda: shown(panel.grant_button))
        assert "Dr Martin asks for control" in panel.control.value
        panel.grant_button.click()
        await mentor.wait_for("control", lambda m: m["holder"] == mentor.peer_id)
        await until(lambda: shown(panel.take_back_button))
        assert console.controller == "Dr Martin"

        await mentor.send({"type": "command", "id": 1, "command": {"type": "scan"}})
        await until(lambda: shown(panel.confirm_box))
        assert "Dr Martin" in panel.confirm_text.value and console.series == []
        panel.confirm_button.click()
        await mentor.wait_for("result", lambda m: m["id"] == 1 and m["ok"])
        assert len(console.series) == 1 and console.series[0]["by"] == "Dr Martin"
        await until(lambda: not shown(panel.confirm_box))

        assert not shown(panel.annotated)
        await mentor.send(
            {"type": "annotate", "shape": "circle", "x0": 0.5, "y0": 0.5, "x1": 0.7, "y1": 0.5}
        )
        await until(lambda: shown(panel.annotated))
        assert panel.annotated.value[:4] == b"\x89PNG"

        panel.chat_input.value = "thanks!"
        panel.chat_button.click()
        await mentor.wait_for("chat", lambda m: m["text"] == "thanks!" and m["name"] == "Alice")
        await until(lambda: "thanks!" in panel.chat_log.value)

        panel.take_back_button.click()
        await mentor.wait_for("control", lambda m: m["holder"] is None)
        await until(lambda: console.controller == "trainee" or console.controller is None)
        await until(lambda: panel.link.rtt_ms is not None)
        assert "ms" in panel.latency.value

        panel.camera_toggle.value = True
        assert "allow='camera; microphone" in panel.camera.value
    finally:
        await mentor.close()
        panel.hang_up_button.click()
        await until(lambda: panel.link is None)
    assert not panel.call_button.disabled


async def test_calling_a_mentor_counts_for_the_exercise_that_asks_for_it(hub, tmp_path) -> None:
    """The console's "Call a mentor" opens a real room and the exercise panel records
    ``mentor_called`` in the progress store: the remote-coaching exercise grades it."""
    from simulator.console.session import ConsoleSession
    from simulator.exercises import EVENT_MENTOR_CALLED, ProgressStore, load_exercise
    from simulator.exercises.panel import ExercisePanel
    from simulator.paths import course_dir

    exercise = load_exercise(course_dir() / "exercises" / "mr_remote_coaching.yaml")
    session = ConsoleSession("mr", lang="en")
    store = ProgressStore(f"sqlite:///{tmp_path / 'progress.db'}")
    exercise_panel = ExercisePanel(session, exercise, store, "alice", "en")
    objective = next(o for o in exercise.objectives if o.metric == "mentor_called")
    assert not store.has_event("alice", EVENT_MENTOR_CALLED, exercise_id=exercise.id)

    panel = MentorPanel(session, hub.url, lang="en", name="alice", secret=SECRET)
    panel.call_button.click()
    await until(lambda: panel.link is not None and panel.link.connected)
    try:
        await until(lambda: store.has_event("alice", EVENT_MENTOR_CALLED, exercise_id=exercise.id))
        assert exercise_panel.live.get(objective.id) is True
    finally:
        await panel.hang_up()


async def test_panel_opens_its_room_with_the_account_key_from_the_environment(
    hub, monkeypatch, tmp_path
) -> None:
    """On a shared JupyterHub each server gets ``$MERM_HUB_USER_KEY`` and no hub secret: the
    panel opens the room with it, and the audit log names that account."""
    from simulator.mentoring.tokens import user_key

    monkeypatch.setenv("MERM_HOME", str(tmp_path))  # no hub-secret file to fall back on
    monkeypatch.delenv("MERM_HUB_SECRET", raising=False)
    monkeypatch.setenv("MERM_HUB_USER_KEY", user_key(SECRET, "alice"))
    panel = MentorPanel(FakeConsole(), hub.url, lang="en", name="Alice Martin")
    panel.call_button.click()
    await until(lambda: panel.link is not None and panel.link.connected)
    try:
        create = hub.hub.audit.events(panel.room["room"])[0]
        assert (create.action, create.actor) == ("create", "alice")
    finally:
        await panel.hang_up()
    # a key made with another secret: the panel says the hub refused, the console goes on
    monkeypatch.setenv("MERM_HUB_USER_KEY", user_key(b"not-this-hub-secret!", "alice"))
    other = MentorPanel(FakeConsole(), hub.url, lang="en", name="Alice Martin")
    other.call_button.click()
    await until(lambda: other.error is not None)
    assert other.link is None and not other.call_button.disabled
    assert "refused" in other.status.value or "unauthorised" in other.status.value


async def test_a_wrong_prefix_404_is_one_line_and_the_button_comes_back(tmp_path) -> None:
    """A real hub under /services/merm-hub/ asked at the site root answers 404 (not JSON):
    the panel says so in one line and lets the trainee try again."""
    from simulator.mentoring.server import HubConfig
    from tests.conftest import free_port
    from tests.mentoring.conftest import start_hub

    port = free_port()
    site = f"http://127.0.0.1:{port}"
    runner, _ = await start_hub(
        HubConfig(secret=SECRET, public_url=site, prefix="/services/merm-hub/"), port
    )
    try:
        for lang, words in (("en", "not a MERM Lab hub"), ("fr", "pas de hub MERM Lab")):
            panel = MentorPanel(FakeConsole(), site, lang=lang, name="Alice", secret=SECRET)
            panel.call_button.click()
            await until(lambda p=panel: p.error is not None)
            assert panel.link is None and panel.room is None
            assert not panel.call_button.disabled, "the button is enabled again"
            assert "404" in panel.status.value and words in panel.status.value
            assert "\n" not in panel.error and "Traceback" not in panel.error
        # the right URL (with the prefix) opens the room
        panel = MentorPanel(
            FakeConsole(), site + "/services/merm-hub/", lang="en", name="Alice", secret=SECRET
        )
        panel.call_button.click()
        await until(lambda: panel.link is not None and panel.link.connected)
        await panel.hang_up()
    finally:
        await runner.cleanup()


async def test_an_unreachable_or_silent_hub_is_one_line_too(monkeypatch) -> None:
    import socket

    from simulator.mentoring import client
    from tests.conftest import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    panel = MentorPanel(FakeConsole(), closed, lang="fr", name="Alice", secret=SECRET)
    panel.call_button.click()
    await until(lambda: panel.error is not None)
    assert "aucun hub de mentorat ne répond" in panel.status.value
    assert not panel.call_button.disabled
    # a host that accepts the connection and never answers: a timeout, not a spinner
    monkeypatch.setattr(client, "CREATE_TIMEOUT_S", 0.5)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        panel = MentorPanel(FakeConsole(), url, lang="en", name="Alice", secret=SECRET)
        panel.call_button.click()
        await until(lambda: panel.error is not None, timeout=10.0)
    assert "did not answer within 0.5 s" in panel.status.value
    assert not panel.call_button.disabled


def test_building_the_panel_loads_neither_aiortc_nor_av() -> None:
    """A console with its "Call a mentor" panel costs no WebRTC memory until a call starts."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from simulator.console.session import ConsoleSession\n"
        "from simulator.mentoring.widget import MentorPanel\n"
        "panel = MentorPanel(ConsoleSession('mr', lang='en'), 'http://127.0.0.1:9', lang='en')\n"
        "assert not panel.call_button.disabled\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aiortc', 'av')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout


async def test_the_panel_says_reconnecting_and_the_link_rejoins_a_restarted_hub(tmp_path) -> None:
    from simulator.mentoring.server import HubConfig
    from tests.conftest import free_port
    from tests.mentoring.conftest import start_hub

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = HubConfig(
        secret=SECRET,
        public_url=url,
        audit_path=tmp_path / "audit.jsonl",
        store_url=f"sqlite:///{tmp_path / 'rooms.sqlite'}",
    )
    runner, _ = await start_hub(config, port)
    console = FakeConsole()
    panel = MentorPanel(console, url, lang="fr", name="Alice", secret=SECRET)
    panel.call_button.click()
    await until(lambda: panel.link is not None and panel.link.connected)
    link = panel.link
    try:
        await runner.cleanup()
        await until(lambda: link.reconnecting)
        assert "reconnexion…" in panel.status.value
        panel.set_lang("de")
        assert "Verbindung wird wiederhergestellt…" in panel.status.value
        console.params["tr_ms"] = 900.0  # changed while the hub was away
        runner, _ = await start_hub(config, port)
        await until(lambda: link.connected and not link.reconnecting, timeout=15.0)
        assert panel.status.value == "Verbunden" and link.reconnects == 1
        async with HubClient(url, panel.room["tokens"]["mentor"], "Dr M") as mentor:
            state = mentor.welcome["snapshot"]
            assert state["protocol"]["tr_ms"] == 900.0, "the kernel sent its state again"
    finally:
        await panel.hang_up()
        await runner.cleanup()


async def test_a_room_that_did_not_survive_ends_the_retries_in_one_line(tmp_path) -> None:
    from simulator.mentoring.server import HubConfig
    from tests.conftest import free_port
    from tests.mentoring.conftest import start_hub

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = HubConfig(secret=SECRET, public_url=url)  # no store: rooms die with the hub
    runner, _ = await start_hub(config, port)
    panel = MentorPanel(FakeConsole(), url, lang="en", name="Alice", secret=SECRET)
    panel.call_button.click()
    await until(lambda: panel.link is not None and panel.link.connected)
    link = panel.link
    await runner.cleanup()
    runner, _ = await start_hub(config, port)
    try:
        await until(lambda: link.gave_up is not None, timeout=15.0)
        assert not link.reconnecting and "Connection lost" in panel.status.value
        assert "404" in panel.status.value
    finally:
        await panel.hang_up()
        await runner.cleanup()
