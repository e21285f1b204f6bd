"""The hub's state: its settings, its rooms and connections, and how it tells them things.

:class:`HubConfig` holds the settings of one hub process, :class:`RoomRuntime` one room
with its open connections (:class:`Conn`), and :class:`HubState` the rooms of a hub with
the room store and the fan-out (broadcast, audit, control and peer updates). The hub
(:class:`~simulator.mentoring.server.Hub`) holds one :class:`HubState` and hands it to each
of its parts (:mod:`._hub_http`, :mod:`._hub_dispatch`, :mod:`._hub_commands`,
:mod:`._hub_media`, :mod:`._hub_recording`), which use only its public methods. No routes
and no message handling here.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiortc import RTCPeerConnection
from aiortc.contrib.media import MediaRecorder, MediaRelay

from simulator.errors import UserError

from . import messages as m
from .audit import AuditLog
from .media import ConsoleSource
from .room import Peer, Room
from .room_store import RoomStore, StoredRoom
from .turn import TurnSettings, ice_servers
from .url_prefix import normalise_prefix, page_base

__all__ = ["MIN_SECRET_BYTES", "Conn", "HubConfig", "HubState", "RoomRuntime"]

#: Shortest hub secret accepted (bytes): it signs every token.
MIN_SECRET_BYTES = 16


@dataclass
class HubConfig:
    """Settings of one hub process.

    Parameters
    ----------
    secret : bytes
        Signs tokens; a client showing it (staff) may create rooms, and so may one showing
        a user key derived from it (:func:`~.tokens.user_key`), for that account only.
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
    max_rooms_per_user: int = 4  # open rooms one user key may hold at a time
    room_ttl_s: int = 4 * 3600
    audit_path: Path | None = None
    recordings_dir: Path | None = None
    prefix: str = "/"  # every route under it ($JUPYTERHUB_SERVICE_PREFIX behind JupyterHub)
    store_url: str | None = None  # SQLAlchemy URL of the room store; None: rooms in memory only

    def __post_init__(self) -> None:
        self.prefix = normalise_prefix(self.prefix)
        if len(self.secret) < MIN_SECRET_BYTES:
            raise UserError(
                f"the hub secret needs at least {MIN_SECRET_BYTES} characters",
                f"le secret du hub demande au moins {MIN_SECRET_BYTES} caractères",
            )

    @property
    def base(self) -> str:
        """Where the pages are seen from outside (invitation links start with it)."""
        return page_base(self.public_url, self.prefix)


@dataclass
class Conn:
    peer: Peer
    room: RoomRuntime
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
class RoomRuntime:
    room: Room
    source: ConsoleSource
    conns: dict[str, Conn] = field(default_factory=dict)
    pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(1))
    recorder: MediaRecorder | None = None
    owner: str | None = None  # the account whose user key opened it (None: staff)
    created: float = field(default_factory=time.time)


class HubState:
    """The rooms, audit log, room store and media relay of one hub, and the fan-out to its
    peers: the part every other part of the hub is given.

    Parameters
    ----------
    config : HubConfig
        Settings of the hub process.
    """

    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.rooms: dict[str, RoomRuntime] = {}
        self.audit = AuditLog(config.audit_path)
        self.relay = MediaRelay()
        self.store = RoomStore(config.store_url) if config.store_url else None
        self._dirty: set[str] = set()
        self._flush_due: asyncio.TimerHandle | None = None
        self._restore()

    def close(self) -> None:
        """Write what is pending and close the store and the audit log."""
        if self._flush_due is not None:
            self._flush_due.cancel()
        self.flush()
        if self.store is not None:
            self.store.close()
        self.audit.close()

    # ------------------------------------------------------------------ the room store
    def _restore(self) -> None:
        """Serve the stored rooms again; control goes back to each trainee, audited."""
        if self.store is None:
            return
        for row in self.store.load(time.time()):
            room = Room(row.room, row.label, row.modality, row.expires, self.config.max_peers)
            room.next_peer, room.state_seq, room.snapshot = row.next_peer, row.state_seq, row.snapshot
            room.annotations = list(row.annotations)
            room.chat.extend(row.chat)
            rt = RoomRuntime(room, ConsoleSource(), owner=row.owner, created=row.created)
            self.rooms[row.room] = rt
            self.audit.append(
                row.room,
                "hub",
                "hub",
                "restore",
                {"why": "hub restart", "control": "trainee", "previous_holder": row.holder_name},
            )
            self.persist(rt)

    def _row(self, rt: RoomRuntime) -> StoredRoom:
        room = rt.room
        holder = room.peers.get(room.lock.holder or "")
        return StoredRoom(
            room=room.id,
            label=room.label,
            modality=room.modality,
            expires=room.expires,
            owner=rt.owner,
            created=rt.created,
            next_peer=room.next_peer,
            state_seq=room.state_seq,
            snapshot=room.snapshot,
            annotations=room.annotations,
            chat=list(room.chat),
            holder_name=holder.name if holder else None,
        )

    def persist(self, rt: RoomRuntime) -> None:
        """Write the room's row now (creation, control changes)."""
        self._dirty.discard(rt.room.id)
        if self.store is not None and rt.room.id in self.rooms:
            self.store.put(self._row(rt))

    def touch(self, rt: RoomRuntime) -> None:
        """The room changed often (state, chat, annotations): write it within half a second."""
        if self.store is None:
            return
        self._dirty.add(rt.room.id)
        if self._flush_due is None:
            self._flush_due = asyncio.get_running_loop().call_later(0.5, self.flush)

    def flush(self) -> None:
        """Write every room changed since the last flush, in one transaction."""
        self._flush_due = None
        rows = [self._row(self.rooms[r]) for r in self._dirty if r in self.rooms]
        self._dirty.clear()
        if rows and self.store is not None:
            self.store.put_many(rows)

    def forget(self, room_id: str) -> RoomRuntime:
        """Close a room: out of memory and out of the store."""
        rt = self.rooms.pop(room_id)
        rt.source.stop()
        self._dirty.discard(room_id)
        if self.store is not None:
            self.store.delete(room_id)
        return rt

    # ------------------------------------------------------------------ fan-out
    def audit_event(self, rt: RoomRuntime, peer: Peer | None, action: str, **detail: Any) -> None:
        event = self.audit.append(
            rt.room.id, peer.name if peer else "hub", peer.role if peer else "hub", action, detail
        )
        self.broadcast(
            rt, m.server_message("audit", event=event.__dict__), roles=("trainee", "instructor")
        )

    def broadcast(
        self,
        rt: RoomRuntime,
        text: str,
        console: bool = False,
        roles: tuple[str, ...] | None = None,
        exclude: str | None = None,
    ) -> None:
        for conn in list(rt.conns.values()):
            if conn.peer.id != exclude and (roles is None or conn.peer.role in roles):
                conn.send(text, console=console)

    def send_control(self, rt: RoomRuntime) -> None:
        """Each peer gets the new control state once (the console on its data channel); the
        store learns who holds control."""
        self.persist(rt)
        text = m.server_message("control", **rt.room.control_view())
        console = rt.room.console_peer()
        self.broadcast(rt, text, exclude=console.id if console else None)
        if console is not None and console.id in rt.conns:
            rt.conns[console.id].send(text, console=True)

    def send_peers(self, rt: RoomRuntime) -> None:
        self.broadcast(
            rt, m.server_message("peers", peers=[p.public() for p in rt.room.peers.values()])
        )

    def ice(self, user: str) -> list[dict[str, object]]:
        return ice_servers(self.config.turn, user, time.time())
