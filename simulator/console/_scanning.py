"""Scanning and the series list of a console session.

:class:`ScanMixin` runs the physics of a scan once in a worker thread and reveals it over
the simulated scan time at the chosen clock speed (:data:`CLOCKS`), so the kernel never
blocks; each finished scan is appended to the session's series list, which the viewer
(:mod:`._view_state`) shows.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from simulator.console import _render
from simulator.console._backend import MRBackend, PETBackend, ScanResult
from simulator.console._events import SessionEvents
from simulator.durations import format_mmss
from simulator.errors import ParameterError, UserError
from simulator.memory import release_free_memory

__all__ = ["CLOCKS", "ScanMixin", "format_mmss"]

#: Clock speeds: simulated seconds per real second (inf: as fast as the physics).
CLOCKS: dict[str, float] = {"1x": 1.0, "10x": 10.0, "60x": 60.0, "max": math.inf}


def display_scale(result: ScanResult) -> ScanResult:
    """The series in the scale a technologist reads: MR as the stored integers of its DICOM
    (0–4095, :func:`simulator.dicom._common.mr_integers`), PET in body-weight SUV."""
    if result.kind == "mr":
        from simulator.dicom._common import mr_integers

        ints, scale = mr_integers(result.images)
        before = result.before_ai
        if before is not None:
            before = np.clip(np.rint(before / scale), 0, None).astype(np.float32)
        return dataclasses.replace(result, images=ints.astype(np.float32), before_ai=before)
    s = result.series
    dose_bq = float(getattr(s, "dose_at_scan_bq", 0.0) or 0.0)
    weight_kg = float(getattr(getattr(s, "protocol", None), "weight_kg", 0.0) or 0.0)
    if dose_bq <= 0 or weight_kg <= 0:
        return result
    per_suv = dose_bq / (weight_kg * 1000.0)  # Bq/mL of SUV 1
    before = result.before_ai
    return dataclasses.replace(
        result,
        images=(result.images / per_suv).astype(np.float32),
        before_ai=None if before is None else (before / per_suv).astype(np.float32),
        unit="SUV",
    )


def default_window(result: ScanResult) -> tuple[float, float]:
    """(center, width) a scanner opens a series with: MR as in its DICOM
    (:func:`simulator.dicom.mr.mr_window`), PET the robust auto window."""
    if result.kind == "mr" and result.unit == "":
        from simulator.dicom.mr import mr_window

        return mr_window(result.images)
    return _render.auto_window(result.images)


class ScanMixin(SessionEvents):
    """The scan worker and the series list of a console session.

    The host class provides the attributes annotated below and the methods named under
    ``TYPE_CHECKING`` (see :class:`~simulator.console.session.ConsoleSession`).
    """

    modality: str
    backend: MRBackend | PETBackend
    seed: int
    clock: str
    protocol: Any
    geometry: Any
    consequences: dict
    series: list[ScanResult]
    current: int
    slice_index: int
    window: tuple[float, float]
    windows: dict[int, tuple[float, float]]
    compare: tuple[int, int]
    annotations: list[dict[str, Any]]
    scan_state: str
    progress: float
    live_image: NDArray[np.float32] | None
    live_label: str
    live_aspect: float
    _stop: threading.Event
    _thread: threading.Thread | None
    _lock: threading.RLock

    if TYPE_CHECKING:

        @property
        def anatomy(self) -> Any: ...

        def scan_allowed(self) -> tuple[bool, str]: ...

        def _leave_ai_view(self) -> None: ...

    # ------------------------------------------------------------------ series list
    def current_series(self) -> ScanResult | None:
        return self.series[self.current] if 0 <= self.current < len(self.series) else None

    def select_series(self, index: int) -> dict:
        if not 0 <= index < len(self.series):
            raise ParameterError("series", index, f"0–{len(self.series) - 1}")
        before, self.current = self.current, index
        s = self.series[index]
        self.slice_index = min(self.slice_index, s.images.shape[0] - 1)
        self.window = self.windows.get(index) or default_window(s)
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
                scan = self.backend.scan(protocol, geometry, anatomy, rng, live, name)
                result["scan"] = display_scale(
                    dataclasses.replace(
                        scan,
                        protocol=protocol,
                        geometry=geometry,
                        number=number,
                        patient=getattr(getattr(self, "patient", None), "name", "") or "",
                    )
                )
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
        release_free_memory()  # the physics' freed temporaries back to the system (glibc)

    def _on_iteration(self, event: dict) -> None:
        self.live_image = event.get("image")
        preview = event.get("type") == "preview"
        self.live_label = (
            self.t("preview") if preview else self.t("iteration", it=event.get("iteration"))
        )
        self._emit({k: v for k, v in event.items() if k != "image"})

    def _series_label(self, protocol: Any) -> str:
        from simulator.console.words import param_value

        if self.modality == "mr":
            seq = param_value("sequence", protocol.sequence, self.lang)
            plane = param_value("orientation", protocol.orientation, self.lang)
            fs = " FS" if getattr(protocol, "fat_sat", False) else ""
            ai = " AI" if getattr(protocol, "ai_denoise", False) else ""
            return f"{seq}{fs} {plane} TR {protocol.tr_ms:g} / TE {protocol.te_ms:g} ms{ai}"
        recon = param_value("recon", getattr(protocol, "recon", ""), self.lang)
        ai = " AI" if getattr(protocol, "ai_denoise", False) else ""
        beds = int(getattr(protocol, "beds", 1) or 1)
        return (
            f"PET {getattr(protocol, 'activity_mbq', 0):g} MBq · "
            f"{beds} × {getattr(protocol, 'minutes_per_bed', 0):g} min · {recon}{ai}"
        )

    def add_series(self, result: ScanResult) -> None:
        """Append an acquired series and show it (middle slice, auto window)."""
        with self._lock:
            self.series.append(result)
            self.current = len(self.series) - 1
            self.slice_index = result.images.shape[0] // 2
            self.window = default_window(result)
            self.windows[self.current] = self.window
            # compare: A the newest series, B the one before
            self.compare = (self.current, max(self.current - 1, 0))
            # a mentor's annotations belong to the image they were drawn on, unless pinned
            notes = getattr(self, "annotations", None)
            if notes:
                self.annotations = [a for a in notes if a.get("pinned")]
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
