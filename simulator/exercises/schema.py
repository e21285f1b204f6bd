"""The exercise format: frozen dataclasses and the structural rules of the YAML file.

An exercise file is one YAML mapping::

    id: mr-t1-contrast            # lowercase letters, digits, - and _
    version: 1
    title: {fr: ..., en: ...}
    brief: {fr: ..., en: ...}
    modality: mr                  # mr | pet
    anatomy: brain                # MR: brain | knee | spine
    phantom: nema-iec             # PET: a phantom of simulator.pet.PHANTOMS
    phantom_options: {ratio: 4.0} # PET only, passed to make_phantom
    pathology: ms_lesions         # or null
    patient: {name: ..., age: 54, weight_kg: 70, indication: {fr, en}, state: calm, implants: []}
    start: {preset: t1_se, overrides: {matrix_read: 128}, geometry: {orientation: axial}}
    editable: [tr_ms, te_ms]
    objectives:
      - id: contrast
        metric: signal_ratio       # see simulator.exercises.objectives.METRICS
        tissues: [white_matter, gray_matter]
        op: ">="                   # <=, >=, ==, between, present, absent
        value: 1.15                # or range: [lo, hi] for between
        weight: 2
        feedback: {pass: {fr, en}, fail: {fr, en}}
    hints: [{fr, en}, ...]
    seed: 7
    grade_slices: [5]             # optional: slices the grader scans (speed)
    reference_solution: {overrides: {...}, geometry: {...}, events: [mentor_called]}
    typical_wrong_answer: {overrides: {...}, geometry: {...}}

``events`` lists what the trainee does on the console besides setting parameters (today:
``mentor_called``); the grader replays them into a scratch store when it grades the
exercise's own solutions.

:func:`structural_errors` checks keys and types and returns ``(path, message)`` pairs that
the loader turns into ``FILE:LINE: message``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.exercises.objectives import METRICS, OPS

__all__ = [
    "Text",
    "Feedback",
    "Patient",
    "Objective",
    "Setup",
    "Exercise",
    "PATIENT_STATES",
    "structural_errors",
    "from_data",
]

PATIENT_STATES = ("calm", "anxious", "claustrophobic", "in_pain", "agitated")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")

Problem = tuple[tuple[str | int, ...], str]


@dataclass(frozen=True)
class Text:
    """A text in French and English."""

    fr: str
    en: str

    def get(self, lang: str = "fr") -> str:
        """The text in ``lang`` (``fr`` unless it starts with ``en``)."""
        return self.en if str(lang).startswith("en") else self.fr


@dataclass(frozen=True)
class Feedback:
    """What the trainee reads when an objective passes or fails."""

    passed: Text
    failed: Text


@dataclass(frozen=True)
class Patient:
    """The fictitious patient of the scenario."""

    name: str
    age: int
    weight_kg: float
    indication: Text
    state: str = "calm"
    implants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Objective:
    """One constraint on a measured quantity.

    ``args`` holds the metric's own arguments (``tissues``, ``tissue``, ``structure``,
    ``sphere_mm``, ``name``, ``region``).
    """

    id: str
    metric: str
    op: str
    value: float | bool | None
    range: tuple[float, float] | None
    weight: float
    feedback: Feedback
    args: Mapping[str, Any] = field(default_factory=dict)

    def target_text(self) -> str:
        """The target as a short string (``>= 1.2``, ``between 3 and 5``, ``absent``)."""
        if self.op == "between" and self.range is not None:
            return f"[{self.range[0]:g}, {self.range[1]:g}]"
        if self.op in ("present", "absent"):
            return self.op
        v = self.value
        return f"{self.op} {v:g}" if isinstance(v, float | int) and not isinstance(v, bool) else f"{self.op} {v}"


@dataclass(frozen=True)
class Setup:
    """Protocol overrides plus an optional planned geometry."""

    overrides: Mapping[str, Any] = field(default_factory=dict)
    geometry: Mapping[str, Any] | None = None
    events: tuple[str, ...] = ()  # console events of the solution (e.g. mentor_called)


@dataclass(frozen=True)
class Exercise:
    """A loaded, validated exercise (see the module docstring for the file format)."""

    id: str
    version: int
    title: Text
    brief: Text
    modality: str
    anatomy: str | None
    phantom: str | None
    phantom_options: Mapping[str, Any]
    pathology: str | None
    patient: Patient
    preset: str | None
    start: Setup
    editable: tuple[str, ...]
    objectives: tuple[Objective, ...]
    hints: tuple[Text, ...]
    seed: int
    grade_slices: tuple[int, ...] | None
    reference_solution: Setup
    typical_wrong_answer: Setup
    level: int = 1
    tags: tuple[str, ...] = ()
    source: Path | None = None
    lines: Any = None  # LineMap of the source file, for authoring tools


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
_SETUP = {"overrides": dict, "geometry": (dict, type(None)), "events": list}
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
        if k not in ("fr", "en"):
            out.append((path + (k,), f"unknown language '{k}' (expected fr, en)"))
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
                if e not in ("mentor_called",):
                    out.append(((key, "events", i), f"unknown event '{e}' (known: mentor_called)"))
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


def _text(d: Mapping[str, str]) -> Text:
    return Text(fr=d["fr"], en=d["en"])


def _setup(d: Mapping[str, Any]) -> Setup:
    return Setup(overrides=dict(d.get("overrides") or {}), geometry=d.get("geometry"),
                 events=tuple(d.get("events") or ()))


def from_data(data: Mapping[str, Any], source: Path | None = None, lines: Any = None) -> Exercise:
    """Build an :class:`Exercise` from a mapping that passed :func:`structural_errors`."""
    p = data["patient"]
    objectives = []
    for o in data["objectives"]:
        rng = o.get("range")
        value = o.get("value")
        if isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        objectives.append(
            Objective(
                id=o["id"],
                metric=o["metric"],
                op=o["op"],
                value=value,
                range=(float(rng[0]), float(rng[1])) if rng else None,
                weight=float(o.get("weight", 1.0)),
                feedback=Feedback(_text(o["feedback"]["pass"]), _text(o["feedback"]["fail"])),
                args={k: o[k] for k in _ARG_KEYS if k in o},
            )
        )
    start = data["start"]
    gs = data.get("grade_slices")
    return Exercise(
        id=data["id"],
        version=int(data["version"]),
        title=_text(data["title"]),
        brief=_text(data["brief"]),
        modality=data["modality"],
        anatomy=data.get("anatomy"),
        phantom=data.get("phantom"),
        phantom_options=dict(data.get("phantom_options") or {}),
        pathology=data.get("pathology"),
        patient=Patient(
            name=p["name"],
            age=int(p["age"]),
            weight_kg=float(p["weight_kg"]),
            indication=_text(p["indication"]),
            state=p.get("state", "calm"),
            implants=tuple(p.get("implants") or ()),
        ),
        preset=start.get("preset"),
        start=Setup(overrides=dict(start.get("overrides") or {}), geometry=start.get("geometry")),
        editable=tuple(data["editable"]),
        objectives=tuple(objectives),
        hints=tuple(_text(h) for h in data.get("hints") or ()),
        seed=int(data["seed"]),
        grade_slices=tuple(gs) if gs else None,
        reference_solution=_setup(data["reference_solution"]),
        typical_wrong_answer=_setup(data["typical_wrong_answer"]),
        level=int(data.get("level", 1)),
        tags=tuple(data.get("tags") or ()),
        source=source,
        lines=lines,
    )
