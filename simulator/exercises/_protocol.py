"""Build scanner protocols and geometries from an exercise's start setup and overrides."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from simulator.errors import ParameterError, UserError

__all__ = ["scanner", "protocol_fields", "start_protocol", "apply_overrides", "make_geometry",
           "changed_params", "protocol_to_dict"]


def scanner(modality: str) -> Any:
    """The scanner package for ``modality`` (``simulator.mr`` or ``simulator.pet``)."""
    if modality == "mr":
        import simulator.mr as mod
    else:
        import simulator.pet as mod  # type: ignore[no-redef]
    return mod


def protocol_class(modality: str) -> type:
    mod = scanner(modality)
    return mod.MRProtocol if modality == "mr" else mod.PETProtocol


def protocol_fields(modality: str) -> tuple[str, ...]:
    """Names of the protocol parameters of a modality."""
    return tuple(f.name for f in dataclasses.fields(protocol_class(modality)))


def _coerce(proto: Any, name: str, value: Any) -> Any:
    """Convert YAML values to the type of the protocol's current value (int → float…)."""
    current = getattr(proto, name)
    if isinstance(current, bool) or isinstance(value, bool):
        return value
    if isinstance(current, float) and isinstance(value, int):
        return float(value)
    if isinstance(current, int) and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(current, tuple) and isinstance(value, list):
        return tuple(value)
    return value


def apply_overrides(proto: Any, overrides: Mapping[str, Any]) -> Any:
    """``dataclasses.replace`` with unknown names and type slips turned into user errors."""
    if not overrides:
        return proto
    names = {f.name for f in dataclasses.fields(proto)}
    for name in overrides:
        if name not in names:
            raise UserError(
                f"unknown parameter '{name}' (known: {', '.join(sorted(names))})",
                f"paramètre inconnu « {name} » (connus : {', '.join(sorted(names))})",
            )
    values = {k: _coerce(proto, k, v) for k, v in overrides.items()}
    try:
        return dataclasses.replace(proto, **values)
    except ParameterError:
        raise
    except (TypeError, ValueError) as exc:
        raise UserError(f"bad parameter value: {exc}", f"valeur de paramètre invalide : {exc}") from None


def start_protocol(exercise: Any) -> Any:
    """The protocol the trainee starts from (preset + the exercise's start overrides)."""
    mod = scanner(exercise.modality)
    if exercise.modality == "mr":
        base = mod.preset(exercise.anatomy, exercise.preset)
    else:
        cls = mod.PETProtocol
        base = cls()
        presets = getattr(mod, "PRESETS", None)
        if exercise.preset and presets is not None and hasattr(mod, "preset"):
            base = mod.preset(exercise.phantom, exercise.preset)
        if "weight_kg" in {f.name for f in dataclasses.fields(cls)}:
            base = dataclasses.replace(base, weight_kg=float(exercise.patient.weight_kg))
    return apply_overrides(base, exercise.start.overrides)


def make_geometry(exercise: Any, geometry: Mapping[str, Any] | None = None,
                  protocol: Any = None) -> Any:
    """MR ``Geometry``: the scanner's default stack for the anatomy (centred on the body),
    updated by the exercise's start geometry, then by ``geometry``; the orientation follows
    ``protocol`` (default: the start protocol) unless given. PET: None."""
    if exercise.modality != "mr":
        return None
    mod = scanner("mr")
    fields = {f.name for f in dataclasses.fields(mod.Geometry)}
    merged: dict[str, Any] = dict(exercise.start.geometry or {})
    merged.update(geometry or {})
    for name in merged:
        if name not in fields:
            raise UserError(
                f"unknown geometry field '{name}' (known: {', '.join(sorted(fields))})",
                f"champ de géométrie inconnu « {name} » (connus : {', '.join(sorted(fields))})",
            )
    merged = {k: tuple(v) if isinstance(v, list) else v for k, v in merged.items()}
    proto = protocol if protocol is not None else start_protocol(exercise)
    if "orientation" not in merged and hasattr(proto, "orientation"):
        merged["orientation"] = proto.orientation
    if "center_mm" not in merged:
        from simulator.mr.planning import default_geometry

        anat = mod.load_anatomy(exercise.anatomy, pathology=exercise.pathology)
        merged["center_mm"] = default_geometry(anat, proto).center_mm
    try:
        return mod.Geometry(**merged)
    except ParameterError:
        raise
    except (TypeError, ValueError) as exc:
        raise UserError(f"bad geometry: {exc}", f"géométrie invalide : {exc}") from None


def protocol_to_dict(proto: Any) -> dict[str, Any]:
    """A JSON-safe dict of a protocol's fields."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(proto):
        v = getattr(proto, f.name)
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


def changed_params(start: Any, proto: Any) -> tuple[str, ...]:
    """Names of the parameters whose value differs between two protocols."""
    return tuple(
        f.name for f in dataclasses.fields(start) if getattr(start, f.name) != getattr(proto, f.name)
    )
