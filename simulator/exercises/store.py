"""Progress store: trainees, attempts and events behind SQLAlchemy 2.

SQLite by default (:func:`simulator.paths.default_db_url`), PostgreSQL when given a
``postgresql+psycopg://`` URL. A submission is one transaction: it is either all there or
not there at all. On SQLite the database runs in WAL mode with ``synchronous=FULL`` (a
committed attempt survives a crash of the process or of the machine), a busy timeout so
that several trainees' kernels can write at once, and every transaction starts with
``BEGIN IMMEDIATE`` so that two writers never deadlock on a lock upgrade.

Tables
------
trainees(id, username unique, display_name, cohort, created_at)
attempts(id, trainee_id, exercise_id, exercise_version, lang, protocol_json, geometry_json,
         score, passed, objectives_json, error, started_at, submitted_at, time_on_task_s)
events(id, trainee_id, exercise_id, kind, payload_json, at)
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from simulator.errors import UserError
from simulator.exercises._store_reports import ReportsMixin
from simulator.exercises._tables import _aware, _now, attempts, events, metadata, trainees

__all__ = ["ProgressStore", "EVENT_MENTOR_CALLED", "EVENT_EXERCISE_OPENED", "metadata"]

#: Event the console / mentoring panel records when the trainee calls a mentor
#: (payload: {"room": ..., "reason": ...}); the ``mentor_called`` metric reads it.
EVENT_MENTOR_CALLED = "mentor_called"
#: Event the exercise panel records when a trainee opens an exercise (starts the clock).
EVENT_EXERCISE_OPENED = "exercise_opened"

#: SQLite waits this long for another writer before giving up (ms).
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Extra retries on "database is locked" beyond the busy timeout.
_RETRIES = 5


def _setup_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class ProgressStore(ReportsMixin):
    """Where trainees' attempts and events are kept.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL; default :func:`simulator.paths.default_db_url` (``$MERM_DB_URL`` or
        a SQLite file in ``$MERM_HOME``). ``postgresql+psycopg://user@host:port/db`` for a
        school server.

    Examples
    --------
    >>> store = ProgressStore("sqlite://")
    >>> store.record_event("alice", "mentor_called", {"room": "r1"}, exercise_id="ex1")
    >>> store.has_event("alice", "mentor_called", exercise_id="ex1")
    True
    """

    def __init__(self, url: str | None = None) -> None:
        if url is None:
            from simulator.paths import default_db_url

            url = default_db_url()
        self.url = url
        kwargs: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
            if url in ("sqlite://", "sqlite:///:memory:"):
                from sqlalchemy.pool import StaticPool

                kwargs["poolclass"] = StaticPool
        else:
            kwargs["pool_pre_ping"] = True
        try:
            self.engine = create_engine(url, **kwargs)
        except Exception as exc:  # bad URL, missing driver
            raise UserError(f"cannot open the progress database {url!r}: {exc}",
                            f"impossible d'ouvrir la base de progression {url!r} : {exc}") from None
        if self.engine.dialect.name == "sqlite":
            _setup_sqlite(self.engine)
        self._retry(lambda: metadata.create_all(self.engine))

    # ------------------------------------------------------------------ plumbing
    def _retry(self, fn: Any) -> Any:
        delay = 0.05
        for attempt in range(_RETRIES + 1):
            try:
                return fn()
            except OperationalError as exc:
                msg = str(exc).lower()
                transient = "locked" in msg or "busy" in msg or "deadlock" in msg or "could not serialize" in msg
                if not transient or attempt == _RETRIES:
                    raise
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def _trainee_id(self, conn: Connection, username: str, display_name: str | None = None,
                    cohort: str | None = None) -> int:
        row = conn.execute(select(trainees.c.id).where(trainees.c.username == username)).first()
        if row is not None:
            return int(row[0])
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            ins: Any = pg_insert(trainees).on_conflict_do_nothing(index_elements=["username"])
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            ins = sqlite_insert(trainees).on_conflict_do_nothing(index_elements=["username"])
        conn.execute(ins.values(username=username, display_name=display_name or username,
                                cohort=cohort, created_at=_now()))
        row = conn.execute(select(trainees.c.id).where(trainees.c.username == username)).first()
        assert row is not None
        return int(row[0])

    # ------------------------------------------------------------------ writing
    def ensure_trainee(self, username: str, display_name: str | None = None,
                       cohort: str | None = None) -> int:
        """The id of trainee ``username``, created if new."""
        if not username or not isinstance(username, str):
            raise UserError("a trainee needs a user name", "un élève doit avoir un identifiant")

        def run() -> int:
            with self._tx() as conn:
                return self._trainee_id(conn, username, display_name, cohort)

        return int(self._retry(run))

    def set_cohort(self, username: str, cohort: str | None) -> None:
        """Set the cohort of trainee ``username`` (created if new): a sign-in under
        ``merm-lab serve`` names it."""
        tid = self.ensure_trainee(username, cohort=cohort)

        def run() -> None:
            with self._tx() as conn:
                conn.execute(trainees.update().where(trainees.c.id == tid).values(cohort=cohort))

        self._retry(run)

    def record_attempt(
        self,
        username: str,
        exercise_id: str,
        protocol: Mapping[str, Any],
        result: Any,
        *,
        exercise_version: int = 1,
        geometry: Mapping[str, Any] | None = None,
        started_at: datetime | None = None,
        submitted_at: datetime | None = None,
        lang: str | None = None,
    ) -> int:
        """Store one graded submission in one transaction; return the attempt id.

        ``result`` is a :class:`simulator.exercises.grader.GradeResult` (or any object
        with ``score``, ``passed``, ``objectives`` and ``error``).
        """
        submitted = _aware(submitted_at) or _now()
        started = _aware(started_at)
        objectives = [o.to_dict() if hasattr(o, "to_dict") else dict(o) for o in result.objectives]
        row = {
            "exercise_id": exercise_id,
            "exercise_version": int(exercise_version),
            "lang": lang,
            "protocol_json": json.loads(json.dumps(dict(protocol), default=str)),
            "geometry_json": json.loads(json.dumps(dict(geometry), default=str)) if geometry else None,
            "score": float(result.score),
            "passed": bool(result.passed),
            "objectives_json": json.loads(json.dumps(objectives, default=str)),
            "error": getattr(result, "error", None),
            "started_at": started,
            "submitted_at": submitted,
            "time_on_task_s": (submitted - started).total_seconds() if started else None,
        }

        def run() -> int:
            with self._tx() as conn:
                tid = self._trainee_id(conn, username)
                res = conn.execute(attempts.insert().values(trainee_id=tid, **row))
                key = res.inserted_primary_key
                assert key is not None  # an INSERT of one row always has one
                return int(key[0])

        return int(self._retry(run))

    def record_event(self, username: str, kind: str, payload: Mapping[str, Any] | None = None,
                     *, exercise_id: str | None = None, at: datetime | None = None) -> None:
        """Append an event (``mentor_called``, ``exercise_opened``…) for a trainee."""

        def run() -> None:
            with self._tx() as conn:
                tid = self._trainee_id(conn, username)
                conn.execute(events.insert().values(
                    trainee_id=tid, exercise_id=exercise_id, kind=kind,
                    payload_json=json.loads(json.dumps(dict(payload or {}), default=str)),
                    at=_aware(at) or _now()))

        self._retry(run)

    # ------------------------------------------------------------------ reading
    def has_event(self, username: str, kind: str, *, exercise_id: str | None = None,
                  since: datetime | None = None) -> bool:
        """Whether ``username`` has an event ``kind`` (for that exercise, after ``since``)."""
        return bool(self.events(username, kind=kind, exercise_id=exercise_id, since=since))

    def events(self, username: str | None = None, *, kind: str | None = None,
               exercise_id: str | None = None, since: datetime | None = None) -> list[dict[str, Any]]:
        """Events as dicts (username, exercise_id, kind, payload, at), oldest first."""
        q = select(trainees.c.username, events.c.exercise_id, events.c.kind,
                   events.c.payload_json, events.c.at).join(trainees, events.c.trainee_id == trainees.c.id)
        if username is not None:
            q = q.where(trainees.c.username == username)
        if kind is not None:
            q = q.where(events.c.kind == kind)
        if exercise_id is not None:
            q = q.where(events.c.exercise_id == exercise_id)
        if since is not None:
            q = q.where(events.c.at >= _aware(since))
        with self.engine.connect() as conn:
            rows = conn.execute(q.order_by(events.c.id)).all()
        return [{"username": r[0], "exercise_id": r[1], "kind": r[2], "payload": r[3],
                 "at": _aware(r[4])} for r in rows]

    def attempts(self, username: str | None = None, exercise_id: str | None = None,
                 cohort: str | None = None) -> list[dict[str, Any]]:
        """Attempts as dicts, oldest first, with the trainee's ``username`` and ``cohort``."""
        q = select(attempts, trainees.c.username, trainees.c.cohort).join(
            trainees, attempts.c.trainee_id == trainees.c.id)
        if username is not None:
            q = q.where(trainees.c.username == username)
        if exercise_id is not None:
            q = q.where(attempts.c.exercise_id == exercise_id)
        if cohort is not None:
            q = q.where(trainees.c.cohort == cohort)
        with self.engine.connect() as conn:
            rows = conn.execute(q.order_by(attempts.c.id)).mappings().all()
        out = []
        for r in rows:
            d = dict(r)
            d["started_at"] = _aware(d["started_at"])
            d["submitted_at"] = _aware(d["submitted_at"])
            out.append(d)
        return out

    def trainees(self) -> list[dict[str, Any]]:
        """All trainees (id, username, display_name, cohort, created_at)."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(trainees).order_by(trainees.c.username)).mappings()]
