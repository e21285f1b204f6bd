"""Structural rules of an exercise file: keys, types, required fields (no simulator needed).

:func:`structural_errors` returns ``(path, message)`` pairs; the loader maps each path to
the line it comes from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from simulator.exercises.objectives import METRICS, OPS

__all__ = ["structural_errors", "PATIENT_STATES", "ARG_KEYS"]

PATIENT_STATES = ("calm", "anxious", "claustrophobic", "in_pain", "agitated")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")

Problem = tuple[tuple[str | int, ...], str]

# --------------------------------------------------------------------------- structure

_TOP = {
    "id": str,
    "version": int,
    "title": "text",
    "brief": "text",
    "modality": str,
    "anatomy": (str, type(None)),
    "phantom": (str, type(None)),
    "phantom_options": dict,
    "pathology": (str, type(None)),
    "patient": dict,
    "start": dict,
    "editable": list,
    "objectives": list,
    "hints": list,
    "seed": int,
    "grade_slices": (list, type(None)),
    "reference_solution": dict,
    "typical_wrong_answer": dict,
    "level": int,
    "tags": list,
    "findings": dict,
}
_REQUIRED = (
    "id", "version", "title", "brief", "modality", "patient", "start", "editable",
    "objectives", "seed", "reference_solution", "typical_wrong_answer",
)
_PATIENT = {"name": str, "age": int, "weight_kg": (int, float), "indication": "text",
            "state": str, "implants": list}
_OBJECTIVE = {"id": str, "metric": str, "op": str, "value": (int, float, bool), "range": list,
              "weight": (int, float), "feedback": dict, "tissues": list, "tissue": str,
              "structure": str, "sphere_mm": (int, float), "name": str, "region": str}
_ARG_KEYS = ("tissues", "tissue", "structure", "sphere_mm", "name", "region")
_SETUP = {"overrides": dict, "geometry": (dict, type(None)), "events": list, "findings": dict}
#: ``findings:`` of an exercise: whether the AI findings start shown, and locked so.
_FINDINGS = {"shown": bool, "locked": bool}
#: ``findings:`` of a solution: the series decided on and the decisions.
_SETUP_FINDINGS = {"series": str, "decide": dict, "add": list, "accept_at": list}
_ADD = {"slice": int, "row": (int, float), "col": (int, float), "label": (str, type(None))}


def _findings_errors(data: dict[str, Any]) -> list[Problem]:
    """The AI-findings keys of an exercise and of its solutions."""
    from simulator.findings.finding import FINDING_LABELS

    out: list[Problem] = []
    if isinstance(data.get("findings"), dict):
        out += _mapping_errors(data["findings"], _FINDINGS, ("findings",), "findings")
    for key in ("reference_solution", "typical_wrong_answer"):
        spec = data.get(key, {}).get("findings") if isinstance(data.get(key), dict) else None
        if not isinstance(spec, dict):
            continue
        path: tuple[str | int, ...] = (key, "findings")
        out += _mapping_errors(spec, _SETUP_FINDINGS, path, "findings")
        if spec.get("series", "submitted") not in ("start", "submitted"):
            out.append((path + ("series",), "'series' is start or submitted"))
        for fid, kind in dict(spec.get("decide") or {}).items() if isinstance(
                spec.get("decide"), dict) else ():
            if kind not in ("accept", "reject"):
                out.append((path + ("decide", str(fid)), "a decision is accept or reject"))
        for i, a in enumerate(spec.get("accept_at") or [] if isinstance(spec.get("accept_at"), list)
                              else []):
            if not (isinstance(a, dict) and all(_is(a.get(k), _ADD[k]) for k in ("slice", "row", "col"))):
                out.append((path + ("accept_at", i), "a point to accept is {slice, row, col}"))
        for i, a in enumerate(spec.get("add") or [] if isinstance(spec.get("add"), list) else []):
            if not isinstance(a, dict):
                out.append((path + ("add", i), "an added finding is {slice, row, col, label}"))
                continue
            out += _mapping_errors(a, _ADD, path + ("add", i), "an added finding")
            for k in ("slice", "row", "col"):
                if k not in a:
                    out.append((path + ("add", i), f"an added finding needs '{k}'"))
            if a.get("label") is not None and a.get("label") not in FINDING_LABELS:
                out.append((path + ("add", i, "label"),
                            f"unknown finding type (known: {', '.join(FINDING_LABELS)})"))
    return out
_START = {"preset": (str, type(None)), "overrides": dict, "geometry": (dict, type(None))}

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true/false",
               dict: "a mapping", list: "a list", type(None): "null"}


def _tname(t: Any) -> str:
    if t == "text":
        return "a mapping {fr: ..., en: ...}"
    if isinstance(t, tuple):
        return " or ".join(_TYPE_NAMES.get(x, str(x)) for x in t)
    return _TYPE_NAMES.get(t, str(t))


def _is(value: Any, t: Any) -> bool:
    if t == "text":
        return isinstance(value, dict)
    types = t if isinstance(t, tuple) else (t,)
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def _text_errors(value: Any, path: tuple[str | int, ...]) -> list[Problem]:
    if not isinstance(value, dict):
        return [(path, "expected a mapping {fr: ..., en: ...}")]
    out: list[Problem] = []
    for k in value:
        if k not in ("fr", "en", "de"):
            out.append((path + (k,), f"unknown language '{k}' (expected fr, en, de)"))
    if "de" in value and (not isinstance(value["de"], str) or not value["de"].strip()):
        out.append((path + ("de",), "'de' must be a non-empty string"))
    for lang in ("fr", "en"):
        if lang not in value:
            out.append((path, f"missing '{lang}' text"))
        elif not isinstance(value[lang], str) or not value[lang].strip():
            out.append((path + (lang,), f"'{lang}' must be a non-empty string"))
    return out


def _mapping_errors(data: dict[str, Any], spec: Mapping[str, Any], path: tuple[str | int, ...],
                    what: str) -> list[Problem]:
    out: list[Problem] = []
    for key, value in data.items():
        if key not in spec:
            out.append((path + (key,), f"unknown key '{key}' in {what} (allowed: {', '.join(spec)})"))
            continue
        t = spec[key]
        if t == "text":
            out += _text_errors(value, path + (key,))
        elif not _is(value, t):
            out.append((path + (key,), f"'{key}' must be {_tname(t)}, not {type(value).__name__}"))
    return out


def _objective_errors(obj: Any, path: tuple[str | int, ...]) -> list[Problem]:
    if not isinstance(obj, dict):
        return [(path, "an objective must be a mapping")]
    out = _mapping_errors(obj, _OBJECTIVE, path, "objective")
    for key in ("id", "metric", "op", "feedback"):
        if key not in obj:
            out.append((path, f"objective is missing '{key}'"))
    metric = obj.get("metric")
    op = obj.get("op")
    if isinstance(metric, str) and metric not in METRICS:
        out.append((path + ("metric",), f"unknown metric '{metric}' (known: {', '.join(sorted(METRICS))})"))
    if isinstance(op, str) and op not in OPS:
        out.append((path + ("op",), f"unknown op '{op}' (allowed: {', '.join(OPS)})"))
    if isinstance(metric, str) and metric in METRICS and isinstance(op, str) and op in OPS:
        spec = METRICS[metric]
        if spec.kind == "bool" and op not in ("present", "absent", "=="):
            out.append((path + ("op",), f"metric '{metric}' is yes/no: use present, absent or =="))
        if spec.kind == "number" and op in ("present", "absent"):
            out.append((path + ("op",), f"metric '{metric}' is a number: use <=, >=, == or between"))
        for arg in spec.args:
            if arg not in obj:
                out.append((path, f"metric '{metric}' needs '{arg}'"))
        for arg in _ARG_KEYS:
            if arg in obj and arg not in spec.args and arg not in spec.optional_args:
                out.append((path + (arg,), f"metric '{metric}' takes no '{arg}'"))
        if op == "between":
            rng = obj.get("range")
            if rng is None:
                out.append((path, "op 'between' needs 'range: [low, high]'"))
            elif not (isinstance(rng, list) and len(rng) == 2
                      and all(_is(x, (int, float)) for x in rng) and rng[0] <= rng[1]):
                out.append((path + ("range",), "'range' must be [low, high] with low <= high"))
        elif op in ("<=", ">=", "=="):
            if "value" not in obj:
                out.append((path, f"op '{op}' needs 'value'"))
            elif spec.kind == "bool" and not isinstance(obj["value"], bool):
                out.append((path + ("value",), f"metric '{metric}' compares with true or false"))
            elif spec.kind == "number" and isinstance(obj["value"], bool):
                out.append((path + ("value",), f"metric '{metric}' compares with a number"))
        elif op in ("present", "absent") and ("value" in obj or "range" in obj):
            key = "value" if "value" in obj else "range"
            out.append((path + (key,), f"op '{op}' takes no '{key}'"))
    tissues = obj.get("tissues")
    if isinstance(tissues, list) and (len(tissues) != 2 or not all(isinstance(t, str) for t in tissues)):
        out.append((path + ("tissues",), "'tissues' must be a list of two tissue names"))
    weight = obj.get("weight", 1)
    if _is(weight, (int, float)) and weight <= 0:
        out.append((path + ("weight",), "'weight' must be > 0"))
    fb = obj.get("feedback")
    if isinstance(fb, dict):
        for k in fb:
            if k not in ("pass", "fail"):
                out.append((path + ("feedback", k), f"unknown key '{k}' in feedback (allowed: pass, fail)"))
        for k in ("pass", "fail"):
            if k not in fb:
                out.append((path + ("feedback",), f"feedback is missing '{k}'"))
            else:
                out += _text_errors(fb[k], path + ("feedback", k))
    return out


def structural_errors(data: Any) -> list[Problem]:
    """Keys, types and required fields of an exercise mapping, as ``(path, message)``."""
    if not isinstance(data, dict):
        return [((), "an exercise file must be a YAML mapping")]
    out = _mapping_errors(data, _TOP, (), "exercise")
    for key in _REQUIRED:
        if key not in data:
            out.append(((), f"missing required key '{key}'"))
    if isinstance(data.get("id"), str) and not _ID_RE.match(data["id"]):
        out.append((("id",), "id must be 2–64 lowercase letters, digits, '-' or '_'"))
    if isinstance(data.get("version"), int) and data["version"] < 1:
        out.append((("version",), "version must be >= 1"))
    modality = data.get("modality")
    if isinstance(modality, str):
        if modality not in ("mr", "pet"):
            out.append((("modality",), f"modality must be mr or pet, not '{modality}'"))
        elif modality == "mr" and not data.get("anatomy"):
            out.append(((), "an MR exercise needs 'anatomy'"))
        elif modality == "pet" and not data.get("phantom"):
            out.append(((), "a PET exercise needs 'phantom'"))
        if modality == "mr" and data.get("phantom") is not None:
            out.append((("phantom",), "'phantom' is for PET exercises; use 'anatomy'"))
        if modality == "pet" and data.get("anatomy") is not None:
            out.append((("anatomy",), "'anatomy' is for MR exercises; use 'phantom'"))
    if isinstance(data.get("patient"), dict):
        p = data["patient"]
        out += _mapping_errors(p, _PATIENT, ("patient",), "patient")
        for key in ("name", "age", "weight_kg", "indication"):
            if key not in p:
                out.append((("patient",), f"patient is missing '{key}'"))
        if isinstance(p.get("state"), str) and p["state"] not in PATIENT_STATES:
            out.append((("patient", "state"), f"state must be one of {', '.join(PATIENT_STATES)}"))
        if isinstance(p.get("age"), int) and not 0 <= p["age"] <= 120:
            out.append((("patient", "age"), "age must be 0–120 years"))
        w = p.get("weight_kg")
        if _is(w, (int, float)) and not 2 <= w <= 300:
            out.append((("patient", "weight_kg"), "weight_kg must be 2–300 kg"))
    if isinstance(data.get("start"), dict):
        out += _mapping_errors(data["start"], _START, ("start",), "start")
    for key in ("reference_solution", "typical_wrong_answer"):
        if isinstance(data.get(key), dict):
            out += _mapping_errors(data[key], _SETUP, (key,), key)
    for key in ("reference_solution", "typical_wrong_answer"):
        evs = data.get(key, {}).get("events") if isinstance(data.get(key), dict) else None
        if isinstance(evs, list):
            for i, e in enumerate(evs):
                if e not in ("mentor_called", "pacs_sent"):
                    out.append(((key, "events", i),
                                f"unknown event '{e}' (known: mentor_called, pacs_sent)"))
    out += _findings_errors(data)
    if isinstance(data.get("editable"), list):
        for i, name in enumerate(data["editable"]):
            if not isinstance(name, str):
                out.append((("editable", i), "editable entries are parameter names"))
    if isinstance(data.get("objectives"), list):
        if not data["objectives"]:
            out.append((("objectives",), "an exercise needs at least one objective"))
        ids: set[str] = set()
        for i, obj in enumerate(data["objectives"]):
            out += _objective_errors(obj, ("objectives", i))
            if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                if obj["id"] in ids:
                    out.append((("objectives", i, "id"), f"duplicate objective id '{obj['id']}'"))
                ids.add(obj["id"])
    if isinstance(data.get("hints"), list):
        for i, h in enumerate(data["hints"]):
            out += _text_errors(h, ("hints", i))
    if isinstance(data.get("grade_slices"), list):
        for i, s in enumerate(data["grade_slices"]):
            if not _is(s, int) or s < 0:
                out.append((("grade_slices", i), "slice indices are integers >= 0"))
    return out


ARG_KEYS = _ARG_KEYS
