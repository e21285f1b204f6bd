"""What ``merm-lab mr scan`` and ``merm-lab pet scan`` share: ``--set`` parsing, JSON-safe
metrics, an output folder that is complete or absent (never half written), and the study a
call writes into (its own, or the one ``--study-uid`` joins)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import shutil
import tempfile
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simulator.errors import ParameterError, UserError

__all__ = [
    "parse_sets",
    "apply_sets",
    "jsonable",
    "write_json",
    "staged_output",
    "add_study_arguments",
    "study_from_args",
    "GENERATOR",
]

#: Written into every metrics.json so that a later run knows it may replace the folder.
GENERATOR = "merm-lab"

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
_NONE = {"none", "null", "off"}


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, str) for f in dataclasses.fields(cls)}


def _convert(name: str, text: str, kind: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if type(None) in typing.get_args(kind) and text.strip().lower() in _NONE:
            return None
        return _convert(name, text, args[0] if args else str)
    t = text.strip()
    if kind is bool:
        low = t.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ParameterError(name, text, "true, false (yes/no, 1/0)")
    if kind is int:
        try:
            f = float(t)
        except ValueError:
            f = math.nan
        if not math.isfinite(f) or not f.is_integer():
            raise ParameterError(
                name, text, "a whole number", "not a whole number", "pas un nombre entier"
            )
        return int(f)
    if kind is float:
        try:
            v = float(t)
        except ValueError:
            raise ParameterError(name, text, "a number", "not a number", "pas un nombre") from None
        if not math.isfinite(v):
            raise ParameterError(name, text, "a finite number")
        return v
    if typing.get_origin(kind) is tuple or kind is tuple:
        try:
            return tuple(float(v) for v in t.strip("()[]").split(","))
        except ValueError:
            raise ParameterError(name, text, "numbers separated by commas") from None
    return t


def parse_sets(pairs: Sequence[str] | None, cls: type) -> dict[str, Any]:
    """Parse ``name=value`` strings into typed values for the dataclass ``cls``.

    Parameters
    ----------
    pairs : sequence of str
        The ``--set`` arguments.
    cls : type
        A dataclass (``MRProtocol``, ``PETProtocol``); each value is converted to its field's
        type (bool accepts true/false/yes/no/1/0/on/off).

    Returns
    -------
    dict
        Field name → typed value, in the order given (a later value wins).

    Raises
    ------
    UserError
        A pair without ``=`` or an unknown name (the message lists the allowed names).
    ParameterError
        A value that does not parse as the field's type.
    """
    types_ = _field_types(cls)
    out: dict[str, Any] = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UserError(
                f"--set {pair!r}: expected name=value",
                f"--set {pair!r} : forme attendue nom=valeur",
            )
        if name not in types_:
            allowed = ", ".join(types_)
            raise UserError(
                f"--set {name}: unknown parameter; allowed: {allowed}",
                f"--set {name} : paramètre inconnu ; paramètres permis : {allowed}",
            )
        out[name] = _convert(name, value, types_[name])
    return out


def apply_sets(base: Any, values: Mapping[str, Any]) -> Any:
    """``dataclasses.replace(base, **values)``; the dataclass checks each value."""
    try:
        return dataclasses.replace(base, **values)
    except TypeError as exc:  # a value of the wrong type that __post_init__ did not catch
        raise UserError(f"bad parameter: {exc}", f"paramètre invalide : {exc}") from None


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (dataclasses, numpy, tuples; NaN/inf → None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented JSON (UTF-8)."""
    path.write_text(
        json.dumps(jsonable(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _previous_output(folder: Path) -> bool:
    """Whether ``folder`` holds only an earlier ``merm-lab … scan`` output."""
    metrics = folder / "metrics.json"
    try:
        ok = json.loads(metrics.read_text(encoding="utf-8")).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False
    return ok and all(p.is_file() for p in folder.iterdir())


@contextlib.contextmanager
def staged_output(out_dir: str | Path) -> Iterator[Path]:
    """A scratch folder that becomes ``out_dir`` only if the block succeeds.

    ``out_dir`` must be absent, empty, or an earlier output of a scan command (which is
    replaced). On any error the scratch folder is removed and ``out_dir`` is left as it was.

    Raises
    ------
    UserError
        ``out_dir`` is a file or a folder holding something else.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: is a file", f"--out {out} : est un fichier")
    if out.is_dir() and any(out.iterdir()) and not _previous_output(out):
        raise UserError(
            f"--out {out}: folder is not empty (and not an earlier scan output)",
            f"--out {out} : dossier non vide (et pas une sortie de scan précédente)",
        )
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=parent))
    except OSError as exc:
        raise UserError(f"--out {out}: {exc.strerror}", f"--out {out} : {exc.strerror}") from None
    try:
        yield stage
        if out.is_dir():
            shutil.rmtree(out)
        stage.rename(out)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def add_study_arguments(parser: argparse.ArgumentParser) -> None:
    """``--study-uid UID`` and ``--series-number N``: join an exam instead of opening one."""
    parser.add_argument(
        "--study-uid",
        default=None,
        metavar="UID",
        help="write the series into this existing study (default: one new study per call)",
    )
    parser.add_argument(
        "--series-number",
        type=int,
        default=1,
        metavar="N",
        help="Series Number within the study (default 1; give the next free one when joining)",
    )


def study_from_args(args: argparse.Namespace, *identity: Any) -> Any:
    """The :class:`simulator.dicom.study.Study` this call writes into.

    With ``--study-uid`` the series joins that study; without, the call opens a study of its
    own, its UID a hash of ``identity`` (what the call scans), on the simulation clock.

    Raises
    ------
    UserError
        ``--study-uid`` is not a DICOM UID, or ``--series-number`` is out of 1–99999.
    """
    from simulator.dicom._common import SIM_CLOCK, make_uid
    from simulator.dicom.study import Study, check_uid

    number = int(getattr(args, "series_number", 1) or 1)
    if not 1 <= number <= 99999:
        raise UserError(
            f"--series-number {number}: allowed 1–99999",
            f"--series-number {number} : valeurs permises 1–99999",
        )
    uid = getattr(args, "study_uid", None)
    if uid:
        return Study(study_uid=check_uid(uid), started_at=SIM_CLOCK)
    return Study(study_uid=make_uid("cli-study", *identity), started_at=SIM_CLOCK)
