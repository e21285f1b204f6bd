"""What AI denoising saves against the exam's standard protocol: scan time (MR, PET), dose (PET).

The console's consequences area shows, while ``ai_denoise`` is on, how much shorter (or
lower-dose) the current protocol is than the *standard* protocol of the exam — the preset or
exercise start protocol the session loaded. The numbers come from each modality's
``derive`` (scan time, effective dose); nothing is copied from elsewhere. The saving is
relative to the standard protocol: it is not a claim that the image is as good, and the
text says so and points to the held-out evaluation (``simulator/ai/weights/evaluation.md``,
lesson ``course/lessons/ai_tradeoffs.ipynb``) for what it costs.
"""

from __future__ import annotations

import html
from typing import Any

from simulator.console.i18n import tr
from simulator.durations import format_mmss

__all__ = ["mr_saving", "pet_saving", "saving_html"]


def _time(current_s: float, standard_s: float) -> dict[str, float]:
    saved = standard_s - current_s
    return {
        "scan_time_s": current_s,
        "standard_scan_time_s": standard_s,
        "time_saved_s": saved,
        "time_saved_pct": 100.0 * saved / standard_s if standard_s > 0 else 0.0,
    }


def mr_saving(protocol: Any, standard: Any) -> dict[str, float] | None:
    """Scan time of ``protocol`` against ``standard`` (both MRProtocol); None when AI is off.

    Returns
    -------
    dict or None
        ``scan_time_s``, ``standard_scan_time_s``, ``time_saved_s`` (negative when the
        protocol is longer) and ``time_saved_pct`` (of the standard time).
    """
    if not getattr(protocol, "ai_denoise", False) or standard is None:
        return None
    from simulator.mr import derive

    return _time(float(derive(protocol).scan_time_s), float(derive(standard).scan_time_s))


def pet_saving(protocol: Any, standard: Any) -> dict[str, float] | None:
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
    out = _time(float(d.scan_time_s), float(ds.scan_time_s))
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


def saving_html(saving: dict[str, float] | None, lang: str) -> str:
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
    return (
        f"<b>{html.escape(tr('ai_denoise', lang))}</b> {body}."
        f"<br><small class='merm-ai-caveat'>{caveat}</small>"
    )
