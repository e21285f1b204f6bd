"""numpy inference of the detector networks matches torch to 1e-4.

Without torch (CI's default: the ``train`` extra is optional) the shipped networks are checked
against torch outputs recorded by ``tests/findings/torch_reference.py``; with torch, random
and exported networks are checked live as well.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from simulator.findings import load_detector
from simulator.findings.net import SegNet
from tests.findings.torch_reference import REFERENCE, mlp_input, seg_input, weights_sha256

#: the contract: numpy inference matches torch to 1e-4
MATCH_TOL = 1e-4
HAS_TORCH = importlib.util.find_spec("torch") is not None


def test_recorded_reference_is_of_the_shipped_weights():
    ref = np.load(REFERENCE)
    assert str(ref["mr_brain_sha256"]) == weights_sha256("mr_brain.npz"), (
        "weights changed: rerun python tests/findings/torch_reference.py"
    )
    assert str(ref["pet_sha256"]) == weights_sha256("pet.npz")


def test_numpy_segnet_matches_recorded_torch_output():
    ref = np.load(REFERENCE)
    x = seg_input()
    np.testing.assert_array_equal(x, ref["seg_input"])
    got = load_detector("brain").net.logits(x)
    assert got.shape == ref["seg_torch"].shape
    np.testing.assert_allclose(got, ref["seg_torch"], atol=MATCH_TOL, rtol=0)
    assert np.abs(ref["seg_torch"]).max() > 0.1  # a non-trivial output


def test_numpy_mlp_matches_recorded_torch_output():
    ref = np.load(REFERENCE)
    net = load_detector("pet").net
    f = mlp_input(int(net.weights[0].shape[1]))
    np.testing.assert_array_equal(f, ref["mlp_input"])
    np.testing.assert_allclose(net.logits(f), ref["mlp_torch"], atol=MATCH_TOL, rtol=0)


def test_a_wrong_layout_would_be_caught():
    """The check can fail: transposed kernels give another output."""
    ref = np.load(REFERENCE)
    net = load_detector("brain").net
    bad = SegNet(tuple(np.ascontiguousarray(w.transpose(0, 1, 3, 2)) for w in net.weights), net.biases)
    assert np.abs(bad.logits(seg_input()) - ref["seg_torch"]).max() > MATCH_TOL


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed (train extra)")
@pytest.mark.parametrize("shape", [(3, 64, 48), (1, 40, 84)])
def test_live_torch_matches_random_segnet(shape):
    import torch

    from simulator.findings_training.model import seg_from_numpy

    net = SegNet.random(seed=3)
    x = np.random.default_rng(4).random(shape).astype(np.float32)
    with torch.no_grad():
        y = seg_from_numpy(net).eval()(torch.from_numpy(x)[:, None]).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(net.logits(x), y, atol=MATCH_TOL, rtol=0)
