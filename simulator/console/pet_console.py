"""The trainee's PET console: injection, uptake, beds, reconstruction, OSEM, SUV, MIP, NEMA.

``build_pet_console()`` is the only call of ``course/dashboards/pet_console.ipynb``. The
injected activity starts from the EANM guideline value computed by ``simulator.pet.derive``
(≈ 7 MBq·min/kg ÷ minutes per bed) and stays editable until the injection is recorded;
then it is locked (:mod:`.pet_injection`: only an audited correction changes it). The
preparation card (:mod:`.pet_prep`) checks fasting, glucose and uptake against EANM 2015;
the uptake timer runs on the console clock; during a scan the viewer shows each OSEM
iteration as it converges; a click on the image (or x/y fields) reads the voxel and places
a circle or sphere ROI (:mod:`.pet_roi`: SUVmax, SUVmean, SUVpeak), in SUV or kBq/mL; the
NEMA tab tabulates CRC and BV per sphere.
A mentor's remote "start acquisition" is confirmed by the trainee in the mentor panel (the
hub holds it until then).
"""

from __future__ import annotations

import dataclasses
import html
import threading
import time
from typing import Any

import ipywidgets as W
import numpy as np

from simulator.console import _render, _shell, hospital_panel, series_tree
from simulator.console.findings_panel import FindingsPanel
from simulator.console.i18n import Labels, decimal, detect_lang, pick
from simulator.console.params import PET_CHOICES, PET_GROUPS, ParamCard
from simulator.console.patient import identity_rows
from simulator.console.pet_injection import ActivityLock, lock_text
from simulator.console.pet_prep import PrepCard
from simulator.console.pet_roi import ROIPanel, roi_text, value_text
from simulator.console.session import CLOCKS, ConsoleSession, format_mmss
from simulator.console.viewer import FRAME_H, FRAME_W, Viewer

__all__ = ["build_pet_console", "PETConsole", "PETPatientCard", "suv_at", "nema_table_html"]

PHANTOM_CHOICES = [
    ("NEMA IEC 4:1", ("nema-iec", "4")),
    ("NEMA IEC 8:1", ("nema-iec", "8")),
    ("torso", ("torso", None)),
    ("brain / cerveau", ("brain", None)),
    ("Patient corps entier / whole-body patient", ("patient", None)),
]

#: Texts of the exam-planning panel: key → (fr, en, de).
_PLAN_TEXT = {
    "plan_title": ("Planification de l'examen", "Exam planning", "Untersuchungsplanung"),
    "range_top_mm": ("Début du champ (mm sous le vertex)", "Range start (mm below vertex)",
                     "Beginn (mm unter dem Scheitel)"),
    "bed_overlap_pct": ("Recouvrement des lits (%)", "Bed overlap (%)", "Bettüberlappung (%)"),
    "exam_time": ("Durée d'examen : {beds} × {mpb} = <b>{total}</b>",
                  "Exam time: {beds} × {mpb} = <b>{total}</b>",
                  "Untersuchungszeit: {beds} × {mpb} = <b>{total}</b>"),
    "exam_ref": ("Référence {beds} lits : {std} par lit = {t_std} ; avec IA, {ai} par lit = "
                 "{t_ai}", "Reference {beds} beds: {std} per bed = {t_std}; with AI, {ai} per "
                 "bed = {t_ai}", "Referenz {beds} Betten: {std} pro Bett = {t_std}; mit KI, {ai} "
                 "pro Bett = {t_ai}"),
    "range": ("Champ planifié : {top:.0f}–{bottom:.0f} mm sous le vertex",
              "Planned range: {top:.0f}–{bottom:.0f} mm below the vertex",
              "Geplanter Bereich: {top:.0f}–{bottom:.0f} mm unter dem Scheitel"),
    "necr_title": ("NECR du patient selon l'activité injectée (un lit)",
                   "Patient NECR against injected activity (one bed)",
                   "Patienten-NECR gegen injizierte Aktivität (ein Bett)"),
    "necr_now": ("{a:.0f} MBq : NECR {n:.0f} kcps — pic {pn:.0f} kcps à {pa:.0f} MBq ; "
                 "au-delà, plus de dose pour moins de signal",
                 "{a:.0f} MBq: NECR {n:.0f} kcps — peak {pn:.0f} kcps at {pa:.0f} MBq; "
                 "beyond it, more dose for less signal",
                 "{a:.0f} MBq: NECR {n:.0f} kcps — Maximum {pn:.0f} kcps bei {pa:.0f} MBq; "
                 "darüber mehr Dosis für weniger Signal"),
}


def plan_text(key: str, lang: str, **kw: Any) -> str:
    """A text of the planning panel in ``lang``."""
    fr, en, de = _PLAN_TEXT[key]
    return pick(lang, fr, en, de).format(**kw)


def scout_png(mip: np.ndarray, beds_mm: list[tuple[float, float]], dz_mm: float,
              px_mm: float, width: int = 180) -> bytes:
    """The coronal MIP (black on white, as PET MIPs are read) with the planned beds."""
    from PIL import Image, ImageDraw

    top = float(np.percentile(mip, 99.5)) or 1.0
    gray = (255 - np.clip(mip / top, 0, 1) * 255).astype(np.uint8)
    h = int(round(gray.shape[0] * dz_mm / px_mm * width / gray.shape[1]))
    img = Image.fromarray(gray).resize((width, max(h, 1))).convert("RGB")
    draw = ImageDraw.Draw(img, "RGBA")
    scale = img.height / (gray.shape[0] * dz_mm)
    colours = ((230, 120, 0), (0, 120, 220))
    for k, (t, b) in enumerate(beds_mm):
        c = colours[k % 2]
        inset = 2 + 3 * (k % 2)
        draw.rectangle((inset, t * scale, width - 1 - inset, b * scale - 1),
                       outline=(*c, 255), fill=(*c, 18), width=2)
        draw.text((inset + 3, t * scale + 2), str(k + 1), fill=(*c, 255))
    return _render.png_bytes(img)


def necr_svg(curve: list[tuple[float, float]], current_mbq: float, width: int = 360,
             height: int = 150) -> str:
    """NECR (kcps) against injected activity (MBq) as an inline SVG, current activity marked."""
    xs = np.array([a for a, _ in curve])
    ys = np.array([n for _, n in curve])
    x_max, y_max = float(xs.max()), float(ys.max()) * 1.1 or 1.0
    m = 30

    def px(a: float, n: float) -> tuple[float, float]:
        return m + (width - m - 5) * a / x_max, height - m + 10 - (height - m) * n / y_max

    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (px(a, n) for a, n in curve))
    cx, _ = px(current_mbq, 0.0)
    k = int(np.argmax(ys))
    peak_x, peak_y = px(float(xs[k]), float(ys[k]))
    y0 = height - m + 10
    return (
        f"<svg class='merm-necr-plot' width='{width}' height='{height}' "
        f"style='background:#fff;border:1px solid #ccc'>"
        f"<line x1='{m}' y1='{y0}' x2='{width - 5}' y2='{y0}' stroke='#888'/>"
        f"<line x1='{m}' y1='5' x2='{m}' y2='{y0}' stroke='#888'/>"
        f"<polyline fill='none' stroke='#c05000' stroke-width='2' points='{pts}'/>"
        f"<line x1='{cx:.1f}' y1='5' x2='{cx:.1f}' y2='{y0}' stroke='#0070c0' "
        f"stroke-dasharray='4 3'/>"
        f"<circle cx='{peak_x:.1f}' cy='{peak_y:.1f}' r='3' fill='#c05000'/>"
        f"<text x='{m}' y='{height - 2}' font-size='10'>0</text>"
        f"<text x='{width - 60}' y='{height - 2}' font-size='10'>{x_max:.0f} MBq</text>"
        f"<text x='2' y='12' font-size='10'>{y_max:.0f}</text>"
        f"<text x='{m + 4}' y='14' font-size='10'>kcps</text></svg>"
    )


def suv_at(series: Any, z: int, row: int, col: int) -> tuple[float, float]:
    """(SUV, Bq/mL) of one voxel: C / (activity at scan start / weight in g)."""
    bq = float(series.images_bqml[z, row, col])
    weight_g = float(series.protocol.weight_kg) * 1000.0
    return bq / (float(series.dose_at_scan_bq) / weight_g), bq


def nema_table_html(nema: dict, lang: str, t: Any) -> str:
    """CRC / BV per sphere (percent) from ``metrics["nema"]`` of an IEC scan."""
    crc, bv, kind = nema.get("crc", {}), nema.get("bv", {}), nema.get("kind", {})
    rows = "".join(
        f"<tr><td>{html.escape(str(k).removeprefix('sphere_'))}</td>"
        f"<td>{t('sphere_' + kind[k]) if kind.get(k) in ('hot', 'cold') else ''}</td>"
        f"<td>{decimal(100 * crc[k], lang)}</td>"
        f"<td>{decimal(100 * bv.get(k, float('nan')), lang)}</td></tr>"
        for k in crc
    )
    extra = ""
    if nema.get("lung_residual") is not None:
        extra = f"<p>{t('lung_residual')}: {decimal(100 * float(nema['lung_residual']), lang)} %</p>"
    return (
        f"<table class='merm-nema-table'><tr><th>{t('sphere_mm')}</th><th></th><th>{t('crc')}</th>"
        f"<th>{t('bv')}</th></tr>{rows}</table>{extra}"
    )


#: PET phantoms a worklist entry's protocol may name (``patient`` is the whole-body one).
PATIENT_ANATOMIES = ("patient", "torso", "brain")


class PETPatientCard:
    """The PET patient step: the card of the patient admitted from the worklist (name, age,
    weight, indication); admitting one sets the protocol's weight and the EANM activity for
    it, and the whole-body, torso or brain phantom the entry's protocol names. Empty (the
    console as it was) until a patient is admitted."""

    def __init__(
        self,
        session: ConsoleSession,
        labels: Labels,
        activity_lock: ActivityLock | None = None,
        on_admit: Any = None,
    ) -> None:
        self.session, self.L = session, labels
        self.activity_lock, self.on_admit = activity_lock, on_admit
        self.card = W.HTML()
        self.card.add_class("merm-patient-card")
        self.widget = W.VBox([self.card])
        labels.on_switch(lambda lang: self._show_card())

    def admit_patient(self, p: Any) -> None:
        """Admit ``p``: phantom from its anatomy, weight and EANM activity in the protocol.

        What the running exercise locks stays as the exercise set it (its phantom, weight,
        activity), and an injected activity stays injected; the message says what was kept.
        """
        s = self.session
        if self.on_admit is not None:
            self.on_admit(p)  # a new patient is a new exam: nothing injected yet
        in_exercise = getattr(s, "exercise_id", None) is not None
        if p.anatomy in PATIENT_ANATOMIES and p.anatomy != s.anatomy_name and not in_exercise:
            s.set_anatomy(p.anatomy, None)
        s.set_patient(p)
        weight = float(p.weight_kg)
        kept: list[str] = []
        if s.is_locked("weight_kg"):
            kept.append("weight_kg")
        elif weight != s.protocol.weight_kg:
            s.load_protocol(dataclasses.replace(s.protocol, weight_kg=weight), standard=False)
        injected = self.activity_lock is not None and self.activity_lock.locked
        if s.is_locked("activity_mbq") or injected:
            kept.append("activity_mbq")
        elif s.protocol.weight_kg == weight:  # else refused (out of range) or locked
            eanm = float(round(s.consequences["eanm_activity_mbq"]))
            s.load_protocol(dataclasses.replace(s.protocol, activity_mbq=eanm), standard=False)
        if s.anatomy_name == "patient" and not in_exercise and not s.is_locked("beds"):
            # a whole-body request: the range down to mid-thigh, as the procedure's protocol
            from simulator.pet import wholebody

            ph = s.anatomy
            beds = wholebody.beds_to_cover(ph.shape[0], ph.voxel_mm[0], s.protocol)
            if beds != s.protocol.beds:
                s.load_protocol(dataclasses.replace(s.protocol, beds=beds), standard=False)
        if kept:
            lang = self.L.lang
            what = ", ".join(
                f"{self.L.t(n).split(' (')[0]} {getattr(s.protocol, n):g}"
                f" {'kg' if n == 'weight_kg' else 'MBq'}"
                for n in kept
            )
            s.notify(
                {
                    "type": "message",
                    "level": "warning",
                    "text": pick(
                        lang,
                        f"Patient admis ; l'exercice garde : {what} (poids du patient "
                        f"{weight:g} kg).",
                        f"Patient admitted; the exercise keeps: {what} (patient's weight "
                        f"{weight:g} kg).",
                        f"Patient aufgenommen; die Übung behält: {what} (Gewicht des "
                        f"Patienten {weight:g} kg).",
                    )
                    if in_exercise and any(s.is_locked(n) for n in kept)
                    else pick(
                        lang,
                        f"Patient admis ; conservé : {what}.",
                        f"Patient admitted; kept: {what}.",
                        f"Patient aufgenommen; beibehalten: {what}.",
                    ),
                }
            )
        self._show_card()

    def _show_card(self) -> None:
        p, t, lang = self.session.patient, self.L.t, self.L.lang
        if p is None:
            self.card.value = ""
            return
        self.card.value = f"<table class='merm-card'>{identity_rows(p, t, lang)}</table>"


class PETConsole:
    """All widgets of the PET console and their wiring; ``.widget`` is the root."""

    def __init__(
        self,
        lang: str | None = None,
        exercise: str | None = None,
        seed: int = 1,
        session: ConsoleSession | None = None,
    ) -> None:
        lang = detect_lang(lang)
        self.L = L = Labels(lang)
        self._syncing = False
        self.session = s = session or ConsoleSession(
            "pet", lang=lang, seed=seed, anatomy="nema-iec", pathology="4"
        )
        self.shell = _shell.Shell(s, L, "pet_title")
        #: The recorded injection: the activity is locked once it is (corrections audited).
        self.activity_lock = ActivityLock()
        self.activity_lock.attach(s)
        self.phantom = L(W.Dropdown(options=PHANTOM_CHOICES, value=("nema-iec", "4")), "phantom")
        self.phantom.add_class("merm-phantom")
        self.phantom.style.description_width = "initial"  # the French label is long
        self.phantom.observe(
            lambda ch: None if self._syncing else s.set_anatomy(ch["new"][0], ch["new"][1]), "value"
        )
        self.params = ParamCard(s, L, PET_GROUPS, PET_CHOICES)
        self.eanm = L(W.Button(icon="calculator", layout=W.Layout(width="auto")), "use_eanm")
        self.eanm.add_class("merm-use-eanm")
        self.eanm_text = W.HTML()
        self.eanm_text.add_class("merm-eanm-text")
        self.eanm.on_click(
            lambda _b: None
            if self.activity_lock.locked
            else s.apply_command(
                {
                    "type": "set_param",
                    "name": "activity_mbq",
                    "value": round(s.consequences["eanm_activity_mbq"]),
                }
            )
        )
        self.inject = L(
            W.Button(button_style="warning", icon="syringe", layout=W.Layout(width="auto")), "inject"
        )
        self.inject.add_class("merm-inject")
        self.uptake = W.HTML()
        self.uptake.add_class("merm-uptake")
        self.injected_at: float | None = None
        self._timer: threading.Thread | None = None
        self.inject.on_click(lambda _b: self.do_inject())
        self._build_correction()
        injection = W.VBox(
            [
                self.phantom,
                W.HBox([self.eanm, self.eanm_text]),
                W.HBox([self.inject, self.uptake]),
                self.correction_box,
            ]
        )
        self._build_plan()
        self.findings = FindingsPanel(s, L)
        self.viewer = Viewer(s, L, on_click=self._on_image_click)
        self.viewer.attach_beside(self.findings.widget)
        self.series_tree = series_tree.attach(self.viewer)  # patient → exam → series
        self.probe_x = L(
            W.BoundedIntText(min=0, max=1023, value=64, layout=W.Layout(width="170px")), "probe_x"
        )
        self.probe_y = L(
            W.BoundedIntText(min=0, max=1023, value=64, layout=W.Layout(width="170px")), "probe_y"
        )
        self.probe_btn = L(W.Button(icon="crosshairs"), "probe")
        self.probe_btn.add_class("merm-suv-probe")
        self.probe_out = W.HTML()
        self.probe_out.add_class("merm-suv")
        self.probe_btn.on_click(lambda _b: self.probe(self.probe_x.value, self.probe_y.value))
        self.roi = ROIPanel(s, L, on_change=self.viewer.refresh_image)  # drawn on the image
        self.roi.unit.observe(lambda _ch: self._reprobe(), "value")
        self._probed: tuple[Any, int, int, int] | None = None
        # the ROI read-out and tools right under the image (seen with it at 1366×768); the
        # voxel read-out and its x/y fields (the keyboard way) at the end, as before
        image, *rest = self.viewer.widget.children
        self.viewer.widget.children = (
            image,
            self.roi.widget,
            *rest,
            W.VBox([W.HBox([self.probe_x, self.probe_y, self.probe_btn]), self.probe_out]),
        )
        self.nema = W.HTML()
        self.nema.add_class("merm-nema")
        ex = _shell.find_exercise(_shell.exercise_choice(exercise), "pet")
        self.course: dict[str, Any] = {ex.id: ex} if ex is not None else {}
        self.exercise_dd = L(
            W.Dropdown(options=self._exercise_options(), value=ex.id if ex else None), "exercise"
        )
        self.exercise_dd.add_class("merm-exercise-select")
        self.exercise_dd.observe(lambda ch: self.start_exercise(ch["new"]), "value")
        self.exercise_box = W.VBox([self.exercise_dd])
        self._mentor_box = W.VBox()  # built when its tab first opens (aiortc imports ~1 s)
        self.patient = PETPatientCard(s, L, self.activity_lock, on_admit=self._on_admit)
        self.prep = PrepCard(s, L)
        exam = W.VBox(
            [self.patient.widget, self.prep.widget, injection, self.params.widget, self.plan_box]
        )
        self.tabs = W.Tab(
            children=[
                exam,
                self.nema,
                self.exercise_box,
                self._mentor_box,
            ]
        )
        self.tabs.observe(lambda ch: self._tab_selected(ch["new"]), "selected_index")
        self._tab_keys = ["tab_injection", "tab_nema", "tab_exercise", "tab_mentor"]
        self._title_tabs()
        L.on_switch(self._on_language)
        right = W.VBox([self.viewer.widget], layout=W.Layout(width="600px"))
        self.viewer.widget.add_class("merm-dark")
        body = W.HBox(
            [W.VBox([self.tabs], layout=W.Layout(flex="1", min_width="560px")), right],
            layout=W.Layout(align_items="flex-start"),
        )
        self.widget = W.VBox(
            [
                W.HTML(_shell.CSS),
                self.shell.header,
                self.shell.scanbar,
                self.params.conseq_box,
                self.shell.message,
                body,
            ]
        )
        self.widget.add_class("merm-root")
        self.widget.add_class("merm-pet-console")
        hospital_panel.attach(self, exam_box=exam, viewer_box=right)  # MERM_WORKLIST / MERM_PACS
        self._scan_warned = False
        self.shell.handlers.append(self._on_event)
        s.on_change(self._after_locks)  # after the parameter card's own locks
        L.on_switch(lambda lang: self.apply_activity_lock())
        self.refresh_texts()
        if ex is not None:
            self.start_exercise(ex.id)
            self.tabs.selected_index = 2
        elif _shell.exercise_choice(exercise):  # an id from the URL that the course lacks
            wanted = str(_shell.exercise_choice(exercise))
            self.exercise_box.children = [self.exercise_dd, _shell.unknown_exercise(L, wanted)]
            self.shell.show_message(L.t("unknown_exercise", id=wanted), "error")
            self.tabs.selected_index = 2
        threading.Thread(target=self._load_course, daemon=True, name="merm-course").start()

    # -------------------------------------------------------------- exam planning
    def _build_plan(self) -> None:
        """Scout MIP with the planned beds, exam time, NECR against activity."""
        s = self.session
        self.plan_title = W.HTML()
        self.range_top = W.BoundedFloatText(min=0.0, max=1500.0, step=10.0,
                                            layout=W.Layout(width="300px"))
        self.range_top.add_class("merm-range-top")
        self.overlap = W.BoundedFloatText(min=0.0, max=50.0, step=5.0,
                                          layout=W.Layout(width="300px"))
        self.overlap.add_class("merm-bed-overlap")
        for box, name in ((self.range_top, "range_top_mm"), (self.overlap, "bed_overlap_pct")):
            box.style.description_width = "initial"
            box.observe(
                lambda ch, name=name: None
                if self._syncing or ch["new"] == getattr(s.protocol, name)
                else s.apply_command({"type": "set_param", "name": name, "value": ch["new"]}),
                "value",
            )
        self.scout = W.Image(format="png", layout=W.Layout(width="180px"))
        self.scout.add_class("merm-scout")
        self.exam_time = W.HTML()
        self.exam_time.add_class("merm-exam-time")
        self.necr = W.HTML()
        self.necr.add_class("merm-necr")
        self._scout_key: tuple[Any, ...] | None = None
        self.plan_box = W.VBox(
            [
                self.plan_title,
                W.HBox(
                    [
                        self.scout,
                        W.VBox([self.range_top, self.overlap, self.exam_time, self.necr]),
                    ]
                ),
            ]
        )
        self.plan_box.add_class("merm-plan")

    def refresh_plan(self) -> None:
        """Redraw the planning panel from the protocol and the patient."""
        from simulator.pet import wholebody
        from simulator.pet.protocol import necr_against_activity

        lang, p = self.L.lang, self.session.protocol
        self.plan_title.value = f"<b>{plan_text('plan_title', lang)}</b>"
        self.range_top.description = plan_text("range_top_mm", lang)
        self.overlap.description = plan_text("bed_overlap_pct", lang)
        self._syncing = True
        try:
            self.range_top.value = float(p.range_top_mm)
            self.overlap.value = float(p.bed_overlap_pct)
        finally:
            self._syncing = False
        mpb = p.minutes_per_bed * 60.0
        lines = [
            plan_text("exam_time", lang, beds=p.beds, mpb=format_mmss(mpb),
                      total=format_mmss(wholebody.exam_time_s(p.beds, p.minutes_per_bed))),
            plan_text(
                "exam_ref", lang, beds=p.beds,
                std=format_mmss(60 * wholebody.STANDARD_MIN_PER_BED),
                t_std=format_mmss(wholebody.exam_time_s(p.beds, wholebody.STANDARD_MIN_PER_BED)),
                ai=format_mmss(60 * wholebody.AI_MIN_PER_BED),
                t_ai=format_mmss(wholebody.exam_time_s(p.beds, wholebody.AI_MIN_PER_BED)),
            ),
        ]
        whole_body = self.session.anatomy_name == "patient"
        if whole_body:
            ph = self.session.anatomy
            beds = wholebody.planned_beds_mm(ph, p)
            if beds:
                lines.append(plan_text("range", lang, top=beds[0][0], bottom=beds[-1][1]))
            key = (id(ph), tuple(beds))
            if key != self._scout_key:
                self._scout_key = key
                self.scout.value = scout_png(
                    wholebody.scout_mip(ph), beds, ph.voxel_mm[0], ph.voxel_mm[2]
                )
        self.scout.layout.display = None if whole_body else "none"
        self.range_top.layout.display = self.overlap.layout.display = (
            None if whole_body else "none"
        )
        self.exam_time.value = "<br>".join(lines)
        curve = necr_against_activity(p)
        now = necr_against_activity(p, [p.activity_mbq])[0][1]
        pa, pn = max(curve, key=lambda t: t[1])
        self.necr.value = (
            f"<b>{plan_text('necr_title', lang)}</b><br>{necr_svg(curve, p.activity_mbq)}<br>"
            + plan_text("necr_now", lang, a=p.activity_mbq, n=now, pn=pn, pa=pa)
        )

    # -------------------------------------------------------------- exercises
    def _exercise_options(self) -> list[tuple[str, Any]]:
        return [(self.L.t("free_practice"), None)] + [
            (e.title.get(self.L.lang), k) for k, e in self.course.items()
        ]

    def _load_course(self) -> None:
        course = _shell.load_exercises("pet")
        if course:
            self.course = {**course, **self.course}
            self._relabel_exercises()

    def _relabel_exercises(self) -> None:
        self._syncing = True
        try:
            v = self.exercise_dd.value
            self.exercise_dd.options = self._exercise_options()
            self.exercise_dd.value = v
        finally:
            self._syncing = False

    def start_exercise(self, exercise_id: str | None) -> None:
        """Show the exercise's panel (it puts the console in the exercise's starting state)."""
        if self._syncing:
            return
        ex = self.course.get(exercise_id) if exercise_id else None
        panel = [_shell.exercise_panel(self.session, self.L, ex)] if ex is not None else []
        if ex is None:
            self.session.set_exercise(None)  # free practice: every parameter unlocked
        self.exercise_box.children = [self.exercise_dd, *panel]

    def _tab_selected(self, index: int | None) -> None:
        if index == 3 and not self._mentor_box.children:
            self._mentor_box.children = [_shell.mentor_panel(self.session, self.L)]

    def _title_tabs(self) -> None:
        for i, key in enumerate(self._tab_keys):
            self.tabs.set_title(i, self.L.t(key))

    # -------------------------------------------------------------- injection and uptake
    def _build_correction(self) -> None:
        """The audited "correction / re-injection" of the injected activity (after injection)."""
        self.correct_activity = W.Text(layout=W.Layout(width="300px"),
                                       style={"description_width": "initial"})
        self.correct_activity.add_class("merm-correct-activity")
        self.correct_reason = W.Text(layout=W.Layout(width="320px"),
                                     style={"description_width": "initial"})
        self.correct_reason.add_class("merm-correct-reason")
        self.correct_button = W.Button(icon="pencil", button_style="danger",
                                       layout=W.Layout(width="auto"))
        self.correct_button.add_class("merm-activity-correct")
        self.correct_button.on_click(lambda _b: self.correct_injection())
        self.correct_error = W.HTML()
        self.correct_error.add_class("merm-correct-error")
        self.audit = W.HTML()
        self.audit.add_class("merm-activity-audit")
        self.locked_note = W.HTML()
        self.locked_note.add_class("merm-activity-locked")
        self.correction_box = W.VBox(
            [
                self.locked_note,
                W.HBox([self.correct_activity, self.correct_reason]),
                W.HBox([self.correct_button, self.correct_error]),
                self.audit,
            ],
            layout=W.Layout(display="none"),
        )
        self.correction_box.add_class("merm-correction")

    def _relabel_correction(self) -> None:
        lang = self.L.lang
        self.correct_activity.description = lock_text("correct_activity", lang)
        self.correct_reason.description = lock_text("correct_reason", lang)
        self.correct_button.description = lock_text("correct_button", lang)
        self.audit.value = self.activity_lock.audit_html(lang)
        inj = self.activity_lock.injection
        self.locked_note.value = (
            "" if inj is None
            else f"<b><i class='fa fa-lock'></i> "
            f"{lock_text('locked_note', lang, a=inj.activity_mbq, at=inj.at)}</b>"
        )

    def correct_injection(self, actor: str = "trainee") -> bool:
        """Apply the correction typed in the box (new activity, reason); audited."""
        ok, msg = self.activity_lock.correct(
            self.correct_activity.value, self.correct_reason.value, actor
        )
        if ok:
            self.correct_activity.value = self.correct_reason.value = ""
            self.correct_error.value = ""
            self.params.sync()
            self.shell.show_message(html.unescape(msg), "warning")
        else:
            self.correct_error.value = f"<span class='merm-err'>⚠ {msg}</span>"
        self._relabel_correction()
        return ok

    def apply_activity_lock(self) -> None:
        """Keep the activity field and the EANM button disabled while the injection stands."""
        inj = self.activity_lock.injection
        locked = inj is not None
        field = self.params.fields.get("activity_mbq")
        if field is not None and inj is not None:
            field.disabled = True
            field.add_class("merm-locked")
            field.tooltip = lock_text("locked", self.L.lang, a=inj.activity_mbq, at=inj.at)
        self.eanm.disabled = locked or self.session.is_locked("activity_mbq")
        self.correction_box.layout.display = None if locked else "none"
        self._relabel_correction()

    def _after_locks(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "exercise":  # a new exercise is a new exam
            self.new_exam()
        if kind in ("exercise", "controller"):
            self.apply_activity_lock()

    def _on_admit(self, patient: Any) -> None:
        """A worklist admission: another patient than the injected one starts a new exam."""
        current = getattr(self.session.patient, "key", None)
        if getattr(patient, "key", None) != current:
            self.new_exam()

    def new_exam(self) -> None:
        """Nothing injected: the activity unlocks, the uptake timer stops, Inject is back."""
        if not self.activity_lock.locked and self.injected_at is None:
            return
        self.activity_lock.reset()
        self.injected_at = None
        self.inject.disabled = False
        field = self.params.fields.get("activity_mbq")
        if field is not None:
            self.params.apply_locks()
        self.apply_activity_lock()
        self.refresh_texts()

    def do_inject(self) -> None:
        """Record the injection (activity locked, audited) and start the uptake timer (it runs
        on the console clock and ends at the protocol's uptake). A pregnancy declared or not
        excluded waits for the physician's justification on the preparation card."""
        refusal = self.prep.injection_refusal(self.L.lang)
        if refusal is not None:
            self.shell.show_message(refusal, "error")
            return
        msg = self.activity_lock.record(float(self.session.protocol.activity_mbq))
        if self.activity_lock.injection is not None:
            self.prep.fill_injection_time(self.activity_lock.injection.at)
        self.apply_activity_lock()
        self.shell.show_message(msg, "info")
        self.injected_at = time.monotonic()
        self.inject.disabled = True
        if self._timer is None or not self._timer.is_alive():
            self._timer = threading.Thread(target=self._tick, daemon=True, name="merm-uptake")
            self._timer.start()
        self.refresh_texts()

    def uptake_elapsed_s(self) -> float:
        if self.injected_at is None:
            return 0.0
        speed = CLOCKS.get(self.session.clock, 60.0)
        target = self.session.protocol.uptake_min * 60.0
        return (
            target
            if np.isinf(speed)
            else min(target, (time.monotonic() - self.injected_at) * speed)
        )

    def _tick(self) -> None:
        while self.injected_at is not None:
            self.refresh_texts()
            if self.uptake_elapsed_s() >= self.session.protocol.uptake_min * 60.0:
                return
            time.sleep(1.0)

    def refresh_texts(self) -> None:
        t, s = self.L.t, self.session
        c = s.consequences
        self.eanm_text.value = t("eanm_hint", a=c.get("eanm_activity_mbq", 0.0))
        target = s.protocol.uptake_min * 60.0
        if self.injected_at is None:
            self.uptake.value = t("not_injected")
        else:
            el = self.uptake_elapsed_s()
            text = t("uptake_timer", elapsed=format_mmss(el), target=format_mmss(target))
            if el >= target:
                text += " — " + t("uptake_done")
            self.uptake.value = f"<b>{text}</b>"
        self.refresh_nema()
        self.refresh_plan()

    def _on_language(self, lang: str) -> None:
        self._title_tabs()
        self._reprobe()
        self.refresh_texts()
        self._relabel_exercises()

    def refresh_nema(self) -> None:
        cur = self.session.current_series()
        nema = cur.metrics.get("nema") if cur is not None else None
        if cur is None or not nema:
            self.nema.value = self.L.t("nema_none")
            return
        self.nema.value = f"<b>{self.L.t('nema_table')}</b> — {html.escape(cur.name)}" + (
            nema_table_html(nema, self.L.lang, self.L.t)
        )

    # -------------------------------------------------------------- SUV probe
    def _on_image_click(self, x: int, y: int) -> None:
        """An armed "add a missed finding" takes the click; otherwise it places the ROI."""
        if not self.findings.on_image_click(x, y, FRAME_W, FRAME_H):
            self.probe_frame(x, y)

    def probe_frame(self, x: int, y: int) -> None:
        """A click on the viewer at frame pixel (x, y)."""
        cur = self.session.current_series()
        if cur is None:
            return
        hit = _render.frame_to_image(
            x, y, cur.images.shape[1:], FRAME_W, FRAME_H, self.session.zoom
        )
        if hit is not None:
            self.probe_x.value, self.probe_y.value = hit
            self.probe(*hit)

    def probe(self, col: int, row: int) -> None:
        """Read the voxel (col, row) of the shown slice and place the ROI there."""
        cur = self.session.current_series()
        if cur is None:
            self.probe_out.value = self.L.t("no_series")
            self.roi.measure(None, 0, 0, 0)
            return
        _n, rows, cols = cur.images.shape
        col, row = min(max(col, 0), cols - 1), min(max(row, 0), rows - 1)
        self._probed = (cur.series, self.session.slice_index, row, col)
        self._reprobe()
        self.roi.measure(cur.series, self.session.slice_index, row, col)

    def _reprobe(self) -> None:
        """The voxel read-out in the chosen unit (SUV or kBq/mL) and language."""
        if self._probed is None:
            return
        series, z, row, col = self._probed
        suv, bq = suv_at(series, z, row, col)
        if self.roi.unit.value == "suv" and np.isfinite(suv):
            text = self.L.t("suv_at", x=col, y=row, suv=suv, bq=bq)
        else:
            value = value_text(bq, None, "kbq", self.L.lang)
            text = roi_text("probe_at", self.L.lang, x=col, y=row, z=z + 1, value=value)
        self.probe_out.value = f"<b>{html.escape(text)}</b>"

    # -------------------------------------------------------------- events
    def _warn_at_scan_start(self) -> None:
        """An early scan (uptake timer) and a preparation outside EANM 2015, in one warning."""
        lang, parts = self.L.lang, []
        if self.injected_at is not None:
            el, target = self.uptake_elapsed_s(), self.session.protocol.uptake_min * 60.0
            if el < target:
                parts.append(
                    self.L.t("uptake_early", elapsed=format_mmss(el), target=format_mmss(target))
                )
        out = [f.text(lang) for f in self.prep.findings if f.level == "out"]
        if out:
            parts.append(
                pick(lang, "Préparation hors guide EANM 2015 : ", "Preparation outside the "
                     "EANM 2015 guideline: ", "Vorbereitung außerhalb der EANM-Leitlinie 2015: ")
                + " ".join(out)
            )
        if parts:
            self.shell.show_message(" ".join(parts), "warning")

    def _on_event(self, event: dict) -> None:
        kind = event.get("type")
        if kind in ("protocol", "param"):
            self.params.refresh()
            if event.get("actor", "local") != "local" or kind == "protocol":
                self.params.sync()
            if kind == "param":
                self.params.clear_error(event.get("name", ""))
            self.refresh_texts()
        elif (
            kind == "message"
            and event.get("level") == "error"
            and event.get("name") in self.params.errors
        ):
            self.params.errors[
                event["name"]
            ].value = f"<span class='merm-err'>⚠ {event['text']}</span>"
        elif kind == "scan_progress":
            running = event.get("state") == "running"
            if running and not self._scan_warned:  # the first progress of a scan
                self._warn_at_scan_start()
            self._scan_warned = running
        if kind == "anatomy":
            self.refresh_plan()
            key = (event["anatomy"], event.get("pathology"))
            match = [
                v
                for _, v in PHANTOM_CHOICES
                if v[0] == key[0] and (v[1] == key[1] or key[1] is None)
            ]
            if match and self.phantom.value != match[0]:
                self._syncing = True
                self.phantom.value = match[0]
                self._syncing = False
        if kind in ("series", "select", "view", "lang"):
            self.viewer.refresh()
            self.refresh_nema()
        elif kind in ("slice", "window"):
            self.viewer.refresh()
        elif kind in ("iteration", "scan_progress"):
            if (
                kind == "scan_progress"
                and event.get("state") == "running"
                and int(event["progress"] * 100) % 5
            ):
                return
            self.viewer.refresh_image()


def build_pet_console(
    lang: str | None = None, exercise: str | None = None, seed: int = 1
) -> W.Widget:
    """Build the trainee PET console; returns its root widget.

    Parameters
    ----------
    lang : {"fr", "en"}, optional
        Interface language; default from ``?lang=``, ``MERM_LANG``, the browser, ``LANG``.
    exercise : str, optional
        Exercise id; default from the Voilà URL ``?exercise=<id>``.
    seed : int
        Base seed of the session's scans.
    """
    _shell.preheat_then_wait("pet")
    console = PETConsole(lang=lang, exercise=exercise, seed=seed)
    console.widget._merm_console = console
    return console.widget
