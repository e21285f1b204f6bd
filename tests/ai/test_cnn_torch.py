"""The numpy forward pass equals the torch twin's (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from simulator.ai.cnn import ResidualCNN  # noqa: E402
from simulator.ai_training.model import TorchResidualCNN, from_numpy, to_numpy  # noqa: E402

#: the contract: numpy inference matches torch to 1e-4 (float32 on O(1) inputs)
MATCH_TOL = 1e-4


@pytest.mark.parametrize("shape", [(64, 64), (30, 46), (256, 256)])
def test_numpy_matches_torch_on_random_weights(shape):
    net = ResidualCNN.random(channels=32, hidden=5, seed=7)
    model = from_numpy(net).eval()
    x = np.random.default_rng(8).random(shape).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(net(x), ref, atol=MATCH_TOL, rtol=0)


def test_export_of_a_torch_initialised_model_matches():
    torch.manual_seed(0)
    model = TorchResidualCNN(channels=24, hidden=3).eval()
    with torch.no_grad():  # make the residual branch matter
        model.convs[-1].weight.mul_(10.0)
    net = to_numpy(model)
    x = np.random.default_rng(9).random((40, 52)).astype(np.float32) * 3
    with torch.no_grad():
        ref = model(torch.from_numpy(x)[None, None])[0, 0].numpy()
    assert np.abs(ref - x).max() > 0.01  # the network does change the image
    np.testing.assert_allclose(net(x), ref, atol=MATCH_TOL, rtol=0)
    assert net.n_params == sum(p.numel() for p in model.parameters())
