"""The mentoring hub: aiohttp routes, signalling WebSocket, aiortc peers, fan-out.

Only wiring lives here; rules are in :mod:`.room`, :mod:`.control`, :mod:`.tokens`,
:mod:`.messages` and :mod:`.audit`. See ``PROTOCOL.md`` for the wire format.

:class:`Hub` holds one part per concept as an attribute, each with its own state and a small
interface, as aiortc's ``RTCPeerConnection`` holds its transports: ``state``
(:class:`~._hub_state.HubState`: settings, rooms, connections, store, fan-out), ``http``
(:class:`~._hub_http.HttpRoutes`: HTTP routes), ``recording``
(:class:`~._hub_recording.Recording`: recording with consent), ``commands``
(:class:`~._hub_commands.Commands`: remote commands and their results), ``media``
(:class:`~._hub_media.Media`: WebRTC answers, A/V signalling) and ``dispatch``
(:class:`~._hub_dispatch.Dispatch`: message validation and handling). Each part is given
the state and the parts it calls; none inherits from another. This module holds the
WebSocket session of each peer and :func:`make_app`.
"""

from __future__ import annotations

import time

from aiohttp import WSMsgType, web

from . import messages as m
from ._hub_commands import Commands
from ._hub_dispatch import Dispatch
from ._hub_http import STATIC, HttpRoutes, origin_ok
from ._hub_media import Media
from ._hub_recording import Recording
from ._hub_state import MIN_SECRET_BYTES, Conn, HubConfig, HubState, RoomRuntime
from .audit import AuditLog
from .room import RoomFull
from .tokens import TokenError, verify_token

__all__ = ["MIN_SECRET_BYTES", "HubConfig", "Hub", "HUB_KEY", "make_app"]

_WS_HARD_LIMIT = 256 * 1024  # beyond this aiohttp closes the socket; below, an error reply


class Hub:
    """Rooms, peers, the control lock and the audit log of one process.

    Parameters
    ----------
    config : HubConfig
        Settings of the hub process.
    """

    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.state = HubState(config)
        self.http = HttpRoutes(self.state)
        self.recording = Recording(self.state)
        self.commands = Commands(self.state)
        self.media = Media(self.state, self._on_channel_message)
        self.dispatch = Dispatch(self.state, self.commands, self.media, self.recording)
        self._stopping = False

    @property
    def rooms(self) -> dict[str, RoomRuntime]:
        """The open rooms by id."""
        return self.state.rooms

    @property
    def audit(self) -> AuditLog:
        """The hub's audit log."""
        return self.state.audit

    async def _on_channel_message(self, conn: Conn, data: str | bytes) -> None:
        await self.dispatch.handle_raw(conn, data, m.MAX_DC_BYTES)

    # ------------------------------------------------------------------ WebSocket
    async def websocket(self, request: web.Request) -> web.StreamResponse:
        """``GET /ws``: one peer's signalling session, from its welcome to its leaving."""
        if not origin_ok(self.config, request):
            return web.json_response({"error": "origin not allowed"}, status=403)
        token = request.query.get("token", "")
        try:
            claims = verify_token(self.config.secret, token, time.time())
        except TokenError as exc:
            return web.json_response({"error": exc.en}, status=401)
        rt = self.rooms.get(claims.room)
        if rt is None:
            return web.json_response({"error": "no such room"}, status=404)
        try:
            peer = rt.room.add_peer(claims.role)
        except RoomFull as exc:
            return web.json_response({"error": exc.en}, status=429)
        ws = web.WebSocketResponse(max_msg_size=_WS_HARD_LIMIT, heartbeat=20)
        await ws.prepare(request)
        conn = Conn(peer, rt, token, ws)
        rt.conns[peer.id] = conn
        self.state.touch(rt)  # the room's next peer number
        room = rt.room
        await ws.send_str(
            m.server_message(
                "welcome",
                peer=peer.id,
                room=room.id,
                role=peer.role,
                label=room.label,
                modality=room.modality,
                expires=room.expires,
                ice_servers=self.state.ice(peer.id),
                control=room.control_view(),
                state_seq=room.state_seq,
                snapshot=room.snapshot,
                annotations=room.annotations,
                chat=list(room.chat),
                peers=[p.public() for p in room.peers.values()],
            )
        )
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):  # binary: refused in there
                    await self.dispatch.handle_raw(conn, msg.data, m.MAX_WS_BYTES)
                else:
                    break
        finally:
            await self._leave(conn)
        return ws

    async def _leave(self, conn: Conn) -> None:
        rt, peer = conn.room, conn.peer
        rt.conns.pop(peer.id, None)
        held = rt.room.remove_peer(peer.id)
        if conn.pc is not None:
            await conn.pc.close()
        if peer.console:
            rt.source.detach()
            if rt.room.console_peer() is None:  # nobody left to apply what is waiting
                self.commands.fail_pending(rt, "the trainee's console disconnected")
        if peer.name:
            self.state.audit_event(rt, peer, "leave")
            if held:
                reason = "hub stopped" if self._stopping else "left"
                self.state.audit_event(rt, peer, "release", reason=reason)
        await self.recording.update(rt)
        self.state.send_peers(rt)
        self.state.send_control(rt)

    async def close(self) -> None:
        """Close every connection and recorder, then the store and the audit log."""
        self._stopping = True
        for rt in self.rooms.values():
            for conn in list(rt.conns.values()):
                await conn.ws.close()
                if conn.pc is not None:
                    await conn.pc.close()
            if rt.recorder is not None:
                await rt.recorder.stop()
            rt.source.stop()
        self.state.close()


HUB_KEY = web.AppKey("hub", Hub)


def make_app(config: HubConfig) -> web.Application:
    """The aiohttp application of a hub (``app[HUB_KEY]`` is the :class:`Hub`)."""
    hub = Hub(config)
    app = web.Application(client_max_size=64 * 1024)
    app[HUB_KEY] = hub
    p = config.prefix  # "/" or "/services/merm-hub/": every route below it
    app.router.add_get(p, hub.http.index)
    if p != "/":
        app.router.add_get(p.rstrip("/"), hub.http.to_prefix)
    app.router.add_post(p + "api/rooms", hub.http.create_room)
    app.router.add_get(p + "api/rooms", hub.http.list_rooms)
    app.router.add_get(p + "api/rooms/{room}/audit", hub.http.audit_export)
    app.router.add_get(p + "ws", hub.websocket)
    app.router.add_get(p + "mentor", hub.http.mentor_page)
    app.router.add_get(p + "call", hub.http.call_page)
    app.router.add_static(p + "static", STATIC)

    async def on_shutdown(app: web.Application) -> None:
        await hub.close()

    app.on_shutdown.append(on_shutdown)
    return app
