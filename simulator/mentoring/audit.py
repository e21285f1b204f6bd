"""Append-only audit log of a hub: who did what, when, in which room.

Events are kept in memory and appended as JSON lines to a file (never rewritten);
:func:`to_csv` and :meth:`AuditLog.events` export one room for the debrief.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["ACTIONS", "AuditEvent", "AuditLog", "to_csv"]

ACTIONS = (
    "create", "close", "join", "leave", "request", "grant", "refuse", "release", "take_back",
    "command", "command_refused", "confirm_request", "confirm", "annotate",
    "clear_annotations", "chat", "consent", "recording_start", "recording_stop",
)  # fmt: skip


@dataclass(frozen=True)
class AuditEvent:
    """One line of the log.

    Parameters
    ----------
    seq : int
        Position in the hub's log (strictly increasing).
    time : str
        UTC ISO 8601 with milliseconds.
    room, actor, role, action : str
        ``action`` is one of :data:`ACTIONS`.
    detail : dict
        Action-specific (command with ``before``/``after``, chat text…).
    """

    seq: int
    time: str
    room: str
    actor: str
    role: str
    action: str
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown audit action {self.action!r}")


class AuditLog:
    """Append-only log, in memory and (optionally) in a JSON-lines file.

    Parameters
    ----------
    path : Path, optional
        File appended to (created with its folder); ``None`` keeps memory only.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._events: list[AuditEvent] = []
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():  # a restarted hub: the export and the numbering go on
                self._events = [_event(json.loads(line)) for line in _lines(path)]

    def append(
        self,
        room: str,
        actor: str,
        role: str,
        action: str,
        detail: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> AuditEvent:
        """Record one event and return it."""
        when = (now or datetime.now(UTC)).astimezone(UTC)
        event = AuditEvent(
            seq=(self._events[-1].seq if self._events else 0) + 1,
            time=when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            room=room,
            actor=actor,
            role=role,
            action=action,
            detail=dict(detail or {}),
        )
        self._events.append(event)
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(asdict(event), default=str, ensure_ascii=False) + "\n")
        return event

    def events(self, room: str | None = None) -> list[AuditEvent]:
        """Events in order, of one room or all."""
        return [e for e in self._events if room is None or e.room == room]


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _event(obj: dict[str, Any]) -> AuditEvent:
    return AuditEvent(
        **{k: obj[k] for k in ("seq", "time", "room", "actor", "role", "action")},
        detail=obj.get("detail", {}),
    )


def to_csv(events: list[AuditEvent]) -> str:
    """CSV text (header ``seq,time,room,actor,role,action,detail``; detail as JSON)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["seq", "time", "room", "actor", "role", "action", "detail"])
    for e in events:
        writer.writerow(
            [
                e.seq,
                e.time,
                e.room,
                e.actor,
                e.role,
                e.action,
                json.dumps(e.detail, default=str, ensure_ascii=False),
            ]
        )
    return buf.getvalue()
