"""The shipped networks: they load without torch, are small, recorded, and denoise real scans."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import ndimage

from simulator.ai import denoise_mr, denoise_pet, load_model

#: "a few hundred thousand parameters at most" (issue 7)
MAX_PARAMS = 300_000
#: a trained denoiser must at least take a fifth of the noise off a flat region
NOISE_SD_RATIO_MAX = 0.8


@pytest.mark.parametrize("modality", ["mr", "pet"])
def test_weights_load_are_small_and_carry_their_record(modality):
    info = load_model(modality).info
    assert 0 < info.n_params <= MAX_PARAMS
    rec = info.record
    assert rec["modality"] == modality
    assert rec["architecture"]["n_params"] == info.n_params
    assert rec["data"]["train_slices"] > 0 and rec["training"]["steps_done"] > 0
    assert {"seed", "commit", "command", "loss", "date_utc"} <= set(rec)


def test_inference_needs_neither_torch_nor_scikit_image():
    code = (
        "import sys, numpy as np; from simulator.ai import denoise_mr, denoise_pet;"
        "denoise_mr(np.ones((16, 16))); denoise_pet(np.ones((2, 16, 16)));"
        "bad = {'torch', 'skimage', 'ipywidgets'} & set(sys.modules); print(sorted(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_mr_network_lowers_noise_in_flat_tissue_of_a_real_scan():
    import dataclasses

    from simulator.mr import load_anatomy, preset, scan

    proto = dataclasses.replace(preset("spine", "t2_tse_sag"), nex=1)  # a reduced-time scan
    s = scan(load_anatomy("spine"), proto, rng=np.random.default_rng(123), slices=[7])
    noisy, clean = s.images[0], s.noiseless[0]
    # flat: bright enough tissue where the noise-free image has almost no curvature
    level = float(np.percentile(clean, 99))
    # (2 % of the level: the anatomy is textured, marrow, fascicles and septa, so no tissue
    # is perfectly flat)
    flat = ndimage.uniform_filter(np.abs(ndimage.laplace(clean)), 5) < 0.02 * level
    flat &= ndimage.binary_erosion(clean > 0.2 * level, iterations=3)
    # one tissue (the one with most flat pixels), so that the SD is noise, not contrast
    lab = s.labels[0]
    flat &= lab == np.bincount(lab[flat].ravel()).argmax()
    assert flat.sum() > 100
    out = denoise_mr(noisy)
    assert out.shape == noisy.shape and out.dtype == noisy.dtype
    assert np.std(out[flat]) < NOISE_SD_RATIO_MAX * np.std(noisy[flat])
    assert np.std((out - clean)[flat]) < NOISE_SD_RATIO_MAX * np.std((noisy - clean)[flat])
    # and it does not shift the tissue's signal: mean within 5 %
    assert abs(np.mean(out[flat]) / np.mean(noisy[flat]) - 1) < 0.05
    assert np.array_equal(denoise_mr(noisy, strength=0.0), noisy)


def test_pet_network_lowers_background_noise_of_a_real_scan():
    from simulator.ai_training.cases_pet import PETCase, scan_pet_case

    s = scan_pet_case(PETCase("nema-iec", seed=4242, slab=6))
    bg = s.phantom.labels == s.phantom.names.index("background")
    n = s.truth.shape[-1]
    idx = np.clip(
        ((np.arange(n) + 0.5) * s.phantom.shape[2] / n).astype(int), 0, s.phantom.shape[2] - 1
    )
    first = s.phantom.shape[0] // 2 - 3
    in_plane = ndimage.generate_binary_structure(2, 1)[None]  # erode within each slice
    roi = ndimage.binary_erosion(bg[first : first + 6][:, idx][:, :, idx], in_plane, 3)
    assert roi.sum() > 100
    out = denoise_pet(s.reduced)
    assert np.std(out[roi]) < NOISE_SD_RATIO_MAX * np.std(s.reduced[roi])
    assert abs(np.mean(out[roi]) / np.mean(s.reduced[roi]) - 1) < 0.05


@pytest.mark.parametrize("modality", ["mr", "pet"])
def test_shipped_numpy_network_matches_torch(modality):
    torch = pytest.importorskip("torch")
    from simulator.ai_training.model import from_numpy

    net = load_model(modality).net
    x = np.random.default_rng(5).random((96, 80)).astype(np.float32)
    with torch.no_grad():
        ref = from_numpy(net).eval()(torch.from_numpy(x)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(net(x), ref, atol=1e-4, rtol=0)


@pytest.mark.parametrize("modality", ["mr", "pet"])
def test_shipped_numpy_network_matches_the_recorded_torch_output(modality):
    """Without torch (CI, school labs): numpy inference against torch's output recorded
    for these very weights (``python tests/ai/torch_reference.py`` after retraining)."""
    from tests.ai.torch_reference import REFERENCE, weights_sha256

    ref = np.load(REFERENCE)
    assert str(ref[f"{modality}_weights_sha256"]) == weights_sha256(modality), (
        "the shipped weights changed: regenerate tests/ai/data/torch_reference.npz with torch"
    )
    out = load_model(modality).net(ref["input"])
    np.testing.assert_allclose(out, ref[f"{modality}_torch"], atol=1e-4, rtol=0)
    assert np.abs(out - ref["input"]).max() > 1e-3  # the network really does something
