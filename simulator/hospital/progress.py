"""What the progress store keeps of a Send to PACS: one ``pacs_sent`` event per send, with
each series' outcome, for the instructor's dashboard and the "series sent to PACS" objective.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

__all__ = ["EVENT_PACS_SENT", "record_send", "pacs_rows", "pacs_table_html", "all_sent"]

#: Event kind recorded after each send (payload: PACS, study, series with their state).
EVENT_PACS_SENT = "pacs_sent"


def all_sent(payload: dict[str, Any]) -> bool:
    """Whether a ``pacs_sent`` event's series all reached the PACS (and there was one)."""
    series = payload.get("series") or []
    return bool(series) and all(s.get("state") == "sent" for s in series)


def record_send(
    store: Any, user: str, statuses: Sequence[Any], *, pacs: str, exercise_id: str | None = None
) -> None:
    """Record one send of ``user``'s series (``SeriesStatus`` list) as a ``pacs_sent`` event."""
    if not statuses:
        return
    payload = {
        "pacs": pacs,
        "study_uid": statuses[0].study_uid,
        "series": [
            {
                "number": s.number,
                "description": s.description,
                "series_uid": s.series_uid,
                "state": s.state,
                "reason": s.reason_en,
                "viewer_url": s.viewer_url,
            }
            for s in statuses
        ],
    }
    payload["all_sent"] = all_sent(payload)
    store.record_event(user, EVENT_PACS_SENT, payload, exercise_id=exercise_id)


def pacs_rows(store: Any, username: str | None = None) -> list[dict[str, Any]]:
    """One row per series sent or tried: username, at, exercise, PACS, number, description,
    state, reason — the latest outcome of each series first per trainee."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for ev in store.events(username, kind=EVENT_PACS_SENT):
        payload = ev.get("payload") or {}
        for s in payload.get("series") or []:
            latest[(ev["username"], str(s.get("series_uid")))] = {
                "username": ev["username"],
                "at": ev.get("at"),
                "exercise_id": ev.get("exercise_id"),
                "pacs": payload.get("pacs", ""),
                "number": s.get("number"),
                "description": s.get("description", ""),
                "state": s.get("state", ""),
                "reason": s.get("reason", ""),
            }
    return sorted(latest.values(), key=lambda r: (r["username"], str(r["at"]), r["number"] or 0))


_HEAD = {
    "fr": ("Stagiaire", "Exercice", "PACS", "Série", "Description", "État", "Quand"),
    "en": ("Trainee", "Exercise", "PACS", "Series", "Description", "State", "When"),
}
_STATE = {"fr": {"sent": "envoyée", "failed": "échec"}, "en": {"sent": "sent", "failed": "failed"}}


def pacs_table_html(rows: Sequence[dict[str, Any]], lang: str = "fr") -> str:
    """The rows as an HTML table (``.merm-pacs-sent``); empty string when there are none."""
    if not rows:
        return ""
    lang = "en" if lang == "en" else "fr"
    head = "".join(f"<th>{h}</th>" for h in _HEAD[lang])
    body = []
    for r in rows:
        state = _STATE[lang].get(r["state"], r["state"])
        if r["state"] != "sent" and r["reason"]:
            state += f": {r['reason']}"
        at = r["at"].strftime("%Y-%m-%d %H:%M") if hasattr(r["at"], "strftime") else str(r["at"])
        cells = (
            r["username"],
            r["exercise_id"] or "",
            r["pacs"],
            r["number"],
            r["description"],
            state,
            at,
        )
        body.append(
            f"<tr data-state='{html.escape(str(r['state']))}'>"
            + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
            + "</tr>"
        )
    return f"<table class='merm-pacs-sent'><tr>{head}</tr>{''.join(body)}</table>"
