"""The mentoring hub: aiohttp routes, signalling WebSocket, aiortc peers, fan-out.

Only wiring lives here; rules are in :mod:`.room`, :mod:`.control`, :mod:`.tokens`,
:mod:`.messages` and :mod:`.audit`. See ``PROTOCOL.md`` for the wire format.

:class:`Hub` is assembled from one part per concept: :mod:`._hub_state` (settings, rooms,
connections, fan-out), :mod:`._hub_http` (HTTP routes), :mod:`._hub_dispatch` (message
validation and handling), :mod:`._hub_commands` (remote commands and their results),
:mod:`._hub_media` (WebRTC answers, A/V signalling) and :mod:`._hub_recording` (recording
with consent). This module holds the WebSocket session of each peer and
:func:`make_app`.
"""

from __future__ import annotations

import time

from aiohttp import WSMsgType, web

from . import messages as m
from ._hub_commands import Commands
from ._hub_dispatch import Dispatch
from ._hub_http import STATIC, HttpRoutes
from ._hub_media import Media
from ._hub_recording import Recording
from ._hub_state import MIN_SECRET_BYTES, Conn, HubConfig
from .room import RoomFull
from .tokens import TokenError, verify_token

__all__ = ["MIN_SECRET_BYTES", "HubConfig", "Hub", "HUB_KEY", "make_app"]

_WS_HARD_LIMIT = 256 * 1024  # beyond this aiohttp closes the socket; below, an error reply


class Hub(HttpRoutes, Dispatch, Commands, Media, Recording):
    """Rooms, peers, the control lock and the audit log of one process."""

    # ------------------------------------------------------------------ WebSocket
    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if not self._origin_ok(request):
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
        self._touch(rt)  # the room's next peer number
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
                ice_servers=self._ice(peer.id),
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
                    await self.handle_raw(conn, msg.data, m.MAX_WS_BYTES)
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
                for hub_id in list(rt.pending):
                    job = rt.pending.pop(hub_id)
                    rt.room.pending_confirm.pop(hub_id, None)
                    self._reply(rt, job, ok=False, message="the trainee's console disconnected")
        if peer.name:
            self._audit(rt, peer, "leave")
            if held:
                self._audit(rt, peer, "release", reason="hub stopped" if self._stopping else "left")
        await self._update_recording(rt)
        self._peers(rt)
        self._control(rt)

    _stopping = False

    async def close(self) -> None:
        self._stopping = True
        for rt in self.rooms.values():
            for conn in list(rt.conns.values()):
                await conn.ws.close()
                if conn.pc is not None:
                    await conn.pc.close()
            if rt.recorder is not None:
                await rt.recorder.stop()
            rt.source.stop()
        if self._flush_due is not None:
            self._flush_due.cancel()
        self._flush()
        if self.store is not None:
            self.store.close()
        self.audit.close()


HUB_KEY = web.AppKey("hub", Hub)


def make_app(config: HubConfig) -> web.Application:
    """The aiohttp application of a hub (``app[HUB_KEY]`` is the :class:`Hub`)."""
    hub = Hub(config)
    app = web.Application(client_max_size=64 * 1024)
    app[HUB_KEY] = hub
    p = config.prefix  # "/" or "/services/merm-hub/": every route below it
    app.router.add_get(p, hub.index)
    if p != "/":
        app.router.add_get(p.rstrip("/"), hub.to_prefix)
    app.router.add_post(p + "api/rooms", hub.create_room)
    app.router.add_get(p + "api/rooms", hub.list_rooms)
    app.router.add_get(p + "api/rooms/{room}/audit", hub.audit_export)
    app.router.add_get(p + "ws", hub.websocket)
    app.router.add_get(p + "mentor", hub.mentor_page)
    app.router.add_get(p + "call", hub.call_page)
    app.router.add_static(p + "static", STATIC)

    async def on_shutdown(app: web.Application) -> None:
        await hub.close()

    app.on_shutdown.append(on_shutdown)  # type: ignore[arg-type]  # aiohttp 3.9's Signal typing
    return app
