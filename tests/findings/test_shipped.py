"""The shipped detectors: they load without torch, are small, and carry their record."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from simulator.findings import WEIGHTS_DIR, load_detector

#: small like the denoisers: a few thousand parameters
MAX_PARAMS = 50_000


@pytest.mark.parametrize("name", ["brain", "pet"])
def test_weights_are_small_and_recorded(name):
    det = load_detector(name)
    assert 0 < det.net.n_params <= MAX_PARAMS
    rec = det.record
    assert rec["detector"] == name and rec["n_params"] == det.net.n_params
    assert not rec["quick"], "shipped weights come from a full training, not --quick"
    assert {"seed", "commit", "torch", "date_utc", "steps", "train_seconds", "data"} <= set(rec)
    assert rec["train_seconds"] + rec["data"]["scan_seconds"] < 20 * 60  # "≤ ~15 min on 2 cores"


def test_brain_training_never_saw_a_heldout_placement():
    rec = json.loads((WEIGHTS_DIR / "mr_brain.json").read_text())
    assert rec["data"]["placement_seeds"] and max(rec["data"]["placement_seeds"]) < 5000
    assert set(rec["data"]["sequences"]) == {"flair", "t2_tse"}


def test_inference_needs_no_torch():
    code = (
        "import sys, numpy as np; from types import SimpleNamespace as N;"
        "from simulator.findings import detect;"
        "p = N(body_part='head', slice_mm=5.0, gap_mm=1.0);"
        "detect(N(images=np.zeros((2, 32, 32), np.float32), protocol=p, pixel_spacing_mm=(1, 1)));"
        "print(sorted({'torch', 'skimage'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed (train extra)")
def test_quick_training_writes_loadable_weights(tmp_path):
    from simulator.findings_training.__main__ import main

    assert main(["--quick", "--out", str(tmp_path)]) == 0
    for name in ("brain", "pet"):
        det = load_detector(name, tmp_path)
        assert det.record["quick"] is True


def test_evaluation_figures_are_there_for_the_console():
    from simulator.findings import evaluation

    ev = evaluation()
    for kind, labels in (("brain", ("ms_lesion", "tumour")), ("pet", ("pet_hot_lesion",))):
        assert "heldout" in ev[kind] and len(ev[kind]) >= 3  # held-out and out-of-distribution
        for variant in ev[kind].values():
            assert variant["what"]
            for lab in labels:
                assert variant[lab]["fp_per_case"] >= 0
    assert ev["weights_sha256"]["mr_brain.npz"]


def test_the_evaluation_is_of_the_shipped_weights():
    import hashlib

    from simulator.findings import evaluation

    for name, sha in evaluation()["weights_sha256"].items():
        assert hashlib.sha256((WEIGHTS_DIR / name).read_bytes()).hexdigest() == sha, (
            f"{name} changed since the evaluation: rerun python -m simulator.findings_training.evaluate"
        )
