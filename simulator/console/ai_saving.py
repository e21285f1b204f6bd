"""What AI denoising saves against the exam's standard protocol: scan time (MR, PET), dose (PET).

The console's consequences area shows, while ``ai_denoise`` is on, how much shorter (or
lower-dose) the current protocol is than the *standard* protocol of the exam — the preset or
exercise start protocol the session loaded. The numbers come from each modality's
``derive`` (scan time, effective dose); nothing is copied from elsewhere. The saving is
relative to the standard protocol: it is not a claim that the image is as good, and the
text says so and points to the held-out evaluation (``simulator/ai/weights/evaluation.md``,
lesson ``course/lessons/ai_tradeoffs.ipynb``) for what it costs.

It also quotes that evaluation at the protocol's ``ai_strength``: the network was evaluated at
strengths 0.5 and 1.0 (``evaluation.json``, methods ``reduced_ai_half`` and ``reduced_ai``),
so the figures are those of the evaluated strength nearest to the protocol's, named as such,
beside the same reduced scan without AI.
"""

from __future__ import annotations

import functools
import html
import json
from typing import Any

from simulator.ai.model import WEIGHTS_DIR
from simulator.console.i18n import decimal, tr
from simulator.durations import format_mmss

__all__ = ["EVALUATED_STRENGTHS", "evaluation_at", "evaluation_text", "mr_saving", "pet_saving",
           "saving_html"]

#: Strengths of the held-out evaluation → its method names (``simulator.ai_training.evaluate``).
EVALUATED_STRENGTHS: dict[float, str] = {0.5: "reduced_ai_half", 1.0: "reduced_ai"}


@functools.lru_cache(maxsize=1)
def _evaluation() -> dict[str, Any]:
    path = WEIGHTS_DIR / "evaluation.json"
    return json.loads(path.read_text()) if path.exists() else {}


def evaluation_at(modality: str, strength: float) -> dict[str, Any] | None:
    """The held-out figures of ``modality``'s target at the evaluated strength nearest to
    ``strength``, beside the reduced scan without AI; None when no evaluation ships.

    Returns
    -------
    dict or None
        ``strength`` (the evaluated one), ``ssim``, ``nrmse``, ``min_kept`` (contrast kept in
        the worst-hit small lesion) and the same with ``0`` appended for the reduced scan
        without AI, ``time_full_s`` and ``time_reduced_s``; for PET also ``sphere_crc``,
        ``sphere_bias_pct`` (10 mm sphere at 4:1, SUVmax vs the noise-free image) and their
        ``0`` counterparts.
    """
    ev = _evaluation().get(modality)
    if not ev:
        return None
    evaluated = min(EVALUATED_STRENGTHS, key=lambda v: (abs(v - float(strength)), -v))
    method = EVALUATED_STRENGTHS[evaluated]
    target, lesions = ev["target"], ev["lesion_summary"]
    out: dict[str, Any] = {
        "strength": evaluated,
        "time_full_s": float(target["time_full_s"]),
        "time_reduced_s": float(target["time_reduced_s"]),
    }
    sphere = ev.get("spheres", {}).get("4:1", {}).get("sphere_10")
    for suffix, m in (("", method), ("0", "reduced")):
        out["ssim" + suffix] = float(target["ssim"][m])
        out["nrmse" + suffix] = float(target["nrmse"][m])
        out["min_kept" + suffix] = float(lesions[m]["min_contrast_retained"])
        if sphere:
            out["sphere_crc" + suffix] = float(sphere[m]["crc"])
            out["sphere_bias_pct" + suffix] = float(sphere[m]["max_bias_pct"])
    return out


def _time(current_s: float, standard_s: float) -> dict[str, float]:
    saved = standard_s - current_s
    return {
        "scan_time_s": current_s,
        "standard_scan_time_s": standard_s,
        "time_saved_s": saved,
        "time_saved_pct": 100.0 * saved / standard_s if standard_s > 0 else 0.0,
    }


def mr_saving(protocol: Any, standard: Any) -> dict[str, Any] | None:
    """Scan time of ``protocol`` against ``standard`` (both MRProtocol); None when AI is off.

    Returns
    -------
    dict or None
        ``scan_time_s``, ``standard_scan_time_s``, ``time_saved_s`` (negative when the
        protocol is longer) and ``time_saved_pct`` (of the standard time);
        ``ai_strength`` and ``evaluation`` (:func:`evaluation_at` at that strength).
    """
    if not getattr(protocol, "ai_denoise", False) or standard is None:
        return None
    from simulator.mr import derive

    out: dict[str, Any] = _time(
        float(derive(protocol).scan_time_s), float(derive(standard).scan_time_s)
    )
    out.update(_strength(protocol, "mr"))
    return out


def _strength(protocol: Any, modality: str) -> dict[str, Any]:
    strength = float(getattr(protocol, "ai_strength", 1.0))
    return {"ai_strength": strength, "evaluation": evaluation_at(modality, strength)}


def pet_saving(protocol: Any, standard: Any) -> dict[str, Any] | None:
    """Time (minutes per bed × beds) and injected activity/dose against ``standard``.

    Both are PETProtocol; None when AI is off. Besides the keys of :func:`mr_saving`:
    ``activity_mbq``, ``standard_activity_mbq``, ``activity_saved_mbq``,
    ``activity_saved_pct``, ``dose_msv``, ``standard_dose_msv``, ``dose_saved_msv``
    (effective doses from ``simulator.pet.derive``) and ``eanm_activity_mbq`` (the EANM
    activity of the current protocol, for reference).
    """
    if not getattr(protocol, "ai_denoise", False) or standard is None:
        return None
    from simulator.pet import derive

    d, ds = derive(protocol), derive(standard)
    out: dict[str, Any] = _time(float(d.scan_time_s), float(ds.scan_time_s))
    out.update(_strength(protocol, "pet"))
    act, act_std = float(protocol.activity_mbq), float(standard.activity_mbq)
    out.update(
        activity_mbq=act,
        standard_activity_mbq=act_std,
        activity_saved_mbq=act_std - act,
        activity_saved_pct=100.0 * (act_std - act) / act_std if act_std > 0 else 0.0,
        dose_msv=float(d.effective_dose_msv),
        standard_dose_msv=float(ds.effective_dose_msv),
        dose_saved_msv=float(ds.effective_dose_msv) - float(d.effective_dose_msv),
        eanm_activity_mbq=float(d.eanm_activity_mbq),
    )
    return out


def evaluation_text(saving: dict[str, Any], lang: str) -> str:
    """The held-out figures at the saving's strength, in ``lang`` ("" when none ship)."""
    from simulator.console.ai_strength import strength_text

    ev = saving.get("evaluation")
    if not ev:
        return ""
    pet = "sphere_crc" in ev
    what = tr("ai_eval_pet" if pet else "ai_eval_mr", lang,
              cur=format_mmss(ev["time_reduced_s"]), full=format_mmss(ev["time_full_s"]))
    strength = strength_text(ev["strength"], lang)
    yours = float(saving.get("ai_strength", ev["strength"]))
    if abs(yours - ev["strength"]) > 1e-9:
        strength += " — " + tr("ai_eval_nearest", lang, yours=strength_text(yours, lang))
    text = tr("ai_eval_figures", lang, what=what, strength=strength,
              ssim=decimal(ev["ssim"], lang, 3), ssim0=decimal(ev["ssim0"], lang, 3),
              nrmse=decimal(ev["nrmse"], lang, 3), nrmse0=decimal(ev["nrmse0"], lang, 3),
              kept=strength_text(ev["min_kept"], lang),
              kept0=strength_text(ev["min_kept0"], lang))
    if pet:
        text += "; " + tr("ai_eval_sphere", lang,
                          bias=f"{ev['sphere_bias_pct']:+.0f}",
                          crc=decimal(ev["sphere_crc"], lang, 2),
                          bias0=f"{ev['sphere_bias_pct0']:+.0f}",
                          crc0=decimal(ev["sphere_crc0"], lang, 2))
    return text


def saving_html(saving: dict[str, Any] | None, lang: str) -> str:
    """The consequences-area text of a saving (empty when None: AI off)."""
    if not saving:
        return ""
    ref, cur = saving["standard_scan_time_s"], saving["scan_time_s"]
    times = {"ref": format_mmss(ref), "cur": format_mmss(cur)}
    # a difference under a second shows as 00:00 saved: say "no time saved" instead
    if saving["time_saved_s"] >= 0.5:
        parts = [
            tr(
                "ai_time_saved",
                lang,
                saved=format_mmss(saving["time_saved_s"]),
                pct=f"{saving['time_saved_pct']:.0f}",
                **times,
            )
        ]
    else:
        parts = [tr("ai_time_not_saved", lang, **times)]
    if "activity_mbq" in saving:
        acts = {
            "ref": f"{saving['standard_activity_mbq']:.0f}",
            "cur": f"{saving['activity_mbq']:.0f}",
        }
        if saving["activity_saved_mbq"] >= 0.5:
            parts.append(
                tr(
                    "ai_dose_saved",
                    lang,
                    mbq=f"{saving['activity_saved_mbq']:.0f}",
                    msv=f"{saving['dose_saved_msv']:.2f}",
                    pct=f"{saving['activity_saved_pct']:.0f}",
                    **acts,
                )
            )
        else:
            parts.append(tr("ai_dose_not_saved", lang, **acts))
    body = "; ".join(html.escape(p) for p in parts)
    caveat = html.escape(tr("ai_saving_caveat", lang))
    figures = evaluation_text(saving, lang)
    shown = (
        f"<br><small class='merm-ai-evaluation'>{html.escape(figures)}.</small>" if figures else ""
    )
    return (
        f"<b>{html.escape(tr('ai_denoise', lang))}</b> {body}.{shown}"
        f"<br><small class='merm-ai-caveat'>{caveat}</small>"
    )
