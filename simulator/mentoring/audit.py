"""Append-only, hash-chained audit log of a hub: who did what, when, in which room.

Each event is one line of canonical JSON carrying the hash of the line before it
(:mod:`.audit_chain`). Each line is written to the file (flushed to the operating system)
before the hub goes on, so a killed hub loses nothing it acknowledged; a background thread
fsyncs the file as soon as lines are waiting (group commit, so the hub never waits on the
disk), so a power cut loses at most the lines of the last few milliseconds. The log
rotates by size or by UTC day: the full file is renamed ``<stem>.<first seq>.jsonl`` and
the next line, in a fresh file, carries the previous file's head as its ``prev`` and the
next ``seq``. A restarted hub reads every file of the log back, so numbering, chain and
exports go on. :func:`to_csv` and :meth:`AuditLog.events` export one room for the debrief;
:func:`verify_file` checks a file (``merm-lab hub --verify-audit``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from .audit_chain import GENESIS, ChainBroken, ChainSummary, canonical, line_hash, verify_lines

__all__ = ["ACTIONS", "AuditEvent", "AuditLog", "log_files", "to_csv", "verify_file"]

#: Rotate when the file would pass this size (bytes).
ROTATE_BYTES = 64 * 1024 * 1024

ACTIONS = (
    "create", "close", "join", "leave", "request", "grant", "refuse", "release", "take_back",
    "command", "command_refused", "confirm_request", "confirm", "annotate",
    "clear_annotations", "chat", "consent", "recording_start", "recording_stop", "restore",
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
    prev, hash : str
        Hash of the line before, and of this line (:func:`.audit_chain.line_hash`).
    """

    seq: int
    time: str
    room: str
    actor: str
    role: str
    action: str
    detail: dict[str, Any] = field(default_factory=dict)
    prev: str = GENESIS
    hash: str = ""

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown audit action {self.action!r}")


class AuditLog:
    """Append-only chained log, in memory and (optionally) in JSON-lines files.

    Parameters
    ----------
    path : Path, optional
        The file appended to (created with its folder); ``None`` keeps memory only.
        Rotated files lie next to it as ``<stem>.<first seq>.jsonl``.
    rotate_bytes : int
        Size past which the file rotates.
    rotate_daily : bool
        Also rotate when the UTC day changes.
    """

    def __init__(
        self, path: Path | None = None, rotate_bytes: int = ROTATE_BYTES, rotate_daily: bool = True
    ) -> None:
        self.path = path
        self.rotate_bytes, self.rotate_daily = rotate_bytes, rotate_daily
        self._events: list[AuditEvent] = []
        self._by_room: dict[str, list[AuditEvent]] = {}
        self._fh: IO[str] | None = None
        self._syncer = _Syncer()
        self._size = 0
        self._day: str | None = None  # UTC day of the open file's first line
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            _set_aside_unchained(path)
            for file in log_files(path):  # a restarted hub: numbering, chain, exports go on
                for line in file.read_text(encoding="utf-8").splitlines():
                    if line.strip():
                        self._remember(_event(json.loads(line)))
            if path.exists():
                self._size = path.stat().st_size
                first = path.open(encoding="utf-8").readline()
                self._day = json.loads(first)["time"][:10] if first.strip() else None

    @property
    def head(self) -> dict[str, Any]:
        """``{"seq", "hash"}`` of the last line (``seq`` 0 and the genesis hash when empty)."""
        last = self._events[-1] if self._events else None
        return {"seq": last.seq if last else 0, "hash": last.hash if last else GENESIS}

    def _remember(self, event: AuditEvent) -> None:
        self._events.append(event)
        self._by_room.setdefault(event.room, []).append(event)

    def append(
        self,
        room: str,
        actor: str,
        role: str,
        action: str,
        detail: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> AuditEvent:
        """Record one event (written to its file first, when there is one) and return it."""
        when = (now or datetime.now(UTC)).astimezone(UTC)
        head = self.head
        obj: dict[str, Any] = {
            "seq": head["seq"] + 1,
            "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "room": room,
            "actor": actor,
            "role": role,
            "action": action,
            # JSON-clean first, so the hash is over exactly what is written and read back
            "detail": json.loads(json.dumps(dict(detail or {}), default=str)),
            "prev": head["hash"],
        }
        event = _event(obj | {"hash": line_hash(obj)})  # checks the action
        if self.path is not None:
            self._write(canonical(asdict(event)) + "\n", obj["time"][:10])
        self._remember(event)
        return event

    def _write(self, line: str, day: str) -> None:
        assert self.path is not None
        data = line.encode("utf-8")
        if self._size and (
            self._size + len(data) > self.rotate_bytes or (self.rotate_daily and day != self._day)
        ):
            self._rotate()
        if self._fh is None:
            self._fh = self.path.open("a", encoding="utf-8")
        if not self._size:
            self._day = day
        self._fh.write(line)
        self._fh.flush()
        self._syncer.due(self._fh.fileno())
        self._size += len(data)

    def _rotate(self) -> None:
        """Rename the full file after its first seq; the next line opens a fresh one."""
        assert self.path is not None
        if self._fh is not None:
            os.fsync(self._fh.fileno())
            self._syncer.forget()
            self._fh.close()
            self._fh = None
        first = json.loads(self.path.open(encoding="utf-8").readline())["seq"]
        self.path.rename(_rotated_name(self.path, first))
        _fsync_dir(self.path.parent)
        self._size, self._day = 0, None

    def close(self) -> None:
        if self._fh is not None:
            os.fsync(self._fh.fileno())
            self._syncer.forget()
            self._fh.close()
            self._fh = None
        self._syncer.stop()

    def sync(self) -> None:
        """Wait until every line written so far is fsynced."""
        self._syncer.wait()

    def events(self, room: str | None = None) -> list[AuditEvent]:
        """Events in order, of one room or all."""
        return list(self._events if room is None else self._by_room.get(room, []))

    def knows(self, room: str) -> bool:
        """Whether any line of the log names ``room``."""
        return room in self._by_room


def _set_aside_unchained(path: Path) -> None:
    """A log written before the chain (protocol v1, lines without ``hash``) is kept as
    ``<file>.v1.old``, outside the chain, which starts afresh."""
    if path.exists():
        first = path.open(encoding="utf-8").readline()
        if first.strip() and "hash" not in json.loads(first):
            path.rename(path.with_name(path.name + ".v1.old"))


def _rotated_name(path: Path, first_seq: int) -> Path:
    return path.with_name(f"{path.stem}.{first_seq:010d}{path.suffix}")


def log_files(path: Path) -> list[Path]:
    """The files of the log whose open file is ``path``, oldest first (rotated, then it)."""
    rotated = sorted(path.parent.glob(f"{path.stem}.[0-9]*{path.suffix}"))
    return rotated + ([path] if path.exists() else [])


class _Syncer:
    """A thread that fsyncs the open file whenever lines were written since the last fsync
    (group commit); the hub's loop never waits on the disk."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._fd: int | None = None
        self._written = self._synced = 0
        self._stopped = False
        self._thread: threading.Thread | None = None

    def due(self, fd: int) -> None:
        with self._cond:
            self._fd = fd
            self._written += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit-fsync", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._written == self._synced and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                fd, upto = self._fd, self._written
            if fd is not None:
                try:
                    os.fsync(fd)
                except OSError:  # closed under us (rotation fsyncs it itself)
                    pass
            with self._cond:
                self._synced = max(self._synced, upto)
                self._cond.notify_all()

    def wait(self, timeout_s: float = 10.0) -> None:
        with self._cond:
            target = self._written
            self._cond.wait_for(lambda: self._synced >= target or self._fd is None, timeout_s)

    def forget(self) -> None:
        """The file is being closed (after its own fsync): nothing left to sync in it."""
        with self._cond:
            self._fd, self._synced = None, self._written
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _event(obj: dict[str, Any]) -> AuditEvent:
    keys = ("seq", "time", "room", "actor", "role", "action")
    return AuditEvent(
        **{k: obj[k] for k in keys},
        detail=obj.get("detail", {}),
        prev=obj.get("prev", GENESIS),
        hash=obj.get("hash", ""),
    )


def _first_seq(path: Path) -> int | None:
    try:
        with path.open(encoding="utf-8") as fh:
            return int(json.loads(fh.readline())["seq"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _previous_file(path: Path, first_seq: int) -> Path | None:
    """The file of the same log next to ``path`` that comes just before it (the one with the
    greatest first seq below ``first_seq``), if any."""
    base = path.name.split(".")[0]
    siblings = [path.with_name(base + path.suffix), *log_files(path.with_name(base + path.suffix))]
    best: tuple[int, Path] | None = None
    for candidate in set(siblings):
        start = _first_seq(candidate) if candidate != path and candidate.exists() else None
        if start is not None and start < first_seq and (best is None or start > best[0]):
            best = (start, candidate)
    return best[1] if best else None


def verify_file(path: Path) -> tuple[ChainSummary, str]:
    """Check one file of the log; when it continues a rotated file lying next to it, check
    that the link holds too. Returns the summary and a sentence on where the file starts.

    Raises
    ------
    ChainBroken
        At the first edited, missing, reordered or inserted line.
    OSError, UnicodeDecodeError
        When the file cannot be read.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    summary = verify_lines(lines)
    if summary.prev == GENESIS:
        return summary, "starts the log"
    before = _previous_file(path, summary.first_seq)
    if before is None:
        return summary, f"continues seq {summary.first_seq - 1} (its file was not found here)"
    try:
        previous = verify_lines(before.read_text(encoding="utf-8").splitlines())
    except ChainBroken as exc:
        raise ChainBroken(
            1, summary.first_seq, f"the file before it, {before.name}: {exc}"
        ) from None
    if previous.last_seq != summary.first_seq - 1:
        raise ChainBroken(
            1,
            summary.first_seq,
            f"missing: {before.name} ends at seq {previous.last_seq}, "
            f"this file starts at {summary.first_seq}",
        )
    if previous.head != summary.prev:
        raise ChainBroken(1, summary.first_seq, f"prev does not match the head of {before.name}")
    return summary, f"continues {before.name}"


def to_csv(events: list[AuditEvent]) -> str:
    """CSV text (header ``seq,time,room,actor,role,action,detail,prev,hash``; detail as
    JSON)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["seq", "time", "room", "actor", "role", "action", "detail", "prev", "hash"])
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
                e.prev,
                e.hash,
            ]
        )
    return buf.getvalue()
