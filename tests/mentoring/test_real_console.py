"""A real MR console (ConsoleSession, real physics) coached over real aiortc peers on loopback.

The other mentoring tests use a fake console to pin the protocol down; this one checks that
the trainee's actual console is what the mentor sees and drives.
"""

from __future__ import annotations

import asyncio

import numpy as np
from mentoring_fakes import SECRET, grant_control

from simulator.console.session import ConsoleSession
from simulator.mentoring.client import HubClient, create_room
from simulator.mentoring.trainee import TraineeLink

SIZE = (320, 240)


async def _frame_unlike(mentor: HubClient, reference: np.ndarray, timeout: float = 20.0) -> np.ndarray:
    """The first decoded frame that differs clearly from ``reference`` (grey levels)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        frame = await mentor.next_frame(max(0.05, deadline - loop.time()))
        grey = frame.to_ndarray(format="gray").astype(np.float32)
        if np.abs(grey - reference).mean() > 3.0:
            return grey


async def test_mentor_sees_and_drives_the_real_mr_console(hub) -> None:
    session = ConsoleSession("mr", lang="en", anatomy="brain", clock="max")
    session.set_screening("ok")
    room = await create_room(hub.url, SECRET, "MR 1", "mr")
    link = TraineeLink(session, hub.url, room["tokens"]["trainee"], name="Alice", size=SIZE)
    await link.start()
    mentor = HubClient(hub.url, room["tokens"]["mentor"], "Dr Dupont")
    await mentor.connect()
    await mentor.start_media(receive_video=True)
    try:
        first = await mentor.next_frame(10.0)
        assert (first.width, first.height) == SIZE
        before = first.to_ndarray(format="gray").astype(np.float32)
        welcome = mentor.welcome
        assert welcome["snapshot"]["modality"] == "mr" and welcome["snapshot"]["anatomy"] == "brain"
        te0 = welcome["snapshot"]["protocol"]["te_ms"]
        assert te0 == session.protocol.te_ms

        # without control the hub refuses, and the console is untouched
        await mentor.send({"type": "command", "id": 1,
                           "command": {"type": "set_param", "name": "te_ms", "value": te0 + 5}})
        refused = await mentor.wait_for("error", lambda m: True)
        assert refused["type"] == "error" and session.protocol.te_ms == te0

        # control granted by the trainee: the mentor's change lands, attributed to the mentor
        await grant_control(link, mentor)
        await mentor.send({"type": "command", "id": 2,
                           "command": {"type": "set_param", "name": "te_ms", "value": te0 + 5}})
        done = await mentor.wait_for("result", lambda m: m["id"] == 2)
        assert done["ok"] and session.protocol.te_ms == te0 + 5
        assert "Dupont" in session.message

        # a bad value is refused with the allowed range; the session goes on
        await mentor.send({"type": "command", "id": 3,
                           "command": {"type": "set_param", "name": "te_ms", "value": -4}})
        bad = await mentor.wait_for("result", lambda m: m["id"] == 3)
        assert not bad["ok"] and "te_ms" in bad["message"]
        assert session.protocol.te_ms == te0 + 5

        # the mentor's Scan acquires a real series: state and video follow
        await mentor.send({"type": "command", "id": 4, "command": {"type": "scan"}})
        assert (await mentor.wait_for("result", lambda m: m["id"] == 4))["ok"]
        await mentor.wait_for("state", lambda m: len(m["snapshot"]["series"]) == 1, timeout=30)
        assert len(session.series) == 1 and session.series[0].images.ndim == 3
        await _frame_unlike(mentor, before)
    finally:
        await mentor.close()
        await link.close()
        session.stop_scan()
