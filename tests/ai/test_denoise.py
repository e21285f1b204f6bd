"""Behaviour of the denoising API on any weights: shapes, dtypes, strength, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.ai import load_model
from simulator.ai.cnn import ResidualCNN
from simulator.errors import ParameterError, UserError


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "random.npz"
    np.savez(path, **ResidualCNN.random(channels=8, hidden=2, seed=11).to_arrays())
    return load_model("mr", path)


@pytest.fixture(scope="module")
def pet_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "random_pet.npz"
    np.savez(path, **ResidualCNN.random(channels=8, hidden=2, seed=12).to_arrays())
    return load_model("pet", path)


def _image(shape, seed=0):
    return np.random.default_rng(seed).random(shape) * 50.0


@pytest.mark.parametrize("shape", [(32, 32), (31, 47), (3, 20, 17), (1, 5, 4), (4, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_and_dtype_are_kept(model, shape, dtype):
    x = _image(shape).astype(dtype)
    y = model(x)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert np.all(np.isfinite(y)) and y.min() >= 0


def test_integer_input_gives_float32(model):
    y = model((_image((16, 16)) * 10).astype(np.uint16))
    assert y.dtype == np.float32


def test_deterministic_and_input_untouched(model):
    x = _image((40, 36))
    keep = x.copy()
    a, b = model(x), model(x)
    assert np.array_equal(a, b)
    assert np.array_equal(x, keep)


def test_strength_zero_is_identity_and_blend_is_linear(model):
    x = _image((24, 30)).astype(np.float32)
    assert np.array_equal(model(x, strength=0.0), x)
    full = model(x, 1.0)
    half = model(x, 0.5)
    # the blend happens before clipping at zero: compare where the full output is positive
    kept = full > 0
    assert kept.mean() > 0.5
    np.testing.assert_allclose(half[kept], 0.5 * (x + full)[kept], rtol=1e-5, atol=1e-4)


def test_slices_are_denoised_independently(model):
    """A stack gives, slice by slice, what each slice gives alone (per-slice scale, 2-D net)."""
    x = _image((3, 20, 18))
    x[1] *= 40.0  # a much brighter slice must not change its neighbours' scale
    x[2] = 0.0  # an empty slice stays empty
    stack = model(x)
    for k in range(3):
        np.testing.assert_allclose(stack[k], model(x[k]), rtol=1e-6, atol=1e-6)
    assert not stack[2].any()


def test_units_scale_out(model):
    """Scaling the input scales the output: the network works in normalised units."""
    x = _image((32, 32)).astype(np.float32)
    np.testing.assert_allclose(model(1000.0 * x), 1000.0 * model(x), rtol=1e-4, atol=1e-2)


def test_all_zero_image_is_returned_as_is(model):
    assert np.array_equal(model(np.zeros((8, 8))), np.zeros((8, 8)))


@pytest.mark.parametrize("strength", [-0.1, 1.5, float("nan"), "high", None])
def test_bad_strength_is_a_parameter_error(model, strength):
    with pytest.raises(ParameterError) as e:
        model(_image((8, 8)), strength)
    assert "0–1" in e.value.message("en") and "0–1" in e.value.message("fr")


@pytest.mark.parametrize(
    "bad",
    [
        np.full((8, 8), np.nan),
        np.array([[np.inf] * 8] * 8),
        np.ones(16),
        np.ones((2, 2, 8, 8)),
        np.ones((3, 8)),
        np.ones((8, 8), complex),
        np.array([["a"] * 8] * 8),
    ],
)
def test_bad_images_are_user_errors(model, bad):
    with pytest.raises(UserError) as e:
        model(bad)
    assert e.value.message("fr") != e.value.message("en")


def test_negative_values_refused_for_mr_accepted_for_pet(model, pet_model):
    x = _image((16, 16)) - 10.0
    with pytest.raises(UserError):
        model(x)
    y = pet_model(x)  # FBP images can dip below zero
    assert y.shape == x.shape and np.all(np.isfinite(y))


def test_unknown_modality_and_missing_weights(tmp_path):
    with pytest.raises(ParameterError):
        load_model("ct")
    with pytest.raises(UserError) as e:
        load_model("mr", tmp_path / "none.npz")
    assert "simulator.ai_training" in e.value.message("en")
