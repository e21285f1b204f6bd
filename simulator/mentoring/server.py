"""The mentoring hub: aiohttp routes, signalling WebSocket, aiortc peers, fan-out.

Only wiring lives here; rules are in :mod:`.room`, :mod:`.control`, :mod:`.tokens`,
:mod:`.messages` and :mod:`.audit`. See ``PROTOCOL.md`` for the wire format.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRecorder, MediaRelay

from . import messages as m
from .audit import AuditLog, to_csv
from .control import ControlError
from .media import ConsoleSource
from .room import Peer, RateLimiter, Room, RoomFull
from .tokens import TokenError, sign_token, verify_token
from .turn import TurnSettings, ice_servers

__all__ = ["HubConfig", "Hub", "HUB_KEY", "make_app"]

log = logging.getLogger("merm.hub")
STATIC = Path(__file__).with_name("static")
_WS_HARD_LIMIT = 256 * 1024  # beyond this aiohttp closes the socket; below, an error reply


@dataclass
class HubConfig:
    """Settings of one hub process.

    Parameters
    ----------
    secret : bytes
        Signs tokens; a client showing it may create rooms.
    public_url : str
        Base URL written into invitation links (``http://127.0.0.1:8890``).
    allowed_origins : tuple of str
        Browser origins allowed to open the WebSocket (the hub's own is always allowed).
    """

    secret: bytes
    public_url: str = "http://127.0.0.1:8890"
    allowed_origins: tuple[str, ...] = ("http://127.0.0.1:8866", "http://localhost:8866")
    turn: TurnSettings | None = None
    max_peers: int = 8
    max_rooms: int = 200
    room_ttl_s: int = 4 * 3600
    audit_path: Path | None = None
    recordings_dir: Path | None = None


@dataclass
class _Conn:
    peer: Peer
    room: _RoomRuntime
    token: str
    ws: web.WebSocketResponse
    pc: RTCPeerConnection | None = None
    dc: Any = None

    def send(self, text: str, console: bool = False) -> None:
        if console and self.dc is not None and self.dc.readyState == "open":
            self.dc.send(text)
            return
        if not self.ws.closed:
            asyncio.ensure_future(self._ws_send(text))

    async def _ws_send(self, text: str) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(text)


@dataclass
class _RoomRuntime:
    room: Room
    source: ConsoleSource
    conns: dict[str, _Conn] = field(default_factory=dict)
    pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(1))
    recorder: MediaRecorder | None = None


class Hub:
    """Rooms, peers, the control lock and the audit log of one process."""

    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.rooms: dict[str, _RoomRuntime] = {}
        self.audit = AuditLog(config.audit_path)
        self.relay = MediaRelay()

    # ------------------------------------------------------------------ helpers
    def _origin_ok(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:  # not a browser: the token is the only credential
            return True
        own = {f"{request.scheme}://{request.host}", self.config.public_url.rstrip("/")}
        return origin in own or origin in self.config.allowed_origins

    def _audit(self, rt: _RoomRuntime, peer: Peer | None, action: str, **detail: Any) -> None:
        event = self.audit.append(
            rt.room.id, peer.name if peer else "hub", peer.role if peer else "hub", action, detail
        )
        self._broadcast(
            rt, m.server_message("audit", event=event.__dict__), roles=("trainee", "instructor")
        )

    def _broadcast(
        self,
        rt: _RoomRuntime,
        text: str,
        console: bool = False,
        roles: tuple[str, ...] | None = None,
        exclude: str | None = None,
    ) -> None:
        for conn in list(rt.conns.values()):
            if conn.peer.id != exclude and (roles is None or conn.peer.role in roles):
                conn.send(text, console=console)

    def _control(self, rt: _RoomRuntime) -> None:
        self._broadcast(rt, m.server_message("control", **rt.room.control_view()))
        console = rt.room.console_peer()
        if console is not None:
            rt.conns[console.id].send(
                m.server_message("control", **rt.room.control_view()), console=True
            )

    def _peers(self, rt: _RoomRuntime) -> None:
        self._broadcast(
            rt, m.server_message("peers", peers=[p.public() for p in rt.room.peers.values()])
        )

    def _ice(self, user: str) -> list[dict[str, object]]:
        return ice_servers(self.config.turn, user, time.time())

    def _check_secret(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and secrets.compare_digest(
            auth[7:].encode(), self.config.secret
        )

    # ------------------------------------------------------------------ HTTP
    async def create_room(self, request: web.Request) -> web.Response:
        if not self._check_secret(request):
            return web.json_response({"error": "unauthorised"}, status=401)
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            return web.json_response({"error": "bad JSON"}, status=400)
        label = str(body.get("label", "console"))[:60]
        modality = body.get("modality", "mr")
        ttl = body.get("ttl_s", self.config.room_ttl_s)
        if modality not in ("mr", "pet") or not isinstance(ttl, int) or not 60 <= ttl <= 86400:
            return web.json_response({"error": "modality mr|pet, ttl_s 60–86400"}, status=400)
        now = time.time()
        for old_id in [k for k, r in self.rooms.items() if r.room.expires < now and not r.conns]:
            self.rooms.pop(old_id).source.stop()
        if len(self.rooms) >= self.config.max_rooms:
            return web.json_response({"error": "too many rooms"}, status=429)
        room_id = secrets.token_hex(6)
        exp = int(time.time()) + ttl
        rt = _RoomRuntime(
            Room(room_id, label, modality, exp, self.config.max_peers), ConsoleSource()
        )
        self.rooms[room_id] = rt
        tokens = {
            r: sign_token(self.config.secret, room_id, r, exp)
            for r in ("trainee", "mentor", "observer", "instructor")
        }
        base = self.config.public_url.rstrip("/")
        self.audit.append(
            room_id,
            str(body.get("name", "trainee"))[:40],
            "trainee",
            "create",
            {"label": label, "modality": modality, "expires": exp},
        )
        return web.json_response(
            {
                "room": room_id,
                "label": label,
                "modality": modality,
                "expires": exp,
                "tokens": tokens,
                "links": {
                    "mentor": f"{base}/mentor#t={tokens['mentor']}",
                    "observer": f"{base}/mentor#t={tokens['observer']}",
                    "instructor": f"{base}/mentor#t={tokens['instructor']}",
                    "trainee_call": f"{base}/call#t={tokens['trainee']}",
                },
            }
        )

    async def audit_export(self, request: web.Request) -> web.Response:
        room_id = request.match_info["room"]
        token = request.query.get("token") or request.headers.get("Authorization", "")[7:]
        if not self._check_secret(request):
            try:
                verify_token(
                    self.config.secret,
                    token,
                    time.time(),
                    room=room_id,
                    roles=("trainee", "mentor", "instructor"),
                )
            except TokenError as exc:
                return web.json_response({"error": exc.en}, status=401)
        events = self.audit.events(room_id)
        if request.query.get("format", "json") == "csv":
            return web.Response(
                text=to_csv(events),
                content_type="text/csv",
                headers={"Content-Disposition": f'attachment; filename="audit-{room_id}.csv"'},
            )
        return web.json_response([e.__dict__ for e in events])

    async def page(self, request: web.Request) -> web.FileResponse:
        name = {"/mentor": "mentor.html", "/call": "call.html"}[request.path]
        return web.FileResponse(
            STATIC / name, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        )

    async def index(self, request: web.Request) -> web.Response:
        return web.json_response({"service": "merm-lab hub", "rooms": len(self.rooms)})

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
        conn = _Conn(peer, rt, token, ws)
        rt.conns[peer.id] = conn
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
                if msg.type == WSMsgType.TEXT:
                    await self.handle_raw(conn, msg.data, m.MAX_WS_BYTES)
                elif msg.type == WSMsgType.BINARY:
                    conn.send(
                        m.server_message("error", code="bad_json", message="text frames only")
                    )
                else:
                    break
        finally:
            await self._leave(conn)
        return ws

    async def _leave(self, conn: _Conn) -> None:
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
                self._audit(rt, peer, "release", reason="left")
        await self._update_recording(rt)
        self._peers(rt)
        self._control(rt)

    async def handle_raw(self, conn: _Conn, raw: str | bytes, limit: int) -> None:
        """Validate one message and act on it; any fault is answered, never fatal."""
        ref = None
        try:
            try:
                verify_token(self.config.secret, conn.token, time.time())
            except TokenError as exc:
                await conn._ws_send(m.server_message("error", code="token", message=exc.en))
                await conn.ws.close(code=4001, message=b"token expired")
                return
            try:
                msg = m.parse_client(raw, limit)
            except m.MessageError:
                if not conn.peer.limiter.allow():
                    return  # a flood of junk gets no replies
                raise
            ref = msg.TYPE
            # pongs answer pings already counted against the mentor who sent them
            exempt = conn.peer.console and isinstance(msg, m.Pong)
            if not exempt and not conn.peer.limiter.allow():
                raise m.MessageError("rate_limited", "too many messages", "trop de messages")
            if not conn.peer.name and not isinstance(msg, m.Hello):
                raise m.MessageError("hello_first", "send hello first", "envoyez hello d'abord")
            await self.dispatch(conn, msg)
        except (m.MessageError, ControlError) as exc:
            conn.send(m.server_message("error", code=exc.code, message=exc.en, ref=ref))
        except Exception:  # a bug here must not end the session of the others
            log.exception("failed to handle %s from %s", ref, conn.peer.id)
            conn.send(m.server_message("error", code="internal", message="hub error", ref=ref))

    async def dispatch(self, conn: _Conn, msg: m.ClientMessage) -> None:  # noqa: C901
        rt, peer, room = conn.room, conn.peer, conn.room.room
        forbidden = m.MessageError(
            "forbidden", f"not allowed for role {peer.role}", f"interdit au rôle {peer.role}"
        )
        if isinstance(msg, m.Hello):
            first = not peer.name
            peer.name, peer.client = msg.name, msg.client
            if peer.role == "trainee" and msg.client == "kernel":
                old = room.console_peer()
                if old is not None and old is not peer:
                    old.console = False
                peer.console = True
                peer.limiter = RateLimiter(rate_per_s=200, burst=400)  # state during scans
            if first:
                self._audit(rt, peer, "join", client=msg.client)
            self._peers(rt)
        elif isinstance(msg, m.Offer):
            await self._answer(conn, msg.sdp)
        elif isinstance(msg, m.State):
            if not peer.console:
                raise forbidden
            seq = room.set_snapshot(msg.snapshot)
            text = m.server_message("state", seq=seq, snapshot=msg.snapshot)
            self._broadcast(rt, text, console=True, exclude=peer.id)
            await self._update_recording(rt)
        elif isinstance(msg, m.Result):
            if not peer.console:
                raise forbidden
            self._result(rt, msg)
        elif isinstance(msg, m.Command):
            self._command(conn, msg)
        elif isinstance(msg, m.Confirm):
            if peer.role != "trainee":
                raise forbidden
            self._confirm(rt, peer, msg)
        elif isinstance(msg, m.RequestControl):
            self._one_console_at_a_time(rt, peer)
            room.lock.request(peer.id, peer.role)
            self._audit(rt, peer, "request")
            self._control(rt)
        elif isinstance(msg, m.ReleaseControl):
            room.lock.release(peer.id)
            self._audit(rt, peer, "release")
            self._control(rt)
        elif isinstance(msg, (m.Grant, m.Refuse, m.TakeBack)):
            if peer.role != "trainee":
                raise forbidden
            if isinstance(msg, m.TakeBack):
                previous = room.lock.take_back()
                prev = room.peers.get(previous) if previous else None
                self._audit(rt, peer, "take_back", previous=prev.name if prev else None)
            else:
                target = room.peers.get(msg.peer)
                if msg.TYPE == "grant" and target is not None:
                    self._one_console_at_a_time(rt, target)
                (room.lock.grant if msg.TYPE == "grant" else room.lock.refuse)(msg.peer)
                self._audit(rt, peer, msg.TYPE, to=target.name if target else msg.peer)
            self._control(rt)
        elif isinstance(msg, m.Chat):
            entry = {
                "from": peer.id,
                "name": peer.name,
                "role": peer.role,
                "text": msg.text,
                "time": self.audit.append(
                    room.id, peer.name, peer.role, "chat", {"text": msg.text}
                ).time,
            }
            room.chat.append(entry)
            self._broadcast(rt, m.server_message("chat", **entry))
        elif isinstance(msg, (m.Annotate, m.ClearAnnotations)):
            if peer.role == "observer":
                raise forbidden
            if isinstance(msg, m.Annotate):
                ann = dataclasses.asdict(msg) | {"by": peer.name, "role": peer.role}
                room.add_annotation(ann)
                self._audit(rt, peer, "annotate", **ann)
            else:
                room.annotations.clear()
                self._audit(rt, peer, "clear_annotations")
            self._broadcast(
                rt, m.server_message("annotations", items=room.annotations), console=True
            )
        elif isinstance(msg, m.Ping):
            console = room.console_peer()
            if peer.console or console is None:
                conn.send(m.server_message("pong", id=msg.id, t=msg.t, via="hub"), console=True)
            else:
                rt.conns[console.id].send(
                    m.server_message("ping", id=msg.id, t=msg.t, **{"from": peer.id}), console=True
                )
        elif isinstance(msg, m.Pong):
            dest = rt.conns.get(msg.to)
            if not peer.console or dest is None:
                raise m.MessageError(
                    "bad_field", "pong to an unknown peer", "pong vers un pair inconnu"
                )
            dest.send(m.server_message("pong", id=msg.id, t=msg.t, via="console"), console=True)
        elif isinstance(msg, (m.AvOffer, m.AvAnswer, m.AvHangup, m.AvReady)):
            self._relay_av(conn, msg)
        elif isinstance(msg, m.Consent):
            room.consent[peer.id] = msg.recording
            self._audit(rt, peer, "consent", recording=msg.recording)
            await self._update_recording(rt)

    def _one_console_at_a_time(self, rt: _RoomRuntime, peer: Peer) -> None:
        """A mentor (by name) holds control of one console at a time, across rooms."""
        for other in self.rooms.values():
            holder = other.room.peers.get(other.room.lock.holder or "")
            if other is not rt and holder is not None and holder.name == peer.name:
                raise ControlError(
                    "busy_elsewhere",
                    f"{peer.name} already controls {other.room.label}",
                    f"{peer.name} a déjà la main sur {other.room.label}",
                )

    # ------------------------------------------------------------------ commands
    def _command(self, conn: _Conn, msg: m.Command) -> None:
        rt, peer, room = conn.room, conn.peer, conn.room.room
        if not room.lock.may_command(peer.id, peer.role):
            self._audit(rt, peer, "command_refused", command=msg.command, reason="no_control")
            raise m.MessageError("no_control", "you do not hold control", "vous n'avez pas la main")
        console = room.console_peer()
        if console is None:
            raise m.MessageError(
                "no_console",
                "the trainee's console is not connected",
                "la console n'est pas connectée",
            )
        hub_id = next(rt.ids)
        job = {
            "peer": peer.id,
            "client_id": msg.id,
            "command": msg.command,
            "actor": peer.name,
            "role": peer.role,
        }
        rt.pending[hub_id] = job
        if room.modality == "pet" and msg.command["type"] == "scan":
            room.pending_confirm[hub_id] = job
            self._audit(rt, peer, "confirm_request", id=hub_id, command=msg.command)
            text = m.server_message(
                "confirm_request", id=hub_id, actor=peer.name, command=msg.command
            )
            self._broadcast(rt, text, roles=("trainee",))
            rt.conns[console.id].send(text, console=True)
            conn.send(m.server_message("pending", id=msg.id, reason="trainee_confirmation"))
            return
        self._apply(rt, hub_id, job)

    def _apply(self, rt: _RoomRuntime, hub_id: int, job: dict[str, Any]) -> None:
        console = rt.room.console_peer()
        if console is None:
            rt.pending.pop(hub_id, None)
            self._reply(rt, job, ok=False, message="the trainee's console is not connected")
            return
        rt.conns[console.id].send(
            m.server_message(
                "apply", id=hub_id, actor=job["actor"], role=job["role"], command=job["command"]
            ),
            console=True,
        )

    def _confirm(self, rt: _RoomRuntime, peer: Peer, msg: m.Confirm) -> None:
        job = rt.room.pending_confirm.pop(msg.id, None)
        if job is None:
            raise m.MessageError(
                "bad_field", "no such pending confirmation", "pas de confirmation en attente"
            )
        self._audit(rt, peer, "confirm", id=msg.id, accept=msg.accept, command=job["command"])
        self._broadcast(
            rt, m.server_message("confirm_done", id=msg.id, accept=msg.accept), roles=("trainee",)
        )
        if msg.accept:
            self._apply(rt, msg.id, job)
        else:
            rt.pending.pop(msg.id, None)
            self._reply(rt, job, ok=False, message="the trainee declined the remote acquisition")

    def _result(self, rt: _RoomRuntime, msg: m.Result) -> None:
        job = rt.pending.pop(msg.id, None)
        if job is None:
            return
        self.audit.append(
            rt.room.id,
            job["actor"],
            job["role"],
            "command",
            {
                "command": job["command"],
                "ok": msg.ok,
                "message": msg.message,
                "before": msg.before,
                "after": msg.after,
            },
        )
        self._reply(rt, job, ok=msg.ok, message=msg.message, before=msg.before, after=msg.after)

    def _reply(self, rt: _RoomRuntime, job: dict[str, Any], **fields: Any) -> None:
        conn = rt.conns.get(job["peer"])
        if conn is not None:
            conn.send(
                m.server_message("result", id=job["client_id"], command=job["command"], **fields),
                console=True,
            )

    # ------------------------------------------------------------------ media
    async def _answer(self, conn: _Conn, sdp: str) -> None:
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

    def _relay_av(self, conn: _Conn, msg: m.ClientMessage) -> None:
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

    async def _update_recording(self, rt: _RoomRuntime) -> None:
        want = rt.room.recording_consented() and self.config.recordings_dir is not None
        if want and rt.recorder is None and rt.room.console_peer() is not None:
            assert self.config.recordings_dir is not None
            path = self.config.recordings_dir / f"room-{rt.room.id}-{int(time.time())}.webm"
            path.parent.mkdir(parents=True, exist_ok=True)
            rt.recorder = MediaRecorder(str(path))
            rt.recorder.addTrack(self.relay.subscribe(rt.source, buffered=False))
            await rt.recorder.start()
            self._audit(rt, None, "recording_start", file=path.name)
        elif not want and rt.recorder is not None:
            recorder, rt.recorder = rt.recorder, None
            await recorder.stop()
            self._audit(rt, None, "recording_stop")

    async def close(self) -> None:
        for rt in self.rooms.values():
            for conn in list(rt.conns.values()):
                await conn.ws.close()
                if conn.pc is not None:
                    await conn.pc.close()
            if rt.recorder is not None:
                await rt.recorder.stop()
            rt.source.stop()


HUB_KEY = web.AppKey("hub", Hub)


def make_app(config: HubConfig) -> web.Application:
    """The aiohttp application of a hub (``app[HUB_KEY]`` is the :class:`Hub`)."""
    hub = Hub(config)
    app = web.Application(client_max_size=64 * 1024)
    app[HUB_KEY] = hub
    app.router.add_get("/", hub.index)
    app.router.add_post("/api/rooms", hub.create_room)
    app.router.add_get("/api/rooms/{room}/audit", hub.audit_export)
    app.router.add_get("/ws", hub.websocket)
    app.router.add_get("/mentor", hub.page)
    app.router.add_get("/call", hub.page)
    app.router.add_static("/static", STATIC)

    async def on_shutdown(app: web.Application) -> None:
        await hub.close()

    app.on_shutdown.append(on_shutdown)
    return app
