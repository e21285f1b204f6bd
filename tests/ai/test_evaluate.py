"""The evaluation report: verdicts follow the measured numbers, both spine families shown."""

from __future__ import annotations

import json

from simulator.ai_training.evaluate import METHODS, _spine_target, write_report


def _row(full: float, ai: float, t_red: float = 345.6) -> dict:
    nrmse = {m: 0.09 for m in METHODS} | {"full": full, "reduced_ai": ai}
    ssim = {m: 0.8 for m in METHODS} | {"full": 0.9, "reduced_ai": 0.95}
    return {"time_full_s": 691.2, "time_reduced_s": t_red, "nrmse": nrmse, "ssim": ssim}


def test_spine_target_verdicts_follow_the_numbers():
    t = _spine_target([_row(0.050, 0.046), _row(0.040, 0.044)], "SENSE 2")
    assert t["met_nrmse"] and t["met_ssim"] and t["met_per_case_nrmse"] == 1
    assert "05:46 (SENSE 2)" in t["what"] and "11:31" in t["what"] and "2 held-out" in t["what"]
    worse = _spine_target([_row(0.050, 0.0505, 399.4)], "NEX 2 + 7/8 partial Fourier")
    assert not worse["met_nrmse"] and worse["met_per_case_nrmse"] == 0
    assert "06:39" in worse["what"]


def test_report_shows_the_headline_and_the_counter_example(tmp_path):
    headline = _spine_target([_row(0.050, 0.046)], "SENSE 2")
    counter = _spine_target([_row(0.050, 0.052, 399.4)], "NEX 2 + 7/8 partial Fourier")
    mr = {
        "cases": [],
        "target": headline,
        "counter_example": counter,
        "lesion_summary": {},
    }
    report = {"mr": mr, "networks": {}, "seconds": 1.0, "date_utc": "2026-11-27T00:00:00Z"}
    j, m = write_report(report, tmp_path)
    assert json.loads(j.read_text())["mr"]["counter_example"]["met_nrmse"] is False
    md = m.read_text()
    head, _, rest = md.partition("Counter-example")
    assert "05:46 (SENSE 2)" in head and "NRMSE **met** (NRMSE met on 1 of" in head
    assert "06:39" in rest and "NRMSE not met (0 of the cases" in rest
    assert "| reduced_ai | 0.9500 | 0.0520 |" in rest
