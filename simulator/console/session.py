"""The console model: protocol, geometry, patient, series, scan clock — no widgets.

:class:`ConsoleSession` is what the widgets, the mentoring link and the exercise panel all
drive. It implements the ``ConsoleLike`` protocol of ``docs/architecture.md``:
``snapshot()``, ``apply_command()``, ``render_frame()`` and ``on_change()``. Every change
goes through :meth:`ConsoleSession.apply_command` (local widgets use ``actor="local"``), so
a mentor's command and a trainee's click follow the same rules and are attributed the same
way. A scan runs the physics once in a worker thread and reveals it over the simulated
scan time at the chosen clock speed; the kernel never blocks.

The session is assembled from one part per concept: :mod:`._events` (listeners, messages,
language), :mod:`._commands` (``apply_command`` and the parameter/geometry setters),
:mod:`._scanning` (the scan worker and the series list) and :mod:`._view_state` (slice,
window, layout and ``render_frame``). This module holds the exam itself: anatomy,
protocol, patient, screening, control, ``snapshot()`` and the DICOM export.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.console._backend import MRBackend, PETBackend, ScanResult, jsonable
from simulator.console._commands import CommandsMixin
from simulator.console._events import Listener
from simulator.console._scanning import CLOCKS, ScanMixin, format_mmss
from simulator.console._view_state import VIEW_MODES as VIEW_MODES
from simulator.console._view_state import ViewMixin
from simulator.errors import UserError

__all__ = ["ConsoleSession", "CLOCKS", "format_mmss"]


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


def _hospital_snapshot(session: Any) -> dict:
    from simulator.hospital.exam import hospital_snapshot

    return hospital_snapshot(session)


class ConsoleSession(CommandsMixin, ScanMixin, ViewMixin):
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
        #: W/L of each series (index → (center, width)): each keeps its own.
        self.windows: dict[int, tuple[float, float]] = {}
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
        #: The parameters an exercise lets the trainee change (None: free practice).
        self.exercise_editable: frozenset[str] | None = None
        self.exercise_id: str | None = None
        #: The mentor's annotations on the main image (see :meth:`set_annotations`).
        self.annotations: list[dict[str, Any]] = []
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()
        self.consequences = self._consequences(self.protocol)
        self.warnings = self.backend.check(self.protocol)

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

    def set_exercise(self, exercise_id: str | None, editable: Any = None) -> None:
        """Enter an exercise (only ``editable`` parameters may change) or free practice (None)."""
        self.exercise_id = exercise_id
        self.exercise_editable = None if exercise_id is None else frozenset(editable or ())
        self._emit(
            {
                "type": "exercise",
                "id": exercise_id,
                "editable": sorted(self.exercise_editable or ()),
            }
        )

    def is_locked(self, name: str) -> bool:
        """Whether the running exercise locks parameter ``name``."""
        return self.exercise_editable is not None and name not in self.exercise_editable

    def set_annotations(self, items: Any) -> None:
        """The mentor's annotations (fractions of the frame), drawn on the trainee's main
        image; a new series clears them unless an annotation is ``pinned``."""
        self.annotations = [dict(a) for a in (items or []) if isinstance(a, dict)]
        self._emit({"type": "annotations", "count": len(self.annotations)})

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
                {
                    "name": s.name,
                    "number": s.number,
                    "slices": int(s.images.shape[0]),
                    "metrics": s.metrics,
                    "protocol": jsonable(s.protocol),
                    "geometry": jsonable(s.geometry),
                }
                for s in self.series
            ],
            "exercise": {
                "id": self.exercise_id,
                "editable": sorted(self.exercise_editable or ()),
            },
            "current": self.current,
            "scan": {"state": self.scan_state, "progress": self.progress, "clock": self.clock},
            "slice": self.slice_index,
            "view": {"mode": self.view_mode, "compare": list(self.compare), "zoom": self.zoom},
            "window": {"center": self.window[0], "width": self.window[1]},
            "controller": self.controller,
            "patient": jsonable(self.patient),
            "screening": self.screening,
            "message": self.message,
            # the worklist entry and the PACS status of the exam (simulator.hospital)
            **_hospital_snapshot(self),
        }

    def dicom_zip(self, index: int | None = None) -> tuple[str, bytes]:
        """The series ``index`` (default: current) as a zip of DICOM files: (filename, bytes)."""
        import io
        import tempfile
        import zipfile
        from pathlib import Path

        idx = self.current if index is None else index
        if not 0 <= idx < len(self.series):
            raise UserError("no series to export", "aucune série à exporter")
        result = self.series[idx]
        # One study per exam, series numbered in acquisition order (simulator.hospital.exam).
        from simulator.hospital.exam import exam_of_series

        buf = io.BytesIO()
        with tempfile.TemporaryDirectory() as tmp:
            paths = exam_of_series(self, idx).write_series(self, idx, Path(tmp))
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in paths:
                    zf.write(path, Path(path).name)
        safe = "".join(c if c.isalnum() else "_" for c in result.name)[:40]
        return f"merm_{self.modality}_{safe}.zip", buf.getvalue()
