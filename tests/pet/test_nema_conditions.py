"""NEMA NU 2 image-quality conditions: 5.3 kBq/mL at the scan start, 100 cm in 30 min."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.pet import PETProtocol, make_phantom, scan
from simulator.pet.protocol import nema_iq_protocol

NEMA_SLICES = [15, 20, 25, 30, 35]


def test_background_at_scan_start_is_5_3_kbqml() -> None:
    p = nema_iq_protocol()
    ph = make_phantom("nema-iec", ratio=4.0, activity_mbq=p.activity_mbq, weight_kg=p.weight_kg)
    s = scan(ph, p, noiseless=True, slices=NEMA_SLICES)
    bg = s.metrics["nema"]["background_bqml"]["sphere_37"]
    # the truth at the scan start (decay 1: uptake 0) and the image both at 5.3 kBq/mL
    truth = float(np.median(ph.activity_bqml[ph.mask("background")])) * s.dose_at_scan_bq / (
        p.activity_mbq * 1e6
    )
    assert truth == pytest.approx(5300.0, rel=0.01)
    assert bg == pytest.approx(5300.0, rel=0.05)


def test_emission_time_simulates_100_cm_in_30_min() -> None:
    """NU 2-2018 §7: T = 30 min × axial step / 100 cm; mCT 21.6 cm at 25 % overlap."""
    p = nema_iq_protocol()
    assert p.minutes_per_bed == pytest.approx(30.0 * 21.6 * 0.75 / 100.0, rel=1e-3)
    assert nema_iq_protocol(iterations=2).iterations == 2


def test_nema_conditions_lower_bv_as_root_counts() -> None:
    """Against the old default (250 MBq, 60 min uptake, 2 min: 2.45 kBq/mL at the start),
    NEMA conditions collect more counts; BV falls as 1/√NEC (±25 %: 3 seeds × 60 ROIs)."""
    nema = nema_iq_protocol()
    old = PETProtocol(activity_mbq=250.0, weight_kg=70.0, minutes_per_bed=2.0)
    ph_n = make_phantom("nema-iec", activity_mbq=nema.activity_mbq, weight_kg=70.0)
    ph_o = make_phantom("nema-iec", activity_mbq=250.0, weight_kg=70.0)
    runs = {
        "nema": [scan(ph_n, nema, seed=k, slices=NEMA_SLICES) for k in (1, 2, 3)],
        "old": [scan(ph_o, old, seed=k, slices=NEMA_SLICES) for k in (1, 2, 3)],
    }
    bv = {k: np.mean([s.metrics["nema"]["bv"]["sphere_10"] for s in v]) for k, v in runs.items()}
    nec = {k: np.mean([s.counts["nec"] for s in v]) for k, v in runs.items()}
    assert nec["nema"] > 3 * nec["old"]
    assert bv["old"] / bv["nema"] == pytest.approx(np.sqrt(nec["nema"] / nec["old"]), rel=0.25)
