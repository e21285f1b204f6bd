"""Bad input gives a clear message in French, English and German, never a traceback."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from simulator.errors import UserError
from simulator.findings import FindingsError, detect, truth


def _mr(images, body_part="head"):
    proto = SimpleNamespace(body_part=body_part, slice_mm=5.0, gap_mm=1.0)
    return SimpleNamespace(images=images, protocol=proto, pixel_spacing_mm=(0.9, 0.9))


def _pet(images, dose=1.7e8, weight=70.0):
    return SimpleNamespace(
        images_bqml=images,
        voxel_mm=(4.0, 3.5, 3.5),
        dose_at_scan_bq=dose,
        protocol=SimpleNamespace(weight_kg=weight),
    )


def _assert_three_languages(err: UserError, *words: str):
    assert isinstance(err, UserError)
    msgs = [err.message("fr"), err.message("en"), err.message("de")]
    assert len(set(msgs)) == 3, msgs
    for w in words:
        assert w in err.message("en")


@pytest.mark.parametrize("images", [np.zeros((0, 64, 64), np.float32), np.zeros((3, 0, 5))])
def test_empty_series(images):
    with pytest.raises(FindingsError) as e:
        detect(_mr(images))
    _assert_three_languages(e.value, "no image")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_mr_and_pet(bad):
    img = np.ones((2, 32, 32), np.float32)
    img[1, 5, 5] = bad
    for s in (_mr(img), _pet(img)):
        with pytest.raises(FindingsError) as e:
            detect(s)
        _assert_three_languages(e.value, "NaN", "finite")


def test_too_small_images():
    with pytest.raises(FindingsError) as e:
        detect(_mr(np.ones((2, 4, 40), np.float32)))
    _assert_three_languages(e.value, "4×40")


def test_pet_without_dose_or_weight():
    with pytest.raises(FindingsError) as e:
        detect(_pet(np.ones((2, 32, 32), np.float32), dose=0.0))
    _assert_three_languages(e.value, "SUV")


def test_body_part_without_detector_says_which_exist():
    with pytest.raises(FindingsError) as e:
        detect(_mr(np.ones((2, 32, 32), np.float32), body_part="pelvis"))
    _assert_three_languages(e.value, "pelvis", "brain, knee and spine MR, PET")


def test_not_a_series():
    with pytest.raises(FindingsError) as e:
        detect(object())
    _assert_three_languages(e.value, "MR series")


def test_truth_needs_labels():
    with pytest.raises(FindingsError) as e:
        truth(_mr(np.ones((2, 32, 32), np.float32)))
    _assert_three_languages(e.value, "labels")


def test_a_flat_series_gives_no_finding_and_no_error():
    assert detect(_mr(np.zeros((3, 64, 48), np.float32))) == ()
    assert detect(_pet(np.full((3, 32, 32), 1000.0, np.float32))) == ()
