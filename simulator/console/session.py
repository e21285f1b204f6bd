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
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.console import _render
from simulator.console._backend import MRBackend, PETBackend, ScanResult, jsonable
from simulator.console._commands import CommandsMixin
from simulator.console._events import Listener, SessionEvents
from simulator.console._scanning import CLOCKS, ScanMixin, format_mmss
from simulator.console._view_state import VIEW_MODES as VIEW_MODES
from simulator.console._view_state import ViewMixin
from simulator.errors import UserError
from simulator.exam import steps as exercise_steps

__all__ = ["ConsoleSession", "CLOCKS", "format_mmss", "FINDINGS_COMMANDS"]


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


#: Console commands of the AI findings (see :class:`FindingsMixin`).
FINDINGS_COMMANDS = ("show_findings", "decide_finding", "add_finding", "undo_finding")
_FINDINGS_ROLES = ("local", "trainee", "mentor", "instructor")
#: Radius (image pixels) of the circle drawn round a finding the trainee added.
_ADDED_RADIUS_PX = 6.0


class FindingsMixin(SessionEvents):
    """The detection AI at the console: what it found on each series, whether its marks are
    shown, and what the trainee decided (accept, reject, add a missed finding).

    The findings are :func:`simulator.findings.detect` run on the series itself, once per
    series, when the marks are first asked for; nothing is invented when the detector is
    missing or fails (the list then says why). Every change goes through
    :meth:`~simulator.console._commands.CommandsMixin.apply_command`, is attributed to its
    actor and emitted as a ``findings`` event like the other console actions.
    """

    series: list[ScanResult]
    current: int
    slice_index: int
    seed: int
    lang: str
    zoom: float
    view_mode: str
    live_image: Any
    _lock: threading.RLock

    def _init_findings(self) -> None:
        self.findings_shown = False
        #: An exercise that tests the trainee's own eye locks the toggle (off).
        self.findings_locked = False
        self._findings: dict[int, tuple[Any, ...]] = {}
        self._findings_error: dict[int, str] = {}
        self._decisions: dict[int, dict[str, str]] = {}
        self._added: dict[int, list[Any]] = {}
        self._findings_from = 0
        self._findings_failure = ""

    # ------------------------------------------------------------------ state
    def set_findings_policy(self, shown: bool = False, locked: bool = False) -> None:
        """An exercise's setting of the AI findings: shown or not, and whether the trainee
        may switch them; the decisions of an earlier exercise are forgotten."""
        with self._lock:
            self.findings_shown, self.findings_locked = bool(shown), bool(locked)
            self._decisions.clear()
            self._added.clear()
            self._findings_from = len(self.series)  # an attempt names only its own series
        self._emit(
            {
                "type": "findings",
                "action": "policy",
                "shown": self.findings_shown,
                "locked": self.findings_locked,
            }
        )

    def findings_of(self, index: int | None = None) -> tuple[Any, ...]:
        """The detector's findings on series ``index`` (default: current), run once."""
        idx = self.current if index is None else index
        if not 0 <= idx < len(self.series):
            return ()
        with self._lock:
            if idx not in self._findings:
                self._findings[idx] = self._detect(idx)
            return self._findings[idx]

    def findings_error(self, index: int | None = None) -> str:
        """Why series ``index`` has no findings list ('' when the detector ran)."""
        idx = self.current if index is None else index
        self.findings_of(idx)
        return self._findings_error.get(idx, "")

    def _detect(self, idx: int) -> tuple[Any, ...]:
        result = self.series[idx]
        try:
            import simulator.findings as findings

            detect = getattr(findings, "detect", None)
            if detect is None or result.series is None:
                self._findings_error[idx] = "findings_unavailable"
                return ()
            rng = np.random.default_rng([self.seed, max(result.number, idx + 1), 19])
            out = tuple(detect(result.series, rng=rng))
        except Exception as exc:  # a detector failure never breaks the console
            self._findings_error[idx] = "findings_failed"
            self._findings_failure = f"{type(exc).__name__}: {exc}"
            return ()
        self._findings_error.pop(idx, None)
        return out

    def finding_decisions(self, index: int | None = None) -> dict[str, str]:
        """finding id → ``"accept"`` or ``"reject"`` on series ``index`` (default: current)."""
        idx = self.current if index is None else index
        return dict(self._decisions.get(idx, {}))

    def added_findings(self, index: int | None = None) -> list[Any]:
        """The findings the trainee added on series ``index`` (``Decision`` of kind add)."""
        idx = self.current if index is None else index
        return list(self._added.get(idx, []))

    def findings_state(self, index: int | None = None) -> dict[str, Any]:
        """The ``findings`` entry of :meth:`snapshot` for series ``index``: ``shown``,
        ``items`` (the detector's findings while shown), ``decisions`` and ``added``."""
        idx = self.current if index is None else index
        items = self.findings_of(idx) if self.findings_shown else ()
        return {
            "shown": bool(self.findings_shown),
            "items": [f.to_dict() for f in items],
            "decisions": self.finding_decisions(idx),
            "added": [d.to_dict() for d in self.added_findings(idx)],
        }

    def findings_record(self) -> list[dict[str, Any]]:
        """Every series of the exercise the trainee decided on (a call or an own mark), with
        its protocol, geometry and the detector's findings: what an attempt carries to the
        grader (and stores)."""
        out = []
        for idx, result in enumerate(self.series):
            if idx < self._findings_from:
                continue
            if not (self._decisions.get(idx) or self._added.get(idx)):
                continue  # a series looked at but not decided on is not part of the attempt
            out.append(
                {
                    "series": int(result.number or idx + 1),
                    "protocol": jsonable(result.protocol),
                    "geometry": jsonable(result.geometry),
                    "items": [f.to_dict() for f in self._findings.get(idx, ())],
                    "decisions": dict(self._decisions.get(idx, {})),
                    "added": [d.to_dict() for d in self._added.get(idx, [])],
                    "shown": bool(self.findings_shown),
                }
            )
        return out

    def _sync_metrics(self, idx: int) -> None:
        """The series' metrics carry its findings and decisions (snapshot, attempt, DICOM)."""
        if 0 <= idx < len(self.series):
            record = self.findings_state(idx)
            record["items"] = [f.to_dict() for f in self._findings.get(idx, ())]
            self.series[idx].metrics["ai_findings"] = record

    # ------------------------------------------------------------------ commands
    def _finding_error(self, key: str, **kw: Any) -> UserError:
        """A refusal in the console's language (German in the English slot, as elsewhere)."""
        from simulator.console.i18n import tr

        return UserError(tr(key, "de" if self.lang == "de" else "en", **kw), tr(key, "fr", **kw))

    def _findings_command(self, command: dict, actor: str, role: str) -> dict:
        from simulator.console.i18n import tr

        if role not in _FINDINGS_ROLES:
            return {
                "ok": False,
                "message": tr("not_allowed", self.lang, role=role),
                "before": None,
                "after": None,
            }
        kind = command["type"]
        idx = self.current
        if kind == "show_findings":
            on = bool(command.get("on", True))
            if self.findings_locked and role in ("local", "trainee", "mentor") and on:
                raise self._finding_error("findings_locked")
            before, self.findings_shown = self.findings_shown, on
            if on:
                self.findings_of()
            self._sync_metrics(idx)
            return self._finding_event(
                "show",
                actor,
                role,
                before,
                on,
                on=on,
                text=tr("findings_on" if on else "findings_off", self.lang),
            )
        if not 0 <= idx < len(self.series):
            raise self._finding_error("no_series")
        if kind == "add_finding":
            return self._add_finding(command, actor, role)
        fid = str(command.get("id", ""))
        added = {d.finding_id: d for d in self._added.get(idx, [])}
        known = {f.id: f for f in self.findings_of()}
        if fid not in known and fid not in added:
            allowed = ", ".join(list(known) + list(added)) or "—"
            raise self._finding_error("finding_unknown", id=fid, allowed=allowed)
        decisions = self._decisions.setdefault(idx, {})
        prior: str | None = decisions.get(fid) or ("add" if fid in added else None)
        if kind == "undo_finding":
            if fid in added:
                self._added[idx] = [d for d in self._added[idx] if d.finding_id != fid]
            decisions.pop(fid, None)
            self._sync_metrics(idx)
            return self._finding_event(
                "undo",
                actor,
                role,
                prior,
                None,
                id=fid,
                text=tr("finding_undone", self.lang, id=fid),
            )
        decision = str(command.get("kind", ""))
        if decision not in ("accept", "reject") or fid not in known:
            raise self._finding_error("finding_bad_kind", id=fid)
        decisions[fid] = decision
        self._sync_metrics(idx)
        f = known[fid]
        return self._finding_event(
            "decide",
            actor,
            role,
            prior,
            decision,
            id=fid,
            kind=decision,
            label=f.label,
            text=tr(f"finding_{decision}ed", self.lang, id=fid, what=f.text_in(self.lang)),
        )

    def _add_finding(self, command: dict, actor: str, role: str) -> dict:
        from simulator.console.i18n import tr
        from simulator.findings import FINDING_LABELS, Decision

        idx = self.current
        images = self.series[idx].images
        n, rows, cols = images.shape
        k = int(command.get("slice", self.slice_index))
        r, c = float(command["row"]), float(command["col"])
        if not (0 <= k < n and 0 <= r < rows and 0 <= c < cols):
            raise self._finding_error("finding_outside")
        label = command.get("label") or None
        if label is not None and label not in FINDING_LABELS:
            raise self._finding_error("finding_bad_label", allowed=", ".join(FINDING_LABELS))
        mine = self._added.setdefault(idx, [])
        used = {d.finding_id for d in mine}
        number = 1
        while f"T{number}" in used:
            number += 1
        d = Decision("add", f"T{number}", slice_index=k, centre_rc=(r, c), label=label)
        mine.append(d)
        self._sync_metrics(idx)
        return self._finding_event(
            "add",
            actor,
            role,
            None,
            "add",
            id=d.finding_id,
            kind="add",
            slice=k,
            row=r,
            col=c,
            label=label,
            text=tr("finding_added", self.lang, id=d.finding_id, slice=k + 1),
        )

    def _finding_event(
        self, action: str, actor: str, role: str, before: Any, after: Any, text: str, **fields: Any
    ) -> dict:
        from simulator.console.i18n import tr

        result = self.series[self.current] if 0 <= self.current < len(self.series) else None
        event = {
            "type": "findings",
            "action": action,
            "actor": actor,
            "role": role,
            "series": result.number if result is not None else None,
            **fields,
        }
        self._emit(event)
        if actor != "local":
            text += " — " + tr(
                "by_actor", self.lang, role=tr(f"role_{role}", self.lang), actor=actor
            )
        self._say(text, "info", actor=actor, role=role)
        return {"ok": True, "message": text, "before": before, "after": after}

    # ------------------------------------------------------------------ drawing
    def finding_marks(self, width: int, height: int) -> list[dict[str, Any]]:
        """The marks :func:`._render.draw_findings` draws on the frame now: the AI's
        findings on the slices they span (while shown) and the trainee's own."""
        idx = self.current
        if (
            self.live_image is not None
            or self.view_mode != "single"
            or not 0 <= idx < len(self.series)
        ):
            return []
        result = self.series[idx]
        shape = result.images.shape[1:]
        k = self.slice_index
        decisions = self._decisions.get(idx, {})
        marks = []

        def place(col: float, row: float, ry: float, rx: float, **kw: Any) -> None:
            x, y, scale = _render.image_to_frame(
                col + 0.5, row + 0.5, shape, width, height, self.zoom, result.aspect
            )
            if 0 <= x < width and 0 <= y < height:
                marks.append(
                    {"x": x, "y": y, "rx": rx * scale, "ry": ry * scale * result.aspect, **kw}
                )

        if self.findings_shown:
            for f in self.findings_of(idx):
                half = (f.n_slices - 1) / 2.0
                if abs(k - f.slice_index) <= half + 1e-9:
                    place(
                        f.centre_rc[1],
                        f.centre_rc[0],
                        f.extent_px[0],
                        f.extent_px[1],
                        id=f.id,
                        shape="box",
                        decision=decisions.get(f.id),
                        centre=k == f.slice_index,
                    )
        for d in self._added.get(idx, []):
            if d.slice_index == k and d.centre_rc is not None:
                place(
                    d.centre_rc[1],
                    d.centre_rc[0],
                    _ADDED_RADIUS_PX,
                    _ADDED_RADIUS_PX,
                    id=d.finding_id,
                    shape="circle",
                    decision="add",
                    centre=True,
                )
        return marks


class ConsoleSession(FindingsMixin, CommandsMixin, ScanMixin, ViewMixin):
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
        #: Measurements drawn on the frame after the findings, ``draw(img, width, height)``
        #: on a PIL image (the PET ROI): the mentor's video shows them too.
        self.overlays: list[Callable[[Any, int, int], None]] = []
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()
        self.consequences = self._consequences(self.protocol)
        self.warnings = self.backend.check(self.protocol)
        self._init_findings()

    # ------------------------------------------------------------------ findings hooks
    def _apply(self, command: dict, actor: str, role: str) -> dict:
        if isinstance(command, dict) and command.get("type") in FINDINGS_COMMANDS:
            return self._findings_command(command, actor, role)
        return super()._apply(command, actor, role)

    def render_frame(self, width: int = 640, height: int = 480) -> NDArray[np.uint8]:
        """What the trainee sees (see :meth:`ViewMixin.render_frame`) with the AI's marks
        and the trainee's own findings: the mentor's video shows the same marks."""
        frame = super().render_frame(width, height)
        marks = self.finding_marks(width, height)
        if not marks and not self.overlays:
            return frame
        from PIL import Image

        img = Image.fromarray(frame)
        _render.draw_findings(img, marks, bottom=_render.banner_top(img, self.lang))
        for draw in list(self.overlays):
            draw(img, width, height)
        return np.asarray(img, dtype=np.uint8)

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
        if exercise_id is None and self.findings_locked:  # free practice: the toggle is free
            self.findings_locked = False
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
        snap = {
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
            # the detection AI: shown or not, its findings on the current series, decisions
            "findings": self.findings_state(),
            # the worklist entry and the PACS status of the exam (simulator.hospital)
            **_hospital_snapshot(self),
        }
        # the exercise's required steps, by the panel's own rule (the mentor's page shows them)
        snap["exercise"]["steps"] = exercise_steps.required_steps(snap)
        return snap

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
            record = (result.metrics or {}).get("ai_findings")
            if record and (record.get("items") or record.get("added")):
                from simulator.dicom.findings import annotate_findings

                annotate_findings(paths, record)  # ImageComments of the slices concerned
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in paths:
                    zf.write(path, Path(path).name)
        safe = "".join(c if c.isalnum() else "_" for c in result.name)[:40]
        return f"merm_{self.modality}_{safe}.zip", buf.getvalue()
