"""The PET preparation card: what a technologist types (glucose units, decimal commas,
clock times), the EANM 2015 checks, the uptake laws behind the consequences (checked against
an independent ODE integration and the F-18 half-life), and bad input in three languages."""

from __future__ import annotations

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
    check_preparation,
    consequence_lines,
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
