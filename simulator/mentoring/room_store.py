"""Where the hub keeps its rooms, so that a restarted hub serves them again.

One table, ``merm_hub_rooms``, through SQLAlchemy: a SQLite file in the hub's data folder by
default, or the engine URL of the progress store (``$MERM_DB_URL``, PostgreSQL in a school)
when one is configured; the table's name keeps it apart from the progress tables. A row
holds what a room must keep across a restart: label, modality, expiry, owner, the next peer
number, the latest console snapshot, annotations, the chat, and who held control (control
itself returns to the trainee after a restart; the hub audits it). Peers, WebRTC and pending
commands are not kept: they reconnect.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from simulator.errors import UserError

__all__ = ["StoredRoom", "RoomStore"]

_META = sa.MetaData()
_ROOMS = sa.Table(
    "merm_hub_rooms",
    _META,
    sa.Column("room", sa.String(64), primary_key=True),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("modality", sa.String(8), nullable=False),
    sa.Column("expires", sa.BigInteger, nullable=False),
    sa.Column("owner", sa.String(200), nullable=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("next_peer", sa.Integer, nullable=False, default=1),
    sa.Column("state_seq", sa.Integer, nullable=False, default=0),
    sa.Column("snapshot", sa.Text, nullable=True),
    sa.Column("annotations", sa.Text, nullable=False, default="[]"),
    sa.Column("chat", sa.Text, nullable=False, default="[]"),
    sa.Column("holder_name", sa.String(200), nullable=True),
)


def _shown(url: str) -> str:
    """The URL without its password, for a message."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        return "(a malformed URL)"


@dataclass
class StoredRoom:
    """One row: what a restarted hub needs to serve the room again."""

    room: str
    label: str
    modality: str
    expires: int
    owner: str | None
    created: float
    next_peer: int = 1
    state_seq: int = 0
    snapshot: dict[str, Any] | None = None
    annotations: list[dict[str, Any]] = field(default_factory=list)
    chat: list[dict[str, Any]] = field(default_factory=list)
    holder_name: str | None = None


class RoomStore:
    """The rooms of a hub in a SQL database.

    Parameters
    ----------
    url : str
        SQLAlchemy engine URL (``sqlite:////home/x/.merm-lab/hub-rooms.sqlite``,
        ``postgresql+psycopg://…``).
    """

    def __init__(self, url: str) -> None:
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        try:
            self.engine = sa.create_engine(url, **kwargs)
            self._open(url)
        except (sa.exc.SQLAlchemyError, ImportError, ValueError) as exc:
            where = _shown(url)
            raise UserError(
                f"the hub's room store {where} cannot be opened ({type(exc).__name__})",
                f"le stockage des salles du hub {where} ne s'ouvre pas ({type(exc).__name__})",
            ) from None

    def _open(self, url: str) -> None:
        if url.startswith("sqlite"):

            @sa.event.listens_for(self.engine, "connect")
            def _wal(dbapi_conn: Any, _record: Any) -> None:
                # WAL, synced at checkpoints: a killed hub loses nothing committed, a power cut
                # at most the last commits (the audit log is the record; this is the resume)
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

        _META.create_all(self.engine)

    def load(self, now: float) -> list[StoredRoom]:
        """The rooms not yet expired, oldest first; expired rows are deleted."""
        with self.engine.begin() as conn:
            conn.execute(sa.delete(_ROOMS).where(_ROOMS.c.expires <= now))
            rows = conn.execute(sa.select(_ROOMS).order_by(_ROOMS.c.created)).mappings().all()
        return [
            StoredRoom(
                room=r["room"],
                label=r["label"],
                modality=r["modality"],
                expires=int(r["expires"]),
                owner=r["owner"],
                created=float(r["created"]),
                next_peer=int(r["next_peer"]),
                state_seq=int(r["state_seq"]),
                snapshot=json.loads(r["snapshot"]) if r["snapshot"] else None,
                annotations=json.loads(r["annotations"]),
                chat=json.loads(r["chat"]),
                holder_name=r["holder_name"],
            )
            for r in rows
        ]

    def put(self, room: StoredRoom) -> None:
        """Insert or replace a room's row."""
        self.put_many([room])

    def put_many(self, rooms: list[StoredRoom]) -> None:
        """Insert or replace rows, in one transaction (one sync to disk)."""
        with self.engine.begin() as conn:
            for room in rooms:
                values = _values(room)
                done = conn.execute(
                    sa.update(_ROOMS).where(_ROOMS.c.room == room.room).values(**values)
                )
                if done.rowcount == 0:
                    conn.execute(sa.insert(_ROOMS).values(**values))

    def delete(self, room: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(_ROOMS).where(_ROOMS.c.room == room))

    def close(self) -> None:
        self.engine.dispose()


def _values(room: StoredRoom) -> dict[str, Any]:
    return {
        "room": room.room,
        "label": room.label,
        "modality": room.modality,
        "expires": room.expires,
        "owner": room.owner,
        "created": room.created,
        "next_peer": room.next_peer,
        "state_seq": room.state_seq,
        "snapshot": None if room.snapshot is None else json.dumps(room.snapshot, default=str),
        "annotations": json.dumps(room.annotations, default=str),
        "chat": json.dumps(room.chat, default=str),
        "holder_name": room.holder_name,
    }
