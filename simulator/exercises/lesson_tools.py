"""Small display helpers shared by the lesson notebooks (PIL images, Markdown tables).

Plain numpy in, IPython display objects out; no plotting library needed, so the lessons run
in a bare school image.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["strip", "table", "show", "marked"]


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


def marked(image: ArrayLike, slice_index: int, findings: Sequence[Any] = (),
           truth: Sequence[Any] = (), title: str = "", size: int = 260,
           hi: float | None = None) -> object:
    """One slice with a detector's findings (amber boxes, their ids) and the truth (green
    boxes) of that slice drawn on it, as an IPython PNG.

    ``findings`` and ``truth`` are :class:`simulator.findings.Finding`; a finding is drawn on
    the slices it spans.
    """
    from IPython.display import Image as IPImage
    from PIL import Image, ImageDraw

    a = np.asarray(image, np.float64)
    top = hi if hi is not None else float(np.percentile(a, 99.5)) or 1.0
    scale = size / a.shape[0]
    w = max(1, round(a.shape[1] * scale))
    im = Image.fromarray(_to_u8(a, 0.0, top)).resize((w, size), Image.Resampling.NEAREST)
    canvas = Image.new("RGB", (w, size + 18), "white")
    canvas.paste(im.convert("RGB"), (0, 18))
    draw = ImageDraw.Draw(canvas)
    draw.text((2, 2), title, fill="black")
    for items, colour, pad in ((truth, (40, 200, 80), 3), (findings, (255, 190, 0), 1)):
        for f in items:
            half = (getattr(f, "n_slices", 1) - 1) / 2.0
            if abs(slice_index - f.slice_index) > half + 1e-9:
                continue
            (r, c), (er, ec) = f.centre_rc, f.extent_px
            box = ((c - ec - pad) * scale, (r - er - pad) * scale + 18,
                   (c + ec + 1 + pad) * scale, (r + er + 1 + pad) * scale + 18)
            draw.rectangle(box, outline=colour, width=2)
            if colour != (40, 200, 80):
                draw.text((box[2] + 2, box[1]), f.id, fill=colour)
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    return IPImage(data=buf.getvalue())
