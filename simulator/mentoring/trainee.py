"""The trainee's kernel as a peer of the hub: console video, state, commands.

Runs on the kernel's asyncio loop (ipykernel and Voilà run one): start it with
``asyncio.ensure_future(link.start())``; nothing here blocks the loop for long.
"""

from __future__ import annotations

import asyncio
import fractions
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from aiortc import VideoStreamTrack
from av import VideoFrame

from ._draw import draw_overlay
from .client import HubClient, HubUnavailable
from .console_link import ConsoleLike
from .media import VIDEO_CLOCK_HZ

__all__ = ["ConsoleTrack", "TraineeLink"]

log = logging.getLogger("merm.mentoring")

_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_HZ)
_MIN_INTERVAL_S = 1 / 30  # never more than 30 fps, even when the console changes fast


class ConsoleTrack(VideoStreamTrack):
    """Frames rendered from ``session.render_frame`` at ``fps``, plus annotations.

    A change of the console (:meth:`poke`) sends a frame at once instead of waiting
    for the next tick. Frames leave as yuv420p (``rgb24`` → ``yuv420p`` here, once).
    """

    def __init__(
        self,
        session: ConsoleLike,
        fps: float = 10.0,
        size: tuple[int, int] = (640, 480),
        annotations: Callable[[], list[dict[str, Any]]] = list,
    ) -> None:
        super().__init__()
        if size[0] % 2 or size[1] % 2:
            raise ValueError("frame width and height must be even (yuv420p)")
        self.session, self.interval_s, self.size = session, 1.0 / fps, size
        self.annotations = annotations
        self._poke = asyncio.Event()
        self._t0: float | None = None
        self._last = 0.0
        self._burst = 0

    def poke(self) -> None:
        """Render the next frame now (the console changed), and two more right after.

        aiortc's receiver hands a frame on only when the next one starts arriving, so
        each hop (trainee → hub → mentor) holds a frame for one frame interval; quick
        follow-up frames push the changed one through at once instead of 2 × 100 ms.
        """
        self._poke.set()
        self._burst = 2

    async def recv(self) -> VideoFrame:
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        else:
            interval = (
                _MIN_INTERVAL_S if self._burst > 0 and not self._poke.is_set() else self.interval_s
            )
            if self._burst > 0 and not self._poke.is_set():
                self._burst -= 1
            wait = self._last + interval - now
            if wait > 0:
                try:
                    await asyncio.wait_for(self._poke.wait(), wait)
                except TimeoutError:
                    pass
            gap = self._last + _MIN_INTERVAL_S - time.monotonic()
            if gap > 0:
                await asyncio.sleep(gap)
        self._poke.clear()
        self._last = time.monotonic()
        rgb = self.session.render_frame(*self.size)
        rgb = draw_overlay(np.asarray(rgb, dtype=np.uint8), self.annotations())
        frame = VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        frame.pts = int((self._last - self._t0) * VIDEO_CLOCK_HZ)
        frame.time_base = _TIME_BASE
        return frame


class TraineeLink:
    """Publish ``session`` to a hub room and apply the commands the hub forwards.

    Parameters
    ----------
    session : ConsoleLike
        The trainee's console model.
    hub_url : str
        Base URL of the hub.
    token : str
        The room's trainee token.
    name : str
        Shown to the mentor and written in the audit log.

    Attributes
    ----------
    control : dict
        Last ``control`` message (``holder``, ``holder_name``, ``pending``).
    pending_confirms : dict
        Remote acquisitions waiting for :meth:`confirm`, by id.
    rtt_ms : float or None
        Last round trip kernel → hub → kernel.
    """

    def __init__(
        self,
        session: ConsoleLike,
        hub_url: str,
        token: str,
        name: str = "trainee",
        fps: float = 10.0,
        size: tuple[int, int] = (640, 480),
    ) -> None:
        self.session = session
        self.hub_url, self.token, self.name = hub_url, token, name
        self.fps, self.size = fps, size
        self.annotations: list[dict[str, Any]] = []
        self.control: dict[str, Any] = {"holder": None, "holder_name": None, "pending": []}
        self.pending_confirms: dict[int, dict[str, Any]] = {}
        self.peers: list[dict[str, Any]] = []
        self.chat: list[dict[str, Any]] = []
        self.rtt_ms: float | None = None
        self.connected = False
        self.reconnecting = False
        self.reconnects = 0
        self.gave_up: HubUnavailable | None = None  # why reconnecting stopped (room gone…)
        self.track = self._new_track()
        self.client = self._new_client()
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self._state_due = False
        self._ping_task: asyncio.Task[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        session.on_change(self._on_change)

    def _new_track(self) -> ConsoleTrack:
        return ConsoleTrack(self.session, self.fps, self.size, annotations=lambda: self.annotations)

    def _new_client(self) -> HubClient:
        client = HubClient(self.hub_url, self.token, self.name, client="kernel")

        async def on_message(msg: dict[str, Any]) -> None:
            if client is self.client:  # a closed connection's last words are not news
                await self._on_message(msg)

        client.on_message(on_message)
        return client

    def on_event(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Call ``listener(msg)`` on every hub message (the panel redraws from it)."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Join the room, publish video and the data channel, send the first snapshot."""
        self._loop = asyncio.get_running_loop()
        await self._join()
        self._ping_task = asyncio.ensure_future(self._ping_loop())

    async def _join(self) -> None:
        welcome = await self.client.connect()
        self.pending_confirms.clear()  # a restarted hub forgot them
        self._absorb(welcome)
        await self.client.start_media(video=self.track)
        self.connected = True
        await self.send_state()  # the console's state, also to a hub that restarted
        self._emit({"type": "_connected"})

    async def _reconnect(self, first_delay_s: float = 0.5, max_delay_s: float = 5.0) -> None:
        """The hub went away: try again with backoff (0.5, 1, 2, 4, 5, 5… s) until it
        answers, the room is gone or the token expired, or the trainee hangs up."""
        self.reconnecting = True
        self._emit({"type": "_reconnecting"})
        await self.client.close()
        delay = first_delay_s
        while not self._closing:
            await asyncio.sleep(delay)
            if self._closing:
                break
            self.track.stop()
            self.track, self.client = self._new_track(), self._new_client()
            try:
                await self._join()
                self.reconnects += 1
                break
            except HubUnavailable as exc:
                await self.client.close()
                if exc.status in (401, 404):  # token expired or room gone: nothing to rejoin
                    self.gave_up = exc
                    break
            except Exception:  # noqa: BLE001 - any failure of an attempt: try again later
                log.debug("reconnection attempt failed", exc_info=True)
                await self.client.close()
            delay = min(delay * 2, max_delay_s)
        self.reconnecting = False
        self._emit({"type": "_connected" if self.connected else "_closed"})

    async def close(self) -> None:
        self._closing = True
        self.connected = False
        for task in (self._ping_task, self._reconnect_task):
            if task is not None:
                task.cancel()
        self.track.stop()
        await self.client.close()
        self._emit({"type": "_closed"})

    # ----------------------------------------------------------------- outgoing
    async def send_state(self) -> None:
        self._state_due = False
        snapshot = json.loads(json.dumps(self.session.snapshot(), default=str))
        allowed = getattr(self.session, "scan_allowed", None)
        if callable(allowed):  # the console's own rule (screening), for the mentor's tile
            snapshot["scan_allowed"] = bool(allowed()[0])
        await self.client.send_console({"type": "state", "snapshot": snapshot})

    def _on_change(self, event: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None or not self.connected:
            return
        loop.call_soon_threadsafe(self._schedule_state)

    def _schedule_state(self) -> None:
        self.track.poke()
        if not self._state_due:
            self._state_due = True
            asyncio.ensure_future(self.send_state())

    async def grant(self, peer: str) -> None:
        await self.client.send({"type": "grant", "peer": peer})

    async def refuse(self, peer: str) -> None:
        await self.client.send({"type": "refuse", "peer": peer})

    async def take_back(self) -> None:
        await self.client.send({"type": "take_back"})

    async def confirm(self, id_: int, accept: bool) -> None:
        self.pending_confirms.pop(id_, None)
        await self.client.send({"type": "confirm", "id": id_, "accept": accept})

    async def decline_call(self, peer: str) -> None:
        """Tell a mentor calling with camera and microphone that the trainee declined
        (``av_hangup`` to that peer: its page stops ringing and says so)."""
        await self.client.send({"type": "av_hangup", "to": peer})

    async def say(self, text: str) -> None:
        await self.client.send({"type": "chat", "text": text})

    async def consent(self, recording: bool) -> None:
        await self.client.send({"type": "consent", "recording": recording})

    async def _ping_loop(self, every_s: float = 2.0) -> None:
        n = 0
        while True:
            n += 1
            if self.connected:
                try:
                    await self.client.send_console(
                        {"type": "ping", "id": n, "t": time.perf_counter()}
                    )
                except (ConnectionError, RuntimeError, AssertionError):
                    pass  # the hub went away: the reconnection takes over
            await asyncio.sleep(every_s)

    # ----------------------------------------------------------------- incoming
    def _absorb(self, msg: dict[str, Any]) -> None:
        if "control" in msg:
            self.control = msg["control"]
        if "annotations" in msg:
            self.annotations = list(msg["annotations"])
        if "peers" in msg:
            self.peers = msg["peers"]
        if "chat" in msg:
            self.chat = list(msg["chat"])

    def _reconnected(self, _task: asyncio.Task[None]) -> None:
        self._reconnect_task = None
        if not (self.connected or self._closing or self.gave_up):  # lost again meanwhile
            self._reconnect_task = asyncio.ensure_future(self._reconnect())
            self._reconnect_task.add_done_callback(self._reconnected)

    def _emit(self, msg: dict[str, Any]) -> None:
        for listener in self._listeners:
            listener(msg)

    async def _on_message(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "apply":
            result = self.session.apply_command(
                msg["command"], actor=msg["actor"], role=msg["role"]
            )
            result = json.loads(json.dumps(result, default=str))
            await self.client.send_console(
                {
                    "type": "result",
                    "id": msg["id"],
                    "ok": bool(result.get("ok")),
                    "message": str(result.get("message", ""))[:2000],
                    "before": result.get("before"),
                    "after": result.get("after"),
                }
            )
        elif kind == "ping":
            await self.client.send_console(
                {"type": "pong", "id": msg["id"], "t": msg["t"], "to": msg["from"]}
            )
        elif kind == "pong":
            self.rtt_ms = (time.perf_counter() - msg["t"]) * 1000.0
        elif kind == "control":
            self.control = {k: msg[k] for k in ("holder", "holder_name", "pending")}
            setter = getattr(self.session, "set_controller", None)
            if callable(setter):
                setter(msg["holder_name"])
            elif hasattr(self.session, "controller"):  # ConsoleSession shows it in snapshot()
                self.session.controller = msg["holder_name"] or "trainee"
        elif kind == "annotations":
            self.annotations = list(msg["items"])
            self.track.poke()
            show = getattr(self.session, "set_annotations", None)  # the console's main image
            if callable(show):
                show(self.annotations)
        elif kind == "confirm_request":
            self.pending_confirms[msg["id"]] = msg
        elif kind == "confirm_done":
            self.pending_confirms.pop(msg["id"], None)
        elif kind == "peers":
            self.peers = msg["peers"]
        elif kind == "chat":
            self.chat.append(msg)
        elif kind == "_closed":
            self.connected = False
            if not self._closing and self._reconnect_task is None:
                self._reconnect_task = asyncio.ensure_future(self._reconnect())
                self._reconnect_task.add_done_callback(self._reconnected)
        self._emit(msg)
