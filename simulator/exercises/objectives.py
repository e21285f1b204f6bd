"""What an objective measures on the simulator's output, and how it is compared.

Every metric is a :class:`MetricSpec` in :data:`METRICS`. ``cheap`` metrics are read from
the protocol or the scanner's derived values (``derive``) and can be shown live while the
trainee edits the console; the others need a scan and are measured only when grading.

Measurements use what only a simulator has: the noiseless image of the same acquisition
(``MRSeries.noiseless``) and the truth labels on the image grid (``MRSeries.labels``).

* ``snr``: mean noiseless signal in a tissue / SD of (image − noiseless) in that tissue
  (the noise is measured exactly where it is, not guessed from air). With AI denoising
  on, whatever the network changes beyond removing noise (smoothing, lost texture) also
  counts in the difference: the figure is then "signal over error against the truth".
* ``cnr``: |mean_a − mean_b| of the image / SD of (image − noiseless) over the body.
* ``signal_ratio``: mean_a / mean_b on the noiseless image (the contrast the protocol
  makes, free of noise).
* ``wrap``: body signal folded over by a phase FOV smaller than the body: the share of the
  imaged body (anatomy labels in the planned slabs) outside the phase FOV is above
  ``WRAP_WARN_SHARE`` (the plan of the scan itself; see :mod:`simulator.mr.planning`, whose
  measure the console's banner and the scan's warning share).
* ``motion``: ghosting along phase: NRMSE of the noiseless image against the noiseless
  image of the same protocol acquired without motion, above :data:`MOTION_NRMSE`.
* ``gibbs``: truncation ringing. Its overshoot (~9 %) is the same at every matrix; what
  the matrix changes is the spacing of the rings, one acquired pixel. Rings are taken as
  visible when the coarser acquired in-plane pixel exceeds :data:`GIBBS_PIXEL_MM` (derived
  value, exact for the protocol).
* ``chemical_shift``: the fat–water shift in pixels (derived value, exact for the
  protocol) is at least :data:`CHEMICAL_SHIFT_PX` and fat is not suppressed.
* ``coverage``: share of a structure's voxels (anatomy labels) inside the imaged slices
  and the in-plane FOV of the planned geometry.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MetricSpec",
    "METRICS",
    "OPS",
    "compare",
    "CHEMICAL_SHIFT_PX",
    "MOTION_NRMSE",
    "GIBBS_PIXEL_MM",
    "FDG_MSV_PER_MBQ",
    "objective_label",
    "objective_target",
    "format_value",
    "metric_label",
    "tissue_name",
]

OPS = ("<=", ">=", "==", "between", "present", "absent")

#: A fat–water displacement of one pixel or more is visible as a bright/dark rim.
CHEMICAL_SHIFT_PX = 1.0
#: Ghosting counts as present above 5 % NRMSE against the motion-free image (visible by eye
#: on a window that shows the body; below it ghosts hide under the noise of clinical images).
MOTION_NRMSE = 0.05
#: Rings spaced more than 1.2 mm apart are resolved by eye inside a 6–10 mm structure such
#: as the spinal cord (the classic "pseudo-syrinx"); finer ones blend into the edge.
GIBBS_PIXEL_MM = 1.2
#: Effective dose of F-18 FDG for an adult, ICRP Publication 128 (2015): 0.019 mSv/MBq.
FDG_MSV_PER_MBQ = 0.019
#: Relative tolerance of ``==`` on numbers (floating-point round-off of derived values).
EQ_RTOL = 1e-6


@dataclass(frozen=True)
class MetricSpec:
    """What a metric is.

    Parameters
    ----------
    name : str
        Name used in exercise files.
    modality : str
        ``"mr"``, ``"pet"`` or ``"any"``.
    kind : str
        ``"number"`` or ``"bool"``.
    unit : str
        Unit shown to the trainee.
    cheap : bool
        Computable from the protocol and derived values, without scanning.
    args : tuple of str
        Required objective keys (``tissues``, ``structure``…).
    optional_args : tuple of str
        Optional objective keys.
    en, fr : str
        Label shown in the panel.
    """

    name: str
    modality: str
    kind: str
    unit: str
    cheap: bool
    args: tuple[str, ...] = ()
    optional_args: tuple[str, ...] = ()
    en: str = ""
    fr: str = ""


def _m(name: str, modality: str, kind: str, unit: str, cheap: bool, en: str, fr: str,
       args: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> MetricSpec:
    return MetricSpec(name, modality, kind, unit, cheap, args, optional, en, fr)


METRICS: Mapping[str, MetricSpec] = {
    m.name: m
    for m in (
        # MR, from the protocol / derived values
        _m("scan_time_s", "mr", "number", "s", True, "scan time", "durée d'acquisition"),
        _m("snr_rel", "mr", "number", "", True, "relative SNR", "RSB relatif"),
        _m("sar_w_kg", "mr", "number", "W/kg", True, "SAR", "DAS"),
        _m("sar_fraction", "mr", "number", "", True, "SAR / limit", "DAS / limite"),
        _m("fat_shift_px", "mr", "number", "px", True, "fat shift", "déplacement chimique"),
        _m("pixel_mm", "mr", "number", "mm", True, "in-plane pixel size", "taille du pixel"),
        _m("voxel_mm3", "mr", "number", "mm³", True, "voxel volume", "volume du voxel"),
        _m("chemical_shift", "mr", "bool", "", True, "chemical-shift artefact",
           "artefact de déplacement chimique"),
        # MR, measured on the images
        _m("snr", "mr", "number", "", False, "SNR", "RSB", optional=("tissue",)),
        _m("cnr", "mr", "number", "", False, "CNR", "RCB", args=("tissues",)),
        _m("signal_ratio", "mr", "number", "", False, "signal ratio", "rapport de signal",
           args=("tissues",)),
        _m("wrap", "mr", "bool", "", True, "wrap-around", "repliement"),
        _m("motion", "mr", "bool", "", False, "motion ghosts", "artefacts de mouvement"),
        _m("gibbs", "mr", "bool", "", True, "Gibbs ringing", "artefact de Gibbs"),
        _m("coverage", "mr", "number", "", True, "coverage", "couverture", args=("structure",)),
        _m("ssim", "mr", "number", "", False, "SSIM vs truth", "SSIM / vérité"),
        # PET
        _m("scan_time_min", "pet", "number", "min", True, "acquisition time", "durée d'acquisition"),
        _m("activity_mbq", "pet", "number", "MBq", True, "injected activity", "activité injectée"),
        _m("dose_msv", "pet", "number", "mSv", True, "effective dose", "dose efficace"),
        _m("crc", "pet", "number", "", False, "contrast recovery", "recouvrement de contraste",
           args=("sphere_mm",)),
        _m("bv", "pet", "number", "", False, "background variability", "variabilité du fond",
           optional=("sphere_mm",)),
        _m("suv_max", "pet", "number", "", False, "SUVmax", "SUVmax", args=("region",)),
        _m("suv_mean", "pet", "number", "", False, "SUVmean", "SUVmoyen", args=("region",)),
        _m("liver_cov", "pet", "number", "", False, "liver noise (CoV)", "bruit hépatique (CV)"),
        _m("counts_m", "pet", "number", "M", False, "true counts (millions)",
           "coïncidences vraies (millions)"),
        # both
        _m("ai_denoise", "any", "bool", "", True, "AI denoising", "débruitage IA"),
        _m("param", "any", "number", "", True, "parameter", "paramètre", args=("name",)),
        _m("mentor_called", "any", "bool", "", True, "mentor called", "mentor appelé"),
        _m("pacs_sent", "any", "bool", "", True, "series sent to PACS", "séries envoyées au PACS"),
        # the trainee's decisions on the detection AI's findings (simulator.exercises._findings)
        _m("ai_true_accepted", "any", "bool", "", False, "true AI findings accepted",
           "vrais résultats IA acceptés"),
        _m("ai_false_rejected", "any", "bool", "", False, "false AI findings rejected",
           "faux résultats IA rejetés"),
        _m("ai_missed_found", "any", "number", "", False, "lesions the AI missed that you marked",
           "lésions manquées par l'IA que vous avez marquées"),
        _m("ai_false_added", "any", "number", "", False, "your marks on no lesion",
           "vos marques hors lésion"),
        _m("ai_decision_score", "any", "number", "", False, "right calls on the AI findings",
           "bonnes décisions sur les résultats IA"),
    )
}


_CMP: Mapping[str, Callable[[Any, Any], bool]] = {"<=": operator.le, ">=": operator.ge}


def compare(op: str, measured: float | bool | None, value: Any = None,
            range_: tuple[float, float] | None = None) -> bool:
    """Whether ``measured`` satisfies ``op`` against ``value`` or ``range_``.

    ``None`` (not measurable) never passes. ``present``/``absent`` test truthiness;
    ``==`` on numbers allows :data:`EQ_RTOL` relative round-off.
    """
    if measured is None:
        return False
    if op == "present":
        return bool(measured)
    if op == "absent":
        return not bool(measured)
    if op == "between":
        assert range_ is not None
        return range_[0] <= float(measured) <= range_[1]
    if op == "==":
        if isinstance(value, bool) or isinstance(measured, bool):
            return bool(measured) == bool(value)
        return abs(float(measured) - float(value)) <= EQ_RTOL * max(1.0, abs(float(value)))
    return bool(_CMP[op](float(measured), float(value)))


#: Names shown to trainees for the anatomy's tissues and the phantoms' regions.
TISSUE_NAMES: Mapping[str, tuple[str, str]] = {
    "white_matter": ("substance blanche", "white matter"),
    "gray_matter": ("substance grise", "grey matter"),
    "csf": ("LCS", "CSF"),
    "fat": ("graisse", "fat"),
    "muscle": ("muscle", "muscle"),
    "bone_marrow": ("moelle osseuse", "bone marrow"),
    "red_marrow": ("moelle rouge", "red marrow"),
    "marrow_oedema": ("œdème médullaire", "marrow oedema"),
    "cartilage": ("cartilage", "cartilage"),
    "meniscus": ("ménisques", "menisci"),
    "synovial_fluid": ("liquide synovial", "synovial fluid"),
    "disc": ("disques", "discs"),
    "spinal_cord": ("moelle épinière", "spinal cord"),
    "lesion_ms": ("lésions de SEP", "MS lesions"),
    "liver": ("foie", "liver"),
}


#: German names of the tissues and regions (same keys as :data:`TISSUE_NAMES`).
TISSUE_NAMES_DE: Mapping[str, str] = {
    "white_matter": "weiße Substanz", "gray_matter": "graue Substanz", "csf": "Liquor",
    "fat": "Fett", "muscle": "Muskel", "bone_marrow": "Knochenmark", "red_marrow": "rotes Mark",
    "marrow_oedema": "Knochenmarködem", "cartilage": "Knorpel", "meniscus": "Menisken",
    "synovial_fluid": "Gelenkflüssigkeit", "disc": "Bandscheiben", "spinal_cord": "Rückenmark",
    "lesion_ms": "MS-Läsionen", "liver": "Leber", "blood": "Blut", "skin": "Haut",
    "tendon": "Sehne", "bone_cortex": "Kortikalis", "ligament": "Band", "lung": "Lunge",
    "background": "Hintergrund",
}
#: French and English names of tissues the objectives rarely name but the consoles show.
_MORE_TISSUES: Mapping[str, tuple[str, str]] = {
    "blood": ("sang", "blood"), "skin": ("peau", "skin"), "tendon": ("tendon", "tendon"),
    "bone_cortex": ("os cortical", "cortical bone"), "ligament": ("ligament", "ligament"),
    "lung": ("poumon", "lung"), "background": ("fond", "background"),
}
#: German labels of the metrics (English and French are in :data:`METRICS`).
METRICS_DE: Mapping[str, str] = {
    "scan_time_s": "Messzeit", "snr_rel": "relatives SNR", "sar_w_kg": "SAR",
    "sar_fraction": "SAR / Grenzwert", "fat_shift_px": "Fettverschiebung",
    "pixel_mm": "Pixelgröße in der Ebene", "voxel_mm3": "Voxelvolumen",
    "chemical_shift": "Chemical-Shift-Artefakt", "snr": "SNR", "cnr": "CNR",
    "signal_ratio": "Signalverhältnis", "wrap": "Einfaltung", "motion": "Bewegungsartefakte",
    "gibbs": "Gibbs-Artefakt", "coverage": "Abdeckung", "ssim": "SSIM zur Wahrheit",
    "scan_time_min": "Messzeit", "activity_mbq": "injizierte Aktivität",
    "dose_msv": "effektive Dosis", "crc": "Kontrastwiederherstellung",
    "bv": "Hintergrundvariabilität", "suv_max": "SUVmax", "suv_mean": "SUVmean",
    "liver_cov": "Leberrauschen (VK)", "counts_m": "wahre Koinzidenzen (Millionen)",
    "ai_denoise": "KI-Entrauschung", "param": "Parameter", "mentor_called": "Mentor gerufen",
    "ai_true_accepted": "richtige KI-Befunde angenommen",
    "ai_false_rejected": "falsche KI-Befunde abgelehnt",
    "ai_missed_found": "von der KI übersehene Läsionen, die Sie markiert haben",
    "ai_false_added": "Ihre Markierungen ohne Läsion",
    "ai_decision_score": "richtige Entscheidungen zu den KI-Befunden",
}


def _lang3(lang: Any) -> str:
    lang = str(lang or "fr")
    return "en" if lang.startswith("en") else ("de" if lang.startswith("de") else "fr")


def tissue_name(name: str, lang: str) -> str:
    """A tissue or region as the trainee reads it (``white_matter`` → ``substance blanche``;
    ``sphere_10`` → ``sphere 10 mm``)."""
    lang = _lang3(lang)
    if name.startswith("sphere_") and name[7:].isdigit():
        word = {"fr": "sphère", "en": "sphere", "de": "Kugel"}[lang]
        return f"{word} {name[7:]} mm"
    plain = name.replace("_", " ")
    if lang == "de":
        return TISSUE_NAMES_DE.get(name, plain)
    fr, en = TISSUE_NAMES.get(name) or _MORE_TISSUES.get(name) or (plain, plain)
    return en if lang == "en" else fr


def _tissue(name: str, lang: str) -> str:
    return tissue_name(name, lang)


def metric_label(metric: str, lang: str) -> str:
    """A metric's name in ``lang``."""
    spec = METRICS[metric]
    lang = _lang3(lang)
    return {"fr": spec.fr, "en": spec.en, "de": METRICS_DE.get(metric, spec.en)}[lang]


#: Metrics that are fractions, shown in percent.
_PERCENT = ("crc", "bv", "coverage", "sar_fraction", "liver_cov", "ai_decision_score")
_WORDS = {
    "present": {"fr": "présent", "en": "present", "de": "vorhanden"},
    "absent": {"fr": "absent", "en": "absent", "de": "nicht vorhanden"},
    "yes": {"fr": "oui", "en": "yes", "de": "ja"},
    "no": {"fr": "non", "en": "no", "de": "nein"},
    "between": {"fr": "entre {a} et {b}", "en": "between {a} and {b}", "de": "zwischen {a} und {b}"},
}
_OP_SIGNS = {"<=": "≤", ">=": "≥", "==": "="}


def _unit(obj: Any) -> str:
    spec = METRICS[obj.metric]
    if obj.metric == "param":
        from simulator.console.i18n import tr

        label = tr(str(obj.args.get("name", "")), "en")
        return label[label.index("(") + 1 : label.rindex(")")] if "(" in label else ""
    return spec.unit


def format_value(obj: Any, value: Any, lang: str) -> str:
    """A measured or target value as the console writes it: durations ``mm:ss``, fractions
    in percent, numbers with their unit, yes/no for true/false (never a Python literal)."""
    lang = _lang3(lang)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _WORDS["yes" if value else "no"][lang]
    if not isinstance(value, int | float):
        return str(value)
    v = float(value)
    if obj.metric in ("scan_time_s", "scan_time_min"):
        from simulator.durations import format_mmss

        return format_mmss(v * (60.0 if obj.metric == "scan_time_min" else 1.0))
    if obj.metric in _PERCENT:
        return f"{100 * v:.0f} %"
    from simulator.console.i18n import decimal  # the language's separator: "1,05" in fr/de

    text = decimal(v, lang, fmt=".3g") if abs(v) < 1000 else f"{v:.0f}"
    unit = _unit(obj)
    return f"{text} {unit}" if unit else text


def objective_target(obj: Any, lang: str = "fr") -> str:
    """The target in the console's words: ``≤ 02:00``, ``≥ 1.1``, ``≤ 2 W/kg``,
    ``between 3 mm and 5 mm``, ``absent``."""
    lang = _lang3(lang)
    if obj.op in ("present", "absent"):
        return _WORDS[obj.op][lang]
    if obj.op == "between" and obj.range is not None:
        a, b = (format_value(obj, x, lang) for x in obj.range)
        return _WORDS["between"][lang].format(a=a, b=b)
    return f"{_OP_SIGNS.get(obj.op, obj.op)} {format_value(obj, obj.value, lang)}"


def objective_label(obj: Any, lang: str = "fr") -> str:
    """What an objective measures, in the trainee's language (``rapport de signal
    (substance blanche / substance grise)``)."""
    lang = _lang3(lang)
    base = metric_label(obj.metric, lang)
    args = obj.args
    if "tissues" in args:
        extra = " / ".join(_tissue(t, lang) for t in args["tissues"])
    elif "sphere_mm" in args:
        extra = f"{args['sphere_mm']:g} mm"
    elif any(k in args for k in ("tissue", "structure", "region")):
        extra = _tissue(args.get("tissue") or args.get("structure") or args["region"], lang)
    elif "name" in args:
        from simulator.console.i18n import tr

        extra = tr(str(args["name"]), lang)
    else:
        extra = ""
    return f"{base} ({extra})" if extra else base
