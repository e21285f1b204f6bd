"""The auto-grader: scan the trainee's protocol with the exercise's seed, measure, score.

``grade(exercise, protocol, geometry=None, lang="fr")`` never raises for what a trainee
can get wrong: an unknown parameter, a value the scanner refuses or a change to a locked
parameter gives a failed :class:`GradeResult` whose ``error`` is the scanner's message in the
trainee's language.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.errors import UserError
from simulator.exercises import _findings, _protocol
from simulator.exercises._measure import Context, Unmeasurable, measure
from simulator.exercises.objectives import METRICS, compare, objective_label
from simulator.exercises.schema import Exercise, Objective

__all__ = ["ObjectiveResult", "GradeResult", "grade", "grade_setup", "build_protocol",
           "live_status"]


@dataclass(frozen=True)
class ObjectiveResult:
    """How one objective went: ``measured`` against ``target``, with its feedback."""

    id: str
    passed: bool
    measured: float | bool | None
    target: str
    feedback: str
    metric: str = ""
    weight: float = 1.0
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class GradeResult:
    """Score 0–100 (weights of the passed objectives / all weights) and details."""

    score: float
    objectives: tuple[ObjectiveResult, ...]
    exercise_id: str = ""
    lang: str = "fr"
    error: str | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    #: The series the attempt graded: the console's series acquired with the submitted
    #: protocol (``number``, ``name``, ``protocol``, ``geometry``), None when graded offline.
    series: Mapping[str, Any] | None = None

    @property
    def passed(self) -> bool:
        """All objectives met (and no error)."""
        return self.error is None and all(o.passed for o in self.objectives)

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr style='color:{'#1b7f3b' if o.passed else '#b3261e'}'>"
            f"<td>{'✔' if o.passed else '✘'}</td><td>{html.escape(o.label)}</td>"
            f"<td>{html.escape(str(o.measured))}</td><td>{html.escape(o.target)}</td>"
            f"<td>{html.escape(o.feedback)}</td></tr>"
            for o in self.objectives
        )
        err = f"<p style='color:#b3261e'>{html.escape(self.error)}</p>" if self.error else ""
        return f"<b>{self.score:.0f}/100</b>{err}<table>{rows}</table>"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "exercise_id": self.exercise_id,
            "score": self.score,
            "passed": self.passed,
            "lang": self.lang,
            "error": self.error,
            "objectives": [o.to_dict() for o in self.objectives],
            "series": dict(self.series) if self.series else None,
        }


def _lang(lang: str | None) -> str:
    lang = str(lang or "fr")
    return "en" if lang.startswith("en") else ("de" if lang.startswith("de") else "fr")


#: Protocol fields that describe the patient, not the trainee's choices: the exercise fixes
#: them (a console may set ``motion`` from the patient's state; the grader ignores that).
PATIENT_OWNED = ("motion",)


def build_protocol(exercise: Exercise, protocol: Any = None) -> Any:
    """The trainee's protocol: the start protocol updated by ``protocol``.

    ``motion`` (how restless the patient is) always comes from the exercise.

    ``protocol`` is a mapping of parameter values (only the changed ones, or all of them),
    a protocol instance, or None (the start protocol). Changing a parameter that is not in
    ``exercise.editable`` raises :class:`UserError`.
    """
    start = _protocol.start_protocol(exercise)
    if protocol is None:
        proto = start
    elif isinstance(protocol, Mapping):
        values = {k: v for k, v in protocol.items()
                  if k not in ("geometry", "findings") + PATIENT_OWNED}
        proto = _protocol.apply_overrides(start, values)
    else:
        proto = protocol
        keep = {n: getattr(start, n) for n in PATIENT_OWNED if hasattr(start, n)}
        if keep:
            proto = dataclasses.replace(proto, **keep)
    locked = [n for n in _protocol.changed_params(start, proto) if n not in exercise.editable]
    if locked:
        names = ", ".join(locked)
        raise UserError(
            f"these parameters are locked in this exercise: {names} (you may change: "
            f"{', '.join(exercise.editable)})",
            f"ces paramètres sont verrouillés dans cet exercice : {names} (modifiables : "
            f"{', '.join(exercise.editable)})",
        )
    return proto


def _label(obj: Objective, lang: str) -> str:
    return objective_label(obj, lang)


def _failed(exercise: Exercise, message: str, lang: str) -> GradeResult:
    objs = tuple(
        ObjectiveResult(o.id, False, None, o.target_text(), o.feedback.failed.get(lang), o.metric,
                        o.weight, _label(o, lang))
        for o in exercise.objectives
    )
    return GradeResult(0.0, objs, exercise.id, lang, message)


def _round(v: Any) -> Any:
    if isinstance(v, float):
        return float(f"{v:.4g}")
    return v


def grade(exercise: Exercise, protocol: Any = None, geometry: Mapping[str, Any] | Any = None,
          lang: str = "fr", *, store: Any = None, user: str | None = None,
          since: Any = None, series: Mapping[str, Any] | None = None,
          setup: Any = None) -> GradeResult:
    """Grade a trainee's protocol (and planned geometry) on an exercise.

    Parameters
    ----------
    exercise : Exercise
        The loaded exercise.
    protocol : mapping, protocol instance or None
        What the trainee submitted (see :func:`build_protocol`). A mapping may carry a
        ``geometry`` key.
    geometry : mapping or Geometry, optional
        The planned slice geometry (MR), merged over the exercise's start geometry.
    lang : str
        ``"fr"``, ``"en"`` or ``"de"``: the language of the feedback (German where the file
        has it, else English) and error.
    store, user, since : optional
        Progress store and trainee for event-based metrics (``mentor_called``).
    series : mapping, optional
        The console series acquired with this protocol; recorded in the result.
    setup : Setup, optional
        The exercise's own solution being graded (its ``findings`` decisions are made on the
        detector's output on the grader's scan); trainees' attempts carry theirs in
        ``protocol["findings"]`` (see :mod:`simulator.exercises._findings`).

    Returns
    -------
    GradeResult
    """
    lang = _lang(lang)
    if geometry is None and isinstance(protocol, Mapping) and isinstance(protocol.get("geometry"), Mapping):
        geometry = protocol["geometry"]
    try:
        proto = build_protocol(exercise, protocol)
        if geometry is None or isinstance(geometry, Mapping):
            geo = _protocol.make_geometry(exercise, geometry, proto)
        else:
            geo = geometry
        mod = _protocol.scanner(exercise.modality)
        warnings = tuple(mod.check_protocol(proto) or ())
        ctx = Context(exercise, proto, geo, store=store, user=user, since=since)
        ctx.findings_records = _findings.records_of(protocol)
        if setup is not None:  # an exercise's own solution decides on the real detector's output
            ctx.findings_records = _findings.setup_records(exercise, setup, ctx)
        measured: dict[str, Any] = {}
        notes: dict[str, str] = {}
        for o in exercise.objectives:
            try:
                measured[o.id] = (_findings.measure_findings(o.metric, ctx)  # the AI-findings calls
                                  if o.metric in _findings.FINDINGS_METRICS else measure(o, ctx))
            except Unmeasurable as exc:  # this objective cannot be measured on these images
                measured[o.id], notes[o.id] = None, exc.message(lang)
    except UserError as exc:
        return dataclasses.replace(_failed(exercise, exc.message(lang), lang), series=series)
    results = []
    for o in exercise.objectives:
        value = measured[o.id]
        ok = compare(o.op, value, o.value, o.range)
        fb = (o.feedback.passed if ok else o.feedback.failed).get(lang)
        if o.id in notes:
            fb = f"{fb} ({notes[o.id]})"
        results.append(ObjectiveResult(o.id, ok, _round(value), o.target_text(), fb, o.metric,
                                       o.weight, _label(o, lang)))
    total = sum(o.weight for o in exercise.objectives)
    score = 100.0 * sum(r.weight for r in results if r.passed) / total
    return GradeResult(round(score, 1), tuple(results), exercise.id, lang, None,
                       {"warnings": list(warnings), **ctx.summary(), **_findings.summary(ctx)},
                       series)


def grade_setup(exercise: Exercise, which: str = "reference_solution", lang: str = "fr") -> GradeResult:
    """Grade the exercise's own ``reference_solution`` or ``typical_wrong_answer``."""
    setup = getattr(exercise, which)
    store = user = None
    if setup.events:
        from simulator.exercises.store import ProgressStore

        store, user = ProgressStore("sqlite://"), "solution"
        for kind in setup.events:
            store.record_event(user, kind, {"replayed": which}, exercise_id=exercise.id)
    try:
        return grade(exercise, dict(setup.overrides), setup.geometry, lang, store=store, user=user,
                     setup=setup if setup.findings else None)
    finally:
        if store is not None:
            store.close()


def live_status(exercise: Exercise, protocol: Any, geometry: Any = None, *, store: Any = None,
                user: str | None = None, since: Any = None) -> dict[str, bool | None]:
    """Cheap objectives only (no scan): objective id → passed, or None where a scan is needed.

    Used by the exercise panel on every console change.
    """
    out: dict[str, bool | None] = {}
    try:
        proto = build_protocol(exercise, protocol)
        geo = geometry
        if exercise.modality == "mr" and (geo is None or isinstance(geo, Mapping)):
            geo = _protocol.make_geometry(exercise, geo, proto)
        ctx = Context(exercise, proto, geo, store=store, user=user, since=since)
    except UserError:
        return {o.id: False for o in exercise.objectives}
    for o in exercise.objectives:
        if not METRICS[o.metric].cheap:
            out[o.id] = None
            continue
        try:
            out[o.id] = compare(o.op, measure(o, ctx), o.value, o.range)
        except (UserError, ValueError):
            out[o.id] = False
    return out
