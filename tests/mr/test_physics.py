"""Physical laws of the acquisition measured in the images.

SNR by the NEMA MS 1 two-acquisition difference method (simulator.quality.snr_difference):
the estimate from N ROI pixels has a relative SD of about 1/sqrt(2N) (~1 % here), so ratios
of two estimates are held to 8 % (several SD, still far from the next integer law).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import ndimage

from simulator.mr import MRProtocol, derive
from simulator.mr.anatomy import Anatomy
from simulator.mr.scan import MRSeries, scan
from simulator.quality import snr_difference

SNR_RTOL = 0.08
BASE = MRProtocol(slices=1, matrix_phase=256, phase_dir="RL")


def _roi(s: MRSeries, tissue: str, erode: int = 6) -> np.ndarray:
    mask = s.labels[0] == s.names.index(tissue)
    return ndimage.binary_erosion(mask, iterations=erode)


def _snr(anat: Anatomy, p: MRProtocol, tissue: str = "white_matter") -> float:
    a = scan(anat, p, rng=np.random.default_rng(11))
    b = scan(anat, p, rng=np.random.default_rng(12))
    return snr_difference(a.images[0], b.images[0], _roi(a, tissue))


def _noise_sd(anat: Anatomy, p: MRProtocol, tissue: str = "white_matter") -> float:
    a = scan(anat, p, rng=np.random.default_rng(21))
    b = scan(anat, p, rng=np.random.default_rng(22))
    roi = _roi(a, tissue)
    return float(np.std(a.images[0][roi] - b.images[0][roi]) / math.sqrt(2))


@pytest.fixture(scope="module")
def snr_ref(block: Anatomy) -> float:
    return _snr(block, BASE)


def test_snr_grows_as_sqrt_nex(block: Anatomy, snr_ref: float) -> None:
    assert _snr(block, dataclasses.replace(BASE, nex=4)) / snr_ref == pytest.approx(
        2.0, rel=SNR_RTOL)


def test_snr_falls_as_inverse_sqrt_bandwidth(block: Anatomy, snr_ref: float) -> None:
    assert _snr(block, dataclasses.replace(BASE, bandwidth_hz_px=520.0)) / snr_ref == \
        pytest.approx(0.5, rel=SNR_RTOL)


def test_snr_proportional_to_slice_thickness(block: Anatomy, snr_ref: float) -> None:
    assert _snr(block, dataclasses.replace(BASE, slice_mm=2.5)) / snr_ref == pytest.approx(
        0.5, rel=SNR_RTOL)


def test_snr_per_voxel_volume_grows_as_sqrt_phase_lines(block: Anatomy,
                                                        snr_ref: float) -> None:
    half = dataclasses.replace(BASE, matrix_phase=128)
    ratio = _snr(block, half) / snr_ref
    voxel_ratio = derive(half).voxel_mm[1] / derive(BASE).voxel_mm[1]   # 2: twice the voxel
    assert ratio / voxel_ratio == pytest.approx(math.sqrt(128 / 256), rel=SNR_RTOL)


def test_noise_grows_with_sense_acceleration_as_sqrt_r_times_g(block: Anatomy) -> None:
    from simulator.mr._pipeline import orient, setup
    from simulator.mr.coils import noise_covariance
    from simulator.mr.recon import g_factor

    sd1 = _noise_sd(block, BASE)
    for r in (2, 3):
        p = dataclasses.replace(BASE, parallel_r=r)
        st = setup(block, p, None, None)
        g = orient(g_factor(st.maps, r, noise_covariance(p.coils))[None], st.plan)[0]
        roi = _roi(scan(block, p, rng=None), "white_matter")
        assert g.min() >= 1.0
        # The pooled noise SD over the ROI is √R times the RMS of g there.
        expected = math.sqrt(r) * math.sqrt(float(np.mean(g[roi] ** 2)))
        assert _noise_sd(block, p) / sd1 == pytest.approx(expected, rel=SNR_RTOL)


def test_sense_noiseless_image_matches_full_sampling(block: Anatomy) -> None:
    full = scan(block, BASE, rng=None).images[0]
    r2 = scan(block, dataclasses.replace(BASE, parallel_r=2), rng=None).images[0]
    err = np.linalg.norm(r2 - full) / np.linalg.norm(full)
    assert err < 1e-3  # exact unfolding of noiseless data inside the FOV


def test_partial_fourier_keeps_the_image_and_costs_snr(block: Anatomy,
                                                       snr_ref: float) -> None:
    p = dataclasses.replace(BASE, partial_fourier=0.625)
    full = scan(block, BASE, rng=None).images[0]
    pf = scan(block, p, rng=None).images[0]
    # Homodyne: small errors near sharp edges only.
    assert np.linalg.norm(pf - full) / np.linalg.norm(full) < 0.05
    assert derive(p).scan_time_s < derive(BASE).scan_time_s
    assert _snr(block, p) < snr_ref * 0.95


def _centre(img: np.ndarray, axis: int) -> float:
    """Midpoint of the two half-maximum crossings of the profile along ``axis``."""
    profile = img.mean(axis=1 - axis)
    half = profile.max() / 2
    above = np.flatnonzero(profile >= half)
    lo, hi = above[0], above[-1]
    left = lo - 1 + (half - profile[lo - 1]) / (profile[lo] - profile[lo - 1])
    right = hi + (profile[hi] - half) / (profile[hi] - profile[hi + 1])
    return float((left + right) / 2)


def test_chemical_shift_displacement_equals_the_fat_shift_law(fat_block: Anatomy) -> None:
    fat = fat_block
    for field, bw in ((1.5, 130.0), (1.5, 60.0), (3.0, 100.0)):
        p = dataclasses.replace(BASE, field_t=field, bandwidth_hz_px=bw, te_ms=25.0)
        plain = scan(fat, p, rng=None)
        sat = scan(fat, dataclasses.replace(p, fat_sat=True), rng=None)
        fat_part = plain.noiseless[0] - sat.noiseless[0]     # the (shifted) fat component
        water = sat.noiseless[0]                             # unshifted water (+3 % fat)
        # Axial, phase RL: read runs along the rows (axis 0), phase along the columns.
        shift_read = _centre(fat_part, 0) - _centre(water, 0)
        shift_phase = _centre(fat_part, 1) - _centre(water, 1)
        expected = derive(p).fat_shift_px
        assert expected == pytest.approx(3.4 * 42.577 * field / bw)
        assert abs(shift_read) == pytest.approx(expected, abs=0.25)   # well within a pixel
        assert abs(shift_phase) < 0.1


def test_gibbs_ringing_at_a_sharp_edge(block: Anatomy) -> None:
    s = scan(block, BASE, rng=None)
    img = s.noiseless[0]
    plateau = float(np.median(img[_roi(s, "white_matter", 20)]))
    # Truncated k-space of a step overshoots (~9 % for an ideal step).
    assert img.max() > 1.03 * plateau


def _ghosts(anat: Anatomy, p: MRProtocol) -> float:
    """Mean noiseless signal in the air around the head relative to the head's mean."""
    levels = []
    for seed in range(3):
        s = scan(anat, p, rng=np.random.default_rng(seed))
        air = ndimage.binary_erosion(s.labels[0] == 0, iterations=8)
        body = s.labels[0] > 0
        levels.append(float(np.mean(s.noiseless[0][air]) / np.mean(s.noiseless[0][body])))
    return float(np.mean(levels))


def test_motion_ghosts_grow_with_severity_and_duration(head: Anatomy) -> None:
    p = dataclasses.replace(BASE, matrix_phase=192)
    levels = [_ghosts(head, dataclasses.replace(p, motion=m))
              for m in ("none", "low", "moderate", "severe")]
    assert levels == sorted(levels) and levels[-1] > 3 * levels[0]
    short = _ghosts(head, dataclasses.replace(p, motion="moderate", tr_ms=300.0))
    long = _ghosts(head, dataclasses.replace(p, motion="moderate", tr_ms=1500.0))
    assert long > short


def test_averages_spread_motion_ghosts(head: Anatomy) -> None:
    # Same duration: one average at TR 2000 ms against four at TR 500 ms.
    p = dataclasses.replace(BASE, matrix_phase=192, motion="severe")
    one = _ghosts(head, dataclasses.replace(p, tr_ms=2000.0, te_ms=15.0))
    four = _ghosts(head, dataclasses.replace(p, tr_ms=500.0, nex=4))
    assert four < one


def test_tse_echo_train_blurs_short_t2_edges(block: Anatomy) -> None:
    # Same effective TE; a long train puts late echoes (T2-attenuated) on the outer lines.
    short = MRProtocol(sequence="tse", tr_ms=5000.0, te_ms=18.4, etl=2, slices=1,
                       bandwidth_hz_px=200.0, matrix_phase=256, phase_dir="RL")
    long_train = dataclasses.replace(short, etl=32)

    def high_freq_share(p: MRProtocol) -> float:
        img = scan(block, p, rng=None).noiseless[0]
        spec = np.abs(np.fft.fft(img[img.shape[0] // 2]))  # one row: along phase
        k = np.abs(np.fft.fftfreq(img.shape[1]))
        return float(spec[k > 0.125].sum() / spec.sum())

    assert high_freq_share(long_train) < 0.8 * high_freq_share(short)


@pytest.mark.parametrize(
    "change",
    [dict(nex=2, bandwidth_hz_px=260.0), dict(slice_mm=8.0, matrix_phase=192),
     dict(phase_oversampling_pct=50.0), dict(fov_mm=280.0)],
)
def test_console_snr_prediction_matches_the_image(block: Anatomy, snr_ref: float,
                                                  change: dict[str, float]) -> None:
    p = dataclasses.replace(BASE, **change)
    predicted = derive(p).snr_rel / derive(BASE).snr_rel
    assert _snr(block, p) / snr_ref == pytest.approx(predicted, rel=SNR_RTOL)
