"""Command dispatch of a console session: one entry point for widgets, mentors and exercises.

:class:`CommandsMixin` gives :class:`~simulator.console.session.ConsoleSession` its
``apply_command`` (the ``ConsoleLike`` entry point of ``docs/architecture.md``): a command
is checked (type, role), dispatched to the session's setters, and its effect attributed to
the actor who sent it. Parameter and geometry changes live here; scanning is in
:mod:`._scanning`, viewing in :mod:`._view_state`.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from typing import TYPE_CHECKING, Any

from simulator.console._backend import jsonable
from simulator.console._events import SessionEvents
from simulator.console.i18n import localize_warning
from simulator.console.words import param_value
from simulator.errors import ParameterError, UserError
from simulator.mr.planning import phase_dir_for
from simulator.mr.protocol import MRProtocol

__all__ = ["CommandsMixin"]

_COMMANDS = (
    "set_param",
    "scan",
    "stop",
    "set_slice",
    "set_window",
    "set_geometry",
    "select_series",
    "set_view",
)
#: Phase-encoding directions lying in each slice plane (the first is the console's default).
_ROLES_ALLOWED = {"local", "trainee", "mentor", "instructor"}


def _coerce(current: Any, value: Any) -> Any:
    """Convert ``value`` to the type of ``current`` (JSON from a mentor, text from a box)."""
    if isinstance(current, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "oui", "on")
        return bool(value)
    if isinstance(current, int):
        v = float(value)
        if not math.isfinite(v) or v != int(v):
            raise ValueError("not an integer")
        return int(v)
    if isinstance(current, float):
        v = float(value)
        if not math.isfinite(v):
            raise ValueError("not finite")
        return v
    if isinstance(current, tuple):
        return tuple(float(x) for x in value)
    return type(current)(value) if current is not None else value


class CommandsMixin(SessionEvents):
    """``apply_command`` and the protocol/geometry setters of a console session.

    The host class provides the protocol, geometry and the methods named under
    ``TYPE_CHECKING`` below (see :class:`~simulator.console.session.ConsoleSession`).
    """

    protocol: Any
    geometry: Any
    warnings: tuple[str, ...]
    _lock: threading.RLock

    if TYPE_CHECKING:

        def _set_protocol(self, protocol: Any) -> None: ...

        def start_scan(self, actor: str = "local", role: str = "trainee") -> dict: ...

        def stop_scan(self) -> None: ...

        def set_slice(self, index: int) -> dict: ...

        def set_window(self, center: float, width: float) -> dict: ...

        def set_view(
            self,
            mode: str | None = None,
            a: int | None = None,
            b: int | None = None,
            zoom: float | None = None,
        ) -> dict: ...

        def select_series(self, index: int) -> dict: ...

    def apply_command(self, command: dict, actor: str = "local", role: str = "trainee") -> dict:
        """Apply one command (see ``ConsoleLike``); never raises on bad input."""
        try:
            return self._apply(command, actor, role)
        except UserError as exc:
            msg = exc.message(self.lang)
            self._say(msg, "error", name=getattr(exc, "name", None))
            return {"ok": False, "message": msg, "before": None, "after": None}
        except (TypeError, ValueError, KeyError) as exc:
            msg = self.t("unknown_cmd", cmd=f"{command!r:.120}") + f" ({exc})"
            self._say(msg, "error")
            return {"ok": False, "message": msg, "before": None, "after": None}

    @staticmethod
    def _locked_text(name: str, editable: Any, lang: str) -> str:
        from simulator.console.i18n import tr

        allowed = ", ".join(tr(n, lang) for n in sorted(editable)) or "—"
        return tr("param_locked", lang, param=tr(name, lang), allowed=allowed)

    def _attribution(self, key_param: str, actor: str, role: str) -> str:
        label = self.t(key_param).split(" (")[0]  # "TR (ms)" → "TR"
        return self.t("changed_by", param=label, role=self.t(f"role_{role}"), actor=actor)

    def _apply(self, command: dict, actor: str, role: str) -> dict:
        if not isinstance(command, dict):
            raise TypeError("command must be a dict")
        kind = command.get("type")
        if kind not in _COMMANDS:
            msg = self.t("unknown_cmd", cmd=str(kind)[:60])
            return {"ok": False, "message": msg, "before": None, "after": None}
        if role not in _ROLES_ALLOWED:
            return {
                "ok": False,
                "message": self.t("not_allowed", role=role),
                "before": None,
                "after": None,
            }
        remote = actor != "local"
        if kind == "set_param":
            return self._set_param(str(command["name"]), command["value"], actor, role, remote)
        if kind == "scan":
            # a mentor's PET "scan" reaches here only after the trainee confirmed it at the hub
            return self.start_scan(actor=actor, role=role)
        if kind == "stop":
            self.stop_scan()
            return {"ok": True, "message": self.t("scan_stopped"), "before": None, "after": None}
        if kind == "set_slice":
            return self.set_slice(int(command["index"]))
        if kind == "set_window":
            return self.set_window(float(command["center"]), float(command["width"]))
        if kind == "set_view":
            return self.set_view(
                command.get("mode"), command.get("a"), command.get("b"), command.get("zoom")
            )
        if kind == "select_series":
            return self.select_series(int(command["index"]))
        fields = {k: v for k, v in command.items() if k != "type"}
        return self.set_geometry(actor=actor, role=role, **fields)

    def _set_param(self, name: str, value: Any, actor: str, role: str, remote: bool) -> dict:
        fields = {f.name for f in dataclasses.fields(self.protocol)}
        if name not in fields:
            msg = self.t("unknown_param", name=name)
            self._say(msg, "error", name=name)
            return {"ok": False, "message": msg, "before": None, "after": None}
        before = getattr(self.protocol, name)
        editable = getattr(self, "exercise_editable", None)
        if editable is not None and name not in editable and role in ("trainee", "mentor"):
            raise UserError(
                self._locked_text(name, editable, "de" if self.lang == "de" else "en"),
                self._locked_text(name, editable, "fr"),
            )
        try:
            new_value = _coerce(before, value)
        except (TypeError, ValueError):
            raise ParameterError(
                name, value, "a number" if isinstance(before, (int, float)) else "a valid value"
            ) from None
        changes = {name: new_value}
        if name == "orientation" and isinstance(self.protocol, MRProtocol):
            # as on a scanner: the phase direction follows the new slice plane
            changes["phase_dir"] = phase_dir_for(new_value, self.protocol.phase_dir)
        candidate = dataclasses.replace(self.protocol, **changes)
        with self._lock:
            self._set_protocol(candidate)  # raises ParameterError before any change
            if name == "orientation" and self.geometry is not None:
                self.geometry = dataclasses.replace(self.geometry, orientation=new_value)
        after = getattr(self.protocol, name)
        text = (
            self._attribution(name, actor, role)
            if remote
            else self.t("param_ok", param=self.t(name), value=param_value(name, after, self.lang))
        )
        if "phase_dir" in changes and name != "phase_dir":
            pd = param_value("phase_dir", changes["phase_dir"], self.lang)
            text += f" ({self.t('phase_dir')} → {pd})"
        if self.warnings:
            text += " — " + self.t(
                "warning", msg="; ".join(localize_warning(w, self.lang) for w in self.warnings)
            )
        self._emit(
            {
                "type": "param",
                "name": name,
                "before": jsonable(before),
                "after": jsonable(after),
                "actor": actor,
                "role": role,
            }
        )
        self._say(text, "warning" if self.warnings else "info", name=name, actor=actor, role=role)
        if name == "orientation":
            self._emit({"type": "geometry", "geometry": jsonable(self.geometry)})
        return {"ok": True, "message": text, "before": jsonable(before), "after": jsonable(after)}

    def set_geometry(self, actor: str = "local", role: str = "trainee", **fields: Any) -> dict:
        """Move/angle the slice stack: ``center_mm``, ``angle_deg``, ``orientation``."""
        if self.geometry is None:
            return {
                "ok": False,
                "message": "no geometry for this modality",
                "before": None,
                "after": None,
            }
        known = {f.name for f in dataclasses.fields(self.geometry)}
        bad = set(fields) - known
        if bad:
            raise ParameterError(sorted(bad)[0], fields[sorted(bad)[0]], ", ".join(sorted(known)))
        before = jsonable(self.geometry)
        values = {k: _coerce(getattr(self.geometry, k), v) for k, v in fields.items()}
        if "angle_deg" in values and not -90.0 <= values["angle_deg"] <= 90.0:
            raise ParameterError("angle_deg", values["angle_deg"], "-90–90°")
        self.geometry = dataclasses.replace(self.geometry, **values)
        if "orientation" in values and hasattr(self.protocol, "orientation"):
            self._set_protocol(
                dataclasses.replace(self.protocol, orientation=values["orientation"])
            )
        self._emit(
            {"type": "geometry", "geometry": jsonable(self.geometry), "actor": actor, "role": role}
        )
        if actor != "local":
            self._say(
                self._attribution("grp_geometry", actor, role), "info", actor=actor, role=role
            )
        return {"ok": True, "message": "", "before": before, "after": jsonable(self.geometry)}
