"""The PET viewer's measuring tools: the one-voxel probe and a circle / sphere ROI.

A click on the image (the viewer's ``on_click`` hook, mapped to a voxel by the console)
either probes one voxel or places a region of the chosen diameter centred there; the panel
(``.merm-roi``) reads SUVmax, SUVmean and SUVpeak (PERCIST, 1 cm³) with the region's volume,
computed by :func:`simulator.pet.roi.roi_stats`. Values are shown in SUV (body weight) or in
kBq/mL (``.merm-value-unit``), probe and ROI alike, in the page's language.

The region is drawn on the frame (:func:`._render.draw_roi` through the session's
``overlays``), with SUVmax, SUVmean and SUVpeak beside it: the trainee reads them next to
what was measured, and the mentor's video shows the same circle and figures. A sphere shows
its cross-section on each slice it crosses (radius √(r² − Δz²)), a circle only on its own.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from simulator.console import _render
from simulator.console.i18n import Labels, decimal, text_of
from simulator.pet.roi import ROIStats, roi_stats, suv_factor

__all__ = ["ROIPanel", "roi_text", "value_text", "UNITS"]

#: Display units: key → label (the same in the three languages).
UNITS = {"suv": "SUV", "kbq": "kBq/mL"}

_TEXT: dict[str, tuple[str, str, str]] = {
    "tool": ("Outil", "Tool", "Werkzeug"),
    "probe": ("Sonde", "Probe", "Sonde"),
    "circle": ("Cercle", "Circle", "Kreis"),
    "sphere": ("Sphère", "Sphere", "Kugel"),
    "diameter": ("Ø (mm)", "Ø (mm)", "Ø (mm)"),
    "diameter_tip": ("Diamètre de la ROI (5–100 mm)", "ROI diameter (5–100 mm)",
                     "ROI-Durchmesser (5–100 mm)"),
    "unit": ("Valeurs en", "Values in", "Werte in"),
    "hint_probe": ("Cliquer sur l'image pour mesurer un voxel.",
                   "Click the image to measure one voxel.",
                   "Ins Bild klicken, um ein Voxel zu messen."),
    "hint_roi": ("Cliquer sur l'image pour placer la ROI ({kind}, {d:.0f} mm).",
                 "Click the image to place the ROI ({kind}, {d:.0f} mm).",
                 "Ins Bild klicken, um die ROI zu setzen ({kind}, {d:.0f} mm)."),
    "roi_title": ("ROI {kind} Ø {d:.0f} mm en ({x}, {y}), coupe {z} — {n} voxels, {v} mL",
                  "ROI {kind} Ø {d:.0f} mm at ({x}, {y}), slice {z} — {n} voxels, {v} mL",
                  "ROI {kind} Ø {d:.0f} mm bei ({x}, {y}), Schicht {z} — {n} Voxel, {v} mL"),
    "max": ("Max", "Max", "Max"),
    "mean": ("Moyenne", "Mean", "Mittelwert"),
    "peak": ("Pic (1 cm³)", "Peak (1 cm³)", "Peak (1 cm³)"),
    "suv_max": ("SUVmax", "SUVmax", "SUVmax"),
    "suv_mean": ("SUVmoy (moyenne)", "SUVmean", "SUVmean (Mittelwert)"),
    "suv_peak": ("SUVpeak (pic 1 cm³)", "SUVpeak (1 cm³)", "SUVpeak (1 cm³)"),
    "short_suv_max": ("SUVmax", "SUVmax", "SUVmax"),
    "short_suv_mean": ("SUVmoy", "SUVmean", "SUVmean"),
    "short_suv_peak": ("SUVpeak", "SUVpeak", "SUVpeak"),
    "short_max": ("max", "max", "Max"),
    "short_mean": ("moy", "mean", "Mittel"),
    "short_peak": ("pic", "peak", "Peak"),
    "probe_at": ("Voxel ({x}, {y}), coupe {z} : {value}",
                 "Voxel ({x}, {y}), slice {z}: {value}",
                 "Voxel ({x}, {y}), Schicht {z}: {value}"),
    "no_series": ("Pas encore d'image : acquérir d'abord.",
                  "No image yet: scan first.",
                  "Noch kein Bild: zuerst aufnehmen."),
    "no_suv": ("SUV indisponible (activité ou poids nuls) : valeurs en kBq/mL.",
               "SUV unavailable (no activity or weight): values in kBq/mL.",
               "SUV nicht verfügbar (keine Aktivität oder kein Gewicht): Werte in kBq/mL."),
}


def roi_text(key: str, lang: str, **kw: Any) -> str:
    """A text of the ROI panel in ``lang``."""
    return text_of(_TEXT, key, lang, **kw)


def value_text(bqml: float, factor: float | None, unit: str, lang: str) -> str:
    """A concentration shown in ``unit``: "3,21 SUV" or "12,5 kBq/mL" (decimal comma in fr/de)."""
    if unit == "suv" and factor is not None:
        return f"{decimal(bqml * factor, lang, 2)} SUV"
    return f"{decimal(bqml / 1000.0, lang, 2)} kBq/mL"


class ROIPanel:
    """Tool choice, diameter, unit switch and the read-out, below the PET image."""

    def __init__(
        self, session: Any, labels: Labels, on_change: Callable[[], object] | None = None
    ) -> None:
        self.session, self.L, self.on_change = session, labels, on_change
        session.overlays.append(self.draw_on_frame)
        self.mode = W.ToggleButtons(options=[(k, k) for k in ("probe", "circle", "sphere")],
                                    value="sphere", layout=W.Layout(width="auto"),
                                    style={"button_width": "66px"})
        self.mode.add_class("merm-roi-mode")
        self.diameter = W.BoundedFloatText(value=20.0, min=5.0, max=100.0, step=1.0,
                                           layout=W.Layout(width="125px"),
                                           style={"description_width": "55px"})
        self.diameter.add_class("merm-roi-diameter")
        self.unit = W.ToggleButtons(options=[(v, k) for k, v in UNITS.items()], value="suv",
                                    layout=W.Layout(width="auto", margin="0 0 0 8px"),
                                    style={"button_width": "80px"})
        self.unit.add_class("merm-value-unit")
        self.hint = W.HTML()
        self.out = W.HTML()
        self.out.add_class("merm-roi")
        self.last: tuple[str, Any, tuple[int, int, int]] | None = None
        self.stats: ROIStats | None = None
        self.mode.observe(lambda _ch: self._hint(), "value")
        self.diameter.observe(lambda _ch: self._replace(), "value")
        self.unit.observe(lambda _ch: self._changed(), "value")
        #: the tool row (under the read-out): tool, diameter, unit; the hint under it
        self.tools = W.HBox([self.mode, self.diameter, self.unit])
        self.widget = W.VBox([self.out, self.tools, self.hint])
        self.widget.add_class("merm-roi-panel")
        labels.on_switch(lambda lang: self.relabel())
        self.relabel()

    def relabel(self) -> None:
        lang = self.L.lang
        v = self.mode.value
        self.mode.options = [(roi_text(k, lang), k) for k in ("probe", "circle", "sphere")]
        self.mode.value = v
        self.mode.tooltips = [roi_text(k, lang) for k in ("probe", "circle", "sphere")]
        self.diameter.description = roi_text("diameter", lang)
        self.diameter.tooltip = roi_text("diameter_tip", lang)
        self.unit.tooltips = [f"{roi_text('unit', lang)} {v}" for v in UNITS.values()]
        self._hint()
        self.render()
        self._changed()

    def _changed(self) -> None:
        """The read-out changed: redraw the texts and the image's ROI."""
        self.render()
        if self.on_change is not None:
            self.on_change()

    def _kind(self, kind: str) -> str:
        """The region's name inside a sentence (German keeps the capital of its nouns)."""
        name = roi_text(kind, self.L.lang)
        return name if self.L.lang == "de" else name.lower()

    def _hint(self) -> None:
        lang, m = self.L.lang, self.mode.value
        self.diameter.disabled = m == "probe"
        self.hint.value = html.escape(
            roi_text("hint_probe", lang)
            if m == "probe"
            else roi_text("hint_roi", lang, kind=self._kind(m), d=self.diameter.value)
        )

    def _replace(self) -> None:
        self._hint()
        if self.last is not None and self.last[0] != "probe":
            _, series, at = self.last
            self.measure(series, *at)

    # ------------------------------------------------------------------ measuring
    def measure(self, series: Any, z: int, row: int, col: int) -> None:
        """Probe or place the ROI on ``series`` (a PETSeries) at voxel (z, row, col)."""
        if series is None:
            self.last, self.stats = None, None
            self.out.value = html.escape(roi_text("no_series", self.L.lang))
            return
        img = series.images_bqml
        z = min(max(int(z), 0), img.shape[0] - 1)
        row = min(max(int(row), 0), img.shape[1] - 1)
        col = min(max(int(col), 0), img.shape[2] - 1)
        kind = self.mode.value
        self.last = (kind, series, (z, row, col))
        if kind == "probe":
            self.stats = None
        else:
            self.stats = roi_stats(img, tuple(series.voxel_mm), (z, row, col),
                                   float(self.diameter.value), kind)
        self._changed()

    def frame_lines(self, lang: str) -> list[str]:
        """The read-out written beside the ROI on the image: "SUVmax 3,21" … (or kBq/mL)."""
        st = self.stats
        if st is None:
            return []
        f, unit = self.factor(), self.unit.value
        suv = unit == "suv" and f is not None
        out = []
        for key in ("max", "mean", "peak"):
            value = value_text(getattr(st, key), f, unit, lang).removesuffix(" SUV")
            out.append(f"{roi_text(('short_suv_' if suv else 'short_') + key, lang)} {value}")
        return out

    def draw_on_frame(self, img: Any, width: int, height: int) -> None:
        """Draw the ROI and its read-out on ``img`` (the session's frame, ``width × height``)
        where the frame shows the measured series in single view, on a slice the region
        crosses."""
        s = self.session
        cur = s.current_series()
        if (
            self.last is None
            or self.stats is None
            or self.last[0] == "probe"
            or cur is None
            or cur.series is not self.last[1]
            or s.view_mode != "single"
            or s.live_image is not None
        ):
            return
        kind, series, (z0, row, col) = self.last
        dz, _dy, dx = (float(v) for v in series.voxel_mm)
        r = self.stats.diameter_mm / 2.0
        off = (s.slice_index - z0) * dz
        if kind == "circle" and s.slice_index != z0:
            return
        if abs(off) >= r:
            return
        radius_mm = math.sqrt(r * r - off * off) if kind == "sphere" else r
        x, y, scale = _render.image_to_frame(
            col + 0.5, row + 0.5, cur.images.shape[1:], width, height, s.zoom, cur.aspect
        )
        rx = radius_mm / dx * scale
        _render.draw_roi(img, x, y, rx, rx, self.frame_lines(self.L.lang),
                         bottom=_render.banner_top(img, self.L.lang))

    def factor(self) -> float | None:
        """Bq/mL → SUV of the measured series (None when it has no activity or weight)."""
        if self.last is None:
            return None
        s = self.last[1]
        try:
            return suv_factor(float(s.dose_at_scan_bq), float(s.protocol.weight_kg))
        except ValueError:
            return None

    def render(self) -> None:
        lang = self.L.lang
        if self.last is None:
            return
        kind, series, (z, row, col) = self.last
        f, unit = self.factor(), self.unit.value
        note = ""
        if unit == "suv" and f is None:
            note = f"<br><i>{html.escape(roi_text('no_suv', lang))}</i>"
        if kind == "probe" or self.stats is None:
            v = value_text(float(series.images_bqml[z, row, col]), f, unit, lang)
            self.out.value = (
                f"<b>{html.escape(roi_text('probe_at', lang, x=col, y=row, z=z + 1, value=v))}"
                f"</b>{note}"
            )
            return
        st = self.stats
        title = roi_text("roi_title", lang, kind=self._kind(kind), d=st.diameter_mm,
                         x=col, y=row, z=z + 1, n=st.n_voxels,
                         v=decimal(st.volume_ml, lang, 2))
        suv = unit == "suv" and f is not None
        cells = []
        for key in ("max", "mean", "peak"):
            value = value_text(getattr(st, key), f, unit, lang).removesuffix(" SUV")
            name = roi_text(("suv_" + key) if suv else key, lang)
            cells.append(
                f"<span class='merm-roi-{key}'><b>{html.escape(name)}</b> "
                f"<span class='merm-roi-value'>{html.escape(value)}</span></span>"
            )
        self.out.value = (
            f"<div class='merm-roi-values' style='font-size:15px'>{' · '.join(cells)}</div>"
            f"<div class='merm-roi-title' style='font-size:12px;color:#ccc'>"
            f"{html.escape(title)}</div>{note}"
        )
