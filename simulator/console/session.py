"""The console model: protocol, geometry, patient, series, scan clock — no widgets.

:class:`ConsoleSession` is what the widgets, the mentoring link and the exercise panel all
drive. It implements the ``ConsoleLike`` protocol of ``docs/architecture.md``:
``snapshot()``, ``apply_command()``, ``render_frame()`` and ``on_change()``. Every change
goes through :meth:`ConsoleSession.apply_command` (local widgets use ``actor="local"``), so
a mentor's command and a trainee's click follow the same rules and are attributed the same
way. A scan runs the physics once in a worker thread and reveals it over the simulated
scan time at the chosen clock speed; the kernel never blocks.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from simulator.console import _ai_view, _render
from simulator.console._backend import MRBackend, PETBackend, ScanResult, jsonable
from simulator.console.i18n import localize_warning, tr
from simulator.errors import ParameterError, UserError

__all__ = ["ConsoleSession", "CLOCKS", "format_mmss"]

#: Clock speeds: simulated seconds per real second (inf: as fast as the physics).
CLOCKS: dict[str, float] = {"1x": 1.0, "10x": 10.0, "60x": 60.0, "max": math.inf}

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
#: ``ai_change``: AI output minus its input (only for a series acquired with AI denoising).
VIEW_MODES = ("single", "side", "diff", "mip", "ai_change")
#: Phase-encoding directions lying in each slice plane (the first is the console's default).
_IN_PLANE = {"axial": ("RL", "AP"), "sagittal": ("AP", "HF"), "coronal": ("RL", "HF")}
_ROLES_ALLOWED = {"local", "trainee", "mentor", "instructor"}

Listener = Callable[[dict], None]


def format_mmss(seconds: float) -> str:
    """``mm:ss`` (``h:mm:ss`` past an hour) of a duration in seconds."""
    s = int(round(max(0.0, seconds)))
    if s >= 3600:
        return f"{s // 3600}:{(s % 3600) // 60:02d}:{s % 60:02d}"
    return f"{s // 60:02d}:{s % 60:02d}"


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


def _dicom_patient(cls: Any, p: Any) -> Any:
    """A DICOM ``FictitiousPatient`` (family name SIMULATION) for a scenario patient."""
    import datetime as dt

    try:
        return cls(
            name="SIMULATION^" + p.name.replace(" ", "_"),
            patient_id=f"MERM-{p.key.upper()}",
            birth_date=dt.date(2026 - p.age, 1, 1),
            sex=p.sex,
            weight_kg=p.weight_kg,
        )
    except (TypeError, ValueError):
        return None


def _mip_aspect(s: ScanResult) -> float:
    """Pixel aspect of a coronal MIP (slice spacing over column spacing)."""
    vox = getattr(s.series, "voxel_mm", None)
    if vox is not None and len(vox) == 3:
        return float(vox[0]) / float(vox[2])
    return 1.0


class ConsoleSession:
    """State of one trainee console (MR or PET).

    Parameters
    ----------
    modality : {"mr", "pet"}
    lang : {"fr", "en"}
    anatomy : str
        MR anatomy (``"brain"``, ``"knee"``, ``"spine"``) or PET phantom name.
    seed : int
        Base seed; scan *k* of the session uses ``seed + k``.
    clock : str
        Key of :data:`CLOCKS`.
    """

    def __init__(
        self,
        modality: str = "mr",
        lang: str = "en",
        anatomy: str | None = None,
        pathology: str | None = None,
        seed: int = 1,
        clock: str = "60x",
    ) -> None:
        if modality not in ("mr", "pet"):
            raise UserError(f"unknown modality {modality!r}", f"modalité inconnue {modality!r}")
        self.modality = modality
        self.lang = lang
        self.backend = MRBackend() if modality == "mr" else PETBackend()
        self.anatomy_name = anatomy or ("brain" if modality == "mr" else "nema-iec")
        self.pathology = pathology
        self.seed = int(seed)
        self.clock = clock
        self.protocol = self.backend.default_protocol(self.anatomy_name)
        #: The exam's standard protocol (preset or exercise start): what AI savings refer to.
        self.standard_protocol = self.protocol
        self._anatomy: Any = None
        self.geometry = self.backend.default_geometry(
            self.protocol, self.anatomy if modality == "mr" else None
        )
        self.series: list[ScanResult] = []
        self.current = -1
        self.slice_index = 0
        self.window: tuple[float, float] = (0.5, 1.0)
        self.scan_state = "idle"
        self.progress = 0.0
        self.controller = "trainee"
        self.message = ""
        self.warnings: tuple[str, ...] = ()
        self.patient: Any = None
        self.screening = "pending" if modality == "mr" else "ok"
        self.screening_detail = ""
        self.live_image: NDArray[np.float32] | None = None
        self.live_label = ""
        self.live_aspect = 1.0
        self.view_mode = "single"
        self.compare: tuple[int, int] = (0, 0)
        self.zoom = 1.0
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()
        self.consequences = self._consequences(self.protocol)
        self.warnings = self.backend.check(self.protocol)

    # ------------------------------------------------------------------ events
    def on_change(self, callback: Listener) -> None:
        """Call ``callback(event)`` after every change (param, progress, series, message…)."""
        self._listeners.append(callback)

    def notify(self, event: dict) -> None:
        """Tell every listener about something that happened beside the console (e.g. the
        mentoring panel's ``{"type": "mentor_called"}``, which an exercise may grade)."""
        self._emit(dict(event))

    def _emit(self, event: dict) -> None:
        for cb in list(self._listeners):
            try:
                cb(event)
            except Exception:  # a broken listener must not break the console
                import traceback

                traceback.print_exc()

    def _say(self, text: str, level: str = "info", **extra: Any) -> None:
        self.message = text
        self._emit({"type": "message", "text": text, "level": level, **extra})

    def t(self, key: str, **kw: Any) -> str:
        return tr(key, self.lang, **kw)

    def set_lang(self, lang: str) -> None:
        self.lang = lang
        self._emit({"type": "lang", "lang": lang})

    # ------------------------------------------------------------------ anatomy
    @property
    def anatomy(self) -> Any:
        """The loaded anatomy (MR) or phantom (PET), loaded on first use."""
        if self._anatomy is None:
            self._anatomy = self.backend.load_anatomy(self.anatomy_name, self.pathology)
        return self._anatomy

    def set_anatomy(
        self, name: str, pathology: str | None = None, preset_name: str | None = None
    ) -> None:
        """Change region (and preset protocol); keeps motion from the patient's state."""
        anatomy = self.backend.load_anatomy(name, pathology)
        protocol = self.backend.default_protocol(name, preset_name)
        if self.patient is not None and hasattr(protocol, "motion"):
            protocol = dataclasses.replace(protocol, motion=self.patient.motion)
        with self._lock:
            self.anatomy_name, self.pathology, self._anatomy = name, pathology, anatomy
            self.standard_protocol = protocol
            self._set_protocol(protocol)
            self.geometry = self.backend.default_geometry(protocol, anatomy)
        self._emit({"type": "anatomy", "anatomy": name, "pathology": pathology})
        self._emit({"type": "geometry", "geometry": jsonable(self.geometry)})

    def load_protocol(self, protocol: Any, label: str = "", standard: bool = True) -> dict:
        """Replace the whole protocol (preset or queue entry) after checking it.

        ``standard``: it becomes the exam's standard protocol, the reference of the AI time
        and dose savings (a preset or an exercise start; not a queue entry of one's own).
        """
        try:
            self.backend.check(protocol)
        except UserError as exc:
            self._say(exc.message(self.lang), "error")
            return {"ok": False, "message": exc.message(self.lang)}
        if self.patient is not None and hasattr(protocol, "motion"):
            protocol = dataclasses.replace(protocol, motion=self.patient.motion)
        if standard:
            self.standard_protocol = protocol
        self._set_protocol(protocol)
        if self.geometry is not None and hasattr(protocol, "orientation"):
            self.geometry = dataclasses.replace(self.geometry, orientation=protocol.orientation)
            self._emit({"type": "geometry", "geometry": jsonable(self.geometry)})
        return {"ok": True, "message": label}

    def _consequences(self, protocol: Any) -> dict:
        """``derive``'s figures plus ``ai_saving`` (None unless AI denoising is on)."""
        out = self.backend.consequences(protocol)
        out["ai_saving"] = self.backend.ai_saving(protocol, self.standard_protocol)
        return out

    def _set_protocol(self, protocol: Any) -> None:
        self.warnings = self.backend.check(protocol)  # raises before any change
        self.consequences = self._consequences(protocol)
        self.protocol = protocol
        self._emit(
            {"type": "protocol", "protocol": jsonable(protocol), "consequences": self.consequences}
        )

    # ------------------------------------------------------------------ patient
    def set_patient(self, patient: Any) -> None:
        """Admit a patient: motion follows the state, screening starts over (MR)."""
        self.patient = patient
        if self.modality == "mr":
            self.screening, self.screening_detail = "pending", ""
        if hasattr(self.protocol, "motion"):
            self._set_protocol(dataclasses.replace(self.protocol, motion=patient.motion))
        self._emit({"type": "patient", "patient": jsonable(patient)})

    def set_screening(self, status: str, detail: str = "") -> None:
        """Record the MR safety screening outcome: ``ok``, ``conditional`` or ``blocked``."""
        self.screening, self.screening_detail = status, detail
        self._emit({"type": "screening", "status": status, "detail": detail})

    def set_controller(self, name: str | None) -> None:
        """Who holds control of the console (set by the mentoring link)."""
        self.controller = name or "trainee"
        self._emit({"type": "controller", "controller": self.controller})

    def scan_allowed(self) -> tuple[bool, str]:
        if self.screening == "blocked":
            return False, self.t("scan_contra", what=self.screening_detail)
        if self.screening not in ("ok", "conditional"):
            return False, self.t("scan_blocked")
        return True, ""

    # ------------------------------------------------------------------ commands
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
        try:
            new_value = _coerce(before, value)
        except (TypeError, ValueError):
            raise ParameterError(
                name, value, "a number" if isinstance(before, (int, float)) else "a valid value"
            ) from None
        changes = {name: new_value}
        if (
            name == "orientation"
            and new_value in _IN_PLANE
            and self.protocol.phase_dir not in _IN_PLANE[new_value]
        ):
            # as on a scanner: the phase direction follows the new slice plane
            changes["phase_dir"] = _IN_PLANE[new_value][0]
        candidate = dataclasses.replace(self.protocol, **changes)
        with self._lock:
            self._set_protocol(candidate)  # raises ParameterError before any change
            if name == "orientation" and self.geometry is not None:
                self.geometry = dataclasses.replace(self.geometry, orientation=new_value)
        after = getattr(self.protocol, name)
        text = (
            self._attribution(name, actor, role)
            if remote
            else self.t("param_ok", param=self.t(name), value=after)
        )
        if "phase_dir" in changes and name != "phase_dir":
            text += f" ({self.t('phase_dir')} → {changes['phase_dir']})"
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

    # ------------------------------------------------------------------ viewing
    def current_series(self) -> ScanResult | None:
        return self.series[self.current] if 0 <= self.current < len(self.series) else None

    def set_slice(self, index: int) -> dict:
        s = self.current_series()
        n = s.images.shape[0] if s is not None else 1
        if not 0 <= index < n:
            raise ParameterError("slice", index, f"0–{n - 1}")
        before, self.slice_index = self.slice_index, index
        self._emit({"type": "slice", "index": index})
        return {"ok": True, "message": "", "before": before, "after": index}

    def set_window(self, center: float, width: float) -> dict:
        if not (math.isfinite(center) and math.isfinite(width)) or width <= 0:
            raise ParameterError("window", width, "width > 0")
        before, self.window = self.window, (float(center), float(width))
        self._emit({"type": "window", "center": center, "width": width})
        return {"ok": True, "message": "", "before": list(before), "after": [center, width]}

    def select_series(self, index: int) -> dict:
        if not 0 <= index < len(self.series):
            raise ParameterError("series", index, f"0–{len(self.series) - 1}")
        before, self.current = self.current, index
        s = self.series[index]
        self.slice_index = min(self.slice_index, s.images.shape[0] - 1)
        self.window = _render.auto_window(s.images)
        self._emit({"type": "select", "index": index})
        self._leave_ai_view()
        return {"ok": True, "message": "", "before": before, "after": index}

    # ------------------------------------------------------------------ scanning
    def start_scan(self, actor: str = "local", role: str = "trainee") -> dict:
        """Start the scan in a worker thread; returns at once."""
        ok, why = self.scan_allowed()
        if not ok:
            self._say(why, "error")
            return {"ok": False, "message": why, "before": None, "after": None}
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return {"ok": False, "message": self.t("scan_busy"), "before": None, "after": None}
            self._stop.clear()
            self.scan_state, self.progress = "running", 0.0
            args = (self.protocol, self.geometry, self.anatomy, len(self.series) + 1)
            self._thread = threading.Thread(
                target=self._run, args=args, daemon=True, name="merm-scan"
            )
            self._thread.start()
        text = (
            self.t("cmd_scan_by", role=self.t(f"role_{role}"), actor=actor)
            if actor != "local"
            else self.t("scanning", pct=0)
        )
        self._say(text, "info", actor=actor, role=role)
        return {"ok": True, "message": text, "before": None, "after": None}

    def stop_scan(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = 60.0) -> None:
        """Block until the running scan ends (tests, scripts)."""
        t = self._thread
        if t is not None:
            t.join(timeout)

    def _run(self, protocol: Any, geometry: Any, anatomy: Any, number: int) -> None:
        rng = np.random.default_rng(self.seed + number)
        name = f"{number}: {self._series_label(protocol)}"
        result: dict[str, Any] = {}

        token = self._scan_token = getattr(self, "_scan_token", 0) + 1

        def live(event: dict) -> None:  # a stopped scan's physics may still be running: drop it
            if token == self._scan_token and self.scan_state == "running":
                self._on_iteration(event)

        def physics() -> None:
            try:
                if math.isinf(CLOCKS.get(self.clock, 60.0)) and hasattr(self.backend, "preview"):
                    # fast clock: the middle slice first (own noise stream), the series after
                    image, aspect = self.backend.preview(
                        protocol, geometry, anatomy, np.random.default_rng([self.seed, number])
                    )
                    self.live_aspect = aspect
                    live({"type": "preview", "image": image, "iteration": 0})
                result["scan"] = self.backend.scan(protocol, geometry, anatomy, rng, live, name)
            except UserError as exc:
                result["error"] = exc.message(self.lang)
            except Exception as exc:  # physics bug: report, keep the console alive
                result["error"] = f"{type(exc).__name__}: {exc}"

        worker = threading.Thread(target=physics, daemon=True, name="merm-physics")
        t0 = time.monotonic()
        worker.start()
        duration = max(float(self.consequences.get("scan_time_s", 1.0)), 1e-3)
        speed = CLOCKS.get(self.clock, 60.0)
        last_pct = -1
        while True:
            if self._stop.is_set():
                self.scan_state, self.progress = "stopped", 0.0
                self.live_image = None
                self._emit({"type": "scan_progress", "state": "stopped", "progress": 0.0})
                self._say(self.t("scan_stopped"), "warning")
                return
            simulated = 1.0 if math.isinf(speed) else (time.monotonic() - t0) * speed / duration
            done = not worker.is_alive()
            self.progress = min(simulated, 1.0 if done else 0.99)
            pct = int(self.progress * 100)
            if pct != last_pct:
                last_pct = pct
                self._emit(
                    {
                        "type": "scan_progress",
                        "state": "running",
                        "progress": self.progress,
                        "remaining_s": max(0.0, duration * (1 - self.progress)),
                    }
                )
            if done and simulated >= 1.0:
                break
            self._stop.wait(0.02 if done or math.isinf(speed) else 0.1)
        if "error" in result:
            self.scan_state, self.progress = "error", 0.0
            self.live_image = None
            self._emit({"type": "scan_progress", "state": "error", "progress": 0.0})
            self._say(self.t("scan_failed", msg=result["error"]), "error")
            return
        self.add_series(result["scan"])
        self.scan_state = "done"
        self._emit({"type": "scan_progress", "state": "done", "progress": 1.0})
        self._say(self.t("scan_done", name=name, time=format_mmss(duration)), "info")

    def _on_iteration(self, event: dict) -> None:
        self.live_image = event.get("image")
        preview = event.get("type") == "preview"
        self.live_label = (
            self.t("preview") if preview else self.t("iteration", it=event.get("iteration"))
        )
        self._emit({k: v for k, v in event.items() if k != "image"})

    def _series_label(self, protocol: Any) -> str:
        if self.modality == "mr":
            return f"{protocol.sequence.upper()} {protocol.orientation} TR{protocol.tr_ms:g}/TE{protocol.te_ms:g}"
        return f"PET {getattr(protocol, 'activity_mbq', 0):g} MBq {getattr(protocol, 'minutes_per_bed', 0):g} min/bed"

    def add_series(self, result: ScanResult) -> None:
        """Append an acquired series and show it (middle slice, auto window)."""
        with self._lock:
            self.series.append(result)
            self.current = len(self.series) - 1
            self.slice_index = result.images.shape[0] // 2
            self.window = _render.auto_window(result.images)
            self.live_image = None
        self._emit(
            {
                "type": "series",
                "index": self.current,
                "name": result.name,
                "metrics": result.metrics,
            }
        )
        self._leave_ai_view()

    def _leave_ai_view(self) -> None:
        """Back to the single view when the series now shown was not denoised by AI."""
        if self.view_mode == "ai_change" and not _ai_view.has_ai(self.current_series()):
            self.set_view("single")

    # ------------------------------------------------------------------ output
    def snapshot(self) -> dict:
        """JSON-safe state for the mentor's console view and the exercise panel."""
        return {
            "modality": self.modality,
            "lang": self.lang,
            "anatomy": self.anatomy_name,
            "pathology": self.pathology,
            "protocol": jsonable(self.protocol),
            "geometry": jsonable(self.geometry),
            "consequences": jsonable(self.consequences),
            "warnings": list(self.warnings),
            "series": [
                {"name": s.name, "slices": int(s.images.shape[0]), "metrics": s.metrics}
                for s in self.series
            ],
            "current": self.current,
            "scan": {"state": self.scan_state, "progress": self.progress, "clock": self.clock},
            "slice": self.slice_index,
            "view": {"mode": self.view_mode, "compare": list(self.compare), "zoom": self.zoom},
            "window": {"center": self.window[0], "width": self.window[1]},
            "controller": self.controller,
            "patient": jsonable(self.patient),
            "screening": self.screening,
            "message": self.message,
        }

    def dicom_zip(self, index: int | None = None) -> tuple[str, bytes]:
        """The series ``index`` (default: current) as a zip of DICOM files: (filename, bytes)."""
        import io
        import tempfile
        import zipfile
        from pathlib import Path

        import simulator.dicom as dicom

        idx = self.current if index is None else index
        if not 0 <= idx < len(self.series):
            raise UserError("no series to export", "aucune série à exporter")
        result = self.series[idx]
        patient = None
        if self.patient is not None and hasattr(dicom, "FictitiousPatient"):
            patient = _dicom_patient(dicom.FictitiousPatient, self.patient)
        writer = dicom.write_mr_series if result.kind == "mr" else dicom.write_pet_series
        buf = io.BytesIO()
        with tempfile.TemporaryDirectory() as tmp:
            paths = writer(result.series, Path(tmp), patient=patient)
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in paths:
                    zf.write(path, Path(path).name)
        safe = "".join(c if c.isalnum() else "_" for c in result.name)[:40]
        return f"merm_{self.modality}_{safe}.zip", buf.getvalue()

    def display_image(self) -> NDArray[np.float32] | None:
        """The 2-D image the viewer shows now (live OSEM iterate while reconstructing)."""
        if self.live_image is not None:
            img = self.live_image
            return img[img.shape[0] // 2] if img.ndim == 3 else img
        s = self.current_series()
        if s is None:
            return None
        return s.images[min(self.slice_index, s.images.shape[0] - 1)]

    def set_view(
        self,
        mode: str | None = None,
        a: int | None = None,
        b: int | None = None,
        zoom: float | None = None,
    ) -> dict:
        """Viewer layout: ``single``, ``side`` (A|B), ``diff`` (A−B), ``mip``, ``ai_change``
        (AI output − input of the current series, refused when it was not denoised); zoom ≥ 1."""
        if mode is not None:
            if mode not in VIEW_MODES:
                raise ParameterError("view", mode, ", ".join(VIEW_MODES))
            s = self.current_series()
            if mode == "ai_change" and not _ai_view.has_ai(s):
                if s is None:
                    raise UserError(tr("view_ai_no_series", "en"), tr("view_ai_no_series", "fr"))
                raise UserError(
                    tr("view_ai_unavailable", "en", name=s.name),
                    tr("view_ai_unavailable", "fr", name=s.name),
                )
            self.view_mode = mode
        if a is not None:
            self.compare = (int(a), self.compare[1])
        if b is not None:
            self.compare = (self.compare[0], int(b))
        if zoom is not None:
            if not 1.0 <= zoom <= 8.0:
                raise ParameterError("zoom", zoom, "1–8")
            self.zoom = float(zoom)
        self._emit(
            {
                "type": "view",
                "mode": self.view_mode,
                "compare": list(self.compare),
                "zoom": self.zoom,
            }
        )
        return {"ok": True, "message": "", "before": None, "after": self.view_mode}

    def _stack(self, index: int) -> NDArray[np.float32] | None:
        if 0 <= index < len(self.series):
            return self.series[index].images
        return None

    def _panel(
        self,
        img2d: NDArray[np.floating],
        cmap: str,
        window: tuple[float, float],
        w: int,
        h: int,
        title: str,
        aspect: float = 1.0,
    ) -> Image.Image:
        rgb = _render.to_rgb(_render.apply_window(img2d, *window), cmap)
        canvas = _render.scale_to(rgb, w, h, self.zoom, aspect)
        _render.draw_text(canvas, (8, 6), title)
        return canvas

    def render_frame(self, width: int = 640, height: int = 480) -> NDArray[np.uint8]:
        """(height, width, 3) uint8: what the trainee sees — image(s) with W/L, slice, text, banner."""
        cmap = "inverse" if self.modality == "pet" else "gray"
        s = self.current_series()
        mode = self.view_mode
        a, b = self._stack(self.compare[0]), self._stack(self.compare[1])
        if self.live_image is not None or s is None:
            mode = "single"
        if mode in ("side", "diff") and (a is None or b is None):
            mode = "single"
        if mode == "ai_change" and not _ai_view.has_ai(s):
            mode = "single"
        if mode == "ai_change":
            assert s is not None
            canvas = _ai_view.render_ai_change(
                s, self.slice_index, width, height, self.zoom, self.lang
            )
        elif mode == "single" or mode == "mip":
            img2d = self.display_image() if mode == "single" else None
            if mode == "mip" and s is not None:
                img2d = np.flipud(s.images.max(axis=1)) if s.images.shape[0] > 1 else s.images[0]
            if img2d is None:
                canvas = Image.new("RGB", (width, height), (0, 0, 0))
                _render.draw_text(canvas, (12, 12), self.t("no_series"))
            else:
                label = self.live_label if self.live_image is not None else (s.name if s else "")
                window = self.window if self.live_image is None else _render.auto_window(img2d)
                if self.live_image is not None:
                    aspect = self.live_aspect
                elif mode == "mip":
                    aspect = _mip_aspect(s)
                else:
                    aspect = s.aspect if s is not None else 1.0
                canvas = self._panel(img2d, cmap, window, width, height, label, aspect)
                n = s.images.shape[0] if s is not None else 1
                if mode == "single":
                    _render.draw_text(
                        canvas, (8, 24), f"{self.t('slice')} {self.slice_index + 1}/{n}"
                    )
                else:
                    _render.draw_text(canvas, (8, 24), self.t("view_mip"))
                _render.draw_text(canvas, (8, 42), f"W {window[1]:.4g}  L {window[0]:.4g}")
        else:
            assert a is not None and b is not None
            ka, kb = min(self.slice_index, a.shape[0] - 1), min(self.slice_index, b.shape[0] - 1)
            name_a, name_b = self.series[self.compare[0]].name, self.series[self.compare[1]].name
            if mode == "side":
                half = (width - 4) // 2
                sa, sb = self.series[self.compare[0]], self.series[self.compare[1]]
                pa = self._panel(a[ka], cmap, self.window, half, height, "A " + name_a, sa.aspect)
                pb = self._panel(
                    b[kb], cmap, self.window, width - 4 - half, height, "B " + name_b, sb.aspect
                )
                canvas = Image.fromarray(_render.compose([np.asarray(pa), np.asarray(pb)]))
            else:
                if a[ka].shape == b[kb].shape:
                    diff = a[ka].astype(np.float32) - b[kb].astype(np.float32)
                    span = float(np.percentile(np.abs(diff), 99.5)) or 1.0
                    canvas = self._panel(
                        diff,
                        "diff",
                        (0.0, 2 * span),
                        width,
                        height,
                        f"A − B  (±{span:.3g})",
                        self.series[self.compare[0]].aspect,
                    )
                else:
                    canvas = Image.new("RGB", (width, height), (0, 0, 0))
                    _render.draw_text(canvas, (12, 12), f"A {a[ka].shape} ≠ B {b[kb].shape}")
        if self.scan_state == "running":
            _render.draw_text(
                canvas, (max(8, width - 190), 6), self.t("scanning", pct=int(self.progress * 100))
            )
        _render.draw_banner(canvas, self.lang)
        return np.asarray(canvas, dtype=np.uint8)
