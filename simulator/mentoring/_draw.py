"""Annotations and the "simulated" notice drawn into console frames (Pillow)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["draw_overlay", "NOTICE"]

NOTICE = (
    "SIMULATED - not for diagnosis / SIMULE - pas pour le diagnostic"  # ASCII: default bitmap font
)


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def draw_overlay(
    rgb: np.ndarray, annotations: Iterable[dict[str, Any]], notice: bool = True
) -> np.ndarray:
    """Return a copy of ``rgb`` (rows, cols, 3) uint8 with annotations drawn on it.

    Annotation coordinates are fractions of the width and height (0–1), so the same
    annotation lands on the same anatomy whatever the frame size.
    """
    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    h, w = rgb.shape[:2]
    line = max(2, w // 200)
    for a in annotations:
        color = _rgb(a.get("color", "#ffd000"))
        x0, y0 = a["x0"] * (w - 1), a["y0"] * (h - 1)
        x1, y1 = a.get("x1", 0.0) * (w - 1), a.get("y1", 0.0) * (h - 1)
        if a["shape"] == "arrow":
            draw.line([(x0, y0), (x1, y1)], fill=color, width=line)
            angle = math.atan2(y1 - y0, x1 - x0)
            head = max(8.0, 0.03 * w)
            for side in (-0.45, 0.45):
                draw.line(
                    [
                        (x1, y1),
                        (x1 - head * math.cos(angle + side), y1 - head * math.sin(angle + side)),
                    ],
                    fill=color,
                    width=line,
                )
        elif a["shape"] == "circle":
            r = math.hypot(x1 - x0, y1 - y0)
            draw.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], outline=color, width=line)
        if a.get("text"):
            draw.text((x0 + 4, y0 + 4), a["text"], fill=color)
    if notice:
        draw.text((4, h - 14), NOTICE, fill=(255, 255, 255))
    return np.asarray(image)
