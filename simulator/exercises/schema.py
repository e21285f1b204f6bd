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
    findings: {shown: false, locked: true}   # the AI findings at the console (optional)

``events`` lists what the trainee does on the console besides setting parameters (today:
``mentor_called``); the grader replays them into a scratch store when it grades the
exercise's own solutions.

:func:`structural_errors` checks keys and types and returns ``(path, message)`` pairs that
the loader turns into ``FILE:LINE: message``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.exercises._structure import ARG_KEYS as _ARG_KEYS
from simulator.exercises._structure import PATIENT_STATES, structural_errors

__all__ = [
    "Text",
    "Feedback",
    "Patient",
    "Objective",
    "Setup",
    "Exercise",
    "FindingsSetting",
    "PATIENT_STATES",
    "structural_errors",
    "from_data",
]



@dataclass(frozen=True)
class Text:
    """A text in French and English, and optionally German."""

    fr: str
    en: str
    de: str | None = None

    def get(self, lang: str = "fr") -> str:
        """The text in ``lang``: ``en``, ``de`` (English where the file has no German), else
        ``fr``."""
        lang = str(lang)
        if lang.startswith("de"):
            return self.de or self.en
        return self.en if lang.startswith("en") else self.fr


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
    #: Decisions on the AI findings (``on``, ``decide``, ``add``; see ``exercises._findings``).
    findings: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class FindingsSetting:
    """How an exercise sets the console's AI findings: shown at the start, and ``locked``
    (the trainee cannot switch them; an exercise of the trainee's own eye is shown off and
    locked)."""

    shown: bool = False
    locked: bool = False


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
    #: The AI findings at the console (None: the console's default, off and free).
    findings: FindingsSetting | None = None


def _text(d: Mapping[str, str]) -> Text:
    return Text(fr=d["fr"], en=d["en"], de=d.get("de"))


def _setup(d: Mapping[str, Any]) -> Setup:
    return Setup(overrides=dict(d.get("overrides") or {}), geometry=d.get("geometry"),
                 events=tuple(d.get("events") or ()),
                 findings=dict(d["findings"]) if d.get("findings") else None)


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
        findings=(FindingsSetting(bool(data["findings"].get("shown", False)),
                                  bool(data["findings"].get("locked", False)))
                  if isinstance(data.get("findings"), Mapping) else None),
    )
