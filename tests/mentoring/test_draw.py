"""Annotations land where their fractional coordinates say, whatever the frame size."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.mentoring._draw import draw_overlay


@pytest.mark.parametrize("size", [(120, 160), (481, 641)])
def test_circle_drawn_at_its_place_and_input_untouched(size: tuple[int, int]) -> None:
    rgb = np.zeros((*size, 3), np.uint8)
    ann = {"shape": "circle", "x0": 0.5, "y0": 0.5, "x1": 0.75, "y1": 0.5, "color": "#ff0000"}
    out = draw_overlay(rgb, [ann], notice=False)
    assert rgb.max() == 0, "input not mutated"
    h, w = size
    ys, xs = np.nonzero(out[:, :, 0] > 128)
    r = np.hypot(ys - 0.5 * (h - 1), xs - 0.5 * (w - 1))
    expected_r = 0.25 * (w - 1)
    assert abs(np.median(r) - expected_r) <= max(2, w // 200) + 1  # line width, pixel grid
    assert out[:, :, 1].max() == 0 and out[:, :, 2].max() == 0


def test_arrow_ends_at_its_tip_and_notice_is_drawn() -> None:
    rgb = np.zeros((240, 320, 3), np.uint8)
    ann = {"shape": "arrow", "x0": 0.1, "y0": 0.1, "x1": 0.6, "y1": 0.6, "text": "here"}
    out = draw_overlay(rgb, [ann])
    ys, xs = np.nonzero(out[:200, :, 0] > 0)
    assert abs(ys.max() - 0.6 * 239) <= 3 and abs(xs.max() - 0.6 * 319) <= 3
    assert out[226:240, :, :].max() > 200, "the simulated notice at the bottom"
