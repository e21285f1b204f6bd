"""Multi-bed exams: axial sensitivity, counts across the overlap, decay per bed, stitching."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from simulator.pet import PETProtocol, acquire, make_phantom, scan
from simulator.pet.phantoms import Phantom
from simulator.pet.wholebody import axial_profile, plan_beds, slices_per_bed

#: F-18 half-life (NNDC): 109.77 min, typed here independently of the code.
F18_HALF_LIFE_S = 109.77 * 60.0


def long_cylinder(length_mm: float = 640.0, dz: float = 4.0) -> Phantom:
    """A uniform 20-cm water cylinder longer than three beds (64², 5-mm pixels)."""
    n, px = 64, 5.0
    nz = int(length_mm / dz)
    c = (np.arange(n) - (n - 1) / 2) * px
    inside = np.hypot(*np.meshgrid(c, c, indexing="ij")) <= 100.0
    conc = 250e6 / 70e3
    act = np.broadcast_to(inside * np.float32(conc), (nz, n, n)).astype(np.float32)
    mu = np.broadcast_to(inside * np.float32(0.096), (nz, n, n)).astype(np.float32)
    return Phantom(
        name="cylinder",
        activity_bqml=act,
        mu_per_cm=mu,
        labels=np.broadcast_to(inside.astype(np.uint8), (nz, n, n)).copy(),
        names=("air", "water"),
        voxel_mm=(dz, px, px),
        activity_mbq=250.0,
        weight_kg=70.0,
    )


#: Ideal scanner (no dead time), 50 % overlap, 64² reconstruction.
WB = PETProtocol(
    beds=3, bed_overlap_pct=50.0, count_losses=False, matrix=64, iterations=2, subsets=7
)


def test_axial_profile_is_a_triangle_of_mean_one() -> None:
    p = axial_profile(54)
    assert p.mean() == pytest.approx(1.0, rel=1e-12)
    assert np.argmax(p) in (26, 27) and p[0] < 0.05 and p[-1] < 0.05
    np.testing.assert_allclose(p, p[::-1])
    np.testing.assert_allclose(np.diff(p[:27]), np.diff(p[:27])[0])  # linear ramp


def test_fifty_percent_overlap_gives_uniform_sensitivity() -> None:
    ph = long_cylinder()
    beds, _ = plan_beds(ph.shape[0], ph.voxel_mm[0], WB)
    total = np.zeros(ph.shape[0])
    for b in beds:
        total[b.first : b.stop] += b.weights
    nb = slices_per_bed(ph.voxel_mm[0])
    inner = total[beds[-1].first + nb // 2 : beds[0].stop - nb // 2]
    np.testing.assert_allclose(inner, 2.0, rtol=1e-12)


def test_counts_are_conserved_across_the_overlap() -> None:
    """Per slice, the beds' trues (each brought back by its own decay) add up to what a
    bed of uniform sensitivity 2 collects: none lost or counted twice at the junctions."""
    ph = long_cylinder()
    beds, _ = plan_beds(ph.shape[0], ph.voxel_mm[0], WB)
    per_slice = np.zeros(ph.shape[0])
    for b in beds:
        s = acquire(ph, WB, slices=b.slices, noiseless=True, start_s=b.start_offset_s,
                    axial_weights=b.weights)
        trues = (s.prompts - s.scatter - s.randoms).sum(axis=(1, 2), dtype=np.float64)
        per_slice[b.first : b.stop] += trues / s.decay_at_start
    nb = slices_per_bed(ph.voxel_mm[0])
    lo, hi = beds[-1].first + nb // 2, beds[0].stop - nb // 2
    ref = acquire(ph, WB, slices=range(lo, hi), noiseless=True, start_s=beds[0].start_offset_s,
                  axial_weights=np.full(hi - lo, 2.0))
    ref_trues = (ref.prompts - ref.scatter - ref.randoms).sum(axis=(1, 2), dtype=np.float64)
    np.testing.assert_allclose(per_slice[lo:hi], ref_trues / ref.decay_at_start, rtol=2e-4)


def test_each_bed_decays_from_its_own_start() -> None:
    ph = long_cylinder()
    s = scan(ph, WB, noiseless=True)
    beds = s.metrics["beds"]
    frame_s = 60.0 * WB.minutes_per_bed
    t0 = 60.0 * WB.uptake_min
    for k, b in enumerate(beds):
        assert b["start_offset_s"] == pytest.approx(t0 + k * frame_s)
        assert b["decay_at_start"] == pytest.approx(
            math.exp(-math.log(2) * (t0 + k * frame_s) / F18_HALF_LIFE_S), rel=1e-9
        )
    # the middle bed lies wholly inside the cylinder as does the first: its trues fall by
    # the decay between the two starts (the first bed is a full one too)
    full = [b for b in beds if b["last_slice"] - b["first_slice"] + 1 == 54]
    assert len(full) >= 2
    ratio = full[1]["counts"]["trues"] / full[0]["counts"]["trues"]
    dt = full[1]["start_offset_s"] - full[0]["start_offset_s"]
    assert ratio == pytest.approx(2.0 ** (-dt / F18_HALF_LIFE_S), rel=1e-3)


def test_stitched_cylinder_has_no_seam_and_the_true_concentration() -> None:
    ph = long_cylinder()
    s = scan(ph, WB, noiseless=True)
    m = s.images_bqml.shape[1]
    c = (np.arange(m) - (m - 1) / 2) * s.voxel_mm[1]
    core = np.hypot(*np.meshgrid(c, c, indexing="ij")) <= 60.0
    means = s.images_bqml[:, core].mean(axis=1)
    truth = 250e6 / 70e3 * s.dose_at_scan_bq / 250e6  # decayed to the series start
    inner = means[10:-10]  # away from the range's ends (half-empty edge slices)
    assert np.all(np.abs(inner / truth - 1) < 0.05)
    assert np.max(inner) / np.min(inner) < 1.04  # no step at the bed junctions


#: Two beds over the upper abdomen of the whole-body patient, 2 min per bed.
LIVER_BEDS = PETProtocol(beds=2, range_top_mm=450.0, minutes_per_bed=2.0)


@pytest.fixture(scope="module")
def liver_beds():
    ph = make_phantom("patient")
    return ph, scan(ph, LIVER_BEDS, seed=3)


@pytest.mark.slow
def test_liver_suv_after_stitching_within_5_percent(liver_beds) -> None:
    """Noiseless: the stitched liver is quantitative (2 %); noisy: the mean of three
    exams (30-mm VOI, liver CoV ≈ 15 % at 2 min per bed) is within 5 %."""
    ph, s = liver_beds
    assert len(s.metrics["beds"]) == 2
    true_suv = ph.features["liver"].suv
    assert 2.0 <= true_suv <= 2.5  # the literature's liver SUV
    clean = scan(ph, LIVER_BEDS, noiseless=True)
    assert clean.metrics["liver_suv_mean"] == pytest.approx(true_suv, rel=0.02)
    noisy = [s.metrics["liver_suv_mean"]]
    noisy += [scan(ph, LIVER_BEDS, seed=k).metrics["liver_suv_mean"] for k in (4, 5)]
    assert float(np.mean(noisy)) == pytest.approx(true_suv, rel=0.05)


def test_slices_carry_their_bed_start(liver_beds) -> None:
    _, s = liver_beds
    offs = np.array(s.slice_start_offsets_s)
    assert offs.shape == (s.images_bqml.shape[0],)
    assert set(np.round(offs).tolist()) == {0.0, 120.0}
    # slices are stored inferior first: the later (lower) bed comes first
    assert offs[0] == pytest.approx(120.0) and offs[-1] == 0.0


def test_patient_range_warns_when_it_leaves_the_patient() -> None:
    ph = make_phantom("patient")
    beds, warnings = plan_beds(ph.shape[0], ph.voxel_mm[0], dataclasses.replace(WB, beds=2))
    assert len(beds) == 2 and any("above the end" in w for w in warnings)


def test_range_past_the_patient_warns() -> None:
    ph = make_phantom("patient")
    p = PETProtocol(beds=8, bed_overlap_pct=25.0)
    beds, warnings = plan_beds(ph.shape[0], ph.voxel_mm[0], p)
    assert any("past the end" in w for w in warnings)
    assert beds[-1].first == 0
