"""The progress API, whatever server carries it: what a verified caller may record and read.

Both servers (the JupyterHub service :mod:`simulator.progress.service` and the ``serve`` lab
server :mod:`simulator.lab`) verify who is calling, then hand an
:class:`~simulator.progress.identity.Identity` and the request's JSON to
:class:`ProgressAPI`. Nothing here trusts a user name from the body:

* a submission names an exercise, the protocol, the planned geometry and when the exercise
  was opened; the server loads the exercise from ITS course folder, grades the protocol
  itself (the exercise's seed makes the scan reproducible) and records the result under the
  caller's name. The score a kernel computed is never stored;
* a trainee reads their own attempts and events; staff read anyone's and the class reports.

Routes (under the server's prefix: ``/services/merm-progress/`` on JupyterHub, ``/merm/`` on
``serve``):

=======  ====================  =====================================================
POST     ``api/attempts``      ``{exercise_id, protocol, geometry?, started_at?, lang?,
                               series?, for_user?}`` → ``{attempt_id, user, result}``
                               (``for_user``: staff only, ``exercise grade --user``)
GET      ``api/attempts``      ``?user=`` (staff, else own) ``&exercise_id=``
POST     ``api/events``        ``{kind, payload?, exercise_id?, at?}``
GET      ``api/events``        ``?kind=&exercise_id=&since=&user=``
GET      ``api/whoami``        ``{name, staff, cohort}``
GET      ``api/class``         staff: ``{progress, difficulty, trainees}`` (``?cohort=``)
GET      ``instructor.csv``    staff: the attempts as CSV
=======  ====================  =====================================================

Errors are ``{"error": en, "error_fr": fr}`` with 400 (bad body, unknown exercise),
401 (no or forged credential), 403 (another trainee's data, staff pages).
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulator.hospital.progress import EVENT_PACS_SENT
from simulator.progress.identity import Identity

__all__ = ["ApiError", "ProgressAPI", "EVENT_KINDS", "MAX_BODY_BYTES", "to_jsonable"]

#: Events a trainee's console may record about itself (``pacs_sent``: the series the console
#: sent to the PACS, which the instructor dashboard lists and an exercise may require).
EVENT_KINDS = ("exercise_opened", "mentor_called", "hint_shown", "attempt_series", EVENT_PACS_SENT)
#: The largest request body accepted (a protocol and its geometry are a few kB).
MAX_BODY_BYTES = 256 * 1024


class ApiError(Exception):
    """A refused request: HTTP ``status`` and the reason in English and French."""

    def __init__(self, status: int, en: str, fr: str) -> None:
        super().__init__(en)
        self.status, self.en, self.fr = status, en, fr

    def body(self) -> dict[str, Any]:
        return {"error": self.en, "error_fr": self.fr}


UNAUTHENTICATED = ApiError(
    401, "not signed in: no valid credential came with the request",
    "non identifié : la requête ne porte pas d'identifiant valide")
FORBIDDEN_STAFF = ApiError(
    403, "staff only: this page is for the instructors",
    "réservé à l'équipe pédagogique : cette page est pour les formateurs")
FORBIDDEN_OTHER = ApiError(
    403, "a trainee reads their own progress only",
    "un élève ne consulte que sa propre progression")


def to_jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO 8601 strings (JSON-safe)."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v)))


def _time(value: Any, what: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        raise ApiError(400, f"{what}: an ISO 8601 time, e.g. 2026-03-01T09:30:00Z",
                       f"{what} : une heure ISO 8601, p. ex. 2026-03-01T09:30:00Z") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body, or a 400."""
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(400, f"request body over {MAX_BODY_BYTES} bytes",
                       f"corps de requête de plus de {MAX_BODY_BYTES} octets")
    try:
        body = json.loads(raw.decode("utf-8") or "{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body is not JSON", "le corps n'est pas du JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body is a JSON object", "le corps est un objet JSON")
    return body


@dataclass
class _Cached:
    mtime: float
    exercise: Any


class ProgressAPI:
    """The rules of the progress API over one :class:`~simulator.exercises.store.ProgressStore`.

    Parameters
    ----------
    store : ProgressStore
        Where attempts and events go (the only holder of the database URL).
    course : Path, optional
        The course folder whose ``exercises/*.yaml`` grade submissions (default
        :func:`simulator.paths.course_dir`).
    """

    def __init__(self, store: Any, course: Path | None = None) -> None:
        from simulator.paths import course_dir

        self.store = store
        self.course = Path(course) if course is not None else course_dir()
        self._exercises: dict[Path, _Cached] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ exercises
    def exercise(self, exercise_id: Any) -> Any:
        """The course's exercise ``exercise_id`` (reloaded when its file changes), or a 400."""
        from simulator.exercises.loader import load_exercise

        if not isinstance(exercise_id, str) or not exercise_id.strip():
            raise ApiError(400, "exercise_id is missing", "exercise_id manque")
        folder = self.course / "exercises"
        candidates = [folder / f"{exercise_id}.yaml", folder / f"{exercise_id.replace('-', '_')}.yaml"]
        candidates += sorted(p for p in folder.glob("*.yaml") if p not in candidates)
        for path in candidates:
            if not path.is_file() or "/" in exercise_id or "\\" in exercise_id:
                continue
            try:
                mtime = path.stat().st_mtime
                with self._lock:
                    hit = self._exercises.get(path)
                if hit is None or hit.mtime != mtime:
                    hit = _Cached(mtime, load_exercise(path, check_simulator=False))
                    with self._lock:
                        self._exercises[path] = hit
            except Exception:  # a broken file is not this exercise
                continue
            if hit.exercise.id == exercise_id:
                return hit.exercise
        raise ApiError(400, f"unknown exercise {exercise_id!r} in {folder}",
                       f"exercice inconnu {exercise_id!r} dans {folder}")

    # ------------------------------------------------------------------ writing
    def submit(self, who: Identity, body: Mapping[str, Any]) -> dict[str, Any]:
        """Grade a submission on the server and record it under ``who.name``."""
        from simulator.exercises.grader import grade

        name = who.name
        for_user = body.get("for_user")
        if for_user not in (None, "", who.name):
            if not who.staff:
                raise ApiError(403, "only staff record an attempt for another trainee",
                               "seule l'équipe pédagogique enregistre une tentative pour un autre élève")
            if not isinstance(for_user, str) or not for_user.strip() or len(for_user) > 80:
                raise ApiError(400, "for_user is a user name", "for_user est un identifiant")
            name = for_user.strip()
        ex = self.exercise(body.get("exercise_id"))
        protocol = body.get("protocol") or {}
        geometry = body.get("geometry")
        if not isinstance(protocol, dict) or not (geometry is None or isinstance(geometry, dict)):
            raise ApiError(400, "protocol (and geometry) are JSON objects of parameter: value",
                           "protocol (et geometry) sont des objets JSON paramètre: valeur")
        lang = "en" if str(body.get("lang") or "fr").startswith("en") else "fr"
        started = _time(body.get("started_at"), "started_at")
        now = datetime.now(UTC)
        if started is not None and started > now:
            started = now
        extra: dict[str, Any] = {}
        series = body.get("series")
        if isinstance(series, dict) and "series" in inspect.signature(grade).parameters:
            extra["series"] = series  # the console's series this protocol acquired (recorded)
        result = grade(ex, protocol, geometry, lang, store=self.store, user=name, since=started,
                       **extra)
        attempt_id = self.store.record_attempt(
            name, ex.id, protocol, result, exercise_version=ex.version, geometry=geometry,
            started_at=started, submitted_at=now, lang=lang)
        return {"attempt_id": attempt_id, "user": name, "result": to_jsonable(result.to_dict())}

    def record_event(self, who: Identity, body: Mapping[str, Any]) -> dict[str, Any]:
        """Record one of :data:`EVENT_KINDS` for ``who.name``."""
        kind = body.get("kind")
        if kind not in EVENT_KINDS:
            raise ApiError(400, f"event kind is one of {', '.join(EVENT_KINDS)}",
                           f"le type d'événement est l'un de {', '.join(EVENT_KINDS)}")
        payload = body.get("payload") or {}
        if not isinstance(payload, dict):
            raise ApiError(400, "payload is a JSON object", "payload est un objet JSON")
        exercise_id = body.get("exercise_id")
        if exercise_id is not None and not isinstance(exercise_id, str):
            raise ApiError(400, "exercise_id is a string", "exercise_id est une chaîne")
        at = _time(body.get("at"), "at")
        now = datetime.now(UTC)
        self.store.record_event(who.name, str(kind), payload, exercise_id=exercise_id,
                                at=min(at, now) if at else now)
        return {"ok": True, "user": who.name}

    def sign_in(self, who: Identity) -> None:
        """Note a signed-in trainee (name and cohort) in the store (serve)."""
        self.store.ensure_trainee(who.name, who.name, who.cohort)
        if who.cohort:
            self.store.set_cohort(who.name, who.cohort)

    # ------------------------------------------------------------------ reading
    def _whose(self, who: Identity, query: Mapping[str, str]) -> str | None:
        user = query.get("user") or None
        if user is None:
            return None if who.staff and query.get("all") == "1" else who.name
        if user != who.name and not who.staff:
            raise FORBIDDEN_OTHER
        return user

    def attempts(self, who: Identity, query: Mapping[str, str]) -> dict[str, Any]:
        """The caller's attempts (staff: ``?user=`` anyone's, ``?all=1`` everyone's)."""
        rows = self.store.attempts(username=self._whose(who, query),
                                   exercise_id=query.get("exercise_id") or None)
        return {"attempts": to_jsonable(rows)}

    def events(self, who: Identity, query: Mapping[str, str]) -> dict[str, Any]:
        """The caller's events, filtered by ``kind``, ``exercise_id``, ``since``."""
        rows = self.store.events(self._whose(who, query), kind=query.get("kind") or None,
                                 exercise_id=query.get("exercise_id") or None,
                                 since=_time(query.get("since"), "since"))
        return {"events": to_jsonable(rows)}

    def whoami(self, who: Identity) -> dict[str, Any]:
        return {"name": who.name, "staff": who.staff, "cohort": who.cohort}

    def class_report(self, who: Identity, query: Mapping[str, str]) -> dict[str, Any]:
        """Staff: class progress, exercise difficulty and the trainees."""
        if not who.staff:
            raise FORBIDDEN_STAFF
        cohort = query.get("cohort") or None
        return to_jsonable({
            "progress": self.store.class_progress(cohort=cohort),
            "difficulty": self.store.exercise_difficulty(cohort=cohort),
            "trainees": self.store.trainees(),
            "attempts": self.store.attempts(cohort=cohort),
        })

    def csv(self, who: Identity, query: Mapping[str, str]) -> str:
        """Staff: the attempts as CSV (``?cohort=&exercise_id=&trainee=``)."""
        if not who.staff:
            raise FORBIDDEN_STAFF
        return str(self.store.export_csv(cohort=query.get("cohort") or None,
                                         exercise_id=query.get("exercise_id") or None,
                                         username_contains=query.get("trainee") or None))
