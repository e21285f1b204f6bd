"""AI denoising in the consoles: the "what the AI changed" view and the time/dose saved."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulator.console import _ai_view
from simulator.console._backend import ScanResult
from simulator.console.ai_saving import mr_saving, pet_saving, saving_html
from simulator.console.i18n import Labels
from simulator.console.params import MR_CHOICES, MR_GROUPS, ParamCard, consequences_html
from simulator.console.session import ConsoleSession, format_mmss
from simulator.console.viewer import Viewer

#: The banner occupies the bottom rows of a frame; the image area is above it.
_IMAGE_ROWS = slice(60, 150)


def _mr_session(ai: bool, seed: int = 7) -> ConsoleSession:
    """A real MR session with a small protocol (3 slices, 128×96) scanned at full speed."""
    s = ConsoleSession("mr", lang="en", seed=seed)
    s.set_screening("ok")
    small = dataclasses.replace(
        s.protocol, slices=3, matrix_read=128, matrix_phase=96, ai_denoise=ai
    )
    assert s.load_protocol(small)["ok"]
    s.clock = "max"
    assert s.apply_command({"type": "scan"})["ok"]
    s.wait(120)
    assert s.scan_state == "done", s.message
    return s


@pytest.fixture(scope="module")
def ai_scan() -> ConsoleSession:
    return _mr_session(ai=True)


def _result(images: np.ndarray, before: np.ndarray | None, name: str = "S") -> ScanResult:
    return ScanResult(name, None, images.astype(np.float32), {}, "mr", 1.0, before)


# ---------------------------------------------------------------- the AI view
def test_ai_view_is_the_output_minus_the_input_of_a_real_scan(ai_scan: ConsoleSession) -> None:
    result = ai_scan.current_series()
    assert result is not None and result.before_ai is not None
    series = result.series
    # the console's input to the AI is the MR series' own, and it is what a scan without AI
    # gives with the same session seed and scan number (an independent acquisition)
    # (the console shows both in the stored-value scale of the series' DICOM: 0–4095)
    from simulator.dicom._common import mr_integers

    stored, scale = mr_integers(series.images)
    np.testing.assert_array_equal(result.images, stored)
    np.testing.assert_array_equal(
        result.before_ai, np.clip(np.rint(series.images_before_ai / scale), 0, None))
    plain = _mr_session(ai=False).current_series()
    np.testing.assert_array_equal(series.images_before_ai, plain.series.images)
    for k in range(result.images.shape[0]):
        change = _ai_view.ai_change(result, k)
        want = stored[k].astype(np.float32) - np.clip(np.rint(plain.series.images[k] / scale), 0, None)
        np.testing.assert_array_equal(change, want)
    assert np.abs(_ai_view.ai_change(result, 1)).max() > 0  # the network did change something

    r = ai_scan.apply_command({"type": "set_view", "mode": "ai_change"}, "Dupont", "mentor")
    assert r["ok"], r
    assert ai_scan.snapshot()["view"]["mode"] == "ai_change"
    ai_frame = ai_scan.render_frame(320, 240)  # what the mentor receives
    ai_scan.apply_command({"type": "set_view", "mode": "single"})
    single = ai_scan.render_frame(320, 240)
    assert ai_frame.shape == (240, 320, 3) and not np.array_equal(ai_frame, single)
    # diverging colours (red and blue), where the grey single view has none
    area = ai_frame[_IMAGE_ROWS, 40:280].astype(int)
    assert (area[..., 0] - area[..., 1] > 40).any() and (area[..., 2] - area[..., 1] > 40).any()


def test_pet_ai_view_from_a_real_scan() -> None:
    """PET: the console's AI input is the series' reconstruction before denoising (Bq/mL)."""
    s = ConsoleSession("pet", lang="fr", anatomy="nema-iec", pathology="4")
    small = dataclasses.replace(s.protocol, iterations=1, subsets=7, matrix=64, ai_denoise=True)
    assert s.load_protocol(small)["ok"]
    s.clock = "max"
    s.apply_command({"type": "scan"})
    s.wait(120)
    assert s.scan_state == "done", s.message
    result = s.current_series()
    # shown in SUV: Bq/mL over (activity at scan / weight)
    ser = result.series
    per_suv = float(ser.dose_at_scan_bq) / (float(ser.protocol.weight_kg) * 1000.0)
    np.testing.assert_allclose(result.before_ai, ser.images_before_ai_bqml / per_suv, rtol=1e-6)
    np.testing.assert_allclose(
        _ai_view.ai_change(result, 3),
        (ser.images_bqml[3] - ser.images_before_ai_bqml[3]) / per_suv,
        rtol=1e-4, atol=1e-6,
    )
    assert s.apply_command({"type": "set_view", "mode": "ai_change"})["ok"]
    assert s.render_frame(320, 240).shape == (240, 320, 3)


def test_ai_view_colours_follow_the_sign_and_zero_is_black() -> None:
    s = ConsoleSession("mr", lang="en")
    before = np.full((2, 32, 32), 10.0, np.float32)
    after = before.copy()
    after[:, :, :16] -= 3.0  # left half: the AI removed signal → blue
    after[:, :, 16:] += 3.0  # right half: the AI added signal → red
    s.add_series(_result(after, before))
    assert s.apply_command({"type": "set_view", "mode": "ai_change"})["ok"]
    assert _ai_view.ai_span(s.current_series()) == pytest.approx(3.0)  # symmetric ±3
    frame = s.render_frame(200, 200).astype(int)
    left, right = frame[_IMAGE_ROWS, 40:90], frame[_IMAGE_ROWS, 110:160]
    assert (left[..., 2] > 200).all() and (left[..., 0] < 30).all()
    assert (right[..., 0] > 200).all() and (right[..., 2] < 30).all()
    # no change at all: black everywhere above the banner
    s.add_series(_result(before, before, "same"))
    assert s.apply_command({"type": "set_view", "mode": "ai_change"})["ok"]
    assert s.render_frame(200, 200)[_IMAGE_ROWS, 60:150].max() == 0


def test_ai_view_refused_without_ai_and_left_when_a_plain_series_comes() -> None:
    s = ConsoleSession("mr", lang="en")
    r = s.apply_command({"type": "set_view", "mode": "ai_change"})
    assert not r["ok"] and "no series" in r["message"]
    rng = np.random.default_rng(0)
    s.add_series(_result(rng.random((2, 16, 16)), None, "plain"))
    r = s.apply_command({"type": "set_view", "mode": "ai_change"}, "Dupont", "mentor")
    assert (
        not r["ok"]
        and "'plain' was not denoised" in r["message"]
        and "AI denoising" in r["message"]
    )
    assert s.view_mode == "single"
    s.set_lang("fr")
    r = s.apply_command({"type": "set_view", "mode": "ai_change"})
    assert not r["ok"] and "Débruitage IA" in r["message"]
    # on an AI series, then a plain one arrives (or is selected): back to the single view
    img = rng.random((2, 16, 16))
    s.add_series(_result(img, img * 0.5, "ai"))
    assert s.apply_command({"type": "set_view", "mode": "ai_change"})["ok"]
    s.add_series(_result(img, None, "plain 2"))
    assert s.view_mode == "single"
    assert s.apply_command({"type": "select_series", "index": 1})["ok"]
    assert s.apply_command({"type": "set_view", "mode": "ai_change"})["ok"]
    assert s.apply_command({"type": "select_series", "index": 0})["ok"]
    assert s.view_mode == "single"


def test_viewer_ai_button_enabled_only_for_an_ai_series() -> None:
    s = ConsoleSession("mr", lang="fr")
    v = Viewer(s, Labels("fr"))
    assert v.ai_view.disabled and v.ai_view.description == "Apport de l'IA"
    img = np.random.default_rng(1).random((2, 16, 16)).astype(np.float32)
    s.add_series(_result(img, None, "plain"))
    v.refresh()
    assert v.ai_view.disabled and "plain" in v.ai_view.tooltip
    s.add_series(_result(img, img * 0.9, "ai"))
    v.refresh()
    assert not v.ai_view.disabled
    v.ai_view.value = True  # the trainee's click
    assert s.view_mode == "ai_change"
    v.refresh()
    assert v.mode.value is None and v.ai_view.value
    assert "bruit" in v.ai_explain.value and v.ai_explain.layout.display != "none"
    v.mode.value = "single"
    assert s.view_mode == "single"
    v.refresh()
    assert not v.ai_view.value and v.ai_explain.layout.display == "none"


# ---------------------------------------------------------------- time and dose saved
def test_mr_spine_saving_against_the_standard_protocol() -> None:
    """Spine T2 TSE 11:31 → 5:46 with AI (SENSE 2, the headline of the AI evaluation), then
    6:39 (NEX 3 → 2, 7/8 partial Fourier, its counter-example): 5:46 and 4:52 saved."""
    from simulator.mr import derive

    s = ConsoleSession("mr", lang="en", anatomy="spine")
    s.set_anatomy("spine", None, "t2_tse_sag")
    assert s.consequences["ai_saving"] is None
    assert consequences_html(s.consequences, "en")["ai-saving"] == ""
    for name, value in (("ai_denoise", True), ("parallel_r", 2)):
        assert s.apply_command({"type": "set_param", "name": name, "value": value})["ok"]
    assert format_mmss(s.consequences["ai_saving"]["scan_time_s"]) == "05:46"
    assert "11:31 → 05:46" in consequences_html(s.consequences, "en")["ai-saving"]
    assert "−50 %" in consequences_html(s.consequences, "en")["ai-saving"]
    for name, value in (("parallel_r", 1), ("nex", 2), ("partial_fourier", 0.875)):
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
