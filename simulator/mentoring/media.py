"""Video plumbing shared by the hub and the trainee peer (aiortc, no aiohttp).

* :class:`ConsoleSource`, on the hub: one per room, a stable video track fed by whatever
  trainee track is attached (the trainee may drop and rejoin); always consumed so that
  aiortc's receive queue never grows; frames re-stamped on the hub's clock so receivers
  see a continuous stream. The hub fans it out with ``MediaRelay``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import time

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

__all__ = ["ConsoleSource", "VIDEO_CLOCK_HZ"]

VIDEO_CLOCK_HZ = 90_000
_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_HZ)


class ConsoleSource(MediaStreamTrack):
    """The latest console frame of a room, whichever trainee track produced it."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._frame = None
        self._event = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self._t0 = time.monotonic()
        self.frames_in = 0

    def attach(self, track: MediaStreamTrack) -> None:
        """Start reading ``track`` (a trainee's console track), dropping any previous one."""
        self.detach()
        self._pump = asyncio.ensure_future(self._run(track))

    def detach(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None

    async def _run(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.publish(frame)

    def publish(self, frame) -> None:  # noqa: ANN001 - av.VideoFrame
        """Make ``frame`` (yuv420p) the current one and wake the reader."""
        self._frame = frame
        self.frames_in += 1
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def recv(self):  # noqa: ANN201 - av.VideoFrame
        if self.readyState != "live":
            raise MediaStreamError
        await self._event.wait()
        if self.readyState != "live" or self._frame is None:
            raise MediaStreamError
        frame = self._frame
        frame.pts = int((time.monotonic() - self._t0) * VIDEO_CLOCK_HZ)
        frame.time_base = _TIME_BASE
        return frame

    def stop(self) -> None:
        self.detach()
        super().stop()
        with contextlib.suppress(Exception):
            self._event.set()
