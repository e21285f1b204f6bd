"""Pure image rendering for the consoles: window/level, colour maps, banner, PNG bytes.

Everything here takes plain arrays and returns new ones; no widgets, no state. The viewer,
the planning view and :meth:`ConsoleSession.render_frame` (the mentor's video track) all
draw through these functions so that the mentor sees exactly what the trainee sees.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from simulator import SIMULATED_BANNER, SIMULATED_BANNER_FR

__all__ = [
    "auto_window",
    "apply_window",
    "to_rgb",
    "compose",
    "draw_banner",
    "banner_top",
    "draw_findings",
    "draw_roi",
    "image_to_frame",
    "draw_text",
    "png_bytes",
    "font",
]

#: The "simulated" banner in German (French and English: ``simulator.SIMULATED_BANNER*``).
_BANNER_DE = "SIMULIERT — NICHT FÜR DIE DIAGNOSE"

_FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)


@functools.lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A font with accented Latin letters (DejaVu where installed, else Pillow's own)."""
    for path in _FONT_PATHS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def auto_window(image: NDArray[np.floating]) -> tuple[float, float]:
    """(center, width) spanning the 1st–99.5th percentile of the non-background pixels."""
    finite = np.asarray(image, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 0.5, 1.0
    hi = float(np.percentile(finite, 99.5))
    lo = float(np.percentile(finite, 1.0))
    if hi <= lo:
        hi = lo + 1.0
    return (hi + lo) / 2.0, hi - lo


def apply_window(image: NDArray[np.floating], center: float, width: float) -> NDArray[np.uint8]:
    """Map ``center ± width/2`` linearly onto 0–255 (uint8), clipping outside."""
    width = max(float(width), 1e-9)
    lo = center - width / 2.0
    out = (np.asarray(image, dtype=np.float32) - lo) * (255.0 / width)
    return np.clip(np.nan_to_num(out), 0, 255).astype(np.uint8)


def _hot_lut() -> NDArray[np.uint8]:
    x = np.linspace(0.0, 1.0, 256)
    r = np.clip(3 * x, 0, 1)
    g = np.clip(3 * x - 1, 0, 1)
    b = np.clip(3 * x - 2, 0, 1)
    return (np.stack([r, g, b], axis=1) * 255).astype(np.uint8)


def _diff_lut() -> NDArray[np.uint8]:
    x = np.linspace(-1.0, 1.0, 256)
    r = np.clip(x, 0, 1)
    b = np.clip(-x, 0, 1)
    g = np.zeros_like(x)
    grey = 1 - np.abs(x)
    return (np.stack([r + 0.0 * grey, g, b], axis=1) * 255).astype(np.uint8)


_LUTS = {"hot": _hot_lut(), "diff": _diff_lut()}


def to_rgb(gray: NDArray[np.uint8], cmap: str = "gray") -> NDArray[np.uint8]:
    """(rows, cols) uint8 → (rows, cols, 3) uint8 through ``cmap`` (gray, inverse, hot, diff)."""
    if cmap == "gray":
        return np.repeat(gray[:, :, None], 3, axis=2)
    if cmap == "inverse":
        return np.repeat((255 - gray)[:, :, None], 3, axis=2)
    return _LUTS[cmap][gray]


def compose(panels: Sequence[NDArray[np.uint8]], gap: int = 4) -> NDArray[np.uint8]:
    """Place RGB panels side by side (padded to the tallest), separated by ``gap`` px."""
    height = max(p.shape[0] for p in panels)
    parts: list[NDArray[np.uint8]] = []
    for i, p in enumerate(panels):
        if i:
            parts.append(np.zeros((height, gap, 3), np.uint8))
        pad = height - p.shape[0]
        parts.append(np.pad(p, ((pad // 2, pad - pad // 2), (0, 0), (0, 0))))
    return np.concatenate(parts, axis=1)


def draw_text(
    img: Image.Image, xy: tuple[int, int], text: str, size: int = 13, fill=(235, 235, 150)
) -> None:
    """Overlay ``text`` with a dark outline so it reads on any background."""
    ImageDraw.Draw(img).text(
        xy, text, font=font(size), fill=fill, stroke_width=2, stroke_fill=(0, 0, 0)
    )


def _notice_top(img: Image.Image) -> int:
    """Top row of the bilingual notice the mentor's video track burns in under the frame
    (:data:`simulator.mentoring._draw.NOTICE`, drawn at ``(4, height - 14)`` in Pillow's
    default font): the banner keeps clear of it."""
    from simulator.mentoring._draw import NOTICE

    top = ImageDraw.Draw(img).textbbox((4, img.height - 14), NOTICE)[1]
    return min(int(top), img.height - 14)


def _banner_layout(img: Image.Image, lang: str) -> tuple[str, int, int, int, int]:
    """(text, font size, x, y of the text's top, top row of the band) of the banner."""
    text = {"fr": SIMULATED_BANNER_FR, "de": _BANNER_DE}.get(lang, SIMULATED_BANNER)
    size = max(9, min(16, img.width // 34))
    box = ImageDraw.Draw(img).textbbox((0, 0), text, font=font(size))
    tw, th = int(box[2] - box[0]), int(box[3] - box[1])
    x = max(2, (img.width - tw) // 2)
    y = _notice_top(img) - 3 - th  # the banner's last text row stays above the notice
    return text, size, x, y, max(0, y - 4)


def banner_top(img: Image.Image, lang: str) -> int:
    """Top row of the band :func:`draw_banner` burns into ``img`` (marks stay above it)."""
    return _banner_layout(img, lang)[4]


def draw_banner(img: Image.Image, lang: str) -> int:
    """Burn the "simulated — not for diagnosis" banner along the bottom of ``img``.

    The dark red band runs to the bottom edge; its own text sits above the bottom strip
    where the mentor's video track writes its bilingual notice, so that the two lines never
    overlap, whatever the frame size. Returns the band's top row.
    """
    text, size, x, y, top = _banner_layout(img, lang)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, top, img.width, img.height), fill=(90, 0, 0))
    off = draw.textbbox((0, 0), text, font=font(size))[1]
    draw.text((x, y - off), text, font=font(size), fill=(255, 230, 230))
    return top


#: Text of a mentor's annotation on the trainee's main image (px; WCAG-readable, ≥ 14).
ANNOTATION_TEXT_PX = 16


def draw_annotations(img: Image.Image, annotations: Sequence[dict]) -> None:
    """A mentor's annotations (arrows, circles, text; fractions of the frame) over ``img``:
    shapes as the mentor's page draws them (:func:`simulator.mentoring._draw.draw_overlay`),
    text at :data:`ANNOTATION_TEXT_PX` with an outline."""
    if not annotations:
        return
    from simulator.mentoring._draw import draw_overlay

    shapes = [dict(a, text="") for a in annotations]
    img.paste(Image.fromarray(draw_overlay(np.asarray(img), shapes, notice=False)))
    w, h = img.size
    for a in annotations:
        if a.get("text"):
            colour = a.get("color", "#ffd000")
            fill = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
            xy = (int(a["x0"] * (w - 1)) + 4, int(a["y0"] * (h - 1)) + 4)
            draw_text(img, xy, str(a["text"]), size=ANNOTATION_TEXT_PX, fill=fill)


def scale_to(
    rgb: NDArray[np.uint8], width: int, height: int, zoom: float = 1.0, aspect: float = 1.0
) -> Image.Image:
    """Fit ``rgb`` into ``width × height`` keeping its physical aspect, magnified ``zoom``.

    ``aspect`` is the pixel height over the pixel width (row spacing / column spacing, mm).
    """
    img = Image.fromarray(rgb)
    if abs(aspect - 1.0) > 1e-3:
        img = img.resize((img.width, max(1, round(img.height * aspect))), Image.Resampling.BILINEAR)
    if zoom > 1.0:
        w, h = img.size
        cw, ch = w / zoom, h / zoom
        left, top = (w - cw) / 2, (h - ch) / 2
        img = img.crop((round(left), round(top), round(left + cw), round(top + ch)))
    scale = min(width / img.width, height / img.height)
    new = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    img = img.resize(new, Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", (width, height), (0, 0, 0))
    canvas.paste(img, ((width - new[0]) // 2, (height - new[1]) // 2))
    return canvas


def png_bytes(img: Image.Image) -> bytes:
    """PNG encoding tuned for speed (these images change many times a second)."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _view_box(
    shape: tuple[int, ...], width: int, height: int, zoom: float, aspect: float
) -> tuple[int, float, float, float, float, int, int, int, int]:
    """Where :func:`scale_to` puts an image of ``shape`` in a ``width × height`` frame: the
    image rows after the aspect stretch, the zoomed crop (left, top, width, height in
    stretched image pixels) and its place in the frame (x, y offset, width, height)."""
    rows, cols = shape
    if abs(aspect - 1.0) > 1e-3:
        rows = max(1, round(rows * aspect))
    cw, ch = cols / max(zoom, 1.0), rows / max(zoom, 1.0)
    left, top = (cols - cw) / 2, (rows - ch) / 2
    if zoom > 1.0:
        left, top = round(left), round(top)
        cw, ch = round(left + cw) - left, round(top + ch) - top
    scale = min(width / cw, height / ch)
    new_w, new_h = max(1, round(cw * scale)), max(1, round(ch * scale))
    ox, oy = (width - new_w) // 2, (height - new_h) // 2
    return rows, left, top, cw, ch, ox, oy, new_w, new_h


def frame_to_image(
    x: float,
    y: float,
    shape: tuple[int, ...],
    width: int,
    height: int,
    zoom: float = 1.0,
    aspect: float = 1.0,
) -> tuple[int, int] | None:
    """Inverse of :func:`scale_to`: frame pixel (x, y) → image (col, row), None outside."""
    cols = shape[1]
    rows, left, top, cw, ch, ox, oy, new_w, new_h = _view_box(shape, width, height, zoom, aspect)
    u, v = (x - ox) / new_w * cw + left, (y - oy) / new_h * ch + top
    if not (0 <= u < cols and 0 <= v < rows):
        return None
    return int(u), int(v / (aspect if abs(aspect - 1.0) > 1e-3 else 1.0))


def image_to_frame(
    col: float,
    row: float,
    shape: tuple[int, ...],
    width: int,
    height: int,
    zoom: float = 1.0,
    aspect: float = 1.0,
) -> tuple[float, float, float]:
    """Forward of :func:`frame_to_image`: image (col, row) → frame (x, y), and the frame
    pixels per image column (to size a mark drawn around a finding)."""
    stretch = aspect if abs(aspect - 1.0) > 1e-3 else 1.0
    _, left, top, cw, ch, ox, oy, new_w, new_h = _view_box(shape, width, height, zoom, aspect)
    x = ox + (col - left) / cw * new_w
    y = oy + (row * stretch - top) / ch * new_h
    return x, y, new_w / cw


#: Colours of the AI marks by the trainee's decision, and of a finding the trainee added.
FINDING_COLOURS = {
    None: (255, 208, 0),  # undecided: amber
    "accept": (60, 220, 90),
    "reject": (255, 80, 80),
    "add": (80, 200, 255),
}
#: Text of a finding's id beside its mark (px).
FINDING_TEXT_PX = 14


def draw_findings(img: Image.Image, marks: Sequence[dict], bottom: int | None = None) -> None:
    """The AI's findings (boxes) and the trainee's own (circles) with their ids, over ``img``.

    ``marks`` are dicts with ``x``, ``y`` (frame pixels of the centre), ``rx``, ``ry``
    (half-extent in frame pixels), ``id``, ``shape`` (``"box"`` or ``"circle"``),
    ``decision`` (None, ``"accept"``, ``"reject"`` or ``"add"``) and ``centre`` (True on the
    finding's own slice: a full line; False on a neighbouring slice it spans: a thin one).
    Nothing is drawn at or below row ``bottom`` (the banner).
    """
    if not marks:
        return
    limit = img.height if bottom is None else bottom
    layer = Image.new("RGB", img.size, (0, 0, 0))
    mask = Image.new("L", img.size, 0)
    draw, mdraw = ImageDraw.Draw(layer), ImageDraw.Draw(mask)
    for m in marks:
        colour = FINDING_COLOURS.get(m.get("decision"), FINDING_COLOURS[None])
        rx, ry = max(float(m["rx"]), 5.0), max(float(m["ry"]), 5.0)
        box = (m["x"] - rx, m["y"] - ry, m["x"] + rx, m["y"] + ry)
        width = 2 if m.get("centre", True) else 1
        for d, fill in ((draw, colour), (mdraw, 255)):
            if m.get("shape") == "circle":
                d.ellipse(box, outline=fill, width=width)
            else:
                d.rectangle(box, outline=fill, width=width)
            if m.get("decision") == "reject":  # a rejected mark is struck through
                d.line((box[0], box[3], box[2], box[1]), fill=fill, width=1)
        label = str(m.get("id", ""))
        tx, ty = int(box[2]) + 3, int(box[1]) - 2
        tbox = ImageDraw.Draw(layer).textbbox((tx, ty), label, font=font(FINDING_TEXT_PX))
        if tbox[2] > img.width - 2:  # no room on the right: write it on the left
            tx = int(box[0]) - 3 - int(tbox[2] - tbox[0])
        for d, fill in ((draw, colour), (mdraw, 255)):
            d.text(
                (tx, ty),
                label,
                font=font(FINDING_TEXT_PX),
                fill=fill,
                stroke_width=2,
                stroke_fill=(0, 0, 0) if d is draw else 255,
            )
    if limit < img.height:
        ImageDraw.Draw(mask).rectangle((0, limit, img.width, img.height), fill=0)
    img.paste(layer, (0, 0), mask)


#: Colour of the trainee's ROI (cyan: apart from the AI's amber, green and red marks).
ROI_COLOUR = (0, 230, 255)
#: Text of the ROI's read-out beside it (px; readable in the mentor's video too).
ROI_TEXT_PX = 14


def draw_roi(
    img: Image.Image,
    x: float,
    y: float,
    rx: float,
    ry: float,
    lines: Sequence[str],
    bottom: int | None = None,
) -> None:
    """The trainee's ROI — its outline on this slice, an ellipse of half-axes ``rx``, ``ry``
    (frame pixels) centred on (``x``, ``y``) — with its read-out ``lines`` beside it (right of
    the circle, or left where the frame ends). Nothing is drawn at or below row ``bottom``
    (the banner)."""
    limit = img.height if bottom is None else bottom
    layer = Image.new("RGB", img.size, (0, 0, 0))
    mask = Image.new("L", img.size, 0)
    draw, mdraw = ImageDraw.Draw(layer), ImageDraw.Draw(mask)
    rx, ry = max(float(rx), 2.0), max(float(ry), 2.0)
    box = (x - rx, y - ry, x + rx, y + ry)
    for d, fill in ((draw, ROI_COLOUR), (mdraw, 255)):
        d.ellipse(box, outline=fill, width=2)
        d.line((x - 3, y, x + 3, y), fill=fill, width=1)
        d.line((x, y - 3, x, y + 3), fill=fill, width=1)
    f = font(ROI_TEXT_PX)
    sizes = [draw.textbbox((0, 0), t, font=f) for t in lines]
    tw = max((int(b[2] - b[0]) for b in sizes), default=0)
    step = ROI_TEXT_PX + 4
    tx = int(box[2]) + 6
    if tx + tw > img.width - 2:
        tx = max(2, int(box[0]) - 6 - tw)
    ty = int(min(max(y - step * len(lines) / 2, 2), max(limit - step * len(lines) - 2, 2)))
    for i, text in enumerate(lines):
        for d, fill in ((draw, ROI_COLOUR), (mdraw, 255)):
            d.text((tx, ty + i * step), text, font=f, fill=fill, stroke_width=2,
                   stroke_fill=(0, 0, 0) if d is draw else 255)
    if limit < img.height:
        ImageDraw.Draw(mask).rectangle((0, limit, img.width, img.height), fill=0)
    img.paste(layer, (0, 0), mask)
