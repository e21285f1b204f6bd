"""Parameter card grouped like a scanner console, with live consequences.

Every field sends ``{"type": "set_param"}`` through the session; a refused value shows the
reason and the allowed range under the field (``ParameterError.message(lang)``) and the field
goes back to the last valid value. The consequences panel (scan time, relative SNR, SAR bar
against the normal-mode limit, fat shift, voxel size) is redrawn from the session's
``consequences`` on every accepted change — the numbers come from ``derive``, not from here.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import ipywidgets as W

from simulator.console import _shared, ai_strength
from simulator.console.ai_saving import saving_html
from simulator.console.i18n import Labels, decimal, tr
from simulator.console.words import param_value
from simulator.durations import format_mmss

__all__ = ["MR_GROUPS", "MR_CHOICES", "PET_GROUPS", "PET_CHOICES", "ParamCard", "consequences_html"]

MR_GROUPS: dict[str, tuple[str, ...]] = {
    "grp_routine": (
        "sequence",
        "orientation",
        "slices",
        "slice_mm",
        "gap_mm",
        "tr_ms",
        "te_ms",
        "nex",
        "concatenations",
    ),
    "grp_contrast": ("ti_ms", "flip_deg", "refocus_deg", "fat_sat", "field_t"),
    "grp_resolution": ("fov_mm", "phase_fov_pct", "matrix_read", "matrix_phase", "bandwidth_hz_px"),
    "grp_geometry": ("phase_dir", "phase_oversampling_pct"),
    "grp_acceleration": ("etl", "parallel_r", "partial_fourier", "ai_denoise", "ai_strength"),
}
MR_CHOICES: dict[str, list[Any]] = {
    "sequence": ["se", "tse", "gre", "ir"],
    "orientation": ["axial", "sagittal", "coronal"],
    "phase_dir": ["AP", "RL", "HF"],
    "field_t": [1.5, 3.0],
}
#: Fields that the console sets from elsewhere (patient state), never typed in.
HIDDEN = {"motion", "coils", "body_part"}  # coil and region: exam card

PET_GROUPS: dict[str, tuple[str, ...]] = {
    "tab_injection": ("tracer", "activity_mbq", "weight_kg", "uptake_min"),
    "grp_acquisition": (
        "beds",
        "minutes_per_bed",
        "tof_ps",
        "attenuation_correction",
        "scatter_correction",
    ),
    "tab_recon": (
        "recon",
        "iterations",
        "subsets",
        "postfilter_mm",
        "matrix",
        "fbp_window",
        "ai_denoise",
        "ai_strength",
    ),
}
PET_CHOICES: dict[str, list[Any]] = {
    "recon": ["osem", "mlem", "fbp"],
    "fbp_window": ["hann", "ramp"],
    "tracer": ["F18-FDG"],
    "matrix": [64, 96, 128, 192, 256],
}


def _sar_bar(sar: float, limit: float) -> str:
    frac = sar / limit if limit > 0 else 0.0
    colour = "#2e7d32" if frac < 0.8 else ("#f9a825" if frac <= 1.0 else "#c62828")
    width = min(frac, 1.0) * 100
    return (
        "<div style='width:140px;height:10px;background:#333;border-radius:3px;display:inline-block;"
        f"vertical-align:middle'><div style='width:{width:.0f}%;height:100%;background:{colour};"
        "border-radius:3px'></div></div>"
    )


def consequences_html(c: dict, lang: str) -> dict[str, str]:
    """The consequence texts (one per CSS class) from a consequences dict."""
    out = {"scan-time": f"<b>{tr('scan_time', lang)}</b> {format_mmss(c.get('scan_time_s', 0.0))}"}
    if "snr_rel" in c:
        out["snr"] = f"<b>{tr('snr_rel', lang)}</b> {decimal(c['snr_rel'], lang, 2)}"
    if "sar_w_kg" in c:
        out["sar"] = (
            f"<b>{tr('sar', lang)}</b> {_sar_bar(c['sar_w_kg'], c['sar_limit_w_kg'])} "
            f"{decimal(c['sar_w_kg'], lang, 2)} / {decimal(c['sar_limit_w_kg'], lang, 1)} W/kg "
            f"({tr('sar_limit', lang)})"
        )
    if "fat_shift_px" in c:
        out["fat-shift"] = (
            f"<b>{tr('fat_shift', lang)}</b> {decimal(c['fat_shift_px'], lang, 2)} px"
        )
    if "voxel_mm" in c:
        v = c["voxel_mm"]
        out["voxel"] = (
            f"<b>{tr('voxel', lang)}</b> " + " × ".join(decimal(x, lang, 2) for x in v) + " mm"
        )
    if "activity_at_scan_mbq" in c:
        out["activity-at-scan"] = (
            f"<b>{tr('activity_at_scan', lang)}</b> {c['activity_at_scan_mbq']:.0f} MBq"
        )
    if "eanm_activity_mbq" in c:
        out["eanm"] = f"<b>{tr('eanm', lang)}</b> {c['eanm_activity_mbq']:.0f} MBq"
    if "effective_dose_msv" in c:
        out["dose"] = (
            f"<b>{tr('effective_dose', lang)}</b> {decimal(c['effective_dose_msv'], lang, 2)} mSv"
        )
    if "expected_nec" in c:
        out["nec"] = (
            f"<b>{tr('expected_nec', lang)}</b> {decimal(c['expected_nec'] / 1e6, lang, 1)} M"
        )
    # always present (empty while AI is off) so that the field exists from the start
    out["ai-saving"] = saving_html(c.get("ai_saving"), lang)
    return out


class ParamCard:
    """Grouped parameter fields + consequences panel bound to a session."""

    def __init__(self, session: Any, labels: Labels, groups: dict, choices: dict) -> None:
        self.session, self.L = session, labels
        self.fields: dict[str, W.Widget] = {}
        self.errors: dict[str, W.HTML] = {}
        self._syncing = False
        proto = session.protocol
        names = [f.name for f in dataclasses.fields(proto) if f.name not in HIDDEN]
        placed = {n for g in groups.values() for n in g}
        extra = [n for n in names if n not in placed]
        boxes = []
        for gkey, gnames in groups.items():
            present = [n for n in gnames if n in names]
            if gkey == list(groups)[-1]:
                present += extra
            if not present:
                continue
            rows = [self._field(n, getattr(proto, n), choices.get(n)) for n in present]
            title = labels(_shared.html("", "merm-group-title"), gkey, "value")
            box = W.VBox([title, *rows])
            box.add_class("merm-group")
            boxes.append(box)
        self.groups = W.HBox(boxes, layout=W.Layout(flex_flow="row wrap"))
        self.conseq: dict[str, W.HTML] = {}
        keys = list(consequences_html(session.consequences, labels.lang))
        for key in keys:
            h = W.HTML()
            h.add_class(f"merm-{key}")
            self.conseq[key] = h
        self.conseq_box = W.HBox(list(self.conseq.values()), layout=W.Layout(flex_flow="row wrap"))
        self.conseq_box.add_class("merm-consequences")
        self.lock_note = _shared.html("", "merm-lock-note")
        self.widget = W.VBox([self.lock_note, self.groups])
        labels.on_switch(self._relabel)
        session.on_change(self._on_session)
        self.refresh()
        self.apply_locks()

    def _relabel(self, lang: str) -> None:
        self._syncing = True
        try:  # choice labels (orientation, on/off words) follow the language
            for name, w in self.fields.items():
                if isinstance(w, W.Dropdown):
                    v = w.value
                    w.options = [(param_value(name, o[1], lang), o[1]) for o in w.options]
                    w.value = v
        finally:
            self._syncing = False
        self.refresh()
        self.apply_locks()

    def _on_session(self, event: dict) -> None:
        if event.get("type") in ("exercise", "controller"):
            self.apply_locks()
        elif event.get("type") in ("protocol", "param"):
            self.apply_locks()  # the AI strength follows the AI switch

    def apply_locks(self) -> None:
        """Lock the fields an exercise does not let the trainee change (and say which may)."""
        s = self.session
        editable = getattr(s, "exercise_editable", None)
        who = getattr(s, "controller", "trainee")
        held = who not in ("trainee", "local", None, "")  # a mentor holds control
        if held:
            self.widget.add_class("merm-held")
        else:
            self.widget.remove_class("merm-held")
        for name, w in self.fields.items():
            locked = editable is not None and name not in editable
            w.disabled = locked or held
            if locked:
                w.add_class("merm-locked")
                w.tooltip = self.L.t("param_locked_tip")
            else:
                w.remove_class("merm-locked")
                w.tooltip = None
        if "ai_strength" in self.fields:  # changes nothing while AI is off
            ai_strength.gate(self.fields["ai_strength"], s.protocol, self.L.lang)
        if held:
            self.lock_note.value = html.escape(self.L.t("control_by", who=who))
        elif editable is None:
            self.lock_note.value = ""
        else:
            names = ", ".join(self.L.t(n) for n in sorted(editable)) or "—"
            self.lock_note.value = html.escape(self.L.t("locked_note", allowed=names))

    def _field(self, name: str, value: Any, options: list | None) -> W.Widget:
        box = _shared.layout(width="280px")
        style = _shared.description_style("150px")
        row: W.Widget | None = None
        w: W.Widget
        if name == "ai_strength":
            w, _readout, row = ai_strength.strength_slider(float(value))
        elif options is not None:
            opts = list(options) if value in options else [value, *options]
            labelled = [(param_value(name, o, self.L.lang), o) for o in opts]
            w = W.Dropdown(options=labelled, value=value, layout=box, style=style)
        elif isinstance(value, bool):
            w = W.Checkbox(value=value, indent=False, layout=box)
        elif isinstance(value, int):
            w = W.IntText(value=value, layout=box, style=style)
        elif isinstance(value, float):
            w = W.FloatText(value=value, layout=box, style=style)
        else:
            w = W.Text(value=str(value), layout=box, style=style)
        self.L(w, name)
        w.add_class(f"merm-param-{name}")
        w.add_class("merm-param")
        err = _shared.html("", f"merm-error-{name}", "merm-field-error", margin="0 0 0 8px")
        self.fields[name], self.errors[name] = w, err
        w.observe(lambda ch, n=name: self._changed(n, ch["new"]), "value")
        return W.VBox([row or w, err], layout=_shared.layout(margin="0"))

    def _changed(self, name: str, value: Any) -> None:
        if self._syncing:
            return
        result = self.session.apply_command(
            {"type": "set_param", "name": name, "value": value}, "local", "trainee"
        )
        if result["ok"]:
            self.errors[name].value = ""
        else:
            self.errors[name].value = f"<span class='merm-err'>⚠ {result['message']}</span>"
            self.sync()  # back to the last valid value

    def sync(self) -> None:
        """Put every field back to the session's protocol values."""
        self._syncing = True
        try:
            for name, w in self.fields.items():
                v = getattr(self.session.protocol, name)
                if isinstance(w, W.Dropdown) and v not in [o[1] for o in w.options]:
                    w.options = [(param_value(name, v, self.L.lang), v), *w.options]
                if w.value != v:
                    w.value = v
        finally:
            self._syncing = False

    def clear_error(self, name: str) -> None:
        if name in self.errors:
            self.errors[name].value = ""

    def refresh(self) -> None:
        """Redraw the consequences (called on every accepted change)."""
        texts = consequences_html(self.session.consequences, self.L.lang)
        for key, h in self.conseq.items():
            h.value = texts.get(key, "")
        saving = self.conseq.get("ai-saving")
        if saving is not None:  # a full-width line, hidden while AI is off
            saving.layout.display = None if saving.value else "none"
