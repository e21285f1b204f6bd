"""Recording of a room's console video, only while the room's consent holds.

:class:`Recording` starts a WebM recorder of the console video when a recordings folder is
configured, the console is connected and :meth:`~.room.Room.recording_consented` holds
(the trainee and at least one mentor agreed, nobody refused), and stops it as soon as the
consent no longer holds.
"""

from __future__ import annotations

import time

from aiortc.contrib.media import MediaRecorder

from ._hub_state import HubState, RoomRuntime

__all__ = ["Recording"]


class Recording:
    """Start and stop each room's recorder as its consent changes.

    Parameters
    ----------
    state : HubState
        The hub's rooms, settings (the recordings folder) and media relay.
    """

    def __init__(self, state: HubState) -> None:
        self.state = state
        self.config = state.config

    async def update(self, rt: RoomRuntime) -> None:
        """Start or stop ``rt``'s recorder so that it runs exactly while consent holds."""
        want = rt.room.recording_consented() and self.config.recordings_dir is not None
        if want and rt.recorder is None and rt.room.console_peer() is not None:
            assert self.config.recordings_dir is not None
            path = self.config.recordings_dir / f"room-{rt.room.id}-{int(time.time())}.webm"
            path.parent.mkdir(parents=True, exist_ok=True)
            rt.recorder = MediaRecorder(str(path))
            rt.recorder.addTrack(self.state.relay.subscribe(rt.source, buffered=False))
            await rt.recorder.start()
            self.state.audit_event(rt, None, "recording_start", file=path.name)
        elif not want and rt.recorder is not None:
            recorder, rt.recorder = rt.recorder, None
            await recorder.stop()
            self.state.audit_event(rt, None, "recording_stop")
