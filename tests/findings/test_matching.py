"""The matching rule shared by the evaluation and the grader."""

from __future__ import annotations

from simulator.findings import Finding, match, matches


def _f(label="ms_lesion", z=5, rc=(100.0, 100.0), ext=(4.0, 4.0), conf=0.9, fid="F1", n=1):
    return Finding(label, z, rc, ext, conf, {"en": label}, fid, n_slices=n)


def test_same_label_inside_the_box_plus_tolerance_matches():
    t = _f(conf=1.0, fid="T1")
    assert matches(_f(rc=(106.9, 100.0)), t)  # 4 px extent + 3 px tolerance
    assert not matches(_f(rc=(107.5, 100.0)), t)
    assert not matches(_f(label="tumour"), t)


def test_slice_tolerance_grows_with_the_truth_span():
    t = _f(conf=1.0, fid="T1", n=1)
    assert matches(_f(z=6), t) and not matches(_f(z=7), t)
    t5 = _f(conf=1.0, fid="T1", n=5)
    assert matches(_f(z=8), t5) and not matches(_f(z=9), t5)
    assert matches(_f(z=7), t, n_slices=2)


def test_one_to_one_pairs_a_duplicate_is_a_false_positive():
    t = [_f(conf=1.0, fid="T1"), _f(rc=(160.0, 160.0), conf=1.0, fid="T2")]
    fs = [_f(fid="F1", conf=0.9), _f(fid="F2", conf=0.6, rc=(101.0, 101.0)), _f(fid="F3", rc=(40.0, 40.0))]
    m = match(fs, t)
    assert [(a.id, b.id) for a, b in m.pairs] == [("F1", "T1")]
    assert {f.id for f in m.false_positives} == {"F2", "F3"}
    assert [x.id for x in m.missed] == ["T2"]


def test_the_nearest_truth_is_taken():
    t = [_f(rc=(100.0, 100.0), ext=(8.0, 8.0), fid="T1"), _f(rc=(108.0, 100.0), ext=(8.0, 8.0), fid="T2")]
    m = match([_f(rc=(107.0, 100.0))], t)
    assert m.pairs[0][1].id == "T2" and [x.id for x in m.missed] == ["T1"]
