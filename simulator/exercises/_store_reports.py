"""Class-level reports of the progress store: progress per trainee, exercise difficulty, CSV.

A mixin of :class:`simulator.exercises.store.ProgressStore`; it reads through the store's
``attempts`` query and its tables.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import func, select

from simulator.exercises._tables import _aware, attempts, trainees

__all__ = ["ReportsMixin"]


class ReportsMixin:
    """Reports over the attempts table (needs ``engine``, ``attempts()``, the tables)."""

    engine: Any

    def attempts(self, username: str | None = None, exercise_id: str | None = None,
                 cohort: str | None = None) -> list[dict[str, Any]]:
        raise NotImplementedError

    def class_progress(self, cohort: str | None = None) -> list[dict[str, Any]]:
        """One row per (trainee, exercise): attempts, best and last score, passed, time."""
        q = (
            select(
                trainees.c.username, trainees.c.cohort, attempts.c.exercise_id,
                func.count(attempts.c.id).label("attempts"),
                func.max(attempts.c.score).label("best_score"),
                func.max(attempts.c.submitted_at).label("last_submitted"),
                func.sum(attempts.c.time_on_task_s).label("time_on_task_s"),
            )
            .join(trainees, attempts.c.trainee_id == trainees.c.id)
            .group_by(trainees.c.username, trainees.c.cohort, attempts.c.exercise_id)
            .order_by(trainees.c.username, attempts.c.exercise_id)
        )
        if cohort is not None:
            q = q.where(trainees.c.cohort == cohort)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
        passed = {(a["username"], a["exercise_id"]) for a in self.attempts(cohort=cohort) if a["passed"]}
        for r in rows:
            r["passed"] = (r["username"], r["exercise_id"]) in passed
            r["last_submitted"] = _aware(r["last_submitted"])
        return rows

    def exercise_difficulty(self, cohort: str | None = None) -> list[dict[str, Any]]:
        """Per exercise: attempts, trainees, mean score, pass rate (share of trainees who
        passed at least once) and mean attempts until the first pass."""
        per: dict[str, dict[str, Any]] = {}
        for a in self.attempts(cohort=cohort):
            d = per.setdefault(a["exercise_id"], {"scores": [], "users": {}, "passed": set()})
            d["scores"].append(a["score"])
            d["users"].setdefault(a["username"], 0)
            if a["username"] not in d["passed"]:
                d["users"][a["username"]] += 1
            if a["passed"]:
                d["passed"].add(a["username"])
        out = []
        for ex_id in sorted(per):
            d = per[ex_id]
            n_users = len(d["users"])
            tries = [d["users"][u] for u in d["passed"]]
            out.append({
                "exercise_id": ex_id,
                "attempts": len(d["scores"]),
                "trainees": n_users,
                "mean_score": sum(d["scores"]) / len(d["scores"]),
                "pass_rate": len(d["passed"]) / n_users if n_users else 0.0,
                "attempts_to_pass": sum(tries) / len(tries) if tries else None,
            })
        return out

    def export_csv(self, out: Any = None, cohort: str | None = None, exercise_id: str | None = None,
                   username_contains: str | None = None) -> str:
        """Attempts as CSV (one row per attempt, filtered by cohort, exercise and part of the
        user name); written to ``out`` (path or file) if given, and returned as text."""
        buf = io.StringIO()
        cols = ["attempt_id", "username", "cohort", "exercise_id", "exercise_version", "score",
                "passed", "started_at", "submitted_at", "time_on_task_s", "lang", "error"]
        w = csv.writer(buf)
        w.writerow(cols)
        for a in self.attempts(cohort=cohort, exercise_id=exercise_id):
            if username_contains and username_contains.lower() not in a["username"].lower():
                continue
            w.writerow([a["id"], a["username"], a["cohort"] or "", a["exercise_id"],
                        a["exercise_version"], f"{a['score']:.1f}", int(a["passed"]),
                        a["started_at"].isoformat() if a["started_at"] else "",
                        a["submitted_at"].isoformat(),
                        f"{a['time_on_task_s']:.0f}" if a["time_on_task_s"] is not None else "",
                        a["lang"] or "", a["error"] or ""])
        text = buf.getvalue()
        if out is not None:
            if hasattr(out, "write"):
                out.write(text)
            else:
                with open(out, "w", encoding="utf-8", newline="") as f:
                    f.write(text)
        return text
