"""AI denoising in the consoles: the time and dose saved against the standard protocol."""

from __future__ import annotations

import dataclasses

import pytest

from simulator.console.ai_saving import mr_saving, pet_saving, saving_html
from simulator.console.i18n import Labels
from simulator.console.params import MR_CHOICES, MR_GROUPS, ParamCard, consequences_html
from simulator.console.session import ConsoleSession, format_mmss


# ---------------------------------------------------------------- time and dose saved
def test_mr_spine_saving_against_the_standard_protocol() -> None:
    """Spine T2 TSE 11:31 → 6:39 with AI (NEX 3 → 2, 7/8 partial Fourier; the headline of
    ``simulator/mr/presets.py`` and the AI evaluation): 4:52 saved, 42 % of 11:31."""
    from simulator.mr import derive

    s = ConsoleSession("mr", lang="en", anatomy="spine")
    s.set_anatomy("spine", None, "t2_tse_sag")
    assert s.consequences["ai_saving"] is None
    assert consequences_html(s.consequences, "en")["ai-saving"] == ""
    for name, value in (("ai_denoise", True), ("nex", 2), ("partial_fourier", 0.875)):
        assert s.apply_command({"type": "set_param", "name": name, "value": value})["ok"]
    saving = s.consequences["ai_saving"]
    standard_s = derive(s.standard_protocol).scan_time_s
    assert saving["standard_scan_time_s"] == pytest.approx(standard_s)
    assert saving["time_saved_s"] == pytest.approx(standard_s - derive(s.protocol).scan_time_s)
    assert format_mmss(standard_s) == "11:31" and format_mmss(saving["scan_time_s"]) == "06:39"
    en = consequences_html(s.consequences, "en")["ai-saving"]
    assert "04:52 saved" in en and "11:31 → 06:39" in en and "−42 %" in en
    assert "not a promise of equal quality" in en and "evaluation" in en
    fr = consequences_html(s.consequences, "fr")["ai-saving"]
    assert "04:52 gagnées" in fr and "pas une garantie de qualité égale" in fr
    assert s.snapshot()["consequences"]["ai_saving"]["time_saved_s"] > 0  # the mentor sees it


def test_saving_follows_the_protocol_not_a_fixed_number() -> None:
    """Time saved = beds × (standard − current minutes per bed): analytic, not from derive."""
    from simulator.pet import PETProtocol

    std = PETProtocol(activity_mbq=270.0, minutes_per_bed=3.5, beds=5)
    for minutes in (3.5 / 2, 3.5 / 4):
        cur = dataclasses.replace(std, minutes_per_bed=minutes, ai_denoise=True)
        saving = pet_saving(cur, std)
        assert saving["time_saved_s"] == pytest.approx(5 * (3.5 - minutes) * 60)
    half = pet_saving(dataclasses.replace(std, minutes_per_bed=1.75, ai_denoise=True), std)
    assert half["time_saved_s"] == pytest.approx(half["standard_scan_time_s"] / 2)
    assert half["time_saved_pct"] == pytest.approx(50.0)
    # half the activity: half the MBq and half the effective dose (linear in activity)
    low = pet_saving(dataclasses.replace(std, activity_mbq=135.0, ai_denoise=True), std)
    assert low["activity_saved_mbq"] == pytest.approx(135.0)
    assert low["dose_saved_msv"] == pytest.approx(low["standard_dose_msv"] / 2)
    text = saving_html(low, "en")
    assert "no time saved" in text and "135 MBq and" in text and "(−50 %)" in text
    # longer than the standard, or AI off: no saving claimed
    longer = mr_saving(dataclasses.replace(_spine(), nex=4, ai_denoise=True), _spine())
    assert longer["time_saved_s"] < 0 and "no time saved" in saving_html(longer, "en")
    assert mr_saving(_spine(), _spine()) is None and saving_html(None, "en") == ""


def _spine():  # noqa: ANN202
    from simulator.mr import preset

    return preset("spine", "t2_tse_sag")


def test_standard_is_the_preset_or_exercise_start_not_a_queue_entry() -> None:
    s = ConsoleSession("pet", lang="en", anatomy="nema-iec")
    std = dataclasses.replace(s.protocol, minutes_per_bed=3.0, beds=2)
    assert s.load_protocol(std)["ok"] and s.standard_protocol == std
    own = dataclasses.replace(std, minutes_per_bed=1.5, ai_denoise=True)
    assert s.load_protocol(own, "queue entry", standard=False)["ok"]
    assert s.standard_protocol == std
    assert s.consequences["ai_saving"]["time_saved_s"] == pytest.approx(2 * 1.5 * 60)


def test_param_card_shows_the_saving_live() -> None:
    s = ConsoleSession("mr", lang="en", anatomy="spine")
    s.set_anatomy("spine", None, "t2_tse_sag")
    card = ParamCard(s, Labels("en"), MR_GROUPS, MR_CHOICES)
    s.on_change(lambda e: card.refresh() if e["type"] == "protocol" else None)  # as the console
    box = card.conseq["ai-saving"]
    assert "merm-ai-saving" in box._dom_classes
    assert box.value == "" and box.layout.display == "none"
    card.fields["ai_denoise"].value = True
    card.fields["nex"].value = 2
    s_ = s.consequences["ai_saving"]
    assert format_mmss(s_["time_saved_s"]) in box.value and box.layout.display != "none"
    card.fields["ai_denoise"].value = False
    assert box.value == "" and box.layout.display == "none"
