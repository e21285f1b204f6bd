"""The "what the AI changed" view: AI output minus its input, in a symmetric diverging window.

A series acquired with ``ai_denoise`` keeps the images before denoising
(:attr:`ScanResult.before_ai`). The view shows ``images − before_ai`` for the current slice:
blue where the network lowered the signal (it removed something), red where it raised it,
black where it left the image alone. The window is ±the 99.5th percentile of |change| over
the whole series, so scrolling slices does not rescale it. Unstructured speckle is noise
taken away; a shape (a small lesion, an edge) is signal the network erased or smoothed.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from simulator.console import _render
from simulator.console._backend import ScanResult
from simulator.console.i18n import tr

__all__ = ["has_ai", "ai_change", "ai_span", "render_ai_change"]


def has_ai(result: ScanResult | None) -> bool:
    """Whether ``result`` was denoised by AI (its input was kept)."""
    return result is not None and result.before_ai is not None


def ai_change(result: ScanResult, k: int) -> NDArray[np.float32]:
    """AI output minus its input for image ``k`` of ``result`` (same units as the images)."""
    if result.before_ai is None:
        raise ValueError("series was not denoised by AI")
    out = np.asarray(result.images[k], np.float32)
    return out - np.asarray(result.before_ai[k], np.float32)


@functools.lru_cache(maxsize=8)
def ai_span(result: ScanResult) -> float:
    """Half-width of the symmetric window: 99.5th percentile of |change| over the series."""
    if result.before_ai is None:
        return 1.0
    change = np.abs(
        np.asarray(result.images, np.float32) - np.asarray(result.before_ai, np.float32)
    )
    span = float(np.percentile(change[np.isfinite(change)], 99.5)) if change.size else 0.0
    return span if span > 0 else 1.0


def render_ai_change(
    result: ScanResult, k: int, width: int, height: int, zoom: float, lang: str
) -> Image.Image:
    """The frame of the view: change image, title with the window, colour legend."""
    k = min(max(k, 0), result.images.shape[0] - 1)
    span = ai_span(result)
    rgb = _render.to_rgb(_render.apply_window(ai_change(result, k), 0.0, 2.0 * span), "diff")
    canvas = _render.scale_to(rgb, width, height, zoom, result.aspect)
    _render.draw_text(canvas, (8, 6), f"{result.name}  —  {tr('view_ai', lang)}")
    _render.draw_text(canvas, (8, 24), tr("ai_frame_title", lang, span=f"{span:.3g}"))
    n = result.images.shape[0]
    _render.draw_text(canvas, (8, 42), f"{tr('slice', lang)} {k + 1}/{n}")
    _render.draw_text(canvas, (8, max(60, height - 48)), tr("ai_frame_legend", lang))
    return canvas
