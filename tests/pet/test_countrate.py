"""Count-rate laws: dead time makes NECR peak; randoms ∝ singles²; the NEMA peaks published."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulator.errors import ParameterError
from simulator.pet import PETProtocol, acquire, derive
from simulator.pet.countrate import SCANNERS, count_rates, necr_curve
from simulator.pet.phantoms import Phantom

#: Published NEMA NU 2 NECR peaks (kcps, kBq/mL), typed here from the papers, not the code:
#: Jakoby 2011 / Rausch 2015 (mCT), Hsu 2017 (Discovery MI 4-ring), Zhang 2020 (uMI 550).
PUBLISHED = {
    "biograph-mct": (185.0, 29.0),
    "discovery-mi": (193.4, 21.9),
    "umi-550": (124.4, 18.85),
}


def test_every_scanner_has_a_published_anchor() -> None:
    assert set(SCANNERS) == set(PUBLISHED)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_necr_rises_peaks_and_falls(name: str) -> None:
    c = necr_curve(name, max_kbqml=100.0, step_kbqml=0.5)
    n = c.rates.necr_cps
    k = int(np.argmax(n))
    assert 0 < k < n.size - 1
    assert np.all(np.diff(n[: k + 1]) > 0), "NECR rises up to the peak"
    assert np.all(np.diff(n[k:]) < 0), "and falls after it"
    assert n[-1] < 0.8 * n[k], "well past the peak, more activity gives less NEC"


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_peak_within_15_percent_of_the_published_figure(name: str) -> None:
    necr_kcps, a_kbqml = PUBLISHED[name]
    c = necr_curve(name, max_kbqml=80.0, step_kbqml=1.0)
    assert c.peak_necr_kcps == pytest.approx(necr_kcps, rel=0.15)
    assert c.peak_activity_kbqml == pytest.approx(a_kbqml, rel=0.15)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_low_rate_laws_trues_linear_randoms_quadratic(name: str) -> None:
    a = np.array([0.05, 0.1])
    r = count_rates(a, name)
    slope = np.diff(np.log(r.randoms_cps)) / np.diff(np.log(a))
    assert slope[0] == pytest.approx(2.0, abs=0.01)
    slope_t = np.diff(np.log(r.trues_cps)) / np.diff(np.log(a))
    assert slope_t[0] == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_randoms_follow_the_singles_law(name: str) -> None:
    """R = 2τ·S² with S the singles that survive dead time (Cherry, Sorenson & Phelps)."""
    a = np.linspace(1.0, 80.0, 40)
    r = count_rates(a, name)
    tau_s = SCANNERS[name].coincidence_window_ns * 1e-9
    np.testing.assert_allclose(r.randoms_cps, 2 * tau_s * r.singles_cps**2, rtol=1e-9)
    assert np.all(np.diff(r.live_fraction) < 0) and r.live_fraction[0] < 1


def test_without_dead_time_necr_never_peaks() -> None:
    """The ideal linear scanner: NECR → α²/β, rising at every activity (the old mistake)."""
    r = count_rates(np.linspace(1, 200, 200), dead_time=False)
    assert np.all(np.diff(r.necr_cps) > 0)


def test_scatter_fraction_is_the_published_one() -> None:
    for name, sc in SCANNERS.items():
        r = count_rates(10.0, name)
        assert float(r.scatter_cps / (r.scatter_cps + r.trues_cps)) == pytest.approx(
            sc.scatter_fraction, rel=1e-9
        ), name


def test_unknown_scanner_lists_the_allowed_names() -> None:
    with pytest.raises(ParameterError, match="biograph-mct, discovery-mi, umi-550"):
        necr_curve("ecat-exact")


def test_acquisition_loses_counts_to_dead_time_at_high_activity(water_cylinder: Phantom) -> None:
    """More activity, fewer trues per MBq: the sinogram's trues follow the live fraction."""
    lo = PETProtocol(activity_mbq=50.0, weight_kg=70.0)
    hi = dataclasses.replace(lo, activity_mbq=800.0)
    a = acquire(water_cylinder, lo, noiseless=True)
    b = acquire(water_cylinder, hi, noiseless=True)
    ideal = acquire(water_cylinder, dataclasses.replace(hi, count_losses=False), noiseless=True)
    assert b.live_fraction < a.live_fraction < 1.0
    per_mbq_lo, per_mbq_hi = a.counts["trues"] / 50.0, b.counts["trues"] / 800.0
    assert per_mbq_hi / per_mbq_lo == pytest.approx(b.live_fraction / a.live_fraction, rel=1e-4)
    assert b.counts["trues"] == pytest.approx(ideal.counts["trues"] * b.live_fraction, rel=1e-4)


def test_patient_nec_gains_less_than_activity() -> None:
    """Doubling a patient's activity gives less than twice the NEC (randoms and dead time)."""
    nec = [derive(PETProtocol(activity_mbq=a)).expected_nec for a in (200.0, 400.0, 800.0)]
    assert nec[0] < nec[1] < nec[2]
    assert nec[1] / nec[0] < 1.9 and nec[2] / nec[1] < nec[1] / nec[0]
