"""scan(): contract shapes, reproducibility, contrast order, fat suppression, wrap, motion."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulator.errors import ParameterError
from simulator.mr import Geometry, MRProtocol, preset
from simulator.mr.anatomy import Anatomy
from simulator.mr.scan import MRSeries, scan

AX = dict(slices=1, orientation="axial", phase_dir="RL")


def _mean(s: MRSeries, tissue: str, pure: bool = True) -> float:
    lab = s.labels[0] == s.names.index(tissue)
    return float(s.noiseless[0][lab].mean())


def test_series_contract(head: Anatomy) -> None:
    p = dataclasses.replace(MRProtocol(), slices=4)
    s = scan(head, p, rng=np.random.default_rng(1), slices=[1, 2])
    n, rows, cols = s.images.shape
    assert n == 2 and s.images.dtype == np.float32
    assert s.noiseless.shape == s.images.shape == s.labels.shape
    assert s.labels.dtype == np.uint8 and s.names[0] == "air"
    assert s.slice_positions_mm.shape == (2, 3) and s.orientation_cosines.shape == (6,)
    # Phase RL on an axial slice: columns are the phase lines.
    assert (rows, cols) == (p.matrix_read, p.phase_lines)
    for key in ("scan_time_s", "snr", "sar_w_kg", "warnings"):
        assert key in s.metrics
    assert not s.images.flags.writeable
    # Slices are one (thickness + gap) apart along the normal.
    step = np.linalg.norm(s.slice_positions_mm[1] - s.slice_positions_mm[0])
    assert step == pytest.approx(p.slice_mm + p.gap_mm)


def test_same_seed_same_image_different_seeds_independent_noise(head: Anatomy) -> None:
    p = dataclasses.replace(MRProtocol(), **AX)
    a = scan(head, p, rng=np.random.default_rng(5))
    b = scan(head, p, rng=np.random.default_rng(5))
    c = scan(head, p, rng=np.random.default_rng(6))
    assert np.array_equal(a.images, b.images)
    # In tissue (not air, where the magnitude of noise is Rayleigh-biased) the noise is
    # zero-mean: images − noiseless.
    tissue = a.noiseless > 10 * a.metrics["noise_sd"]
    na = (a.images - a.noiseless)[tissue]
    nc = (c.images - c.noiseless)[tissue]
    corr = np.corrcoef(na, nc)[0, 1]
    # N pixels: the SD of a null correlation is 1/sqrt(N); 5 SD tolerance.
    assert abs(corr) < 5 / np.sqrt(na.size)


def test_t1_se_contrast_order(head: Anatomy) -> None:
    s = scan(head, dataclasses.replace(preset("brain", "t1_se"), **AX), rng=None)
    assert _mean(s, "white_matter") > _mean(s, "gray_matter") > _mean(s, "csf")


def test_t2_tse_contrast_order(head: Anatomy) -> None:
    s = scan(head, dataclasses.replace(preset("brain", "t2_tse"), **AX), rng=None)
    assert _mean(s, "csf") > _mean(s, "gray_matter") > _mean(s, "white_matter")


def test_flair_nulls_csf(head: Anatomy) -> None:
    s = scan(head, dataclasses.replace(preset("brain", "flair"), **AX), rng=None)
    assert _mean(s, "csf") < 0.2 * _mean(s, "white_matter")
    t2 = scan(head, dataclasses.replace(preset("brain", "t2_tse"), **AX), rng=None)
    assert _mean(t2, "csf") > _mean(t2, "white_matter")


@pytest.mark.parametrize("how", ["stir", "fat_sat"])
def test_stir_and_fat_sat_suppress_fat(head: Anatomy, how: str) -> None:
    t2 = dataclasses.replace(preset("brain", "t2_tse"), **AX)
    plain = scan(head, t2, rng=None)
    if how == "stir":
        p = dataclasses.replace(preset("brain", "stir"), **AX)
        ref = scan(head, dataclasses.replace(p, ti_ms=20.0), rng=None)  # no null: fat bright
    else:
        p = dataclasses.replace(t2, fat_sat=True)
        ref = plain
    sup = scan(head, p, rng=None)
    # Fat falls well below its level without suppression, and below white matter.
    assert _mean(sup, "fat") < 0.2 * _mean(ref, "fat")
    assert _mean(sup, "fat") < _mean(sup, "white_matter")


def test_wrap_appears_exactly_when_phase_fov_is_smaller_than_the_body(head: Anatomy) -> None:
    # The head is 200 mm along AP; 230 mm FOV with 1.2 mm phase pixels.
    base = dataclasses.replace(MRProtocol(), slices=1, phase_dir="AP", matrix_phase=192)
    for pct, wraps in ((100.0, False), (92.0, False), (80.0, True), (60.0, True)):
        p = dataclasses.replace(base, phase_fov_pct=pct)
        s = scan(head, p, rng=None)
        fov = p.phase_fov_mm
        assert (fov < 200.0) == wraps
        warned = any("wrap" in w for w in s.warnings)
        assert warned == wraps
        # Wrapped signal: the first and last phase rows image the far side of the head.
        edge = np.concatenate([s.noiseless[0, :3], s.noiseless[0, -3:]])
        assert (edge.max() > 0.05) == wraps


def test_bad_slice_index_and_phase_dir(head: Anatomy) -> None:
    with pytest.raises(ParameterError):
        scan(head, MRProtocol(), rng=1, slices=[99])
    with pytest.raises(ParameterError):
        scan(head, MRProtocol(), Geometry(orientation="sagittal"), rng=1)


def test_phase_oversampling_removes_wrap_at_the_cost_of_time(head: Anatomy) -> None:
    p = dataclasses.replace(MRProtocol(), slices=1, phase_dir="AP", phase_fov_pct=80.0)
    wrapped = scan(head, p, rng=None)
    q = dataclasses.replace(p, phase_oversampling_pct=50.0)
    clean = scan(head, q, rng=None)
    assert any("wrap" in w for w in wrapped.warnings)
    assert not any("wrap" in w for w in clean.warnings)
    assert clean.images.shape == wrapped.images.shape   # same displayed FOV
    # Reference: a 100 % phase FOV (no wrap) cropped to the same rows (same pixel grid).
    full = scan(head, dataclasses.replace(p, phase_fov_pct=100.0), rng=None).noiseless[0]
    off = (full.shape[0] - clean.noiseless.shape[1]) // 2
    ref = full[off:off + clean.noiseless.shape[1]]

    def err(img: np.ndarray) -> float:
        return float(np.linalg.norm(img - ref) / np.linalg.norm(ref))

    assert err(clean.noiseless[0]) < 0.2 * err(wrapped.noiseless[0])
    assert clean.derived.scan_time_s > wrapped.derived.scan_time_s
    assert np.allclose(clean.slice_positions_mm, wrapped.slice_positions_mm)


def test_shipped_brain_contrasts_follow_the_textbook() -> None:
    from simulator.mr import load_anatomy

    brain = load_anatomy("brain")

    from scipy import ndimage

    def means(name: str) -> dict[str, float]:
        # Mean over each tissue's mask eroded by 2 pixels: away from partial volume.
        p = preset("brain", name)
        s = scan(brain, p, rng=None, slices=[p.slices // 2])
        out = {}
        for i, t in enumerate(s.names):
            core = ndimage.binary_erosion(s.labels[0] == i, iterations=2)
            if core.sum() > 20:
                out[t] = float(s.noiseless[0][core].mean())
        return out

    t1, t2, flair, stir = (means(n) for n in ("t1_se", "t2_tse", "flair", "stir"))
    assert t1["white_matter"] > t1["gray_matter"] > t1["csf"]
    assert t2["csf"] > t2["gray_matter"] > t2["white_matter"]
    assert flair["csf"] < 0.3 * flair["white_matter"]
    assert stir["fat"] < 0.3 * t1["fat"] * stir["white_matter"] / t1["white_matter"]


def test_ai_denoise_is_applied_or_refused_clearly(head: Anatomy) -> None:
    p = dataclasses.replace(MRProtocol(), slices=1, ai_denoise=True)
    try:
        s = scan(head, p, rng=np.random.default_rng(0))
    except ParameterError as err:
        assert err.name == "ai_denoise" and "not available" in str(err)
    else:
        plain = scan(head, dataclasses.replace(p, ai_denoise=False), rng=np.random.default_rng(0))
        assert s.images.shape == plain.images.shape
        assert not np.array_equal(s.images, plain.images)
        # the input of the AI is kept: the same noisy images as the scan without AI
        assert plain.images_before_ai is None
        assert s.images_before_ai is not None and not s.images_before_ai.flags.writeable
        np.testing.assert_array_equal(s.images_before_ai, plain.images)


@pytest.mark.parametrize(
    ("orientation", "phase_dir", "angle"),
    [("axial", "RL", 0.0), ("axial", "AP", 0.0), ("sagittal", "AP", 0.0),
     ("sagittal", "HF", 0.0), ("coronal", "RL", 0.0), ("coronal", "HF", 0.0),
     ("axial", "AP", 12.0), ("sagittal", "AP", (8.0, -10.0))],
)
def test_image_grid_matches_patient_coordinates(head: Anatomy, orientation: str,
                                                phase_dir: str,
                                                angle: float | tuple[float, float]) -> None:
    # An off-centre muscle cube makes every axis flip visible.
    lab = np.array(head.labels)
    lab[30:46, 140:170, 150:175] = head.names.index("muscle")
    anat = Anatomy(name="brain", labels=lab, voxel_mm=head.voxel_mm, names=head.names,
                   origin_mm=head.origin_mm)
    p = MRProtocol(orientation=orientation, phase_dir=phase_dir, slices=3, slice_mm=2.0,
                   gap_mm=0.0, fov_mm=260.0, matrix_phase=256, phase_fov_pct=100.0)
    g = Geometry(orientation=orientation, center_mm=(40.0, 30.0, 8.0), angle_deg=angle)
    s = scan(anat, p, g, rng=None)
    row, col = s.orientation_cosines[:3], s.orientation_cosines[3:]
    assert abs(row @ col) < 1e-9 and np.isclose(np.linalg.norm(row), 1.0)
    n, rows, cols = s.labels.shape
    rr, cc = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    for k in range(n):
        pts = (s.slice_positions_mm[k][None, None, :]
               + (cc * s.pixel_spacing_mm[1])[..., None] * row
               + (rr * s.pixel_spacing_mm[0])[..., None] * col)
        idx = np.rint([(pts[..., 2] - anat.origin_mm[2]) / anat.voxel_mm[0],
                       (pts[..., 1] - anat.origin_mm[1]) / anat.voxel_mm[1],
                       (pts[..., 0] - anat.origin_mm[0]) / anat.voxel_mm[2]]).astype(int)
        inside = np.all([(idx[a] >= 0) & (idx[a] < lab.shape[a]) for a in range(3)], axis=0)
        truth = np.zeros((rows, cols), dtype=np.uint8)
        truth[inside] = lab[idx[0][inside], idx[1][inside], idx[2][inside]]
        # Partial volume at tissue borders: 90 % of pixels agree exactly.
        assert np.mean(truth == s.labels[k]) > 0.9
        assert (truth == anat.names.index("muscle")).any()


@pytest.mark.parametrize(("n", "oversample"), [(255, 2), (256, 2), (97, 3)])
def test_k_space_crop_keeps_exactly_the_coarse_frequencies(n: int, oversample: int) -> None:
    from simulator.mr.geometry import _crop_index

    m = n * oversample
    kept = np.rint(np.fft.fftfreq(m)[_crop_index(m, n)] * m)
    assert np.array_equal(kept, np.rint(np.fft.fftfreq(n) * n))


def test_geometry_orientation_wins_over_the_protocol(head: Anatomy) -> None:
    p = MRProtocol(slices=1, orientation="axial", phase_dir="AP")
    s = scan(head, p, Geometry(orientation="sagittal"), rng=None)
    assert s.protocol.orientation == "sagittal" == s.geometry.orientation
    assert np.allclose(np.abs(s.orientation_cosines), [0, 1, 0, 0, 0, 1])


def test_lower_refocusing_angle_trades_signal_for_sar(head: Anatomy) -> None:
    from simulator.mr import derive

    p = dataclasses.replace(preset("brain", "t2_tse"), **AX)
    q = dataclasses.replace(p, refocus_deg=120.0)
    assert derive(q).sar_w_kg < derive(p).sar_w_kg
    full, low = scan(head, p, rng=None), scan(head, q, rng=None)
    assert _mean(low, "gray_matter") < _mean(full, "gray_matter")
