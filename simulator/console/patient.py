"""Exam card: fictitious patients from scenarios, and the MR safety screening.

The scenarios are invented people (no real data). Each carries the truth of the record —
implants and whether they are MR-safe, conditional or a contraindication — that the trainee's
screening answers are checked against. A contraindication blocks the Scan button; a patient's
state (anxious, claustrophobic, in pain, agitated) sets the expected motion of the protocol.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ipywidgets as W

from simulator.console import _shared
from simulator.console.i18n import Labels

__all__ = [
    "Implant",
    "Patient",
    "SCENARIOS",
    "QUESTIONS",
    "MOTION_BY_STATE",
    "screen",
    "identity_rows",
    "PatientCard",
]

#: Expected motion for each patient state (the MR physics grows it with scan duration).
MOTION_BY_STATE = {
    "calm": "none",
    "anxious": "low",
    "claustrophobic": "low",
    "in_pain": "moderate",
    "agitated": "severe",
}

#: Screening questions: key -> implant kinds that answer "yes".
QUESTIONS: dict[str, tuple[str, ...]] = {
    "q_pacemaker": ("pacemaker", "icd"),
    "q_neurostim": ("neurostimulator", "pump"),
    "q_cochlear": ("cochlear",),
    "q_metal_eye": ("metal_eye",),
    "q_clips": ("aneurysm_clip", "valve", "hip_prosthesis", "knee_prosthesis"),
    "q_pregnant": ("pregnancy",),
}


def _in_lang(lang: str, fr: str, en: str, de: str | None = None) -> str:
    """fr / en / de text (German from :data:`simulator.console.i18n_de.DE_TEXTS` by default)."""
    if lang == "fr":
        return fr
    if lang == "de":
        from simulator.console.i18n_de import DE_TEXTS

        return de or DE_TEXTS.get(en, en)
    return en


@dataclass(frozen=True)
class Implant:
    """An implant or condition: ``status`` is ``safe``, ``conditional`` or ``unsafe``."""

    kind: str
    label_fr: str
    label_en: str
    status: str

    def label(self, lang: str) -> str:
        return _in_lang(lang, self.label_fr, self.label_en)


@dataclass(frozen=True)
class Patient:
    """A fictitious patient of a scenario."""

    key: str
    name: str
    age: int
    sex: str
    weight_kg: float
    anatomy: str
    pathology: str | None
    indication_fr: str
    indication_en: str
    state: str
    implants: tuple[Implant, ...] = ()
    indication_de: str = ""

    @property
    def motion(self) -> str:
        return MOTION_BY_STATE[self.state]

    def indication(self, lang: str) -> str:
        de = getattr(self, "indication_de", "")
        return _in_lang(lang, self.indication_fr, self.indication_en, de or None)


_PM = Implant(
    "pacemaker",
    "stimulateur cardiaque non IRM-compatible",
    "non-MR-conditional pacemaker",
    "unsafe",
)
_HIP = Implant(
    "hip_prosthesis", "prothèse de hanche (titane)", "hip prosthesis (titanium)", "conditional"
)
_EYE = Implant(
    "metal_eye",
    "éclat métallique intra-oculaire (soudeur)",
    "intra-ocular metal fragment (welder)",
    "unsafe",
)
_NS = Implant(
    "neurostimulator",
    "neurostimulateur médullaire IRM-compatible sous conditions",
    "MR-conditional spinal cord stimulator",
    "conditional",
)

SCENARIOS: dict[str, Patient] = {
    p.key: p
    for p in (
        Patient(
            "headache",
            "MARTIN Claire",
            54,
            "F",
            68.0,
            "brain",
            None,
            "Céphalées inhabituelles depuis 3 semaines",
            "Unusual headaches for 3 weeks",
            "anxious",
        ),
        Patient(
            "ms",
            "LEROY Sophie",
            31,
            "F",
            59.0,
            "brain",
            "ms_lesions",
            "Névrite optique, suspicion de SEP",
            "Optic neuritis, suspected MS",
            "calm",
        ),
        Patient(
            "tumour",
            "DUBOIS Jean",
            71,
            "M",
            82.0,
            "brain",
            "tumour",
            "Troubles du langage d'apparition récente",
            "Recent speech disorder",
            "claustrophobic",
            (_PM,),
        ),
        Patient(
            "knee",
            "PETIT Lucas",
            23,
            "M",
            74.0,
            "knee",
            "meniscal_tear",
            "Entorse du genou au football, blocage",
            "Football knee sprain, locking",
            "in_pain",
        ),
        Patient(
            "knee_oedema",
            "GARCIA Inès",
            45,
            "F",
            63.0,
            "knee",
            "bone_marrow_oedema",
            "Douleur du genou après une chute",
            "Knee pain after a fall",
            "calm",
            (_HIP,),
        ),
        Patient(
            "acl",
            "LEROY Camille",
            27,
            "F",
            61.0,
            "knee",
            "acl_tear",
            "Torsion du genou au ski, craquement, instabilité",
            "Twisting knee injury skiing, a pop, giving way",
            "in_pain",
            indication_de="Verdrehtrauma des Knies beim Skifahren, Knall, Instabilität",
        ),
        Patient(
            "fracture",
            "ROUX Jeanne",
            74,
            "F",
            55.0,
            "spine",
            "vertebral_fracture",
            "Lombalgie aiguë après une chute, ostéoporose connue",
            "Acute low back pain after a fall, known osteoporosis",
            "in_pain",
            indication_de="Akute Lumbalgie nach einem Sturz, bekannte Osteoporose",
        ),
        Patient(
            "spine",
            "BERNARD Michel",
            58,
            "M",
            90.0,
            "spine",
            "disc_herniation",
            "Lombosciatique gauche hyperalgique",
            "Severe left sciatica",
            "agitated",
            (_NS,),
        ),
        Patient(
            "welder",
            "MOREAU Karim",
            49,
            "M",
            77.0,
            "spine",
            None,
            "Lombalgie chronique, ancien soudeur",
            "Chronic low back pain, former welder",
            "calm",
            (_EYE,),
        ),
    )
}


#: Implant kinds an exercise may name, with their MR status.
IMPLANTS: dict[str, Implant] = {
    i.kind: i
    for i in (
        _PM,
        _HIP,
        _EYE,
        _NS,
        Implant("icd", "défibrillateur implantable", "implantable defibrillator", "unsafe"),
        Implant("cochlear", "implant cochléaire", "cochlear implant", "unsafe"),
        Implant(
            "aneurysm_clip",
            "clip d'anévrisme ancien (ferromagnétique)",
            "old ferromagnetic aneurysm clip",
            "unsafe",
        ),
        Implant(
            "valve",
            "valve cardiaque IRM-compatible sous conditions",
            "MR-conditional heart valve",
            "conditional",
        ),
        Implant("knee_prosthesis", "prothèse de genou", "knee prosthesis", "conditional"),
        Implant("pump", "pompe implantée", "implanted pump", "unsafe"),
        Implant(
            "pregnancy", "grossesse (1er trimestre)", "pregnancy (first trimester)", "conditional"
        ),
    )
}


def patient_from_exercise(ex: Any) -> Patient:
    """The console's :class:`Patient` for an exercise's scenario patient."""
    p = ex.patient
    implants = tuple(IMPLANTS.get(k, Implant(k, k, k, "conditional")) for k in p.implants)
    state = p.state if p.state in MOTION_BY_STATE else "calm"
    return Patient(
        f"ex-{ex.id}",
        p.name,
        int(p.age),
        "O",
        float(p.weight_kg),
        ex.anatomy or ex.phantom or "",
        ex.pathology,
        p.indication.get("fr"),
        p.indication.get("en"),
        state,
        implants,
        p.indication.get("de"),
    )


def screen(patient: Patient, answers: dict[str, bool | None]) -> tuple[str, str]:
    """Check the trainee's screening answers against the record.

    Returns
    -------
    (status, detail)
        ``status`` is ``incomplete`` (a question unanswered), ``mismatch`` (an answer
        contradicts the record; ``detail`` is the question key), ``blocked`` (an unsafe
        implant; ``detail`` names it in English and French via the patient), ``conditional``
        or ``ok``.
    """
    kinds = {imp.kind for imp in patient.implants}
    for key, yes_kinds in QUESTIONS.items():
        answer = answers.get(key)
        if answer is None:
            return "incomplete", key
        if answer != bool(kinds & set(yes_kinds)):
            return "mismatch", key
    unsafe = [imp for imp in patient.implants if imp.status == "unsafe"]
    if unsafe:
        return "blocked", unsafe[0].kind
    if any(imp.status == "conditional" for imp in patient.implants):
        return "conditional", next(i.kind for i in patient.implants if i.status == "conditional")
    return "ok", ""


def identity_rows(p: Patient, t: Callable[..., str], lang: str) -> str:
    """The card's rows that say who the patient is (name and sex, age, weight, indication),
    as HTML table rows in the console's language; the MR and PET patient cards start with them."""
    return (
        f"<tr><th>{t('name')}</th><td>{html.escape(p.name)} ({p.sex})</td></tr>"
        f"<tr><th>{t('age')}</th><td>{p.age} {t('years')}</td></tr>"
        f"<tr><th>{t('weight')}</th><td>{p.weight_kg:g} kg</td></tr>"
        f"<tr><th>{t('indication')}</th><td>{html.escape(p.indication(lang))}</td></tr>"
    )


class PatientCard:
    """Patient card + scenario picker + MR safety questionnaire (widgets)."""

    def __init__(self, session: Any, labels: Labels, on_patient: Any = None) -> None:
        self.session, self.L = session, labels
        self.on_patient = on_patient
        self.scenario = W.Dropdown(options=self._scenario_options())
        labels(self.scenario, "scenario")
        self.scenario.add_class("merm-scenario")
        self.card = W.HTML()
        self.card.add_class("merm-patient-card")
        self.answers: dict[str, W.ToggleButtons] = {}
        rows = []
        for key in QUESTIONS:
            tb = W.ToggleButtons(
                options=[("?", None), ("", True), ("", False)],
                value=None,
                style=_shared.toggle_style("52px"),
                layout=_shared.layout(),
            )
            tb.add_class(f"merm-safety-{key[2:]}")
            self.answers[key] = tb
            lab = W.Label(layout=_shared.layout(width="290px"), style=_shared.label_style())
            labels(lab, key, "value")
            rows.append(W.HBox([lab, tb], layout=_shared.layout()))
        self.validate = W.Button(
            button_style="warning", icon="check", layout=_shared.layout(width="auto")
        )
        labels(self.validate, "safety_validate")
        self.validate.add_class("merm-safety-validate")
        self.result = W.HTML()
        self.result.add_class("merm-safety-result")
        title = W.HTML()
        labels.on_switch(lambda lang: self._relabel())
        self._title = title
        self.safety_box = W.VBox([title, *rows, self.validate, self.result])
        self.safety_box.add_class("merm-safety")
        self.widget = W.VBox([self.scenario, self.card, self.safety_box])
        self._relabeling = False
        self.scenario.observe(
            lambda ch: None if self._relabeling else self.admit(ch["new"]), "value"
        )
        self.validate.on_click(lambda _b: self.check())
        self._relabel()

    def _scenario_options(self) -> list[tuple[str, str]]:
        return [(f"{p.name} — {self.L.t(p.anatomy)}", k) for k, p in SCENARIOS.items()]

    def _name_answers(self) -> None:
        """Each answer button named by its question and answer ("Cochlear implant? — Yes"):
        the tooltip, which the console's bridge (:mod:`._a11y`) makes the button's name."""
        t = self.L.t
        for key, tb in self.answers.items():
            tb.tooltips = [t("safety_answer", question=t(key), answer=a)
                           for a in (t("answer_unknown"), t("yes"), t("no"))]

    def _relabel(self) -> None:
        t = self.L.t
        v = self.scenario.value
        self._relabeling = True
        try:
            self.scenario.options = self._scenario_options()
            self.scenario.value = v
        finally:
            self._relabeling = False
        self._title.value = f"<b>{t('safety')}</b>"
        for tb in self.answers.values():
            v = tb.value
            tb.options = [("?", None), (t("yes"), True), (t("no"), False)]
            tb.value = v
        self._name_answers()
        if self.session.patient is not None:
            self._show_card(self.session.patient)
            if self.session.screening != "pending":
                self._show_result(self.session.screening, self.session.screening_detail)

    def _show_card(self, p: Patient) -> None:
        t, lang = self.L.t, self.L.lang
        implants = ", ".join(i.label(lang) for i in p.implants) or t("none")
        self.card.value = (
            "<table class='merm-card'>"
            + identity_rows(p, t, lang)
            + f"<tr><th>{t('state')}</th><td>{t(p.state)} — {t('motion_level', level=t('motion_' + p.motion))}</td></tr>"
            f"<tr><th>{t('implants')}</th><td>{implants}</td></tr></table>"
        )

    def admit(self, key: str) -> None:
        self.admit_patient(SCENARIOS[key])

    def admit_patient(self, p: Patient) -> None:
        """Show ``p``'s card, reset the screening, set anatomy and motion in the session."""
        for tb in self.answers.values():
            tb.value = None
        self.result.value = ""
        if (
            self.session.modality == "mr"
            and p.anatomy in ("brain", "knee", "spine")
            and (p.anatomy != self.session.anatomy_name or p.pathology != self.session.pathology)
        ):
            self.session.set_anatomy(p.anatomy, p.pathology)
        self.session.set_patient(p)
        self._show_card(p)
        if self.on_patient:
            self.on_patient(p)

    def check(self) -> None:
        p = self.session.patient
        status, detail = screen(p, {k: tb.value for k, tb in self.answers.items()})
        if status in ("incomplete", "mismatch"):
            self.session.set_screening("pending", "")
        else:
            what = next((i.label(self.L.lang) for i in p.implants if i.kind == detail), "")
            self.session.set_screening(status, what)
        self._show_result(status, detail)

    def _show_result(self, status: str, detail: str) -> None:
        t = self.L.t
        what = self.session.screening_detail
        text, colour = {
            "incomplete": (t("safety_incomplete"), "#b36b00"),
            "mismatch": (
                t("safety_mismatch", q=t(detail) if detail.startswith("q_") else detail),
                "#b36b00",
            ),
            "blocked": (t("safety_block", what=what), "#b00020"),
            "conditional": (t("safety_conditional", what=what), "#1d6b1d"),
            "ok": (t("safety_ok"), "#1d6b1d"),
            "pending": ("", "#000"),
        }[status]
        self.result.value = f"<b style='color:{colour}'>{text}</b>"
