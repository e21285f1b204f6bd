"""Small display helpers shared by the lesson notebooks (PIL images, Markdown tables).

Plain numpy in, IPython display objects out; no plotting library needed, so the lessons run
in a bare school image.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["strip", "table", "show"]


def _to_u8(img: np.ndarray, lo: float, hi: float) -> np.ndarray:
    scaled = (np.asarray(img, np.float64) - lo) / max(hi - lo, 1e-12)
    return (np.clip(scaled, 0.0, 1.0) * 255.0).astype(np.uint8)


def strip(images: Sequence[ArrayLike], titles: Sequence[str] = (), lo: float | None = None,
          hi: float | None = None, size: int = 200) -> object:
    """Images side by side with titles, as an IPython PNG (grey scale, common window).

    Parameters
    ----------
    images : sequence of 2-D arrays
    titles : sequence of str
        One per image (may be shorter).
    lo, hi : float, optional
        Window; default 0 and the 99.5th percentile of all images.
    size : int
        Height of each panel in pixels.
    """
    from IPython.display import Image as IPImage
    from PIL import Image, ImageDraw

    arrs = [np.asarray(a, np.float64) for a in images]
    if lo is None:
        lo = 0.0
    if hi is None:
        hi = float(np.percentile(np.concatenate([a.ravel() for a in arrs]), 99.5)) or 1.0
    panels = []
    for i, a in enumerate(arrs):
        im = Image.fromarray(_to_u8(a, lo, hi))
        w = max(1, round(size * a.shape[1] / a.shape[0]))
        im = im.resize((w, size), Image.Resampling.NEAREST).convert("RGB")
        canvas = Image.new("RGB", (w, size + 18), "white")
        canvas.paste(im, (0, 18))
        if i < len(titles):
            ImageDraw.Draw(canvas).text((2, 2), titles[i], fill="black")
        panels.append(canvas)
    total = sum(p.width for p in panels) + 6 * (len(panels) - 1)
    out = Image.new("RGB", (total, size + 18), "white")
    x = 0
    for p in panels:
        out.paste(p, (x, 0))
        x += p.width + 6
    buf = io.BytesIO()
    out.save(buf, format="PNG")
    return IPImage(data=buf.getvalue())


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> object:
    """A Markdown table (IPython display object)."""
    from IPython.display import Markdown

    def fmt(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.3g}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return Markdown("\n".join(lines))


def show(*objs: object) -> None:
    """``IPython.display.display`` for the objects above."""
    from IPython.display import display

    display(*objs)
