"""Grading the trainee's decisions on a detection AI's findings against the truth.

An attempt carries, under the protocol mapping's ``findings`` key, one record per series
the trainee saw findings on or decided on (:meth:`ConsoleSession.findings_record`)::

    {"series": 1, "protocol": {...}, "geometry": {...},
     "items": [Finding.to_dict(), ...],          # what the detector showed
     "decisions": {"F1": "accept", "F2": "reject"},
     "added": [Decision.to_dict(), ...]}         # the trainee's own marks

The grader scans each record's protocol and geometry with the exercise's seed (the label
grid is the anatomy's, whatever the noise), takes :func:`simulator.findings.truth` of that
series and pairs with :func:`simulator.findings.match`, the rule the detector's own
evaluation uses:

* ``ai_true_accepted``: every AI finding that hits the truth was accepted;
* ``ai_false_rejected``: every AI finding that hits nothing was rejected;
* ``ai_missed_found``: how many lesions the AI did not mark the trainee marked (an own mark
  hits a lesion by the same rule; a mark without a type stands for any type);
* ``ai_false_added``: how many of the trainee's own marks hit no lesion;
* ``ai_decision_score``: the share of right calls over the AI's findings, the lesions it
  missed and the trainee's own marks.

With no record at all (the trainee never looked, never decided) every one of these fails.

An exercise's own solutions (``reference_solution`` / ``typical_wrong_answer``) name their
decisions in a ``findings`` mapping: ``series`` (``start`` or ``submitted``: which
protocol's series), ``decide`` (finding id → accept/reject; ``"*"``: every finding not named), ``accept_at``
(``{slice, row, col}``: accept the finding whose box holds that point, whatever its id) and
``add`` (``{slice, row, col, label}``).
The findings they decide on are the real detector's output on the grader's own scan.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from simulator.exercises import _protocol
from simulator.exercises._measure import Context, Unmeasurable

__all__ = ["FINDINGS_METRICS", "records_of", "measure_findings", "setup_records", "summary"]

FINDINGS_METRICS = (
    "ai_true_accepted",
    "ai_false_rejected",
    "ai_missed_found",
    "ai_false_added",
    "ai_decision_score",
)


def records_of(protocol: Any) -> list[dict[str, Any]]:
    """The findings records an attempt carries (``protocol["findings"]``), or []."""
    if not isinstance(protocol, Mapping):
        return []
    recs = protocol.get("findings")
    if isinstance(recs, Mapping):
        recs = [recs]
    return [dict(r) for r in recs or () if isinstance(r, Mapping)]


def _key(protocol: Any, geometry: Any) -> str:
    return json.dumps([protocol, geometry], sort_keys=True, default=str)


def _scan(ctx: Context, protocol: Mapping[str, Any] | None, geometry: Any) -> Any:
    """The series of a record: the exercise's anatomy scanned with the record's protocol
    and geometry, every slice (truth slice indices must be the console's)."""
    cache = ctx._cache.setdefault("findings_series", {})
    key = _key(protocol, geometry)
    if key not in cache:
        ex = ctx.exercise
        start = _protocol.start_protocol(ex)
        fields = set(_protocol.protocol_fields(ex.modality))
        values = {k: v for k, v in dict(protocol or {}).items() if k in fields}
        proto = _protocol.apply_overrides(start, values) if values else ctx.protocol
        rng = np.random.default_rng(ex.seed)
        if ex.modality == "mr":
            import simulator.mr as mr

            geo = _protocol.make_geometry(ex, geometry if isinstance(geometry, Mapping)
                                          else None, proto)
            anat = mr.load_anatomy(ex.anatomy, pathology=ex.pathology)
            cache[key] = mr.scan(anat, proto, geo, rng=rng)
        else:
            import simulator.pet as pet

            ph = pet.make_phantom(ex.phantom, **ex.phantom_options)
            real = dataclasses.replace(proto, weight_kg=float(ex.patient.weight_kg))
            cache[key] = pet.scan(ph, real, rng=rng, seed=ex.seed)
    return cache[key]


def _as_finding(d: Mapping[str, Any], label: str) -> Any:
    from simulator.findings import Finding

    r, c = d["centre_rc"]
    return Finding(label=label, slice_index=int(d["slice_index"]), centre_rc=(float(r), float(c)),
                   extent_px=(0.0, 0.0), confidence=1.0, text={}, id=str(d["finding_id"]))


def _tally(ctx: Context) -> dict[str, Any]:
    """Right and wrong calls over every record of the attempt (cached per context)."""
    if "findings_tally" in ctx._cache:
        return ctx._cache["findings_tally"]
    from simulator.findings import Finding, match, matches, truth

    recs = getattr(ctx, "findings_records", None) or []
    out: dict[str, Any] = {"records": len(recs), "tp": 0, "tp_accepted": 0, "fp": 0,
                           "fp_rejected": 0, "missed": 0, "missed_found": 0, "own": 0,
                           "own_false": 0}
    for rec in recs:
        series = _scan(ctx, rec.get("protocol"), rec.get("geometry"))
        items = [Finding.from_dict(d) for d in rec.get("items") or ()]
        decisions = {str(k): str(v) for k, v in dict(rec.get("decisions") or {}).items()}
        m = match(items, truth(series))
        out["tp"] += len(m.pairs)
        out["tp_accepted"] += sum(decisions.get(f.id) == "accept" for f, _ in m.pairs)
        out["fp"] += len(m.false_positives)
        out["fp_rejected"] += sum(decisions.get(f.id) == "reject" for f in m.false_positives)
        missed = list(m.missed)
        out["missed"] += len(missed)
        for d in rec.get("added") or ():
            out["own"] += 1
            hit = next(
                (t for t in missed
                 if matches(_as_finding(d, str(d.get("label") or t.label)), t)),
                None,
            )
            if hit is None:
                already = any(matches(_as_finding(d, str(d.get("label") or t.label)), t)
                              for _f, t in m.pairs)
                out["own_false"] += 0 if already else 1  # a second mark on a found lesion
            else:
                missed.remove(hit)
                out["missed_found"] += 1
    ctx._cache["findings_tally"] = out
    return out


def measure_findings(metric: str, ctx: Context) -> Any:
    """The value of one of :data:`FINDINGS_METRICS` for the attempt in ``ctx``."""
    t = _tally(ctx)
    if not t["records"]:
        if metric in ("ai_true_accepted", "ai_false_rejected"):
            return False
        if metric == "ai_false_added":
            raise Unmeasurable("no decision on the AI findings was recorded",
                               "aucune décision sur les résultats IA n'a été enregistrée")
        return 0.0
    if metric == "ai_true_accepted":
        return t["tp_accepted"] == t["tp"]
    if metric == "ai_false_rejected":
        return t["fp_rejected"] == t["fp"]
    if metric == "ai_missed_found":
        return float(t["missed_found"])
    if metric == "ai_false_added":
        return float(t["own_false"])
    total = t["tp"] + t["fp"] + t["missed"] + t["own_false"]
    right = t["tp_accepted"] + t["fp_rejected"] + t["missed_found"]
    return float(right / total) if total else 1.0


def setup_records(exercise: Any, setup: Any, ctx: Context) -> list[dict[str, Any]]:
    """The records of an exercise's own solution: the real detector run on the grader's scan
    of the start (``series: start``) or submitted protocol, with the solution's decisions."""
    spec = getattr(setup, "findings", None)
    if not spec:
        return []
    from simulator.findings import Decision, detect

    if spec.get("series", "submitted") == "start":
        proto = _protocol.protocol_to_dict(_protocol.start_protocol(exercise))
        geo = dict(exercise.start.geometry) if exercise.start.geometry else None
    else:
        proto = _protocol.protocol_to_dict(ctx.protocol)
        geo = dict(setup.geometry) if setup.geometry else None
    series = _scan(ctx, proto, geo)
    setting = getattr(exercise, "findings", None)
    hidden = setting is not None and setting.locked and not setting.shown
    # the AI's output, unless the exercise keeps it hidden (the trainee's own eye is graded)
    items = () if hidden else tuple(detect(series, rng=np.random.default_rng(exercise.seed)))
    named = {str(k): str(v) for k, v in dict(spec.get("decide") or {}).items()}
    rest = named.pop("*", None)  # the call on every finding not named (e.g. all false)
    decisions = {f.id: named.get(f.id, rest) for f in items if f.id in named or rest}
    # ``accept_at``: the finding(s) on a point the author names (robust to the detector's ids)
    from simulator.findings import matches

    for a in spec.get("accept_at") or ():
        spot = _as_finding({"slice_index": a["slice"], "centre_rc": (a["row"], a["col"]),
                            "finding_id": "at"}, "ms_lesion")
        for f in items:
            if matches(dataclasses.replace(spot, label=f.label), f):
                decisions[f.id] = "accept"
    added: Sequence[Mapping[str, Any]] = spec.get("add") or ()
    own = [
        Decision("add", f"T{i + 1}", slice_index=int(a["slice"]),
                 centre_rc=(float(a["row"]), float(a["col"])), label=a.get("label")).to_dict()
        for i, a in enumerate(added)
    ]
    return [{"series": 1, "protocol": proto, "geometry": geo,
             "items": [f.to_dict() for f in items],
             "decisions": {k: v for k, v in decisions.items() if v is not None},
             "added": own}]


def summary(ctx: Context) -> dict[str, Any]:
    """The attempt's tally of calls on the AI findings, for the result's metrics (or {})."""
    t = ctx._cache.get("findings_tally")
    return {"ai_findings": dict(t)} if t else {}
