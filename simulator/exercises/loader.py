"""Load an exercise file and check it, with ``FILE:LINE: message`` for every problem.

Two passes: the structure (keys, types, required fields; :mod:`schema`) and then the
meaning, against the scanners themselves: the anatomy, pathology, phantom and preset exist,
parameter names are protocol fields, tissues and structures are in the anatomy's labels,
and the start, reference and wrong-answer protocols pass the scanner's own
``check_protocol``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from simulator.errors import ParameterError, UserError
from simulator.exercises import _protocol
from simulator.exercises._yamlmarks import LineMap, YamlSyntaxError, parse_with_lines
from simulator.exercises.objectives import METRICS
from simulator.exercises.schema import Exercise, Setup, from_data, structural_errors

__all__ = [
    "ExerciseError", "load_exercise", "check_exercise", "load_course", "exercise_from_text",
    "simulator_ready",
]

Problem = tuple[tuple[str | int, ...], str]


class ExerciseError(UserError):
    """An exercise file with problems; ``problems`` holds ``(file, line, message)``."""

    def __init__(self, problems: list[tuple[str, int, str]]) -> None:
        self.problems = problems
        lines = [f"{f}:{n}: {m}" for f, n, m in problems]
        super().__init__("\n".join(lines))

    @property
    def lines(self) -> list[str]:
        """One ``FILE:LINE: message`` string per problem."""
        return [f"{f}:{n}: {m}" for f, n, m in self.problems]


def simulator_ready(modality: str) -> bool:
    """Whether the scanner package of ``modality`` exposes what the checks need."""
    need = {
        "mr": ("ANATOMIES", "PATHOLOGIES", "load_anatomy", "preset", "MRProtocol", "Geometry",
               "check_protocol"),
        "pet": ("PHANTOMS", "make_phantom", "PETProtocol", "check_protocol"),
    }[modality]
    try:
        mod = _protocol.scanner(modality)
    except ImportError:
        return False
    return all(hasattr(mod, n) for n in need)


def _seq(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _map(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _name_errors(data: dict[str, Any], modality: str) -> tuple[list[Problem], tuple[str, ...] | None]:
    """Names against the scanner: anatomy/pathology/phantom, parameters, tissues, metrics.

    Works on the raw mapping (so it runs even when the structure has errors) and reports
    every problem; returns the problems and the anatomy's label names (None if unknown).
    """
    out: list[Problem] = []
    mod = _protocol.scanner(modality)
    fields = set(_protocol.protocol_fields(modality))
    names: tuple[str, ...] | None = None
    if modality == "mr":
        anatomy, pathology = data.get("anatomy"), data.get("pathology")
        if isinstance(anatomy, str) and anatomy not in mod.ANATOMIES:
            out.append((("anatomy",), f"unknown anatomy '{anatomy}' (known: {', '.join(mod.ANATOMIES)})"))
        elif isinstance(anatomy, str):
            allowed = mod.PATHOLOGIES.get(anatomy, ())
            if pathology is not None and pathology not in allowed:
                out.append((("pathology",), f"unknown pathology '{pathology}' for {anatomy} "
                            f"(known: {', '.join(allowed) or 'none'})"))
            else:
                names = tuple(mod.load_anatomy(anatomy, pathology=pathology).names)
    else:
        phantom = data.get("phantom")
        if isinstance(phantom, str) and phantom not in mod.PHANTOMS:
            out.append((("phantom",), f"unknown phantom '{phantom}' (known: {', '.join(mod.PHANTOMS)})"))
        elif isinstance(phantom, str):
            try:
                names = tuple(mod.make_phantom(phantom, **_map(data.get("phantom_options"))).names)
            except UserError as exc:
                out.append((("phantom_options",), exc.en))
            except TypeError as exc:
                out.append((("phantom_options",), f"bad phantom option: {exc}"))
    editable = [n for n in _seq(data.get("editable")) if isinstance(n, str)]
    for i, name in enumerate(_seq(data.get("editable"))):
        if isinstance(name, str) and name not in fields:
            out.append((("editable", i), f"unknown parameter '{name}'"))
    for key in ("start", "reference_solution", "typical_wrong_answer"):
        for name in _map(_map(data.get(key)).get("overrides")):
            if name not in fields:
                out.append(((key, "overrides", name), f"unknown parameter '{name}'"))
            elif key != "start" and name not in editable:
                out.append(((key, "overrides", name), f"'{name}' is not in 'editable'"))
    known = ", ".join((names or ())[1:])
    for i, obj in enumerate(_seq(data.get("objectives"))):
        if not isinstance(obj, dict):
            continue
        path: tuple[str | int, ...] = ("objectives", i)
        metric = obj.get("metric")
        spec = METRICS.get(metric) if isinstance(metric, str) else None
        if spec is not None and spec.modality not in ("any", modality):
            out.append((path + ("metric",), f"metric '{obj['metric']}' is for {spec.modality.upper()} exercises"))
        if names is not None:
            for t_i, tissue in enumerate(_seq(obj.get("tissues"))):
                if tissue not in names:
                    out.append((path + ("tissues", t_i), f"unknown tissue '{tissue}' (known: {known})"))
            for key in ("tissue", "structure", "region"):
                val = obj.get(key)
                if val is not None and val not in names:
                    out.append((path + (key,), f"unknown {key} '{val}' (known: {known})"))
            sphere = obj.get("sphere_mm")
            if isinstance(sphere, (int, float)) and f"sphere_{int(sphere)}" not in names:
                spheres = [n for n in names if n.startswith("sphere_")]
                out.append((path + ("sphere_mm",), f"no sphere of {sphere} mm "
                            f"(phantom has: {', '.join(spheres) or 'none'})"))
        if "name" in obj and obj["name"] not in fields:
            out.append((path + ("name",), f"unknown parameter '{obj['name']}'"))
    return out, names


def _sim_errors(ex: Exercise | None, data: dict[str, Any]) -> list[Problem]:
    """Checks against the scanner packages (names, ranges, check_protocol): every problem.

    ``ex`` is None when the structure was too broken to build the exercise: then only the
    names are checked.
    """
    modality = data.get("modality")
    if modality not in ("mr", "pet"):
        return []
    out, names = _name_errors(data, modality)
    if ex is None:
        return out
    mod = _protocol.scanner(modality)
    if modality == "mr":
        if names is None:
            return out  # no anatomy to build protocols and geometries on
        try:
            mod.preset(ex.anatomy, ex.preset)
        except (UserError, KeyError, TypeError):
            out.append((("start", "preset"), f"unknown preset '{ex.preset}' for {ex.anatomy}"))
            return out
    fields = set(_protocol.protocol_fields(modality))
    start_ok = True
    for key, setup in (("start", ex.start), ("reference_solution", ex.reference_solution),
                       ("typical_wrong_answer", ex.typical_wrong_answer)):
        # after a broken start, each setup's own values are still checked, on the preset
        problems = _setup_errors(ex, key, setup, fields, start_ok)
        out += problems
        start_ok = start_ok and not (key == "start" and problems)
    return out


def _base_protocol(ex: Exercise) -> Any:
    """The preset (MR) or default protocol (PET) the exercise's start overrides apply to."""
    mod = _protocol.scanner(ex.modality)
    if ex.modality == "mr":
        return mod.preset(ex.anatomy, ex.preset)
    base = mod.PETProtocol()
    if "weight_kg" in {f.name for f in dataclasses.fields(base)}:
        base = dataclasses.replace(base, weight_kg=float(ex.patient.weight_kg))
    return base


def _setup_errors(ex: Exercise, key: str, setup: Setup, fields: set[str],
                  start_ok: bool = True) -> list[Problem]:
    """Every parameter of one setup that the scanner refuses, then the whole protocol's rules
    (those only when the start protocol itself is valid)."""
    mod = _protocol.scanner(ex.modality)
    try:
        on_start = key != "start" and start_ok
        base = _protocol.start_protocol(ex) if on_start else _base_protocol(ex)
    except UserError as exc:
        return [((key,), exc.en)]
    own = {k: v for k, v in setup.overrides.items() if k in fields}
    out: list[Problem] = []
    for name, value in own.items():  # each value on its own: one line per refused value
        try:
            _protocol.apply_overrides(base, {name: value})
        except ParameterError as exc:
            out.append(((key, "overrides", name), exc.en))
        except UserError as exc:
            out.append(((key, "overrides", name), exc.en))
    if out or len(own) != len(setup.overrides) or not (key == "start" or start_ok):
        return out
    try:
        proto = _protocol.apply_overrides(base, own)
        mod.check_protocol(proto)
        if ex.modality == "mr":
            from simulator.mr.planning import plan_slices

            plan_slices(proto, _protocol.make_geometry(ex, setup.geometry if key != "start" else None, proto))
    except ParameterError as exc:
        where = (key, "overrides", exc.name) if exc.name in setup.overrides else (key,)
        return [(where, exc.en)]
    except UserError as exc:
        return [((key,), exc.en)]
    if ex.grade_slices and ex.modality == "mr":
        n = int(proto.slices)
        bad = [s for s in ex.grade_slices if s >= n]
        if bad:
            return [(("grade_slices",), f"slice {bad[0]} does not exist in the {key} protocol "
                     f"({n} slices: 0–{n - 1})")]
    return []


def _raise(source: str, lines: LineMap, problems: Iterable[Problem]) -> None:
    rows = sorted({(lines.line(p), m) for p, m in problems})
    if rows:
        raise ExerciseError([(source, n, m) for n, m in rows])


def exercise_from_text(text: str, source: str = "<exercise>", path: Path | None = None,
                       check_simulator: bool = True) -> Exercise:
    """Parse and validate exercise YAML text (see :func:`load_exercise`)."""
    try:
        data, lines = parse_with_lines(text)
    except YamlSyntaxError as exc:
        raise ExerciseError([(source, exc.line, exc.message)]) from None
    problems = structural_errors(data)
    ex: Exercise | None = None
    if not problems:
        ex = from_data(data, source=path, lines=lines)
    elif check_simulator:
        try:  # structure errors elsewhere: still check what can be built, to report them all
            ex = from_data(data, source=path, lines=lines)
        except Exception:
            ex = None
    modality = data.get("modality") if isinstance(data, dict) else None
    if check_simulator and modality in ("mr", "pet") and simulator_ready(modality):
        problems = problems + _sim_errors(ex, data)
    _raise(source, lines, problems)
    assert ex is not None
    return ex


def load_exercise(path: str | Path, check_simulator: bool = True) -> Exercise:
    """Load and validate an exercise YAML file.

    Parameters
    ----------
    path : str or Path
        The ``.yaml`` file.
    check_simulator : bool
        Also check names and values against the scanners (default). Without it only the
        structure is checked (fast; no anatomy is loaded).

    Raises
    ------
    ExerciseError
        With one ``FILE:LINE: message`` per problem.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExerciseError([(str(p), 0, f"cannot read the file: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise ExerciseError([(str(p), 1, "the file is not UTF-8 text")]) from None
    return exercise_from_text(text, str(p), p, check_simulator)


def check_exercise(path: str | Path) -> list[str]:
    """``FILE:LINE: message`` lines for every problem of a file (empty when it is valid)."""
    try:
        load_exercise(path)
    except ExerciseError as exc:
        return exc.lines
    return []


def load_course(folder: str | Path | None = None, check_simulator: bool = False) -> dict[str, Exercise]:
    """All exercises of a folder (default: ``course/exercises``) by id, in file order.

    Only the structure is checked by default (fast, for the consoles); the meaning is
    checked by ``merm-lab exercise check`` and the test suite (``check_simulator=True``).
    """
    from simulator.paths import course_dir

    root = Path(folder) if folder is not None else course_dir() / "exercises"
    out: dict[str, Exercise] = {}
    for f in sorted(root.glob("*.yaml")):
        ex = load_exercise(f, check_simulator=check_simulator)
        if ex.id in out:
            raise ExerciseError([(str(f), ex.lines.line(("id",)), f"duplicate exercise id '{ex.id}'")])
        out[ex.id] = ex
    return out

