"""The frame the mentor receives: its burnt-in lines and the mapping the AI marks use.

Issue 14: the console's "SIMULATED — NOT FOR DIAGNOSIS" banner was drawn over the bilingual
notice that the mentor's video track writes along the bottom of every frame
(:func:`simulator.mentoring._draw.draw_overlay`). Each line is found here by the pixels it
changes, independently of how either is laid out.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from simulator.console import _render
from simulator.mentoring._draw import draw_overlay


def _rows(mask: np.ndarray) -> tuple[int, int]:
    rows = np.nonzero(mask.any(axis=1))[0]
    return int(rows.min()), int(rows.max())


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
@pytest.mark.parametrize(
    "size", [(64, 40), (120, 90), (320, 240), (544, 420), (640, 480), (1280, 720), (1920, 1080)]
)
def test_banner_and_mentor_notice_never_overlap(size: tuple[int, int], lang: str) -> None:
    w, h = size
    img = Image.new("RGB", (w, h), (0, 0, 0))
    top = _render.draw_banner(img, lang)
    banner = np.asarray(img)
    text_rows = _rows(banner[..., 0] > 200)  # the banner's light letters on dark red
    with_notice = draw_overlay(banner, [])  # what the mentor's track sends
    notice_rows = _rows(np.abs(with_notice.astype(int) - banner).max(axis=2) > 0)
    assert text_rows[1] < notice_rows[0], (size, text_rows, notice_rows)
    assert top <= text_rows[0]  # the band holds the banner's text…
    assert (banner[top:, :, 0] >= 90).all()  # …and runs to the bottom, under the notice
    assert _render.banner_top(Image.new("RGB", (w, h)), lang) == top


@pytest.mark.parametrize("zoom", [1.0, 2.0])
@pytest.mark.parametrize("aspect", [1.0, 1.25])
@pytest.mark.parametrize("shape", [(64, 64), (96, 128)])
def test_image_to_frame_inverts_frame_to_image(
    zoom: float, aspect: float, shape: tuple[int, int]
) -> None:
    """A mark drawn at a pixel's centre is read back as that pixel by a click there."""
    rows, cols = shape
    for r, c in (
        (rows // 2, cols // 2),
        (rows // 3, cols // 3 + 1),
        (rows // 2 + 5, cols // 2 - 7),
    ):
        x, y, scale = _render.image_to_frame(c + 0.5, r + 0.5, shape, 544, 420, zoom, aspect)
        assert scale > 0
        assert _render.frame_to_image(x, y, shape, 544, 420, zoom, aspect) == (c, r)
