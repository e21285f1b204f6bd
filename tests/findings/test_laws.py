"""Detector laws: sensitivity rises with lesion size and with contrast; same input, same findings.

The MR cases are built here, independently of the detector: disks painted into the white
matter of a healthy FLAIR series (the same sites for every condition, a paired design), with
the lesion-to-white-matter ratio of the simulator's MS plaques on FLAIR (≈ 1.6) as the middle
of the contrast sweep. The law checked is the psychophysical one — a bigger or brighter
target is found at least as often, and the sweep spans "not seen" to "seen" — not a figure
copied from the detector.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import ndimage

from simulator.findings import Finding, detect, match

N_SITES = 12
#: One lesion of slack: a rise may stall by one site between neighbouring levels.
SLACK = 1.0 / N_SITES


def _sites(series, max_radius_px: float, n: int = N_SITES):
    wm = series.labels == series.names.index("white_matter")
    yy, xx = np.mgrid[-8:9, -8:9]
    core = wm
    disk = (yy**2 + xx**2) <= (max_radius_px + 2) ** 2
    rng = np.random.default_rng(7)
    out: list[tuple[int, int, int]] = []
    for z in range(4, series.images.shape[0] - 3):
        ok = ndimage.binary_erosion(core[z], structure=disk)
        cand = np.argwhere(ok)
        rng.shuffle(cand)
        for r, c in cand:
            if all(abs(z - z2) > 1 or np.hypot(r - r2, c - c2) > 30 for z2, r2, c2 in out):
                out.append((z, int(r), int(c)))
                if sum(1 for s in out if s[0] == z) >= 2:
                    break
    assert len(out) >= n, f"only {len(out)} white-matter sites"
    return [out[i] for i in np.linspace(0, len(out) - 1, n).round().astype(int)]


def _painted(series, sites, diameter_mm: float, contrast: float):
    img = np.array(series.images, copy=True)
    px = float(series.pixel_spacing_mm[0])
    r = diameter_mm / 2 / px
    yy, xx = np.mgrid[: img.shape[1], : img.shape[2]]
    truth = []
    for i, (z, cr, cc) in enumerate(sites):
        # column spacing differs from row spacing: a round lesion in mm
        d = ((yy - cr) * px) ** 2 + ((xx - cc) * series.pixel_spacing_mm[1]) ** 2
        m = d <= (diameter_mm / 2) ** 2
        img[z][m] *= 1.0 + contrast
        ext = (max(r, 0.5), max(diameter_mm / 2 / series.pixel_spacing_mm[1], 0.5))
        truth.append(Finding("ms_lesion", z, (float(cr), float(cc)), ext, 1.0, {"en": "x"}, f"T{i + 1}"))
    s = SimpleNamespace(images=img, protocol=series.protocol, pixel_spacing_mm=series.pixel_spacing_mm)
    return s, truth


def _sensitivity(series, sites, diameter_mm, contrast) -> float:
    s, t = _painted(series, sites, diameter_mm, contrast)
    return match(detect(s), t).n_true_positive / len(t)


def _rises(values: list[float]) -> None:
    """Never falls by more than one site from one level to the next, and gains half the
    sites from the first level to the last."""
    for a, b in zip(values[:-1], values[1:], strict=True):
        assert b >= a - SLACK - 1e-9, values
    assert values[-1] - values[0] >= 0.5, values


#: The simulator's MS plaques are 5–10 mm across (``simulator.mr._pathology``): the size law
#: is checked over the range the detector was trained for, and beyond it separately.
SIZES_MM = (1.5, 3.0, 5.0, 7.0, 9.0)


def test_sensitivity_rises_with_lesion_size(healthy_flair):
    sites = _sites(healthy_flair, max_radius_px=6)
    sens = [_sensitivity(healthy_flair, sites, d, 0.6) for d in SIZES_MM]
    _rises(sens)
    assert sens[0] <= 0.25 and max(sens) >= 0.6, sens


@pytest.mark.xfail(strict=True, reason="known failure, reported in evaluation.md: an MS-like "
                   "lesion larger than the trained 5-10 mm plaques, without oedema, is missed")
def test_sensitivity_keeps_rising_beyond_the_trained_sizes(healthy_flair):
    sites = _sites(healthy_flair, max_radius_px=6)  # the 13 mm disks overlap the white-matter edge a little
    sens = [_sensitivity(healthy_flair, sites, d, 0.6) for d in (9.0, 13.0)]
    assert sens[1] >= sens[0] - SLACK, sens


def test_sensitivity_rises_with_contrast(healthy_flair):
    sites = _sites(healthy_flair, max_radius_px=6)
    sens = [_sensitivity(healthy_flair, sites, 8.0, c) for c in (0.0, 0.15, 0.35, 0.6, 1.0)]
    _rises(sens)
    assert sens[0] <= 0.25 and max(sens) >= 0.6, sens


def test_same_series_same_findings(ms_flair):
    a = detect(ms_flair)
    b = detect(ms_flair, rng=np.random.default_rng(99))
    assert a == b
    assert [f.id for f in a] == [f"F{i + 1}" for i in range(len(a))]
    copy = dataclasses.replace(ms_flair, images=np.array(ms_flair.images, copy=True))
    assert detect(copy) == a


def test_findings_are_well_formed(ms_flair):
    found = detect(ms_flair)
    assert found, "a held-out FLAIR with MS lesions gives at least one finding"
    n, h, w = ms_flair.images.shape
    for f in found:
        assert f.label in ("ms_lesion", "tumour")
        assert 0 <= f.slice_index < n and 0 <= f.centre_rc[0] < h and 0 <= f.centre_rc[1] < w
        assert 0.0 <= f.confidence <= 1.0 and f.extent_px[0] > 0
        assert set(f.text) == {"fr", "en", "de"} and f"{f.slice_index + 1}" in f.text["fr"]


@pytest.mark.parametrize("seed", [1])
def test_rescan_with_the_same_seed_gives_the_same_findings(seed):
    from simulator.findings_training.cases import BrainCase, scan_brain

    c = BrainCase("t2_tse", "ms_lesions", 5004, seed=seed)
    assert detect(scan_brain(c)) == detect(scan_brain(c))
