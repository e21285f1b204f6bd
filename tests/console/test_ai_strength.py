"""The AI strength field of the MR and PET parameter cards, and the evaluation it quotes."""

from __future__ import annotations

import dataclasses
import json

import ipywidgets as W
import pytest

from simulator.ai.model import WEIGHTS_DIR
from simulator.console.ai_saving import evaluation_at, saving_html
from simulator.console.i18n import Labels, tr
from simulator.console.params import MR_CHOICES, MR_GROUPS, PET_CHOICES, PET_GROUPS, ParamCard
from simulator.console.session import ConsoleSession

CARDS = {"mr": (MR_GROUPS, MR_CHOICES), "pet": (PET_GROUPS, PET_CHOICES)}


def _card(modality: str, lang: str = "en") -> tuple[ConsoleSession, ParamCard]:
    s = ConsoleSession(modality, lang=lang)
    groups, choices = CARDS[modality]
    return s, ParamCard(s, Labels(lang), groups, choices)


@pytest.mark.parametrize("modality", ["mr", "pet"])
def test_strength_slider_is_in_the_card_next_to_the_ai_switch(modality: str) -> None:
    s, card = _card(modality)
    w = card.fields["ai_strength"]
    assert isinstance(w, W.FloatSlider) and "merm-param-ai_strength" in w._dom_classes
    assert (w.min, w.max, w.value) == (0.0, 1.0, 1.0)
    groups = CARDS[modality][0]
    group = next(g for g in groups.values() if "ai_denoise" in g)
    assert group.index("ai_strength") == group.index("ai_denoise") + 1


@pytest.mark.parametrize(("lang", "name"), [("fr", "Force de l'IA"), ("en", "AI strength"),
                                            ("de", "KI-Stärke")])
def test_strength_is_named_in_each_language_and_relabelled(lang: str, name: str) -> None:
    s, card = _card("pet", "en")
    card.L.switch(lang)
    assert card.fields["ai_strength"].description == name
    assert tr("ai_strength", lang) == name


@pytest.mark.parametrize("modality", ["mr", "pet"])
def test_strength_is_greyed_while_ai_is_off_and_follows_the_switch(modality: str) -> None:
    s, card = _card(modality)
    w = card.fields["ai_strength"]
    assert w.disabled and "merm-ai-off" in w._dom_classes
    card.fields["ai_denoise"].value = True
    assert not w.disabled and "merm-ai-off" not in w._dom_classes
    # a mentor switching AI off remotely greys it too (event path, not the widget)
    assert s.apply_command({"type": "set_param", "name": "ai_denoise", "value": False},
                           "mentor-1", "mentor")["ok"]
    assert w.disabled


@pytest.mark.parametrize("modality", ["mr", "pet"])
def test_moving_the_slider_goes_through_the_command_path(modality: str) -> None:
    s, card = _card(modality)
    events: list[dict] = []
    s.on_change(events.append)
    card.fields["ai_denoise"].value = True
    card.fields["ai_strength"].value = 0.5
    assert s.protocol.ai_strength == 0.5
    param = [e for e in events if e.get("type") == "param" and e.get("name") == "ai_strength"]
    assert param and param[-1]["before"] == 1.0 and param[-1]["after"] == 0.5
    readout = card.fields["ai_strength"]
    assert readout.value == 0.5
    # the readout beside the slider shows the percentage
    row = next(b for b in _walk(card.widget) if isinstance(b, W.HBox) and readout in b.children)
    texts = [c.value for c in row.children if isinstance(c, W.HTML)]
    assert texts == ["50 %"]


def _walk(w: W.Widget):  # noqa: ANN202
    yield w
    for c in getattr(w, "children", ()):
        yield from _walk(c)


@pytest.mark.parametrize("bad", [1.5, -0.2])
def test_a_strength_outside_0_1_from_a_mentor_is_refused_with_the_range(bad: float) -> None:
    for lang, word in (("fr", "permises"), ("en", "allowed"), ("de", "zulässig")):
        s = ConsoleSession("mr", lang=lang)
        r = s.apply_command({"type": "set_param", "name": "ai_strength", "value": bad},
                            "mentor-1", "mentor")
        assert not r["ok"] and "0–1" in r["message"] and word in r["message"]
        assert s.protocol.ai_strength == 1.0  # nothing lost


def test_exercise_lock_applies_to_the_strength() -> None:
    s, card = _card("pet")
    s.set_exercise("x", ["ai_denoise"])  # strength not editable
    card.fields["ai_denoise"].value = True
    assert card.fields["ai_strength"].disabled and "merm-locked" in card.fields[
        "ai_strength"]._dom_classes
    r = s.apply_command({"type": "set_param", "name": "ai_strength", "value": 0.5})
    assert not r["ok"] and s.protocol.ai_strength == 1.0
    s.set_exercise("x", ["ai_denoise", "ai_strength"])
    assert not card.fields["ai_strength"].disabled


# ------------------------------------------------------------- evaluation at the strength
def _record() -> dict:
    return json.loads((WEIGHTS_DIR / "evaluation.json").read_text())


@pytest.mark.parametrize("modality", ["mr", "pet"])
@pytest.mark.parametrize(("strength", "method"), [(1.0, "reduced_ai"), (0.5, "reduced_ai_half"),
                                                   (0.8, "reduced_ai"), (0.3, "reduced_ai_half")])
def test_evaluation_quoted_is_the_nearest_evaluated_strength(modality, strength, method) -> None:
    ev = evaluation_at(modality, strength)
    rec = _record()[modality]
    assert ev["ssim"] == rec["target"]["ssim"][method]
    assert ev["nrmse"] == rec["target"]["nrmse"][method]
    assert ev["ssim0"] == rec["target"]["ssim"]["reduced"]
    assert ev["min_kept"] == rec["lesion_summary"][method]["min_contrast_retained"]
    if modality == "pet":
        assert ev["sphere_bias_pct"] == rec["spheres"]["4:1"]["sphere_10"][method]["max_bias_pct"]


def test_saving_panel_quotes_the_figures_at_the_chosen_strength() -> None:
    s = ConsoleSession("pet", lang="fr")
    std = s.protocol
    for name, value in (("ai_denoise", True), ("minutes_per_bed", std.minutes_per_bed / 2)):
        assert s.apply_command({"type": "set_param", "name": name, "value": value})["ok"]
    rec = _record()["pet"]
    full = saving_html(s.consequences["ai_saving"], "fr")
    ssim1 = f"{rec['target']['ssim']['reduced_ai']:.3f}".replace(".", ",")
    assert "force 100 %" in full and f"SSIM {ssim1}" in full
    assert s.apply_command({"type": "set_param", "name": "ai_strength", "value": 0.5})["ok"]
    half = saving_html(s.consequences["ai_saving"], "fr")
    ssim_half = f"{rec['target']['ssim']['reduced_ai_half']:.3f}".replace(".", ",")
    assert "force 50 %" in half and f"SSIM {ssim_half}" in half and half != full
    bias = f"{rec['spheres']['4:1']['sphere_10']['reduced_ai_half']['max_bias_pct']:+.0f} %"
    assert f"SUVmax {bias}" in half
    assert s.apply_command({"type": "set_param", "name": "ai_strength", "value": 0.7})["ok"]
    near = saving_html(s.consequences["ai_saving"], "en")
    assert "strength 50 % — nearest evaluated strength to yours (70 %)" in near
    de = saving_html(s.consequences["ai_saving"], "de")
    assert tr("ai_eval_nearest", "de", yours="70 %") in de
    assert s.snapshot()["consequences"]["ai_saving"]["evaluation"]["strength"] == 0.5


def test_mr_saving_quotes_the_mr_figures() -> None:
    s = ConsoleSession("mr", lang="en", anatomy="spine")
    s.set_anatomy("spine", None, "t2_tse_sag")
    for name, value in (("ai_denoise", True), ("parallel_r", 2), ("ai_strength", 0.5)):
        assert s.apply_command({"type": "set_param", "name": name, "value": value})["ok"]
    text = saving_html(s.consequences["ai_saving"], "en")
    rec = _record()["mr"]
    assert f"SSIM {rec['target']['ssim']['reduced_ai_half']:.3f}" in text
    assert "spine T2 in 05:46 instead of 11:31" in text and "10 mm sphere" not in text


def test_no_figures_while_ai_is_off() -> None:
    s = ConsoleSession("pet", lang="en")
    assert saving_html(s.consequences["ai_saving"], "en") == ""
    off = dataclasses.replace(s.protocol, ai_strength=0.5)
    assert s.load_protocol(off)["ok"] and s.consequences["ai_saving"] is None
