"""Real aiortc peers on loopback: a trainee kernel with a fake console and a mentor."""

from __future__ import annotations

import asyncio

import av
from mentoring_fakes import SECRET, FakeConsole, grant_control, marker_level, marker_of

from simulator.mentoring.client import HubClient, create_room
from simulator.mentoring.trainee import TraineeLink

SIZE = (320, 240)
MARKER_TOL = 12  # grey levels: VP8 quantisation of a flat square at default bitrate


async def open_room(hub, modality: str = "mr", label: str = "MR 1") -> dict:
    return await create_room(hub.url, SECRET, label, modality)


async def start_trainee(hub, room: dict, console: FakeConsole) -> TraineeLink:
    link = TraineeLink(console, hub.url, room["tokens"]["trainee"], name="Alice", size=SIZE)
    await link.start()
    return link


async def start_mentor(hub, room: dict, name: str = "Dr Martin", video: bool = True) -> HubClient:
    mentor = HubClient(hub.url, room["tokens"]["mentor"], name)
    await mentor.connect()
    await mentor.start_media(receive_video=video)
    return mentor


async def pet_console_under_mentor_control(hub) -> tuple[FakeConsole, TraineeLink, HubClient]:
    """A PET room: the trainee's console, and a mentor (no video) holding control."""
    room = await open_room(hub, modality="pet", label="PET 1")
    console = FakeConsole("pet")
    link = await start_trainee(hub, room, console)
    mentor = await start_mentor(hub, room, video=False)
    try:
        await grant_control(link, mentor)
    except BaseException:
        await mentor.close()
        await link.close()
        raise
    return console, link, mentor


async def frame_with_marker(client: HubClient, level: int, timeout: float = 5.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        frame = await client.next_frame(max(0.05, deadline - loop.time()))
        if abs(marker_of(frame) - level) < MARKER_TOL:
            return frame


async def test_frames_and_state_follow_a_scan(hub) -> None:
    room = await open_room(hub)
    console = FakeConsole()
    link = await start_trainee(hub, room, console)
    mentor = await start_mentor(hub, room)
    try:
        frame = await frame_with_marker(mentor, marker_level(0))
        assert (frame.width, frame.height) == SIZE
        console.apply_command({"type": "scan"}, actor="Alice", role="trainee")
        state = await mentor.wait_for("state", lambda m: len(m["snapshot"]["series"]) == 1)
        assert state["snapshot"]["series"][0]["by"] == "Alice"
        await frame_with_marker(mentor, marker_level(1))
    finally:
        await mentor.close()
        await link.close()


async def test_commands_need_control_and_take_back_wins(hub) -> None:
    room = await open_room(hub)
    console = FakeConsole()
    link = await start_trainee(hub, room, console)
    mentor = await start_mentor(hub, room, video=False)
    try:
        cmd = {
            "type": "command",
            "id": 1,
            "command": {"type": "set_param", "name": "tr_ms", "value": 800},
        }
        await mentor.send(cmd)
        err = await mentor.wait_for("error", lambda m: m["code"] == "no_control")
        assert err["ref"] == "command"
        assert console.params["tr_ms"] == 500.0 and console.log == []

        await grant_control(link, mentor)
        start = len(mentor.received)
        await mentor.send_console(cmd)
        result = await mentor.wait_for("result", lambda m: m["id"] == 1, start=start)
        assert result["ok"] and (result["before"], result["after"]) == (500.0, 800.0)
        assert console.params["tr_ms"] == 800.0
        assert console.log[-1][:2] == ("Dr Martin", "mentor")
        await mentor.wait_for("state", lambda m: m["snapshot"]["protocol"]["tr_ms"] == 800.0)

        # the console refuses out-of-range values; the refusal reaches the mentor
        await mentor.send_console({**cmd, "id": 2, "command": {**cmd["command"], "value": 1}})
        bad = await mentor.wait_for("result", lambda m: m["id"] == 2)
        assert not bad["ok"] and "allowed" in bad["message"]

        await link.take_back()
        await mentor.wait_for("control", lambda m: m["holder"] is None, start=start)
        await mentor.send_console({**cmd, "id": 3, "command": {**cmd["command"], "value": 900}})
        await mentor.wait_for("error", lambda m: m["code"] == "no_control", start=start)
        assert console.params["tr_ms"] == 800.0
        assert console.controller is None
    finally:
        await mentor.close()
        await link.close()


async def test_one_controller_at_a_time(hub) -> None:
    room = await open_room(hub)
    link = await start_trainee(hub, room, FakeConsole())
    a = await start_mentor(hub, room, "A", video=False)
    b = await start_mentor(hub, room, "B", video=False)
    try:
        await grant_control(link, a)
        await b.send({"type": "request_control"})
        assert (await b.wait_for("error"))["code"] == "busy"
        await b.send({"type": "release_control"})
        assert (await b.wait_for("error", lambda m: m["ref"] == "release_control"))[
            "code"
        ] == "not_holder"
        await a.send({"type": "release_control"})
        await b.wait_for("control", lambda m: m["holder"] is None)
        await grant_control(link, b)
    finally:
        for c in (a, b):
            await c.close()
        await link.close()


async def test_remote_pet_scan_waits_for_trainee_confirmation(hub) -> None:
    console, link, mentor = await pet_console_under_mentor_control(hub)
    try:
        await mentor.send_console({"type": "command", "id": 7, "command": {"type": "scan"}})
        await mentor.wait_for("pending", lambda m: m["id"] == 7)
        request = await link.client.wait_for("confirm_request")
        await asyncio.sleep(0.2)
        assert console.series == [], "no acquisition before the trainee confirms"
        assert request["id"] in link.pending_confirms
        await link.confirm(request["id"], accept=True)
        result = await mentor.wait_for("result", lambda m: m["id"] == 7)
        assert result["ok"] and len(console.series) == 1

        await mentor.send_console({"type": "command", "id": 8, "command": {"type": "scan"}})
        request = await link.client.wait_for("confirm_request", lambda m: m["id"] != request["id"])
        await link.confirm(request["id"], accept=False)
        declined = await mentor.wait_for("result", lambda m: m["id"] == 8)
        assert not declined["ok"] and len(console.series) == 1
    finally:
        await mentor.close()
        await link.close()


async def test_dropped_peers_rejoin_and_find_the_state(hub) -> None:
    room = await open_room(hub)
    console = FakeConsole()
    link = await start_trainee(hub, room, console)
    mentor = await start_mentor(hub, room)
    try:
        await mentor.send(
            {"type": "annotate", "shape": "circle", "x0": 0.5, "y0": 0.5, "x1": 0.6, "y1": 0.5}
        )
        await mentor.send({"type": "chat", "text": "look at the lesion"})
        console.apply_command({"type": "scan"}, actor="Alice", role="trainee")
        await mentor.wait_for("state", lambda m: len(m["snapshot"]["series"]) == 1)
        await mentor.close()

        mentor = await start_mentor(hub, room)
        assert len(mentor.welcome["snapshot"]["series"]) == 1
        assert mentor.welcome["annotations"][0]["shape"] == "circle"
        assert mentor.welcome["chat"][0]["text"] == "look at the lesion"
        await frame_with_marker(mentor, marker_level(1))

        # the trainee's kernel drops (kernel restart) and comes back: video resumes
        await link.close()
        console.apply_command({"type": "scan"}, actor="Alice", role="trainee")
        link = await start_trainee(hub, room, console)
        await frame_with_marker(mentor, marker_level(2), timeout=8.0)
        await mentor.wait_for("state", lambda m: len(m["snapshot"]["series"]) == 2)
    finally:
        await mentor.close()
        await link.close()


async def test_recording_needs_both_consents(hub) -> None:
    room = await open_room(hub)
    link = await start_trainee(hub, room, FakeConsole())
    mentor = await start_mentor(hub, room, video=False)
    try:
        await link.consent(True)
        await asyncio.sleep(0.2)
        assert not any(
            e["event"]["action"] == "recording_start"
            for e in link.client.received
            if e["type"] == "audit"
        )
        await mentor.send({"type": "consent", "recording": True})
        await link.client.wait_for("audit", lambda e: e["event"]["action"] == "recording_start")
        await asyncio.sleep(1.0)
        await mentor.send({"type": "consent", "recording": False})
        await link.client.wait_for("audit", lambda e: e["event"]["action"] == "recording_stop")
    finally:
        await mentor.close()
        await link.close()
    files = list(hub.config.recordings_dir.glob(f"room-{room['room']}-*.webm"))
    assert len(files) == 1
    with av.open(str(files[0])) as container:
        frames = [f for f in container.decode(video=0)]
    assert len(frames) >= 3 and (frames[0].width, frames[0].height) == SIZE


async def test_mentor_watches_several_consoles_and_drives_one(hub) -> None:
    rooms = [await open_room(hub, label=f"MR {i}") for i in (1, 2)]
    consoles = [FakeConsole(), FakeConsole()]
    links = [await start_trainee(hub, r, c) for r, c in zip(rooms, consoles, strict=True)]
    tiles = [await start_mentor(hub, r, "Dr Grid") for r in rooms]
    try:
        consoles[1].apply_command({"type": "scan"}, actor="Bob", role="trainee")
        await frame_with_marker(tiles[0], marker_level(0))
        await frame_with_marker(tiles[1], marker_level(1))
        await grant_control(links[0], tiles[0])
        await tiles[1].send({"type": "request_control"})
        err = await tiles[1].wait_for("error", lambda e: e["ref"] == "request_control")
        assert err["code"] == "busy_elsewhere"
        await tiles[0].send({"type": "release_control"})
        await tiles[0].wait_for("control", lambda m: m["holder"] is None)
        await grant_control(links[1], tiles[1])
    finally:
        for c in (*tiles, *links):
            await c.close()


async def test_waiting_command_fails_when_the_console_leaves(hub) -> None:
    console, link, mentor = await pet_console_under_mentor_control(hub)
    try:
        await mentor.send_console({"type": "command", "id": 9, "command": {"type": "scan"}})
        await link.client.wait_for("confirm_request")
        await link.close()
        result = await mentor.wait_for("result", lambda m: m["id"] == 9)
        assert not result["ok"] and "disconnected" in result["message"]
        assert console.series == []
    finally:
        await mentor.close()
