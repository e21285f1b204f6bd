"""Load an exercise file and check it, with ``FILE:LINE: message`` for every problem.

Two passes: the structure (keys, types, required fields; :mod:`schema`) and then the
meaning, against the scanners themselves: the anatomy, pathology, phantom and preset exist,
parameter names are protocol fields, tissues and structures are in the anatomy's labels,
and the start, reference and wrong-answer protocols pass the scanner's own
``check_protocol``.
"""

from __future__ import annotations

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


def _sim_errors(ex: Exercise, data: dict[str, Any]) -> list[Problem]:
    """Checks against the scanner packages (names, ranges, check_protocol)."""
    out: list[Problem] = []
    mod = _protocol.scanner(ex.modality)
    fields = set(_protocol.protocol_fields(ex.modality))
    names: tuple[str, ...] = ()
    if ex.modality == "mr":
        if ex.anatomy not in mod.ANATOMIES:
            return [(("anatomy",), f"unknown anatomy '{ex.anatomy}' (known: {', '.join(mod.ANATOMIES)})")]
        allowed = mod.PATHOLOGIES.get(ex.anatomy, ())
        if ex.pathology is not None and ex.pathology not in allowed:
            return [(("pathology",), f"unknown pathology '{ex.pathology}' for {ex.anatomy} "
                     f"(known: {', '.join(allowed) or 'none'})")]
        names = tuple(mod.load_anatomy(ex.anatomy, pathology=ex.pathology).names)
    else:
        if ex.phantom not in mod.PHANTOMS:
            return [(("phantom",), f"unknown phantom '{ex.phantom}' (known: {', '.join(mod.PHANTOMS)})")]
        try:
            names = tuple(mod.make_phantom(ex.phantom, **ex.phantom_options).names)
        except UserError as exc:
            return [(("phantom_options",), exc.en)]
        except TypeError as exc:
            return [(("phantom_options",), f"bad phantom option: {exc}")]
    for i, name in enumerate(ex.editable):
        if name not in fields:
            out.append((("editable", i), f"unknown parameter '{name}'"))
    for key in ("start", "reference_solution", "typical_wrong_answer"):
        for name in (data[key].get("overrides") or {}):
            if name not in fields:
                out.append(((key, "overrides", name), f"unknown parameter '{name}'"))
            elif key != "start" and name not in ex.editable:
                out.append(((key, "overrides", name), f"'{name}' is not in 'editable'"))
    for i, obj in enumerate(ex.objectives):
        spec = METRICS[obj.metric]
        path = ("objectives", i)
        if spec.modality not in ("any", ex.modality):
            out.append((path + ("metric",), f"metric '{obj.metric}' is for {spec.modality.upper()} exercises"))
        for t_i, tissue in enumerate(obj.args.get("tissues", ())):
            if tissue not in names:
                out.append((path + ("tissues", t_i), f"unknown tissue '{tissue}' (known: {', '.join(names[1:])})"))
        for key in ("tissue", "structure", "region"):
            val = obj.args.get(key)
            if val is not None and val not in names:
                out.append((path + (key,), f"unknown {key} '{val}' (known: {', '.join(names[1:])})"))
        if "name" in obj.args and obj.args["name"] not in fields:
            out.append((path + ("name",), f"unknown parameter '{obj.args['name']}'"))
        if "sphere_mm" in obj.args and f"sphere_{int(obj.args['sphere_mm'])}" not in names:
            spheres = [n for n in names if n.startswith("sphere_")]
            out.append((path + ("sphere_mm",), f"no sphere of {obj.args['sphere_mm']} mm "
                        f"(phantom has: {', '.join(spheres) or 'none'})"))
    if out:
        return out
    if ex.modality == "mr":
        try:
            mod.preset(ex.anatomy, ex.preset)
        except (UserError, KeyError, TypeError):
            return [(("start", "preset"), f"unknown preset '{ex.preset}' for {ex.anatomy}")]
    for key, setup in (("start", ex.start), ("reference_solution", ex.reference_solution),
                       ("typical_wrong_answer", ex.typical_wrong_answer)):
        out += _setup_errors(ex, key, setup)
    return out


def _setup_errors(ex: Exercise, key: str, setup: Setup) -> list[Problem]:
    mod = _protocol.scanner(ex.modality)
    try:
        proto = _protocol.start_protocol(ex)
        if key != "start":
            proto = _protocol.apply_overrides(proto, setup.overrides)
        mod.check_protocol(proto)
        if ex.modality == "mr":
            from simulator.mr.geometry import plan_slices

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
    _raise(source, lines, structural_errors(data))
    ex = from_data(data, source=path, lines=lines)
    if check_simulator and simulator_ready(ex.modality):
        _raise(source, lines, _sim_errors(ex, data))
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

