"""The steps an exercise requires before Submit, read from a console snapshot.

One home for the rule: the exercise panel gates Submit on it, and the console's snapshot
carries it to the mentor's page, which shows the trainee's progress.

>>> snap = {"modality": "mr", "screening": "ok", "protocol": {"tr_ms": 500}, "geometry": None,
...         "series": [{"protocol": {"tr_ms": 400}}, {"protocol": {"tr_ms": 500}, "name": "T1"}]}
>>> required_steps(snap)
{'step_screening': True, 'step_series': True}
>>> graded_series(snap)["index"]
1
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: screening states that let a scan start (the console's ``scan_allowed``)
SCREENING_DONE = ("ok", "conditional")


def graded_series(snap: Mapping[str, Any]) -> dict[str, Any] | None:
    """The newest series acquired with the snapshot's current protocol (and geometry)."""
    proto, geo = snap.get("protocol"), snap.get("geometry")
    for i, s in reversed(list(enumerate(snap.get("series") or []))):
        if s.get("protocol") == proto and (geo is None or s.get("geometry") == geo):
            return {"index": i, "number": s.get("number", i + 1), "name": s.get("name", ""),
                    "protocol": s.get("protocol"), "geometry": s.get("geometry")}
    return None


def required_steps(snap: Mapping[str, Any]) -> dict[str, bool]:
    """Each required step and whether it is done, in order.

    ``step_screening`` (MR only: the safety screening validated) and ``step_series`` (a series
    acquired with the current protocol and geometry)."""
    steps = {}
    if snap.get("modality") == "mr":
        steps["step_screening"] = snap.get("screening", "ok") in SCREENING_DONE
    steps["step_series"] = graded_series(snap) is not None
    return steps
