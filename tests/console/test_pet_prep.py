"""The PET preparation card: what a technologist types (glucose units, decimal commas,
clock times), the EANM 2015 checks, the uptake laws behind the consequences (checked against
an independent ODE integration and the F-18 half-life), and bad input in three languages."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from simulator.console.i18n import Labels
from simulator.console.pet_prep import (
    MG_DL_PER_MMOL_L,
    Preparation,
    PrepCard,
    PrepInputError,
    body_mass_index,
    check_preparation,
    consequence_lines,
    injection_blocked,
    parse_clock_min,
    parse_glucose_mmol_l,
)
from simulator.console.session import ConsoleSession
from simulator.pet.uptake import (
    FENG_1993,
    TUMOUR_FDG,
    activity_at_scan_fraction,
    plasma_fdg,
    suv_ratio,
    tissue_fdg,
)

#: Glucose molar mass 180.156 g/mol (C6H12O6; IUPAC atomic weights).
GLUCOSE_G_PER_MOL = 6 * 12.011 + 12 * 1.008 + 6 * 15.999
#: F-18 half-life 109.77 min (DDEP).
F18_HALF_LIFE_MIN = 109.77


# --------------------------------------------------------------------------- typing
@pytest.mark.parametrize(
    ("typed", "unit", "mmol"),
    [
        ("5,4", "mmol/L", 5.4),
        ("5.4", "mmol/L", 5.4),
        (" 98 ", "mg/dL", 98 * 10 / GLUCOSE_G_PER_MOL),
        ("1,10", "g/L", 1.10 * 1000 / GLUCOSE_G_PER_MOL),
        ("98 mg/dL", "mmol/L", 98 * 10 / GLUCOSE_G_PER_MOL),  # the unit typed wins
        ("1,26 g/l", "mmol/L", 1.26 * 1000 / GLUCOSE_G_PER_MOL),
    ],
)
def test_glucose_as_typed(typed: str, unit: str, mmol: float) -> None:
    assert parse_glucose_mmol_l(typed, unit) == pytest.approx(mmol, rel=1e-4)


def test_mg_dl_factor_is_the_molar_mass() -> None:
    assert MG_DL_PER_MMOL_L == pytest.approx(GLUCOSE_G_PER_MOL / 10, rel=1e-4)


@pytest.mark.parametrize("typed", ["abc", "", "-3", "0", "500", "5,4,2", "nan"])
def test_bad_glucose_is_refused_with_a_message(typed: str) -> None:
    with pytest.raises(PrepInputError) as exc:
        parse_glucose_mmol_l(typed, "mmol/L")
    assert "mmol/L" in exc.value.message("fr") and "Glycémie" in exc.value.message("fr")
    assert "Blood glucose" in exc.value.message("en")
    assert "Blutzucker" in exc.value.message("de")


@pytest.mark.parametrize(
    ("typed", "minutes"), [("08:30", 510), ("8h30", 510), ("14h", 840), ("14.05", 845)]
)
def test_clock_times(typed: str, minutes: int) -> None:
    assert parse_clock_min(typed) == minutes


@pytest.mark.parametrize("typed", ["25:00", "8:75", "abc", "8:3:0", "-1:00"])
def test_bad_clock_is_refused(typed: str) -> None:
    with pytest.raises(PrepInputError):
        parse_clock_min(typed)


# --------------------------------------------------------------------------- EANM 2015
def _keys(p: Preparation) -> set[str]:
    return {f.key for f in check_preparation(p)}


def test_within_the_guideline_has_no_finding() -> None:
    assert _keys(Preparation(6.0, 5.4, 60.0)) == set()
    assert _keys(Preparation(8.0, 6.9, 55.0)) == _keys(Preparation(8.0, 6.9, 75.0)) == set()


def test_out_of_the_guideline() -> None:
    assert _keys(Preparation(3.5, 5.0, 60.0)) == {"fasting_out"}
    assert _keys(Preparation(5.0, 5.0, 60.0)) == {"fasting_short"}  # minimum met, 6 h asked
    assert _keys(Preparation(6.0, 11.0, 60.0)) == {"glucose_out"}  # ≥ 11 mmol/L reschedule
    assert _keys(Preparation(6.0, 8.0, 60.0)) == {"glucose_high"}  # ≥ 7: not quantitative
    assert _keys(Preparation(6.0, 5.0, 45.0)) == {"uptake_out"}
    assert _keys(Preparation(6.0, 5.0, 80.0)) == {"uptake_out"}


# --------------------------------------------------------------------------- the laws
def test_feng_input_starts_at_zero_and_clears() -> None:
    cp = plasma_fdg(np.array([0.0, 0.5, 5.0, 60.0, 120.0]))
    assert cp[0] == pytest.approx(0.0, abs=1e-9)  # (−A2 − A3) + A2 + A3 at t = 0
    assert cp[1] > cp[2] > cp[3] > cp[4] > 0


def test_tissue_model_against_an_ode_integration() -> None:
    """Closed-form convolution vs a numerical solution of dC1/dt = K1 Cp − (k2+k3) C1,
    dC2/dt = k3 C1 (scipy's adaptive Runge–Kutta, tight tolerances)."""
    k = TUMOUR_FDG

    def rhs(t: float, c: np.ndarray) -> list[float]:
        cp = float(plasma_fdg(t, FENG_1993))
        return [k.k1_ml_per_min_ml * cp - (k.k2_per_min + k.k3_per_min) * c[0],
                k.k3_per_min * c[0]]

    times = np.array([1.0, 10.0, 45.0, 60.0, 75.0, 120.0])
    sol = solve_ivp(rhs, (0.0, 120.0), [0.0, 0.0], t_eval=times, method="DOP853",
                    rtol=1e-10, atol=1e-12, max_step=0.05)
    numeric = sol.y.sum(axis=0)
    assert tissue_fdg(times) == pytest.approx(numeric, rel=1e-5)


def test_suv_rises_with_uptake_time() -> None:
    assert suv_ratio(60.0) == pytest.approx(1.0)
    assert suv_ratio(45.0) < 1.0 < suv_ratio(75.0) < suv_ratio(90.0)
    with pytest.raises(ValueError):
        suv_ratio(-5.0)


def test_decay_fraction_is_half_at_one_half_life() -> None:
    assert activity_at_scan_fraction(F18_HALF_LIFE_MIN, 6586.2) == pytest.approx(0.5, rel=1e-4)
    text = consequence_lines(F18_HALF_LIFE_MIN, "en")[0]
    assert "50 %" in text


def test_consequence_sign_follows_the_kinetics() -> None:
    early, late = consequence_lines(45.0, "en")[1], consequence_lines(75.0, "en")[1]
    pct = 100 * (1 - suv_ratio(45.0))
    assert f"−{pct:.0f} %" in early and "+" in late and "Feng" in early


# --------------------------------------------------------------------------- the card
@pytest.fixture
def card() -> PrepCard:
    s = ConsoleSession("pet", lang="fr", anatomy="nema-iec", pathology="4")
    return PrepCard(s, Labels("fr"))


def test_card_warns_and_sets_the_uptake(card: PrepCard) -> None:
    card.fasting.value = "3"
    card.glucose.value = "12,5"
    card.injection.value = "8h00"
    card.scan_start.value = "08:40"
    keys = {f.key for f in card.findings}
    assert keys == {"fasting_out", "glucose_out", "uptake_out"}
    assert "merm-prep-out" in card.status.value and "12,5 mmol/L" in card.status.value
    assert card.session.protocol.uptake_min == 40.0
    assert f"−{100 * (1 - suv_ratio(40.0)):.0f} %" in card.consequence.value
    card.L.switch("en")
    assert "Blood glucose 12.5 mmol/L" in card.status.value
    card.L.switch("de")
    assert "Blutzucker 12,5 mmol/L" in card.status.value


def test_card_all_within_guideline(card: PrepCard) -> None:
    card.pregnancy.value = "no"
    card.fasting.value = "6"
    card.unit.value = "mg/dL"
    card.glucose.value = "95"
    card.injection.value = "08:00"
    card.scan_start.value = "09:00"
    assert card.findings == [] and "merm-prep-ok" in card.status.value


def test_card_bad_input_keeps_the_session(card: PrepCard) -> None:
    before = card.session.protocol
    card.glucose.value = "abc"
    card.injection.value = "09:00"
    card.scan_start.value = "08:30"  # before the injection: negative uptake
    assert "Glycémie « abc »" in card.errors.value
    assert "avant l'injection" in card.errors.value
    assert card.session.protocol == before  # nothing changed
    card.L.switch("en")
    assert "enter a value between 1 and 40 mmol/L" in card.errors.value
    assert "negative" in card.errors.value
    card.glucose.value = "5,0"
    card.scan_start.value = "10:00"
    assert card.errors.value == "" and card.session.protocol.uptake_min == 60.0


def test_card_respects_an_exercise_lock_on_uptake(card: PrepCard) -> None:
    s = card.session
    s.set_exercise("x", editable=["minutes_per_bed"])
    card.injection.value = "08:00"
    card.scan_start.value = "08:45"
    assert s.protocol.uptake_min == 60.0  # the exercise fixes it
    assert "fixe la fixation à 60 min" in card.consequence.value


def test_all_texts_exist_in_three_languages() -> None:
    from simulator.console import pet_prep

    for key, texts in pet_prep._TEXT.items():
        assert len(texts) == 3 and all(t.strip() for t in texts), key
        assert len(set(texts)) > 1 or key == "clock_hint", key  # not left untranslated
    assert math.isfinite(MG_DL_PER_MMOL_L)


# --------------------------------------------------------------------------- diabetes, pregnancy
def _clock(text: str) -> int:
    h, m = text.split(":")
    return 60 * int(h) + int(m)


@pytest.mark.parametrize(
    ("med", "insulin", "injection", "level", "earliest"),
    [
        # EANM 2015: FDG ≥ 4 h after rapid-acting, ≥ 6 h after short-acting insulin, ≥ 4 h after
        # the pump is switched off
        ("insulin_rapid", "07:00", "09:30", "out", "11:00"),
        ("insulin_rapid", "07:00", "11:00", "caution", None),
        ("insulin_short", "07:00", "12:00", "out", "13:00"),
        ("insulin_short", "07:00", "13:15", "caution", None),
        ("insulin_pump", "08:10", "11:00", "out", "12:10"),
        ("insulin_rapid", "22:00", "08:00", "caution", None),  # the evening before: 10 h
    ],
)
def test_insulin_timing_against_the_injection(
    med: str, insulin: str, injection: str, level: str, earliest: str | None
) -> None:
    prep = Preparation(diabetes_med=med, insulin_at_min=_clock(insulin),
                       injection_min=_clock(injection), pregnancy="no")
    (f,) = check_preparation(prep)
    assert f.level == level
    if earliest is not None:
        assert f.key == "insulin_too_close" and earliest in f.text("en")
        need_h = {"insulin_rapid": 4, "insulin_short": 6, "insulin_pump": 4}[med]
        gap = (_clock(injection) - _clock(insulin)) % 1440
        assert gap < need_h * 60 and f"under the {need_h} h" in f.text("en")
        assert "Insuline" in f.text("fr") or "Pompe" in f.text("fr")
    else:
        assert f.key == "insulin_ok"


def test_long_acting_insulin_and_metformin() -> None:
    (f,) = check_preparation(Preparation(diabetes_med="insulin_long"))
    assert f.level == "out" and "evening before" in f.text("en") and "Vorabend" in f.text("de")
    (f,) = check_preparation(Preparation(diabetes_med="metformin"))
    assert f.level == "caution" and "48 h" in f.text("fr") and "colon" in f.text("en")
    (f,) = check_preparation(Preparation(diabetes_med="insulin_rapid"))  # no time given
    assert f.key == "insulin_time_needed" and "4 h" in f.text("en")


def test_pregnancy_blocks_the_injection_until_justified() -> None:
    for answer in ("yes", "possible"):
        prep = Preparation(pregnancy=answer)
        assert injection_blocked(prep)
        (f,) = check_preparation(prep)
        assert f.level == "out" and "blocked" in f.text("en") and "bloquée" in f.text("fr")
        justified = dataclasses.replace(prep, justified=True)
        assert not injection_blocked(justified)
        assert [g.key for g in check_preparation(justified)] == ["preg_justified"]
    assert not injection_blocked(Preparation(pregnancy="no"))
    assert not injection_blocked(Preparation(pregnancy="yes", can_be_pregnant=False))
    with pytest.raises(ValueError):
        Preparation(pregnancy="maybe")


def test_breastfeeding_advice_in_three_languages() -> None:
    (f,) = check_preparation(Preparation(pregnancy="no", breastfeeding=True))
    assert f.level == "caution"
    for lang, words in (("fr", "tirer le lait"), ("en", "pump milk"), ("de", "abpumpen")):
        text = f.text(lang)
        assert words in text and "4 h" in text and "12 h" in text
        assert ("CIPR" if lang == "fr" else "ICRP") in text


def test_bmi_is_weight_over_height_squared() -> None:
    assert body_mass_index(100.0, 170.0) == pytest.approx(100 / 1.7**2)
    (f,) = check_preparation(Preparation(pregnancy="no", height_cm=170.0, weight_kg=100.0))
    assert f.key == "bmi_obese" and "34,6" in f.text("fr")
    assert check_preparation(Preparation(pregnancy="no", height_cm=180.0, weight_kg=70.0)) == []


def test_card_pregnancy_refuses_the_injection_until_confirmed(card: PrepCard) -> None:
    assert card.justified.layout.display == "none"
    card.pregnancy.value = "yes"
    assert card.justified.layout.display is None
    refusal = card.injection_refusal("fr")
    assert refusal is not None and "Injection refusée" in refusal and "médecin" in refusal
    assert "merm-prep-out" in card.status.value
    card.justified.value = True
    assert card.injection_refusal("fr") is None
    card.L.switch("de")
    assert card.pregnancy.value == "yes" and "Rechtfertigung" in card.justified.description
    assert dict((v, k) for k, v in card.pregnancy.options)["yes"] == "Ja"


def test_card_insulin_and_height(card: PrepCard) -> None:
    card.pregnancy.value = "no"
    assert card.insulin_at.layout.display == "none"
    card.diabetes.value = "insulin_rapid"
    assert card.insulin_at.layout.display is None
    card.insulin_at.value = "7h00"
    card.injection.value = "09:00"
    assert "insulin_too_close" in {f.key for f in card.findings}
    assert "11:00" in card.status.value
    card.insulin_at.value = "7h61"
    assert "HH:MM" in card.errors.value
    card.height.value = "abc"
    assert "Taille « abc »" in card.errors.value
    card.height.value = "172"
    assert "IMC" in card.consequence.value and "172 cm" in card.consequence.value


def test_a_man_is_not_asked_about_pregnancy(card: PrepCard) -> None:
    from simulator.console.patient import SCENARIOS

    man = next(p for p in SCENARIOS.values() if p.sex == "M")
    card.pregnancy.value = "yes"
    card.session.set_patient(man)
    assert card.woman_box.layout.display == "none"
    assert card.pregnancy.value == ""  # a new patient: a new preparation
    assert card.injection_refusal("en") is None and not card.prep.pregnancy


def test_the_console_waits_for_the_justification_to_inject(monkeypatch) -> None:  # noqa: ANN001
    from simulator.console.pet_console import PETConsole

    monkeypatch.delenv("MERM_WORKLIST", raising=False)
    monkeypatch.delenv("MERM_PACS", raising=False)
    c = PETConsole(lang="en")
    c.prep.pregnancy.value = "possible"
    c.do_inject()
    assert not c.activity_lock.locked and not c.inject.disabled
    assert "Injection refused" in c.shell.message.value and "β-hCG" in c.shell.message.value
    c.prep.justified.value = True
    c.do_inject()
    assert c.activity_lock.locked


def test_hiding_a_question_hides_no_other_field(card: PrepCard) -> None:
    card.diabetes.value = "none"  # the insulin time hidden
    card.pregnancy.value = ""  # the justification hidden
    assert card.insulin_at.layout.display == "none" and card.justified.layout.display == "none"
    fields = (card.fasting, card.glucose, card.injection, card.scan_start, card.height,
              card.pregnancy, card.diabetes, card.breastfeeding)
    assert all(w.layout.display is None for w in fields)
    layouts = [id(w.layout) for w in (*fields, card.insulin_at, card.justified)]
    assert len(set(layouts)) == len(layouts)
