"""Ground truth from the labels: every visible lesion once, inside its box, confidence 1."""

from __future__ import annotations

import numpy as np

from simulator.findings import match, truth
from simulator.findings.truth import MIN_VISIBLE_MM


def test_a_mark_on_any_visible_cut_matches_a_truth_finding(ms_flair):
    t = truth(ms_flair)
    assert t and all(f.label == "ms_lesion" and f.confidence == 1.0 for f in t)
    assert [f.id for f in t] == [f"T{i + 1}" for i in range(len(t))]
    les = ms_flair.labels == ms_flair.names.index("lesion_ms")
    px = ms_flair.pixel_spacing_mm
    min_area = np.pi * (MIN_VISIBLE_MM / 2) ** 2 / (px[0] * px[1])
    # a reader's mark on any slice cut big enough to see hits some truth finding
    from scipy import ndimage

    from simulator.findings import Finding, matches

    for z in range(les.shape[0]):
        lab, n = ndimage.label(les[z])
        for i in range(1, n + 1):
            rr, cc = np.nonzero(lab == i)
            if rr.size < min_area:
                continue
            mark = Finding("ms_lesion", z, (rr.mean(), cc.mean()), (1.0, 1.0), 1.0, {}, "M1")
            assert any(matches(mark, f) for f in t), (z, mark.centre_rc)


def test_truth_matches_itself_perfectly(ms_flair):
    t = truth(ms_flair)
    m = match(t, t)
    assert m.n_true_positive == len(t) and not m.false_positives and not m.missed


def test_healthy_series_has_no_truth(healthy_flair):
    assert truth(healthy_flair) == ()
