"""The numpy network against independent references (scipy correlation, shuffles' inverses)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from simulator.ai.cnn import ResidualCNN, conv3x3, pixel_shuffle, pixel_unshuffle

#: float32 accumulation of ≤ 9·32 products of O(1) values
FLOAT32_SUM_TOL = 1e-4


@pytest.mark.parametrize("shape", [(8, 8), (6, 10), (32, 18)])
def test_pixel_unshuffle_is_inverted_by_shuffle(shape):
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    f = pixel_unshuffle(x)
    assert f.shape == (shape[0] // 2, shape[1] // 2, 4)
    assert np.array_equal(pixel_shuffle(f), x)
    # channel i*2+j holds pixel (2y+i, 2x+j), the torch.nn.PixelUnshuffle order
    assert f[1, 2, 3] == x[3, 5] and f[1, 2, 2] == x[3, 4] and f[1, 2, 1] == x[2, 5]


def test_conv3x3_equals_scipy_correlation_with_zero_border():
    rng = np.random.default_rng(1)
    h, w, cin, cout = 9, 7, 3, 5
    x = rng.standard_normal((h, w, cin)).astype(np.float32)
    k = rng.standard_normal((cout, cin, 3, 3)).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    padded = np.zeros((h + 2, w + 2, cin), np.float32)
    padded[1:-1, 1:-1] = x
    cols = np.ascontiguousarray(k.transpose(2, 3, 1, 0).reshape(9 * cin, cout))
    got = conv3x3(padded, cols, b)
    ref = np.zeros((h, w, cout))
    for o in range(cout):
        ref[..., o] = b[o] + sum(
            ndimage.correlate(x[..., c].astype(np.float64), k[o, c], mode="constant")
            for c in range(cin)
        )
    np.testing.assert_allclose(got, ref, atol=FLOAT32_SUM_TOL)


def test_network_is_translation_equivariant_away_from_borders():
    net = ResidualCNN.random(channels=8, hidden=2, seed=2)
    x = np.random.default_rng(3).random((64, 64)).astype(np.float32)
    shifted = np.roll(x, (4, -6), axis=(0, 1))  # even shift keeps the unshuffle phase
    a = np.roll(net(x), (4, -6), axis=(0, 1))[20:-20, 20:-20]
    b = net(shifted)[20:-20, 20:-20]
    np.testing.assert_allclose(a, b, atol=FLOAT32_SUM_TOL)


def test_arrays_round_trip_and_parameter_count():
    net = ResidualCNN.random(channels=16, hidden=3, seed=4)
    again = ResidualCNN.from_arrays(net.to_arrays())
    x = np.random.default_rng(5).random((16, 20)).astype(np.float32)
    assert np.array_equal(net(x), again(x))
    expected = 4 * 16 * 9 + 16 + 3 * (16 * 16 * 9 + 16) + 16 * 4 * 9 + 4
    assert net.n_params == again.n_params == expected
    assert net.depth == 5 and net.channels == 16


def test_inconsistent_weights_are_refused():
    net = ResidualCNN.random(channels=8, hidden=1)
    with pytest.raises(ValueError):
        ResidualCNN(net.weights[:1], net.biases[:1])
    with pytest.raises(ValueError):
        ResidualCNN((net.weights[0], net.weights[0]), net.biases[:2])
    with pytest.raises(ValueError):
        net.predict_noise(np.zeros((7, 8), np.float32))
