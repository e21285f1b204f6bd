"""Scanner behaviour: reproducibility, counts laws, NEMA trends, SUV, TOF."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulator.errors import ParameterError
from simulator.pet import PETProtocol, acquire, make_phantom, nema_analysis, scan
from simulator.pet.phantoms import Phantom

#: The five NEMA planes of the IEC phantom (sphere plane 25, ±10 and ±20 mm at 2 mm).
NEMA_SLICES = [15, 20, 25, 30, 35]
NEMA = PETProtocol(activity_mbq=370.0, weight_kg=70.0, minutes_per_bed=2.0)


def test_same_seed_same_data_other_seed_other_data(water_cylinder: Phantom) -> None:
    p = PETProtocol(minutes_per_bed=0.5)
    a = acquire(water_cylinder, p, np.random.default_rng(5), slices=[3, 4])
    b = acquire(water_cylinder, p, np.random.default_rng(5), slices=[3, 4])
    c = acquire(water_cylinder, p, np.random.default_rng(6), slices=[3, 4])
    np.testing.assert_array_equal(a.prompts, b.prompts)
    assert not np.array_equal(a.prompts, c.prompts)
    s1 = scan(water_cylinder, p, seed=11, slices=[4])
    s2 = scan(water_cylinder, p, seed=11, slices=[4])
    np.testing.assert_array_equal(s1.images_bqml, s2.images_bqml)
    assert s1.seed == 11


def test_counts_follow_time_activity_squared_randoms(water_cylinder: Phantom) -> None:
    # the ideal linear scanner (count losses: tests/pet/test_countrate.py)
    base = PETProtocol(activity_mbq=200.0, minutes_per_bed=2.0, count_losses=False)
    a = acquire(water_cylinder, base, noiseless=True).counts
    t2 = acquire(water_cylinder, dataclasses.replace(base, minutes_per_bed=4.0), noiseless=True)
    a2 = acquire(water_cylinder, dataclasses.replace(base, activity_mbq=400.0), noiseless=True)
    # twice the activity: trues and scatter double, randoms quadruple
    assert a2.counts["trues"] == pytest.approx(2 * a["trues"], rel=1e-5)
    assert a2.counts["scatter"] == pytest.approx(2 * a["scatter"], rel=1e-5)
    assert a2.counts["randoms"] == pytest.approx(4 * a["randoms"], rel=1e-5)
    # twice the time: twice the counts less the decay during the longer frame (< 1 %)
    assert 1.98 < t2.counts["trues"] / a["trues"] < 2.0
    # a 20-cm water cylinder has the scanner's NEMA scatter fraction (33.5 %)
    assert a["scatter_fraction"] == pytest.approx(0.335, abs=0.02)


def test_poisson_counts_match_expectation(water_cylinder: Phantom) -> None:
    p = PETProtocol(minutes_per_bed=1.0)
    mean = acquire(water_cylinder, p, noiseless=True).counts["prompts"]
    drawn = acquire(water_cylinder, p, np.random.default_rng(0)).counts["prompts"]
    assert abs(drawn - mean) < 5 * np.sqrt(mean)  # 5 σ of a Poisson total


def test_suv_of_uniform_phantom_is_one() -> None:
    from tests.pet.conftest import cylinder

    ph = cylinder(activity_mbq=300.0, weight_kg=80.0, suv=1.0)
    s = scan(ph, PETProtocol(activity_mbq=300.0, weight_kg=80.0), noiseless=True, slices=[4, 5])
    centre = s.labels == 1
    centre[:, :40, :] = False
    centre[:, 88:, :] = False
    assert float(s.suv[centre].mean()) == pytest.approx(1.0, rel=0.03)  # EM bias + edges


def test_background_variability_falls_as_one_over_root_counts() -> None:
    """4 × the acquisition time → BV halves (mean over 3 seeds; ±15 % for 3 × 60 ROIs)."""
    ph = make_phantom("nema-iec")
    bv = {}
    for minutes in (1.0, 4.0):
        p = dataclasses.replace(NEMA, minutes_per_bed=minutes)
        vals = [
            scan(ph, p, seed=k, slices=NEMA_SLICES).metrics["nema"]["bv"]["sphere_10"]
            for k in range(3)
        ]
        bv[minutes] = float(np.mean(vals))
    assert bv[1.0] / bv[4.0] == pytest.approx(2.0, rel=0.15)


def test_crc_rises_with_iterations_and_sphere_size() -> None:
    ph = make_phantom("nema-iec", ratio=4.0)
    crc = {}
    for it in (1, 4):
        p = dataclasses.replace(NEMA, iterations=it, postfilter_mm=0.0)
        crc[it] = scan(ph, p, noiseless=True, slices=NEMA_SLICES).metrics["nema"]["crc"]
    sizes = ["sphere_10", "sphere_13", "sphere_17", "sphere_22", "sphere_28", "sphere_37"]
    for name in sizes:
        assert crc[4][name] > crc[1][name]
    values = [crc[4][n] for n in sizes]
    assert all(b > a for a, b in zip(values, values[1:], strict=False))
    assert 0.2 < values[0] < values[-1] < 1.05


def test_cold_spheres_are_measured_as_cold() -> None:
    ph = make_phantom("nema-iec", cold_spheres=True)
    s = scan(ph, NEMA, noiseless=True, slices=NEMA_SLICES)
    res = nema_analysis(s, ph)
    assert res["kind"]["sphere_37"] == "cold" and res["kind"]["sphere_22"] == "hot"
    assert 0.5 < res["crc"]["sphere_37"] <= 1.0
    assert 0.0 < res["lung_residual"] < 0.5


def test_tof_lowers_noise_as_root_gain_not_the_mean() -> None:
    """TOF gain G: BV falls by √G, the mean stays.

    BV of the 10-mm ROIs (the least correlated between slices), 3 seeds × 60 ROIs: the
    ratio of two such estimates scatters by ~10 %, hence ±20 %.
    """
    ph = make_phantom("nema-iec")
    tof = dataclasses.replace(NEMA, tof_ps=540.0)
    off = [scan(ph, NEMA, seed=k, slices=NEMA_SLICES) for k in (3, 4, 5)]
    on = [scan(ph, tof, seed=k, slices=NEMA_SLICES) for k in (3, 4, 5)]
    gain = on[0].metrics["tof_gain"]
    assert gain > 2

    def mean(series, key):
        return float(np.mean([s.metrics["nema"][key]["sphere_10"] for s in series]))

    assert mean(off, "bv") / mean(on, "bv") == pytest.approx(np.sqrt(gain), rel=0.2)
    # mean of 3 × 60 ROI means with BV ≈ 0.2 (no z-filter on sparse slices): ~1.5 % each
    assert mean(on, "background_bqml") == pytest.approx(mean(off, "background_bqml"), rel=0.06)


def test_series_contract_fields() -> None:
    ph = make_phantom("torso")
    p = PETProtocol(matrix=96)
    s = scan(ph, p, seed=1, slices=[55, 56, 57, 58, 59, 60])
    assert s.images_bqml.shape == s.labels.shape == s.activity_truth_bqml.shape == (6, 96, 96)
    assert s.images_bqml.dtype == np.float32 and not s.images_bqml.flags.writeable
    assert s.voxel_mm == (4.0, 432.0 / 96, 432.0 / 96)
    for key in ("trues", "scatter", "randoms", "total", "prompts"):
        assert s.counts[key] > 0
    assert s.counts["total"] == pytest.approx(
        s.counts["trues"] + s.counts["scatter"] + s.counts["randoms"]
    )
    assert s.scan_start_offset_s == 3600.0
    assert s.dose_at_scan_bq == pytest.approx(250e6 * 0.5 ** (3600 / 6586.2))
    assert "liver_cov" in s.metrics and s.metrics["liver_cov"] > 0


def test_bad_protocol_is_refused_before_scanning(water_cylinder: Phantom) -> None:
    with pytest.raises(ParameterError):
        scan(water_cylinder, PETProtocol(subsets=10), seed=1)


def test_metrics_are_json_safe_and_slices_checked(water_cylinder: Phantom) -> None:
    import json

    s = scan(water_cylinder, PETProtocol(), seed=1, slices=[5])
    json.dumps(dict(s.metrics))
    with pytest.raises(ParameterError, match="slices"):
        scan(water_cylinder, PETProtocol(), seed=1, slices=[99])


def test_brain_grey_white_contrast_survives_the_scan() -> None:
    ph = make_phantom("brain")
    s = scan(ph, PETProtocol(), noiseless=True, slices=list(range(35, 45)))
    ratio = s.metrics["gray_white_ratio"]
    assert 1.5 < ratio < s.metrics["gray_white_ratio_true"]  # partial volume lowers it


def test_larger_lesions_recover_more_suv() -> None:
    ph = make_phantom("torso")
    liver_lesions = [58 + k for k in range(-3, 4)] + [53 + k for k in range(-2, 3)]
    s = scan(ph, PETProtocol(), noiseless=True, slices=sorted(set(liver_lesions)))
    les = s.metrics["lesions"]
    big, small = les["lesion_liver_20"], les["lesion_liver_12"]
    assert big["suv_max"] > small["suv_max"]
    assert big["suv_max"] <= 1.1 * big["suv_true"]


def test_ai_denoise_keeps_its_input(water_cylinder: Phantom) -> None:
    """With AI on, ``images_before_ai_bqml`` is the very image the scan gives with AI off."""
    p = PETProtocol(minutes_per_bed=0.5, matrix=64)
    plain = scan(water_cylinder, p, seed=3, slices=[4])
    assert plain.images_before_ai_bqml is None
    ai = scan(water_cylinder, dataclasses.replace(p, ai_denoise=True), seed=3, slices=[4])
    before = ai.images_before_ai_bqml
    assert before is not None and not before.flags.writeable
    np.testing.assert_array_equal(before, plain.images_bqml)
    assert not np.array_equal(ai.images_bqml, before)
