"""The hub's WebRTC: the answer to each peer's offer, and A/V signalling between peers.

:class:`Media` answers a peer's offer with an aiortc peer connection: the trainee's
console sends its video track and a data channel, every other peer receives the console
video through the hub's relay. People's own audio/video goes peer to peer; the hub only
relays their signalling (``av_offer``, ``av_answer``, ``av_hangup``, ``av_ready``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

from . import messages as m
from ._hub_state import Conn, HubState

__all__ = ["Media"]


class Media(HubState):
    """WebRTC answers and A/V signalling relay of the hub.

    The host class provides ``handle_raw`` (see :class:`~simulator.mentoring.server.Hub`).
    """

    if TYPE_CHECKING:

        async def handle_raw(self, conn: Conn, raw: str | bytes, limit: int) -> None: ...

    async def _answer(self, conn: Conn, sdp: str) -> None:
        if conn.pc is not None:
            await conn.pc.close()
        servers = [RTCIceServer(**s) for s in self._ice(conn.peer.id)]  # type: ignore[arg-type]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        conn.pc, conn.dc = pc, None
        rt = conn.room

        @pc.on("datachannel")
        def on_datachannel(channel: Any) -> None:
            conn.dc = channel

            @channel.on("message")
            async def on_message(data: str | bytes) -> None:
                await self.handle_raw(conn, data, m.MAX_DC_BYTES)

        @pc.on("track")
        def on_track(track: Any) -> None:
            if conn.peer.console and track.kind == "video":
                rt.source.attach(track)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as exc:  # noqa: BLE001 - a bad SDP is the client's fault
            raise m.MessageError("bad_sdp", f"offer refused: {exc}", "offre refusée") from exc
        if not conn.peer.console:
            for transceiver in pc.getTransceivers():
                if transceiver.kind == "video":
                    pc.addTrack(self.relay.subscribe(rt.source, buffered=False))
                    break
        await pc.setLocalDescription(await pc.createAnswer())
        conn.send(m.server_message("answer", sdp=pc.localDescription.sdp))

    def _relay_av(self, conn: Conn, msg: m.ClientMessage) -> None:
        rt, peer = conn.room, conn.peer
        if isinstance(msg, m.AvReady):
            peer.av = msg.on
            self._peers(rt)
            return
        target = rt.conns.get(msg.to)  # type: ignore[attr-defined]
        if target is None:
            raise m.MessageError(
                "bad_field", "no such peer in this room", "pas de tel pair dans la salle"
            )
        fields = {"from": peer.id, "name": peer.name}
        if hasattr(msg, "sdp"):
            fields["sdp"] = msg.sdp  # type: ignore[attr-defined]
        target.send(m.server_message(msg.TYPE, **fields))
