"""A technologist's words for what the consoles show: protocols, values, series metrics.

No internal key, Python literal, ``True``/``False`` or ``None`` reaches the screen: each
protocol name, parameter value and metric goes through here, in French, English or
German, with its unit and the console's formats (``mm:ss`` for durations).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from simulator.console.i18n import decimal, pick, tr
from simulator.durations import format_mmss

__all__ = ["preset_label", "param_value", "metrics_rows", "metric_names"]

#: Protocol names as the vendors' cards spell them (acronyms; plane abbreviations).
_PRESET_WORDS = {
    "se": "SE", "tse": "TSE", "gre": "GRE", "fs": "FS", "sag": "sag", "ax": "tra", "cor": "cor",
    "pd": "PD", "flair": "FLAIR", "stir": "STIR", "t1": "T1", "t2": "T2",
}


def preset_label(name: str) -> str:
    """``t1_se`` → ``T1 SE``, ``t2_tse_sag`` → ``T2 TSE sag``, ``pd_fs`` → ``PD FS``."""
    return " ".join(_PRESET_WORDS.get(w, w.upper()) for w in str(name).split("_"))


_CHOICE_WORDS: Mapping[str, Mapping[str, str]] = {
    "sequence": {"se": "SE", "tse": "TSE", "gre": "GRE", "ir": "IR"},
    "recon": {"osem": "OSEM", "mlem": "MLEM", "fbp": "FBP"},
    "fbp_window": {"hann": "Hann", "ramp": "Ramp"},
    "phase_dir": {"AP": "A≫P", "RL": "R≫L", "HF": "H≫F"},
    "tracer": {"F18-FDG": "¹⁸F-FDG"},
}


#: The coil of each body part (``protocol.body_part``), as the technologist names it.
_BODY_PARTS: Mapping[str, tuple[str, str, str]] = {
    "head": ("tête", "head", "Kopf"),
    "knee": ("genou", "knee", "Knie"),
    "spine": ("rachis", "spine", "Wirbelsäule"),
}


def param_value(name: str, value: Any, lang: str) -> str:
    """A parameter's value as the card writes it: on/off, named choices, plain numbers
    (with the language's decimal separator)."""
    if isinstance(value, bool):
        return pick(lang, "activé", "on", "ein") if value else pick(lang, "désactivé", "off", "aus")
    if value is None:
        return "—"
    if name == "orientation":
        return tr(str(value), lang)
    words = _CHOICE_WORDS.get(name)
    if words is not None and str(value) in words:
        return words[str(value)]
    if name == "motion":
        return tr(f"motion_{value}", lang)
    if name == "body_part" and str(value) in _BODY_PARTS:
        return pick(lang, *_BODY_PARTS[str(value)])
    if isinstance(value, float):
        return decimal(value, lang, fmt="g")
    if isinstance(value, (tuple, list)):
        return " × ".join(decimal(v, lang, fmt="g") if isinstance(v, float) else str(v)
                          for v in value)
    return str(value)


def _num(fmt: str, unit: str = "") -> Callable[[Any, str], str]:
    def f(v: Any, lang: str) -> str:
        text = decimal(float(v), lang, fmt=fmt)
        return f"{text} {unit}" if unit else text

    return f


def _pct(v: Any, lang: str) -> str:
    return f"{decimal(100 * float(v), lang, 1)} %"


def _mmss(v: Any, lang: str) -> str:
    return format_mmss(float(v))


def _millions(v: Any, lang: str) -> str:
    return f"{decimal(float(v) / 1e6, lang, 2)} M"


def _voxel(v: Any, lang: str) -> str:
    return " × ".join(decimal(float(x), lang, 2) for x in v) + " mm"


#: metric key → ((fr, en, de) name, formatter); keys absent here are not shown.
_METRICS: Mapping[str, tuple[tuple[str, str, str], Callable[[Any, str], str]]] = {
    "scan_time_s": (("Durée", "Scan time", "Messzeit"), _mmss),
    "snr": (("RSB mesuré", "Measured SNR", "Gemessenes SNR"), _num(".1f")),
    "snr_rel": (("RSB relatif", "Relative SNR", "Relatives SNR"), _num(".2f")),
    "sar_w_kg": (("DAS", "SAR", "SAR"), _num(".2f", "W/kg")),
    "sar_limit_w_kg": (("Limite DAS (mode normal)", "SAR limit (normal mode)",
                        "SAR-Grenze (Normalmodus)"), _num(".1f", "W/kg")),
    "fat_shift_px": (("Déplacement graisse", "Fat shift", "Fettverschiebung"), _num(".2f", "px")),
    "voxel_mm": (("Voxel", "Voxel", "Voxel"), _voxel),
    "noise_sd": (("Bruit (écart type)", "Noise (SD)", "Rauschen (SD)"), _num(".3g")),
    "g_factor_mean": (("Facteur g moyen", "Mean g-factor", "Mittlerer g-Faktor"), _num(".2f")),
    "g_factor_max": (("Facteur g max", "Max g-factor", "Maximaler g-Faktor"), _num(".2f")),
    "concatenations": (("Concaténations", "Concatenations", "Konkatenationen"), _num(".0f")),
    "wrap_share": (("Part repliée", "Wrapped share", "Eingefalteter Anteil"), _pct),
    "te_eff_ms": (("TE effectif", "Effective TE", "Effektive TE"), _num(".1f", "ms")),
    "frame_s": (("Durée par pas", "Time per bed", "Zeit pro Bett"), _mmss),
    "dose_at_scan_mbq": (("Activité au début", "Activity at scan start",
                          "Aktivität bei Messbeginn"), _num(".0f", "MBq")),
    "effective_dose_msv": (("Dose efficace", "Effective dose", "Effektive Dosis"),
                           _num(".2f", "mSv")),
    "eanm_activity_mbq": (("Activité EANM", "EANM activity", "EANM-Aktivität"), _num(".0f", "MBq")),
    "tof_gain": (("Gain TOF", "TOF gain", "TOF-Gewinn"), _num(".2f")),
    "live_fraction": (("Temps actif", "Live time", "Aktive Zeit"), _pct),
    "singles_mcps": (("Simples", "Singles", "Einzelereignisse"), _num(".2f", "Mcps")),
}
_COUNTS: Mapping[str, tuple[str, str, str]] = {
    "trues": ("Coïncidences vraies", "Trues", "Wahre Koinzidenzen"),
    "scatter": ("Diffusées", "Scattered", "Gestreute"),
    "randoms": ("Fortuites", "Randoms", "Zufällige"),
    "prompts": ("Prompts", "Prompts", "Prompts"),
    "nec": ("NEC", "NEC", "NEC"),
}
_FRACTIONS: Mapping[str, tuple[str, str, str]] = {
    "scatter_fraction": ("Fraction de diffusé", "Scatter fraction", "Streuanteil"),
    "randoms_fraction": ("Fraction de fortuits", "Randoms fraction", "Zufallsanteil"),
}


def metric_names() -> tuple[str, ...]:
    """The metric keys the table shows (for tests)."""
    return tuple(_METRICS)


def metrics_rows(metrics: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    """(name, value) rows of a series' metrics in ``lang``: named, with units; counts in
    millions, rates in kcps, fractions in percent; the measured SNR names its tissue.
    Physics warnings are localized; internal bookkeeping is left out."""
    from simulator.console.i18n import localize_warning
    from simulator.exercises.objectives import tissue_name

    rows: list[tuple[str, str]] = []
    for key, value in metrics.items():
        if key in _METRICS and isinstance(value, (int, float, list, tuple)):
            (fr, en, de), fmt = _METRICS[key]
            name = pick(lang, fr, en, de)
            if key == "snr" and metrics.get("snr_tissue"):
                name += f" ({tissue_name(str(metrics['snr_tissue']), lang)})"
            rows.append((name, fmt(value, lang)))
        elif key == "counts" and isinstance(value, Mapping):
            for k, label in _COUNTS.items():
                if k in value:
                    rows.append((pick(lang, *label), _millions(value[k], lang)))
            for k, label in _FRACTIONS.items():
                if k in value:
                    rows.append((pick(lang, *label), _pct(value[k], lang)))
        elif key == "rates_kcps" and isinstance(value, Mapping):
            for k, label in _COUNTS.items():
                if k in value:
                    rate = pick(lang, "taux", "rate", "Rate")
                    rows.append((f"{pick(lang, *label)} ({rate})",
                                 f"{decimal(float(value[k]), lang, 1)} kcps"))
        elif key == "nema" and isinstance(value, Mapping):
            crc = value.get("crc") or {}
            if crc:
                text = ", ".join(f"{tissue_name(k, lang)} {100 * float(v):.0f} %"
                                 for k, v in crc.items())
                rows.append((pick(lang, "CRC NEMA", "NEMA CRC", "NEMA-CRC"), text))
            if "lung_residual" in value:
                rows.append((tr("lung_residual", lang), _pct(value["lung_residual"], lang)))
        elif key == "warnings" and value:
            rows.append((pick(lang, "Avertissements", "Warnings", "Warnungen"),
                         "; ".join(localize_warning(str(w), lang) for w in value)))
    return rows
