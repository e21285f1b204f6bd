"""The hub's WebRTC: the answer to each peer's offer, and A/V signalling between peers.

:class:`Media` answers a peer's offer with an aiortc peer connection: the trainee's
console sends its video track and a data channel, every other peer receives the console
video through the hub's relay. People's own audio/video goes peer to peer; the hub only
relays their signalling (``av_offer``, ``av_answer``, ``av_hangup``, ``av_ready``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

from . import messages as m
from ._hub_state import Conn, HubState

__all__ = ["Media"]


#: What the hub does with a message a peer sends on its data channel.
ChannelHandler = Callable[[Conn, str | bytes], Awaitable[None]]


class Media:
    """WebRTC answers and A/V signalling relay of the hub.

    Parameters
    ----------
    state : HubState
        The hub's rooms, fan-out and media relay.
    on_message : callable
        ``await on_message(conn, data)`` for each message of a peer's data channel (the
        hub's message dispatch).
    """

    def __init__(self, state: HubState, on_message: ChannelHandler) -> None:
        self.state = state
        self.on_message = on_message

    async def answer(self, conn: Conn, sdp: str) -> None:
        if conn.pc is not None:
            await conn.pc.close()
        servers = [RTCIceServer(**s) for s in self.state.ice(conn.peer.id)]  # type: ignore[arg-type]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        conn.pc, conn.dc = pc, None
        rt = conn.room

        @pc.on("datachannel")
        def on_datachannel(channel: Any) -> None:
            conn.dc = channel

            @channel.on("message")
            async def on_message(data: str | bytes) -> None:
                await self.on_message(conn, data)

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
                    pc.addTrack(self.state.relay.subscribe(rt.source, buffered=False))
                    break
        await pc.setLocalDescription(await pc.createAnswer())
        conn.send(m.server_message("answer", sdp=pc.localDescription.sdp))

    def relay_av(self, conn: Conn, msg: m.ClientMessage) -> None:
        rt, peer = conn.room, conn.peer
        if isinstance(msg, m.AvReady):
            peer.av = msg.on
            self.state.send_peers(rt)
            return
        target = rt.conns.get(msg.to)  # type: ignore[attr-defined]
        if target is None:
            raise m.MessageError(
                "bad_field", "no such peer in this room", "pas de tel pair dans la salle"
            )
        fields = {"from": peer.id, "name": peer.name}
        if hasattr(msg, "sdp"):
            fields["sdp"] = msg.sdp
        target.send(m.server_message(msg.TYPE, **fields))
