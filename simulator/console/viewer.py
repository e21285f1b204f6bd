"""Image viewer: slice scroll, window/level (drag + presets), zoom, compare, metrics, DICOM.

The picture is :meth:`ConsoleSession.render_frame` encoded as PNG into an
``ipywidgets.Image`` (the same frame the mentor receives). Mouse interaction uses
``ipyevents`` when it is installed: drag on the image changes window (left/right) and level
(up/down), the wheel scrolls slices, a click calls ``on_click(x, y)`` in image pixels (the PET
SUV probe). Sliders and presets do the same without a mouse, and so does the keyboard on the
focused image (:mod:`._a11y`): PageDown/PageUp slices, Shift+←/→ window, Shift+↑/↓ level.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from simulator.console import _ai_view, _render
from simulator.console._a11y import A11yBridge
from simulator.console.i18n import Labels
from simulator.console.readout import Readout
from simulator.console.words import metrics_rows
from simulator.errors import UserError

__all__ = ["Viewer", "WL_PRESETS", "metrics_html"]

#: Window/level presets as fractions of the auto window's top (robust across sequences).
WL_PRESETS = {
    "wl_auto": None,
    "wl_brain": (0.45, 0.6),
    "wl_soft": (0.5, 1.0),
    "wl_wide": (0.6, 1.6),
}

FRAME_W, FRAME_H = 544, 420  # image + slice + W/L fit beside the card at 1366×768


def metrics_html(metrics: dict, lang: str) -> str:
    """A compact table of a series' metrics: human names, units (:func:`.words.metrics_rows`)."""
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in metrics_rows(metrics, lang)
    )
    return "<table class='merm-metrics-table'>" + rows + "</table>"


class Viewer:
    """Widgets around a session's rendered frame."""

    def __init__(
        self, session: Any, labels: Labels, on_click: Callable[[int, int], object] | None = None
    ) -> None:
        self.session, self.L, self.on_click = session, labels, on_click
        self._syncing = False
        self.image = W.Image(
            format="png", layout=W.Layout(width=f"{FRAME_W}px", height=f"{FRAME_H}px")
        )
        self.image.add_class("merm-image")
        # keyboard (WCAG 2.1.1): the image takes the focus; its name says the keys (KEYS)
        self.image.tabbable = True
        self.a11y = A11yBridge()
        self.a11y.focusable = ["merm-image"]
        self.a11y.on_key(self.press_key)
        self._name_image()
        labels.on_switch(lambda _lang: self._name_image())
        self.slice = labels(W.IntSlider(min=1, max=1, value=1, continuous_update=True), "slice")
        self.slice.add_class("merm-slice")
        self.width = labels(
            W.FloatSlider(min=1e-6, max=1.0, value=1.0, step=1e-4), "window"
        )
        self.width.add_class("merm-window")
        self.level = labels(
            W.FloatSlider(min=0.0, max=1.0, value=0.5, step=1e-4), "level"
        )
        self.level.add_class("merm-level")
        self.preset = W.Dropdown(options=[(labels.t(k), k) for k in WL_PRESETS], value="wl_auto")
        labels(self.preset, "preset")
        self.preset.add_class("merm-wl-preset")
        self.zoom = labels(W.FloatSlider(min=1.0, max=4.0, step=0.25, value=1.0), "zoom")
        self.zoom.add_class("merm-zoom")
        self.mode = W.ToggleButtons(
            options=self._mode_options(), value="single", style={"button_width": "122px"}
        )
        self.mode.add_class("merm-view-mode")
        # "What the AI changed": its own button, enabled only for a series denoised by AI
        self.ai_view = W.ToggleButton(
            value=False, disabled=True, icon="magic", layout=W.Layout(width="auto")
        )
        self.ai_view.add_class("merm-view-ai")
        self.ai_explain = W.HTML(layout=W.Layout(display="none", width="540px"))
        self.ai_explain.add_class("merm-ai-explain")
        self.series_a = labels(W.Dropdown(options=[]), "series_a")
        self.series_a.add_class("merm-series-a")
        self.series_b = labels(W.Dropdown(options=[]), "series_b")
        self.series_b.add_class("merm-series-b")
        self.metrics = W.HTML()
        self.metrics.add_class("merm-metrics")
        self.download = labels(
            W.Button(icon="download", layout=W.Layout(width="auto", flex="0 0 auto")), "download"
        )
        self.download.add_class("merm-download")
        self.link = W.HTML()
        self.link.add_class("merm-download-link")
        self.hint = labels(W.HTML(), "drag_hint", "value")
        for w in (self.slice, self.width, self.level, self.zoom):
            w.style = {"description_width": "120px"}
            w.layout = W.Layout(width="340px")
        # W/L and zoom read with the language's decimal separator (d3's readout: a point)
        self.width_readout = Readout(self.width, labels, 2, "merm-window")
        self.level_readout = Readout(self.level, labels, 2, "merm-level")
        self.zoom_readout = Readout(self.zoom, labels, 2, "merm-zoom")
        self.slice.observe(
            lambda ch: self._cmd({"type": "set_slice", "index": ch["new"] - 1}), "value"
        )
        self.width.observe(lambda ch: self._wl(), "value")
        self.level.observe(lambda ch: self._wl(), "value")
        self.preset.observe(lambda ch: self.apply_preset(ch["new"]), "value")
        self.zoom.observe(lambda ch: self._cmd({"type": "set_view", "zoom": ch["new"]}), "value")
        self.mode.observe(self._on_mode, "value")
        self.ai_view.observe(
            lambda ch: self._cmd(
                {"type": "set_view", "mode": "ai_change" if ch["new"] else "single"}
            ),
            "value",
        )
        self.series_a.observe(lambda ch: self._ab(), "value")
        self.series_b.observe(lambda ch: self._ab(), "value")
        self.download.on_click(lambda _b: self.make_download())
        labels.on_switch(self._relabel)
        self._drag: tuple[float, float, float, float] | None = None
        self.events = self._attach_events()
        # slice and W/L right under the image; preset and zoom after them
        controls = W.VBox([self.slice, self.width_readout.widget, self.level_readout.widget,
                           W.HBox([self.preset]), self.zoom_readout.widget])
        self.controls = controls
        for dd in (self.series_a, self.series_b):  # patient — series names need the width
            dd.layout = W.Layout(width="540px")
        compare = W.VBox([self.mode, self.ai_view, self.series_a, self.series_b])
        self.widget = W.VBox(
            [
                self.a11y,
                self.image,
                controls,
                self.ai_explain,
                self.hint,
                compare,
                self.metrics,
                W.HBox([self.download, self.link]),
            ]
        )
        self.widget.add_class("merm-viewer")
        session.on_change(self._on_session)
        self.refresh()

    def _on_session(self, event: dict) -> None:
        # a mentor drew on (or cleared) the image; the AI's marks or a decision changed
        if event.get("type") in ("annotations", "findings"):
            self.refresh_image()

    def attach_beside(self, widget: W.Widget) -> None:
        """Put ``widget`` (the AI findings list) right under the image's slice and W/L
        sliders: read with the image in view, the sliders staying where the hands are."""
        children = list(self.controls.children)
        self.controls.children = [*children[:3], widget, *children[3:]]

    def click_frame(self, x: int, y: int) -> None:
        """What a click at frame pixel (x, y) does (``on_click``), without a mouse."""
        if self.on_click is not None:
            self.on_click(int(x), int(y))

    def _mode_options(self) -> list[tuple[str, str]]:
        t = self.L.t
        return [
            (t("view_single"), "single"),
            (t("view_side"), "side"),
            (t("view_diff"), "diff"),
            (t("view_mip"), "mip"),
        ]

    def _sync_ai(self, cur: Any) -> None:
        """The AI button's state and label, and the explanation under the image."""
        t = self.L.t
        available = _ai_view.has_ai(cur)
        shown = self.session.view_mode == "ai_change" and available
        self.ai_view.description = t("view_ai")
        if available:
            self.ai_view.tooltip = t("view_ai_tip")
        elif cur is None:
            self.ai_view.tooltip = t("view_ai_no_series")
        else:
            self.ai_view.tooltip = t("view_ai_unavailable", name=cur.name)
        self.ai_view.disabled = not available
        self.ai_view.value = shown
        self.ai_explain.value = html.escape(t("ai_explain")) if shown else ""
        self.ai_explain.layout.display = None if shown else "none"

    def _relabel(self, lang: str) -> None:
        self._syncing = True
        try:
            self.mode.options = self._mode_options()
            self.preset.options = [(self.L.t(k), k) for k in WL_PRESETS]
        finally:
            self._syncing = False
        self.refresh()

    def _attach_events(self) -> Any:
        try:
            from ipyevents import Event
        except ImportError:
            return None
        # presses and the wheel unthrottled (never lost); moves throttled to 25 Hz
        keys = Event(
            source=self.image,
            watched_events=["mousedown", "mouseup", "mouseleave", "wheel"],
            prevent_default_action=True,
        )
        moves = Event(
            source=self.image,
            watched_events=["mousemove"],
            wait=40,
            throttle_or_debounce="throttle",
        )
        keys.on_dom_event(self._on_event)
        moves.on_dom_event(self._on_event)
        return (keys, moves)

    def _on_event(self, e: dict) -> None:
        kind = e.get("type")
        if kind == "wheel":
            s = self.session.current_series()
            if s is not None:
                step = 1 if e.get("deltaY", 0) > 0 else -1
                self.slice.value = max(1, min(s.images.shape[0], self.slice.value + step))
        elif kind == "mousedown":
            c, w = self.session.window
            self._drag = (e.get("relativeX", 0), e.get("relativeY", 0), c, w)
        elif kind == "mousemove" and self._drag is not None and e.get("buttons", 1):
            x0, y0, c0, w0 = self._drag
            dx, dy = e.get("relativeX", 0) - x0, e.get("relativeY", 0) - y0
            width = max(w0 * (1.0 + dx / 200.0), w0 * 0.02)
            center = c0 - dy / 200.0 * w0
            self._cmd({"type": "set_window", "center": center, "width": width})
        elif kind in ("mouseup", "mouseleave"):
            moved = (
                self._drag is not None
                and (
                    abs(e.get("relativeX", 0) - self._drag[0])
                    + abs(e.get("relativeY", 0) - self._drag[1])
                )
                > 3
            )
            self._drag = None
            if kind == "mouseup" and not moved and self.on_click is not None:
                self.on_click(int(e.get("relativeX", 0)), int(e.get("relativeY", 0)))

    def _name_image(self) -> None:
        self.a11y.names = {"merm-image": self.L.t("image_name")}

    def press_key(self, key: str) -> None:
        """A key pressed on the focused image (:data:`._a11y.KEYS`), as the mouse would:
        PageDown/PageUp the next/previous slice (the wheel), Shift+→/← a window 5 %
        wider/narrower and Shift+↑/↓ the level up/down by 5 % of the window (a 10-pixel
        drag). The same session commands as the sliders, attributed to the trainee."""
        s = self.session.current_series()
        if s is None:
            return
        if key in ("PageDown", "PageUp"):
            step = 1 if key == "PageDown" else -1
            self.slice.value = max(1, min(s.images.shape[0], self.slice.value + step))
            return
        c, w = self.session.window
        if key in ("Shift+ArrowRight", "Shift+ArrowLeft"):
            w = max(w * (1.05 if key == "Shift+ArrowRight" else 1 / 1.05), 1e-6)
        elif key in ("Shift+ArrowUp", "Shift+ArrowDown"):
            c += (0.05 if key == "Shift+ArrowUp" else -0.05) * w
        else:
            return
        self._cmd({"type": "set_window", "center": c, "width": w})

    def _cmd(self, command: dict) -> None:
        if not self._syncing:
            self.session.apply_command(command, "local", "trainee")

    def _wl(self) -> None:
        if not self._syncing:
            self._cmd(
                {
                    "type": "set_window",
                    "center": self.level.value,
                    "width": max(self.width.value, 1e-6),
                }
            )

    def _on_mode(self, ch: dict) -> None:
        if ch["new"]:
            self._cmd({"type": "set_view", "mode": ch["new"]})

    def _ab(self) -> None:
        if (
            not self._syncing
            and self.series_a.value is not None
            and self.series_b.value is not None
        ):
            self._cmd({"type": "set_view", "a": self.series_a.value, "b": self.series_b.value})

    def apply_preset(self, key: str) -> None:
        s = self.session.current_series()
        if s is None or self._syncing:
            return
        c, w = _render.auto_window(s.images)
        fractions = WL_PRESETS.get(key)
        if fractions is not None:
            top = c + w / 2
            fc, fw = fractions
            c, w = fc * top, fw * top
        self._cmd({"type": "set_window", "center": c, "width": w})

    def make_download(self) -> None:
        try:
            name, data = self.session.dicom_zip()
        except UserError as exc:
            self.link.value = (
                f"<span class='merm-err'>{html.escape(exc.message(self.L.lang))}</span>"
            )
            return
        url = "data:application/zip;base64," + base64.b64encode(data).decode("ascii")
        self.link.value = (
            f"{self.L.t('download_ready')}<a download='{name}' href='{url}' "
            f"class='merm-download-file'>{name}</a> ({len(data) / 1e6:.1f} MB)"
        )

    def refresh_image(self) -> None:
        """Re-render the frame (W/L, slice, zoom, progress text)."""
        import numpy as np
        from PIL import Image

        frame = Image.fromarray(np.asarray(self.session.render_frame(FRAME_W, FRAME_H)))
        # the mentor's annotations on the trainee's own image (not in the frame sent back)
        _render.draw_annotations(frame, getattr(self.session, "annotations", []))
        self.image.value = _render.png_bytes(frame)

    def refresh(self) -> None:
        """Sync every control with the session, then re-render."""
        s = self.session
        self._syncing = True
        try:
            # each series listed under its patient (patient-first)
            names = [
                (f"{ser.patient} — {ser.name}" if ser.patient else ser.name, i)
                for i, ser in enumerate(s.series)
            ]
            for dd, val in ((self.series_a, s.compare[0]), (self.series_b, s.compare[1])):
                if list(dd.options) != names:
                    dd.options = names
                if names:
                    dd.value = min(val, len(names) - 1)
            cur = s.current_series()
            if cur is not None:
                n = cur.images.shape[0]
                self.slice.max = n
                self.slice.value = s.slice_index + 1
                lo, hi = float(cur.images.min()), float(cur.images.max())
                span = max(hi - lo, 1e-6)
                self.width.max = 2 * span
                self.width.min = span * 1e-3
                self.width.step = span / 1000
                self.level.min, self.level.max = lo - span / 2, hi
                self.level.step = span / 1000
                digits = 0 if cur.unit == "" else 2  # MR stored integers, PET SUV
                self.width_readout.set_digits(digits)
                self.level_readout.set_digits(digits)
                self.width.value = min(max(s.window[1], self.width.min), self.width.max)
                self.level.value = min(max(s.window[0], self.level.min), self.level.max)
                who = f"{cur.patient} — " if cur.patient else ""
                self.metrics.value = (
                    f"<b>{self.L.t('metrics')}</b> — {html.escape(who + cur.name)}"
                    + metrics_html(cur.metrics, self.L.lang)
                )
            self.zoom.value = s.zoom
            self.mode.value = s.view_mode if s.view_mode != "ai_change" else None
            self._sync_ai(cur)
        finally:
            self._syncing = False
        self.refresh_image()
