"""A small API for instructors writing exercises in JupyterLab.

>>> from simulator.exercises import authoring as A                       # doctest: +SKIP
>>> ex = A.load("course/exercises/mr_t1_contrast.yaml")                   # doctest: +SKIP
>>> A.preview(ex, "start")            # protocol, derived values, a middle slice  # doctest: +SKIP
>>> A.discriminates(ex)               # reference passes, wrong answer fails       # doctest: +SKIP
>>> A.grade_protocol(ex, {"tr_ms": 450}, lang="en")                       # doctest: +SKIP

``load`` accepts a path or YAML text (an exercise being written in a notebook cell), so an
instructor can edit, validate and try a new exercise without leaving the notebook.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.exercises import _protocol
from simulator.exercises.grader import GradeResult, build_protocol, grade, grade_setup
from simulator.exercises.loader import ExerciseError, exercise_from_text, load_exercise
from simulator.exercises.schema import Exercise

__all__ = ["load", "validate", "preview", "Preview", "console", "grade_protocol", "discriminates",
           "report_html", "TEMPLATE"]

#: A complete exercise to copy and edit (MR, brain, T1 contrast by TR).
TEMPLATE = """\
id: my-first-exercise
version: 1
title: {fr: "Mon exercice", en: "My exercise"}
brief:
  fr: "Obtenez une pondération T1 en moins de 3 minutes."
  en: "Get a T1-weighted image in under 3 minutes."
modality: mr
anatomy: brain
pathology: null
patient: {name: "Claire Martin", age: 45, weight_kg: 68, indication: {fr: "céphalées", en: "headache"},
          state: calm, implants: []}
start: {preset: t1_se, overrides: {tr_ms: 2500, te_ms: 90, matrix_read: 128, matrix_phase: 96, slices: 5}}
editable: [tr_ms, te_ms]
objectives:
  - id: t1_contrast
    metric: signal_ratio
    tissues: [white_matter, gray_matter]
    op: ">="
    value: 1.1
    weight: 2
    feedback:
      pass: {fr: "La substance blanche est plus claire : pondération T1.", en: "White matter is brighter: T1 weighting."}
      fail: {fr: "Raccourcissez TR et TE.", en: "Shorten TR and TE."}
  - id: time
    metric: scan_time_s
    op: "<="
    value: 180
    weight: 1
    feedback:
      pass: {fr: "Durée correcte.", en: "Scan time fine."}
      fail: {fr: "Trop long.", en: "Too long."}
hints:
  - {fr: "Un TR court laisse le temps à la T1 de marquer le contraste.", en: "A short TR lets T1 drive the contrast."}
seed: 1
grade_slices: [2]
reference_solution: {overrides: {tr_ms: 500, te_ms: 15}}
typical_wrong_answer: {overrides: {tr_ms: 2500, te_ms: 90}}
"""


def load(source: str | Path) -> Exercise:
    """Load an exercise from a file path or from YAML text (raises ExerciseError)."""
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source
                                    and source.endswith((".yaml", ".yml"))):
        return load_exercise(source)
    return exercise_from_text(str(source), "<cell>")


def validate(source: str | Path) -> list[str]:
    """``FILE:LINE: message`` problems of an exercise (empty list when it is valid)."""
    try:
        load(source)
    except ExerciseError as exc:
        return exc.lines
    return []


def _png(image: np.ndarray) -> str:
    from PIL import Image

    img = np.asarray(image, np.float64)
    hi = float(np.percentile(img, 99.5)) or 1.0
    u8 = np.clip(img / hi * 255.0, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


@dataclass
class Preview:
    """What a setup of the exercise looks like: protocol, derived values, scanned series."""

    exercise: Exercise
    which: str
    protocol: Any
    derived: Any
    series: Any

    def middle_image(self) -> np.ndarray:
        """A middle slice (MR) or the central transaxial slice (PET)."""
        if self.exercise.modality == "mr":
            imgs = np.asarray(self.series.images)
        else:
            imgs = np.asarray(self.series.images_bqml)
        return imgs[imgs.shape[0] // 2]

    def _repr_html_(self) -> str:
        d = self.derived
        rows = []
        for name in ("scan_time_s", "snr_rel", "sar_w_kg", "fat_shift_px", "voxel_mm",
                     "effective_dose_msv", "activity_at_scan_mbq"):
            if hasattr(d, name):
                v = getattr(d, name)
                v = ", ".join(f"{x:.3g}" for x in v) if isinstance(v, tuple) else f"{v:.4g}"
                rows.append(f"<tr><td>{name}</td><td>{v}</td></tr>")
        changed = {k: v for k, v in _protocol.protocol_to_dict(self.protocol).items()
                   if k in self.exercise.editable}
        return (f"<b>{html.escape(self.exercise.id)} — {html.escape(self.which)}</b>"
                f"<div style='display:flex;gap:16px'><div><table>{''.join(rows)}</table>"
                f"<pre>{html.escape(str(changed))}</pre></div>"
                f"<img src='data:image/png;base64,{_png(self.middle_image())}' "
                f"style='width:256px;image-rendering:pixelated'/></div>")


def preview(exercise: Exercise, which: str = "start") -> Preview:
    """Scan one setup of the exercise: ``start``, ``reference`` or ``wrong``."""
    from simulator.exercises._measure import Context

    setup = {"start": None, "reference": exercise.reference_solution,
             "wrong": exercise.typical_wrong_answer}[which]
    proto = build_protocol(exercise, dict(setup.overrides) if setup else None)
    geo = _protocol.make_geometry(exercise, setup.geometry if setup else None, proto)
    ctx = Context(exercise, proto, geo)
    return Preview(exercise, which, proto, ctx.derived(), ctx.series())


def console(exercise: Exercise, lang: str = "fr") -> Any:
    """The trainee console (MR or PET) with this exercise loaded, as a trainee will see it.

    The exercise need not be saved in ``course/exercises`` yet.
    """
    if exercise.modality == "mr":
        from simulator.console.mr_console import MRConsole as Console
    else:
        from simulator.console.pet_console import PETConsole as Console  # type: ignore[assignment]
    c = Console(lang=lang, exercise=None)
    c.course[exercise.id] = exercise
    c.start_exercise(exercise.id)
    c.widget._merm_console = c  # keep the Python side alive with the widget
    return c.widget


def grade_protocol(exercise: Exercise, protocol: Any = None, geometry: Any = None,
                   lang: str = "fr") -> GradeResult:
    """Grade a protocol (mapping of changed parameters) as the trainee's Submit would."""
    return grade(exercise, protocol, geometry, lang)


def discriminates(exercise: Exercise, lang: str = "en") -> tuple[bool, GradeResult, GradeResult]:
    """Whether the reference solution passes and the typical wrong answer fails."""
    ref = grade_setup(exercise, "reference_solution", lang)
    wrong = grade_setup(exercise, "typical_wrong_answer", lang)
    return ref.passed and not wrong.passed, ref, wrong


def report_html(result: GradeResult) -> str:
    """A grade as an HTML table (score, each objective measured vs target, feedback)."""
    return result._repr_html_()
