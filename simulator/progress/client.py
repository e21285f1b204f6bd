"""The kernel's side of progress: submit attempts and events to the progress server.

:func:`progress_client` picks the transport from the kernel's environment:

* **JupyterHub** — ``$MERM_PROGRESS_URL`` (the ``merm-progress`` service, set in the
  single-user environment by :func:`simulator.progress.spec.user_environment`) and the
  server's ``$JUPYTERHUB_API_TOKEN``, sent as ``Authorization: token …``: the service asks the
  hub whose token it is.
* **merm-lab serve** — ``$MERM_LAB_URL`` (the lab server) and the signed identity cookie that
  Voilà passed as ``$HTTP_COOKIE`` (:mod:`simulator.progress.identity`), sent as
  ``Authorization: Bearer …``.
* **JupyterHub without the service** — :class:`NoProgressService`: every write says plainly
  that nothing is recorded (no trainee writes a database of their own by mistake).
* **Anywhere else** (a personal notebook) — a local
  :class:`~simulator.exercises.store.ProgressStore`.

A remote client grades nothing that counts: the server grades the submitted protocol and
records its own result. A submission that cannot be delivered (server unreachable,
credential refused) raises :class:`ProgressError` with a one-line message in French and
English and is kept in :attr:`ProgressClient.pending` (and in ``$MERM_HOME/pending/``, so a
new kernel of the same trainee sends it too); the next submission retries it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from simulator.errors import UserError
from simulator.progress.identity import kernel_credentials, kernel_display_name

__all__ = ["ProgressError", "ProgressClient", "NoProgressService", "StaffReader", "progress_client",
           "result_from_dict", "submit_remote"]


class ProgressError(UserError):
    """The progress server could not take or give the data (one line, fr/en); ``status`` is
    the HTTP status of a refusal, ``None`` when the server was not reached."""

    def __init__(self, en: str, fr: str | None = None, status: int | None = None) -> None:
        super().__init__(en, fr)
        self.status = status

    @property
    def worth_retrying(self) -> bool:
        """Whether sending the same attempt later may work (unreachable, signed out, 5xx)."""
        return self.status is None or self.status == 401 or self.status >= 500


def result_from_dict(data: Mapping[str, Any]) -> Any:
    """A :class:`~simulator.exercises.grader.GradeResult` from its ``to_dict()`` form."""
    from simulator.exercises.grader import GradeResult, ObjectiveResult

    fields = set(ObjectiveResult.__dataclass_fields__)
    objectives = tuple(ObjectiveResult(**{k: v for k, v in o.items() if k in fields})
                       for o in data.get("objectives") or [])
    extra = {"series": data["series"]} if data.get("series") and "series" in GradeResult.__dataclass_fields__ else {}
    return GradeResult(score=float(data.get("score", 0.0)), objectives=objectives,
                       exercise_id=str(data.get("exercise_id", "")), lang=str(data.get("lang", "fr")),
                       error=data.get("error"), **extra)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


class ProgressClient:
    """An HTTP client of the progress API (see :mod:`simulator.progress.api`).

    Parameters
    ----------
    base_url : str
        The server's prefix, e.g. ``http://127.0.0.1:10102/services/merm-progress/`` or
        ``http://127.0.0.1:8866/merm/``.
    authorization : str or None
        The ``Authorization`` header value (``token …`` or ``Bearer …``).
    user : str
        The name shown in the console (the server records the name it verifies).
    staff_authorization : str, optional
        The header for staff reads (serve: the instructor's signed cookie).
    """

    remote = True

    def __init__(self, base_url: str, authorization: str | None, user: str,
                 staff_authorization: str | None = None, timeout_s: float = 60.0,
                 pending_path: Path | None = None) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.authorization = authorization
        self.staff_authorization = staff_authorization
        self.user = user
        self.timeout_s = timeout_s
        self.pending_path = pending_path
        self.pending: list[dict[str, Any]] = self._load_pending()

    # ------------------------------------------------------------------ kept attempts
    def _load_pending(self) -> list[dict[str, Any]]:
        if self.pending_path is None:
            return []
        try:
            data = json.loads(self.pending_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []

    def _save_pending(self) -> None:
        if self.pending_path is None:
            return
        try:
            if not self.pending:
                self.pending_path.unlink(missing_ok=True)
                return
            self.pending_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.pending_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.pending, default=str), encoding="utf-8")
            tmp.replace(self.pending_path)
        except OSError:
            pass  # kept in memory still

    def _keep(self, body: dict[str, Any]) -> None:
        self.pending.append(body)
        self._save_pending()

    # ------------------------------------------------------------------ transport
    def _request(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                 query: Mapping[str, Any] | None = None, staff: bool = False, raw: bool = False) -> Any:
        auth = self.staff_authorization if staff and self.staff_authorization else self.authorization
        if not auth:
            raise ProgressError(
                "not signed in: open the lab's home page and give your name (nothing was recorded)"
                if "/merm/" in self.base_url else
                "no credential for the progress service (nothing was recorded)",
                "non identifié : ouvrez l'accueil du lab et donnez votre nom (rien n'a été enregistré)"
                if "/merm/" in self.base_url else
                "aucun identifiant pour le service de progression (rien n'a été enregistré)")
        url = self.base_url + path
        q = {k: v for k, v in (query or {}).items() if v is not None}
        if q:
            url += "?" + urllib.parse.urlencode(q)
        data = json.dumps(body, default=str).encode("utf-8") if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers={
            "Authorization": auth, "Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as r:  # noqa: S310 (configured URL)
                text = r.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read().decode("utf-8"))
            except (ValueError, OSError):
                detail = {}
            if exc.code == 401:
                raise ProgressError(
                    "the progress service refused your credential (signed out or token expired): "
                    "reload the page", "le service de progression refuse votre identifiant "
                    "(déconnecté ou jeton expiré) : rechargez la page", 401) from None
            en = detail.get("error") or f"the progress service answered {exc.code}"
            fr = detail.get("error_fr") or f"le service de progression a répondu {exc.code}"
            raise ProgressError(en, fr, exc.code) from None
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ProgressError(f"the progress service does not answer at {self.base_url} ({reason})",
                                f"le service de progression ne répond pas à {self.base_url} ({reason})") from None
        if raw:
            return text
        try:
            return json.loads(text)
        except ValueError:
            raise ProgressError(f"{self.base_url} is not a progress service",
                                f"{self.base_url} n'est pas un service de progression") from None

    # ------------------------------------------------------------------ writing
    def retry_pending(self) -> int:
        """Send the kept submissions again; return how many went through (stops at the
        first failure, which raises)."""
        sent = 0
        while self.pending:
            try:
                self._request("POST", "api/attempts", self.pending[0])
                sent += 1
            except ProgressError as exc:
                if exc.worth_retrying:
                    raise
                # refused for good (an exercise since removed…): sending again cannot help
            self.pending.pop(0)
            self._save_pending()
        return sent

    def submit(self, exercise_id: str, protocol: Mapping[str, Any],
               geometry: Mapping[str, Any] | None = None, *, started_at: datetime | None = None,
               lang: str = "fr", series: Mapping[str, Any] | None = None,
               for_user: str | None = None) -> tuple[int, Any]:
        """Send one attempt; the server grades and records it. Returns (attempt id, the
        server's :class:`~simulator.exercises.grader.GradeResult`). Kept for a retry when it
        cannot be delivered."""
        body = {"exercise_id": exercise_id, "protocol": dict(protocol),
                "geometry": dict(geometry) if geometry else None,
                "started_at": _iso(started_at), "lang": lang,
                "series": json.loads(json.dumps(dict(series), default=str)) if series else None}
        if for_user:
            body["for_user"] = for_user  # staff only: the server refuses it from a trainee
        try:
            self.retry_pending()
        except ProgressError:
            self._keep(body)
            raise
        try:
            answer = self._request("POST", "api/attempts", body)
        except ProgressError as exc:
            if exc.worth_retrying:  # a refused exercise would be refused again
                self._keep(body)
            raise
        return int(answer["attempt_id"]), result_from_dict(answer["result"])

    def record_attempt(self, username: str, exercise_id: str, protocol: Mapping[str, Any], result: Any,
                       *, exercise_version: int = 1, geometry: Mapping[str, Any] | None = None,
                       started_at: datetime | None = None, submitted_at: datetime | None = None,
                       lang: str | None = None) -> int:
        """:meth:`ProgressStore.record_attempt`'s signature: the server re-grades ``protocol``
        (``result`` and ``username`` are not sent)."""
        return self.submit(exercise_id, protocol, geometry, started_at=started_at, lang=lang or "fr")[0]

    def record_event(self, username: str, kind: str, payload: Mapping[str, Any] | None = None,
                     *, exercise_id: str | None = None, at: datetime | None = None) -> None:
        """Record an event for the caller (``username`` is the server's, not sent)."""
        self._request("POST", "api/events", {"kind": kind, "payload": dict(payload or {}),
                                             "exercise_id": exercise_id, "at": _iso(at)})

    # ------------------------------------------------------------------ reading
    def events(self, username: str | None = None, *, kind: str | None = None,
               exercise_id: str | None = None, since: datetime | None = None) -> list[dict[str, Any]]:
        """The caller's events (as the store's ``events``; times as ISO strings)."""
        return list(self._request("GET", "api/events", query={
            "kind": kind, "exercise_id": exercise_id, "since": _iso(since)})["events"])

    def has_event(self, username: str, kind: str, *, exercise_id: str | None = None,
                  since: datetime | None = None) -> bool:
        """Whether the caller has such an event; ``False`` while the server cannot be asked
        (the live objectives then wait: the server's grade on Submit is the one that counts)."""
        try:
            return bool(self.events(username, kind=kind, exercise_id=exercise_id, since=since))
        except ProgressError:
            return False

    def my_attempts(self, exercise_id: str | None = None) -> list[dict[str, Any]]:
        """The caller's own attempts."""
        return list(self._request("GET", "api/attempts", query={"exercise_id": exercise_id})["attempts"])

    def whoami(self) -> dict[str, Any]:
        return dict(self._request("GET", "api/whoami"))

    # ------------------------------------------------------------------ staff reads
    def class_report(self, cohort: str | None = None) -> dict[str, Any]:
        """Staff: progress, difficulty, trainees and attempts (403 for a trainee)."""
        return dict(self._request("GET", "api/class", query={"cohort": cohort}, staff=True))


class StaffReader:
    """The read side of :class:`~simulator.exercises.store.ProgressStore` that the instructor
    dashboard uses, served by the progress server to staff only."""

    def __init__(self, client: ProgressClient) -> None:
        self.client = client
        self._cache: dict[str | None, tuple[float, dict[str, Any]]] = {}

    def _report(self, cohort: str | None = None) -> dict[str, Any]:
        hit = self._cache.get(cohort)
        if hit is not None and time.monotonic() - hit[0] < 2.0:  # one redraw, one request
            return hit[1]
        report = self.client.class_report(cohort)
        self._cache[cohort] = (time.monotonic(), report)
        for row in report.get("progress", []):
            if row.get("last_submitted"):
                row["last_submitted"] = datetime.fromisoformat(row["last_submitted"])
        return report

    def trainees(self) -> list[dict[str, Any]]:
        return list(self._report()["trainees"])

    def attempts(self, username: str | None = None, exercise_id: str | None = None,
                 cohort: str | None = None) -> list[dict[str, Any]]:
        rows = self._report(cohort)["attempts"]
        return [r for r in rows if (username is None or r["username"] == username)
                and (exercise_id is None or r["exercise_id"] == exercise_id)]

    def class_progress(self, cohort: str | None = None) -> list[dict[str, Any]]:
        return list(self._report(cohort)["progress"])

    def exercise_difficulty(self, cohort: str | None = None) -> list[dict[str, Any]]:
        return list(self._report(cohort)["difficulty"])

    def events(self, username: str | None = None, *, kind: str | None = None,
               exercise_id: str | None = None, since: datetime | None = None) -> list[dict[str, Any]]:
        """Anyone's events, read with staff rights (``username`` None: the whole class), e.g.
        the ``pacs_sent`` events of the dashboard's "series sent to PACS" table."""
        return list(self.client._request("GET", "api/events", query={
            "user": username, "all": None if username else "1", "kind": kind,
            "exercise_id": exercise_id, "since": _iso(since)}, staff=True)["events"])

    def export_csv(self, out: Any = None, cohort: str | None = None, exercise_id: str | None = None,
                   username_contains: str | None = None) -> str:
        return str(self.client._request("GET", "instructor.csv", query={
            "cohort": cohort, "exercise_id": exercise_id, "trainee": username_contains},
            staff=True, raw=True))


class NoProgressService:
    """JupyterHub without a progress service: nothing is recorded, and every write says so."""

    remote = True
    pending: list[dict[str, Any]] = []

    def __init__(self, user: str) -> None:
        self.user = user

    def _refuse(self) -> ProgressError:
        return ProgressError(
            "no progress service on this JupyterHub ($MERM_PROGRESS_URL unset): attempts are not recorded",
            "pas de service de progression sur ce JupyterHub ($MERM_PROGRESS_URL absent) : "
            "les tentatives ne sont pas enregistrées")

    def submit(self, *args: Any, **kwargs: Any) -> tuple[int, Any]:
        raise self._refuse()

    def record_attempt(self, *args: Any, **kwargs: Any) -> int:
        raise self._refuse()

    def record_event(self, *args: Any, **kwargs: Any) -> None:
        raise self._refuse()

    def events(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return []

    def has_event(self, *args: Any, **kwargs: Any) -> bool:
        return False

    def class_report(self, cohort: str | None = None) -> dict[str, Any]:
        raise self._refuse()


def submit_remote(client: Any, exercise: Any, protocol: Mapping[str, Any],
                  geometry: Mapping[str, Any] | None, *, lang: str, started_at: datetime | None,
                  series: Mapping[str, Any] | None, local_grade: Any) -> tuple[Any, int | None, str | None]:
    """What the exercise panel does on Submit with a remote client: the server grades and
    records; when it cannot, the console's own grade is shown, the attempt is kept for the
    next try and the one-line reason comes back. Returns (result, attempt id, error text)."""
    try:
        attempt_id, result = client.submit(exercise.id, protocol, geometry, started_at=started_at,
                                           lang=lang, series=series)
    except ProgressError as exc:
        kept = any(p.get("exercise_id") == exercise.id for p in getattr(client, "pending", []))
        tail = ((" — gardée, elle sera renvoyée à la prochaine soumission" if lang == "fr" else
                 " — kept, it will be sent again with your next submission") if kept else "")
        return local_grade(), None, exc.message(lang) + tail
    return result, attempt_id, None


def _pending_path(env: Mapping[str, str], url: str, name: str) -> Path | None:
    """Where the attempts not yet delivered are kept: one file per server and trainee in
    ``$MERM_HOME/pending/`` (several trainees share one home under ``serve``)."""
    home = env.get("MERM_HOME") or str(Path.home() / ".merm-lab")
    key = hashlib.sha256(f"{url}\n{name}".encode()).hexdigest()[:16]
    return Path(home) / "pending" / f"attempts-{key}.json"


def progress_client(environ: Mapping[str, str] | None = None) -> Any:
    """The progress client for this kernel (see the module docstring for the choice)."""
    env = os.environ if environ is None else environ
    hub_url, token = env.get("MERM_PROGRESS_URL"), env.get("JUPYTERHUB_API_TOKEN")
    name = kernel_display_name(dict(env)) or env.get("USER") or "trainee"
    if hub_url:
        return ProgressClient(hub_url, f"token {token}" if token else None, name,
                              staff_authorization=f"token {token}" if token else None,
                              pending_path=_pending_path(env, hub_url, name))
    if env.get("MERM_LAB_URL"):
        creds = kernel_credentials(dict(env))
        lab = env["MERM_LAB_URL"].rstrip("/") + "/merm/"
        return ProgressClient(lab, f"Bearer {creds['trainee']}" if "trainee" in creds else None, name,
                              staff_authorization=f"Bearer {creds['staff']}" if "staff" in creds else None,
                              pending_path=_pending_path(env, lab, name))
    if env.get("JUPYTERHUB_USER"):
        return NoProgressService(name)
    from simulator.exercises.store import ProgressStore

    return ProgressStore()
