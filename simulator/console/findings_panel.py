"""The detection AI's findings at the console: the toggle, the list, the trainee's decisions.

``FindingsPanel(session, labels)`` sits beside the image of a console. Its toggle
(``.merm-ai-findings``) shows the marks that :func:`simulator.findings.detect` put on the
current series (boxes with the finding's id, drawn by the session into the same frame the
mentor receives) and lists them: id, the finding's text in the console's language,
confidence, the slice, and the trainee's decision with Accept / Reject / Undo buttons.
"Add a missed finding" arms the next click on the image: the trainee marks what the AI
missed (a circle with ``T1``, ``T2``…). A line links to the detector's honesty figures.

Every action goes through ``session.apply_command`` (``show_findings``,
``decide_finding``, ``add_finding``, ``undo_finding``), so it is attributed, emitted as a
``findings`` event, kept in ``snapshot()["findings"]`` and carried to the exercise attempt.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import ipywidgets as W

from simulator.console import _render
from simulator.console.i18n import Labels, decimal
from simulator.findings import FINDING_LABELS

__all__ = ["FindingsPanel", "EVALUATION_PATH", "EVALUATION_JSON", "DOC_PATH", "evaluation_table"]

_ROOT = Path(__file__).resolve().parents[2]
#: Where the detector's honesty figures live (written with the detectors).
DOC_PATH = _ROOT / "docs" / "findings.md"
EVALUATION_PATH = _ROOT / "simulator" / "findings" / "weights" / "evaluation.md"
EVALUATION_JSON = EVALUATION_PATH.with_suffix(".json")
#: The sections of the evaluation, by detector.
_EVAL_SECTIONS = ("brain", "pet")
#: The sections a console shows: its own modality's detectors.
_SECTIONS_OF = {"mr": ("brain",), "pet": ("pet",)}


def _percent(x: float, lang: str) -> str:
    text = f"{100.0 * x:.0f} %" if lang != "en" else f"{100.0 * x:.0f}%"
    return text


def evaluation_table(
    lang: str, path: Path | None = None, sections: tuple[str, ...] = _EVAL_SECTIONS
) -> str:
    """The detector's held-out figures (``evaluation.json``) as an HTML table in ``lang``:
    one row per condition (trained, motion, unseen sequence, AI on AI…) of the detectors in
    ``sections`` (the console shows its own modality's), one cell per finding type; '' when
    the file is absent or unreadable."""
    from simulator.console.i18n import tr

    try:
        data = json.loads((path or EVALUATION_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    rows = []
    for section in sections:
        for cond, res in (data.get(section) or {}).items():
            if not isinstance(res, dict):
                continue
            cells = [
                tr(
                    "eval_cell",
                    lang,
                    sens=_percent(float(v["sensitivity"]), lang),
                    hit=int(v["hit"]),
                    truth=int(v["truth"]),
                    fp=decimal(float(v["fp_per_case"]), lang),
                )
                for label, v in res.items()
                if label in FINDING_LABELS and isinstance(v, dict)
            ]
            names = [tr(f"label_{label}", lang) for label in res if label in FINDING_LABELS]
            body = "<br>".join(
                f"<b>{html.escape(n)}</b> : {html.escape(c)}" if lang == "fr"
                else f"<b>{html.escape(n)}</b>: {html.escape(c)}"
                for n, c in zip(names, cells, strict=True)
            )
            what = tr(f"eval_{cond}", lang)
            rows.append(f"<tr><td>{html.escape(what)} ({int(res.get('cases', 0))})</td>"
                        f"<td>{body}</td></tr>")
    if not rows:
        return ""
    head = html.escape(tr("eval_condition", lang))
    return (f"<table class='merm-ai-eval'><tr><th colspan='2'>{head}</th></tr>"
            + "".join(rows) + "</table>")

_DECISION_COLOUR = {None: "#8a5a00", "accept": "#1b7f3b", "reject": "#b3261e", "add": "#0b5cad"}

CSS = """<style>
.merm-findings {border:1px solid #c9ccd1; border-radius:4px; padding:4px 6px; width:540px;
  background:#fbfbfc; color:#1d1d1f;}
.merm-findings .merm-finding-row {border-top:1px solid #e1e3e6; padding-top:2px;}
.merm-findings .merm-finding-text {font-size:13px; line-height:1.25;}
.merm-findings .merm-finding-text .widget-html-content {white-space:normal;}
.merm-findings button {padding:0 6px; height:26px; font-size:12px;}
.merm-dark .merm-findings .widget-html-content, .merm-findings .widget-html-content,
.merm-dark .merm-findings .widget-label {color:#1d1d1f !important;}
.merm-findings .merm-ai-honesty .widget-html-content {font-size:12px; line-height:1.3;
  color:#3a3a3c !important;}
.merm-findings .merm-ai-honesty pre {max-height:180px; overflow:auto; font-size:11px;}
</style>"""


def _pct(confidence: float) -> str:
    return f"{100 * float(confidence):.0f}"


class FindingsPanel:
    """Toggle, list and decision buttons of the AI findings; ``.widget`` is the root.

    Parameters
    ----------
    session : ConsoleSession
        The console model (its ``apply_command``, ``findings_*`` accessors, ``on_change``).
    labels : Labels
        The console's language registry.
    """

    def __init__(self, session: Any, labels: Labels) -> None:
        self.session, self.L = session, labels
        self._syncing = False
        self.armed = False
        self.toggle = W.ToggleButton(
            value=bool(session.findings_shown), icon="crosshairs", layout=W.Layout(width="auto")
        )
        self.toggle.add_class("merm-ai-findings")
        self.toggle.observe(self._on_toggle, "value")
        self.add = W.ToggleButton(value=False, icon="plus-circle", layout=W.Layout(width="auto"))
        self.add.add_class("merm-finding-add")
        self.add.observe(self._on_arm, "value")
        self.kind = W.Dropdown(layout=W.Layout(width="170px"))
        self.kind.add_class("merm-finding-kind")
        self.note = W.HTML()
        self.note.add_class("merm-findings-note")
        self.list = W.VBox()
        self.list.add_class("merm-findings-list")
        self.honesty = W.HTML()
        self.honesty.add_class("merm-ai-honesty")
        self.widget = W.VBox(
            [
                W.HTML(CSS),
                W.HBox([self.toggle, self.add, self.kind]),
                self.note,
                self.list,
                self.honesty,
            ]
        )
        self.widget.add_class("merm-findings")
        session.on_change(self._on_session)
        labels.on_switch(lambda _lang: self.refresh())
        self.refresh()

    # ---------------------------------------------------------------- actions
    def _cmd(self, command: dict) -> dict:
        return self.session.apply_command(command, "local", "trainee")

    def _on_toggle(self, ch: dict) -> None:
        if self._syncing:
            return
        result = self._cmd({"type": "show_findings", "on": bool(ch["new"])})
        if not result.get("ok"):
            self.refresh()  # the toggle goes back (locked by the exercise)

    def _on_arm(self, ch: dict) -> None:
        if not self._syncing:
            self.armed = bool(ch["new"])
            self._render_note()

    def decide(self, finding_id: str, kind: str) -> dict:
        """Accept or reject a finding (``kind``), or ``"undo"`` the decision / own finding."""
        if kind == "undo":
            return self._cmd({"type": "undo_finding", "id": finding_id})
        return self._cmd({"type": "decide_finding", "id": finding_id, "kind": kind})

    def goto(self, slice_index: int) -> None:
        self.session.apply_command(
            {"type": "set_slice", "index": int(slice_index)}, "local", "trainee"
        )

    def on_image_click(self, x: int, y: int, width: int, height: int) -> bool:
        """A click on the viewer's frame (pixels of a ``width × height`` frame): when "add a
        missed finding" is armed, mark it there on the slice shown. True when it was used."""
        if not self.armed:
            return False
        s = self.session
        cur = s.current_series()
        if cur is None:
            return False
        spot = _render.frame_to_image(x, y, cur.images.shape[1:], width, height, s.zoom, cur.aspect)
        if spot is None:
            self._cmd({"type": "add_finding", "slice": s.slice_index, "row": -1, "col": -1})
            return True
        col, row = spot
        self._cmd(
            {
                "type": "add_finding",
                "slice": s.slice_index,
                "row": row,
                "col": col,
                "label": self.kind.value or None,
            }
        )
        self._syncing = True
        self.add.value = self.armed = False
        self._syncing = False
        self.refresh()
        return True

    # ---------------------------------------------------------------- drawing
    def _on_session(self, event: dict) -> None:
        if event.get("type") in ("findings", "series", "select", "lang", "exercise"):
            self.refresh()

    def _render_note(self) -> None:
        t, s = self.L.t, self.session
        if s.findings_locked:
            text, colour = t("findings_locked"), "#8a5a00"
        elif self.armed:
            text, colour = t("finding_add_armed"), "#0b5cad"
        elif s.current_series() is None:
            text, colour = t("findings_no_series"), "#444"
        elif not s.findings_shown:
            text, colour = t("findings_hidden"), "#444"
        elif s.findings_error():
            text, colour = t(s.findings_error()), "#b3261e"
        elif not s.findings_of():
            text, colour = t("findings_none"), "#444"
        else:
            text, colour = t("findings_title"), "#1d1d1f"
        self.note.value = f"<span style='color:{colour}'>{html.escape(text)}</span>"

    def _where(self, slice_index: int, n_slices: int = 1) -> str:
        t = self.L.t
        first = slice_index - (n_slices - 1) // 2
        if n_slices <= 1:
            return t("finding_slice", slice=slice_index + 1)
        return t("finding_slices", first=first + 1, last=first + n_slices)

    def _row(
        self, fid: str, text: str, decision: str | None, slice_index: int, own: bool
    ) -> W.Widget:
        t = self.L.t
        colour = _DECISION_COLOUR.get(decision, _DECISION_COLOUR[None])
        state = t(f"decision_{decision}" if decision else "decision_none")
        body = W.HTML(
            f"<b>{html.escape(fid)}</b> {html.escape(text)} — "
            f"<span class='merm-finding-decision' style='color:{colour}'>"
            f"<b>{html.escape(state)}</b></span>"
        )
        body.add_class("merm-finding-text")
        buttons: list[W.Widget] = []
        goto = W.Button(
            description=t("finding_goto"),
            tooltip=t("finding_goto_tip", slice=slice_index + 1),
            layout=W.Layout(width="auto"),
        )
        goto.add_class("merm-finding-goto")
        goto.on_click(lambda _b: self.goto(slice_index))
        buttons.append(goto)
        if not own:
            for kind, style in (("accept", "success"), ("reject", "danger")):
                b = W.Button(
                    description=t(f"finding_{kind}"),
                    button_style=style if decision != kind else "",
                    layout=W.Layout(width="auto"),
                    disabled=decision == kind,
                )
                b.add_class(f"merm-finding-{kind}")
                b.on_click(lambda _b, k=kind: self.decide(fid, k))
                buttons.append(b)
        if decision is not None:
            undo = W.Button(description=t("finding_undo"), layout=W.Layout(width="auto"))
            undo.add_class("merm-finding-undo")
            undo.on_click(lambda _b: self.decide(fid, "undo"))
            buttons.append(undo)
        for b in buttons:  # never squeezed: each label reads in full
            b.layout.flex = "0 0 auto"
        bar = W.HBox(buttons, layout=W.Layout(flex_flow="row wrap"))
        row = W.VBox([body, bar])
        row.add_class("merm-finding-row")
        row.add_class(f"merm-finding-{fid}")
        return row

    def refresh(self) -> None:
        """Redraw from the session: toggle, list, decisions, the honesty line."""
        t, s = self.L.t, self.session
        self._syncing = True
        try:
            self.toggle.value = bool(s.findings_shown)
            self.toggle.disabled = bool(s.findings_locked)
            self.toggle.description = t("findings_toggle")
            self.toggle.tooltip = (
                t("findings_locked") if s.findings_locked else t("findings_toggle_tip")
            )
            self.add.description = t("finding_add")
            self.add.disabled = s.current_series() is None
            if self.add.disabled:
                self.add.value = self.armed = False
            chosen = self.kind.value or ""
            self.kind.options = [(t("finding_any"), "")] + [
                (t(f"label_{k}"), k) for k in FINDING_LABELS
            ]
            self.kind.value = chosen
            self.kind.description = ""
            self.kind.tooltip = t("finding_kind")  # its accessible name (no visible label)
        finally:
            self._syncing = False
        self._render_note()
        rows: list[W.Widget] = []
        decisions = s.finding_decisions()
        if s.findings_shown:
            for f in s.findings_of():
                where = f", {self._where(f.slice_index, f.n_slices)}" if f.n_slices > 1 else ""
                conf = t("finding_confidence", pct=_pct(f.confidence))
                text = f"{f.text_in(self.L.lang)} ({conf}{where})"
                rows.append(self._row(f.id, text, decisions.get(f.id), f.slice_index, own=False))
        for d in s.added_findings():
            what = t(f"label_{d.label}") if d.label else t("finding_any")
            text = f"{what} ({self._where(int(d.slice_index))})"
            rows.append(self._row(d.finding_id, text, "add", int(d.slice_index), own=True))
        self.list.children = rows
        self._render_honesty()

    def _render_honesty(self) -> None:
        t = self.L.t
        line = html.escape(t("findings_honesty"))
        sections = _SECTIONS_OF.get(self.session.modality, _EVAL_SECTIONS)
        table = evaluation_table(self.L.lang, sections=sections)
        figures = (
            f"<details><summary>{html.escape(t('findings_figures'))}</summary>{table}</details>"
            if table
            else ""
        )
        self.honesty.value = f"<div>{line}</div>{figures}"
