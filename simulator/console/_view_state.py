"""What the viewer shows of a console session: slice, window, layout, zoom and the frame.

:class:`ViewMixin` holds the viewer's state changes (``set_slice``, ``set_window``,
``set_view``) and draws what the trainee sees (:meth:`ViewMixin.render_frame`, the frame
the mentoring link streams to the mentor) from the session's series list
(:mod:`._scanning`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from simulator.console import _ai_view, _matching, _render
from simulator.console._backend import ScanResult
from simulator.console._events import SessionEvents
from simulator.console.i18n import tr
from simulator.errors import ParameterError, UserError

__all__ = ["VIEW_MODES", "ViewMixin"]

#: ``ai_change``: AI output minus its input (only for a series acquired with AI denoising).
VIEW_MODES = ("single", "side", "diff", "mip", "ai_change")


def _mip_aspect(s: ScanResult | None) -> float:
    """Pixel aspect of a coronal MIP (slice spacing over column spacing); 1 without a series."""
    vox = getattr(s.series, "voxel_mm", None) if s is not None else None
    if vox is not None and len(vox) == 3:
        return float(vox[0]) / float(vox[2])
    return 1.0


def wl_number(value: float, unit: str) -> str:
    """A W/L figure as the console shows it: MR stored values as integers, SUV to 0.1."""
    return f"{value:.0f}" if unit == "" else f"{value:.1f}"


def wl_text(window: tuple[float, float], unit: str) -> str:
    """``W 1200  L 600`` (MR, DICOM stored values) or ``W 5.0  L 2.5 SUV`` (PET)."""
    tail = f" {unit}" if unit else ""
    return f"W {wl_number(window[1], unit)}  L {wl_number(window[0], unit)}{tail}"


class ViewMixin(SessionEvents):
    """Viewer state and rendering of a console session.

    The host class provides the attributes annotated below and the method named under
    ``TYPE_CHECKING`` (see :class:`~simulator.console.session.ConsoleSession`).
    """

    modality: str
    series: list[ScanResult]
    slice_index: int
    window: tuple[float, float]
    windows: dict[int, tuple[float, float]]
    current: int
    scan_state: str
    progress: float
    live_image: NDArray[np.float32] | None
    live_label: str
    live_aspect: float
    view_mode: str
    compare: tuple[int, int]
    zoom: float

    if TYPE_CHECKING:

        def current_series(self) -> ScanResult | None: ...

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
        if 0 <= getattr(self, "current", -1) < len(self.series):
            self.windows[self.current] = self.window  # each series keeps its own W/L
        self._emit({"type": "window", "center": center, "width": width})
        return {"ok": True, "message": "", "before": list(before), "after": [center, width]}

    def _leave_ai_view(self) -> None:
        """Back to the single view when the series now shown was not denoised by AI."""
        if self.view_mode == "ai_change" and not _ai_view.has_ai(self.current_series()):
            self.set_view("single")

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

    def window_of(self, index: int) -> tuple[float, float]:
        """The W/L series ``index`` is shown with (its own; the live one for the current)."""
        if index == self.current:
            return self.window
        return self.windows.get(index) or _render.auto_window(self.series[index].images)

    def compare_slices(self) -> tuple[int, int | None]:
        """(slice of A, slice of B at the same patient position or None): A is the current
        slice (clamped), B's is matched by position (:func:`._matching.match_slice`)."""
        ia, ib = self.compare
        sa, sb = self.series[ia], self.series[ib]
        ka = min(self.slice_index, sa.images.shape[0] - 1)
        return ka, _matching.match_slice(
            _matching.slice_planes(sa), ka, _matching.slice_planes(sb)
        )

    def _render_compare(self, mode: str, cmap: str, width: int, height: int) -> Image.Image:
        ia, ib = self.compare
        sa, sb = self.series[ia], self.series[ib]
        ka, kb = self.compare_slices()
        title_a, title_b = f"A {sa.name}", f"B {sb.name}"
        sub_a = f"{self.t('slice')} {ka + 1}"
        sub_b = f"{self.t('slice')} {kb + 1}" if kb is not None else self.t("no_matching_slice")
        if mode == "side":
            half = (width - 4) // 2
            pa = self._panel(sa.images[ka], cmap, self.window_of(ia), half, height, title_a,
                             sa.aspect)
            if kb is None:
                pb = Image.new("RGB", (width - 4 - half, height), (0, 0, 0))
                _render.draw_text(pb, (8, 6), title_b)
            else:
                pb = self._panel(sb.images[kb], cmap, self.window_of(ib), width - 4 - half,
                                 height, title_b, sb.aspect)
            for panel, text, idx in ((pa, sub_a, ia), (pb, sub_b, ib)):
                _render.draw_text(panel, (8, 24), text)
                _render.draw_text(panel, (8, 42), wl_text(self.window_of(idx), self.series[idx].unit))
            return Image.fromarray(_render.compose([np.asarray(pa), np.asarray(pb)]))
        if kb is None or sa.images[ka].shape != sb.images[kb].shape:
            canvas = Image.new("RGB", (width, height), (0, 0, 0))
            why = (self.t("no_matching_slice") if kb is None
                   else self.t("diff_grid", a="×".join(map(str, sa.images[ka].shape)),
                               b="×".join(map(str, sb.images[kb].shape))))
            _render.draw_text(canvas, (12, 12), f"A − B: {why}")
            return canvas
        diff = sa.images[ka].astype(np.float32) - sb.images[kb].astype(np.float32)
        span = float(np.percentile(np.abs(diff), 99.5)) or 1.0
        return self._panel(diff, "diff", (0.0, 2 * span), width, height,
                           f"A − B ({self.t('slice')} {ka + 1} − {kb + 1}, ±{wl_number(span, sa.unit)})",
                           sa.aspect)

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
                _render.draw_text(canvas, (8, 42), wl_text(window, s.unit if s else ""))
        else:
            assert a is not None and b is not None
            canvas = self._render_compare(mode, cmap, width, height)
        if self.scan_state == "running":
            _render.draw_text(
                canvas, (max(8, width - 190), 6), self.t("scanning", pct=int(self.progress * 100))
            )
        _render.draw_banner(canvas, self.lang)
        return np.asarray(canvas, dtype=np.uint8)
