"""A mentor's annotations on the trainee's main image: text ≥ 14 px, cleared by a new series
unless pinned."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from simulator.console import _render


def _png(viewer) -> np.ndarray:  # noqa: ANN001
    return np.asarray(Image.open(io.BytesIO(viewer.image.value)).convert("RGB"))


def test_annotations_drawn_large_and_cleared_on_a_new_series_unless_pinned() -> None:
    from simulator.console.mr_console import MRConsole

    assert _render.ANNOTATION_TEXT_PX >= 14
    c = MRConsole(lang="en")
    s = c.session
    s.clock = "max"
    s.set_screening("ok")
    assert s.start_scan()["ok"]
    s.wait(300.0)  # hang guard only
    plain = _png(c.viewer)
    arrow = {"shape": "arrow", "x0": 0.2, "y0": 0.3, "x1": 0.5, "y1": 0.5, "color": "#00ff00",
             "text": "lesion?"}
    circle = {"shape": "circle", "x0": 0.6, "y0": 0.6, "x1": 0.65, "y1": 0.6,
              "color": "#ff00ff", "pinned": True}
    s.set_annotations([arrow, circle])  # what the mentoring link calls
    drawn = _png(c.viewer)
    green = (drawn[..., 1] > 200) & (drawn[..., 0] < 80) & (drawn[..., 2] < 80)
    assert green.sum() > 50 and not np.array_equal(drawn, plain)
    # the text is at least 14 px tall: green rows spanned by the label right of the arrow tail
    x0, y0 = int(0.2 * (drawn.shape[1] - 1)) + 4, int(0.3 * (drawn.shape[0] - 1)) + 4
    box = green[y0 : y0 + 30, x0 + 10 : x0 + 90]  # past the arrow's line
    rows = np.flatnonzero(box.any(axis=1))
    assert rows.size and rows.max() - rows.min() + 1 >= 10  # cap height of 16 px text
    # the mentor's own video frame carries no second copy
    assert not np.array_equal(s.render_frame(544, 420), drawn)
    # a new series: only the pinned circle stays
    assert s.start_scan()["ok"]
    s.wait(300.0)
    assert s.annotations == [circle]
    after = _png(c.viewer)
    magenta = (after[..., 0] > 200) & (after[..., 1] < 80) & (after[..., 2] > 200)
    green = (after[..., 1] > 200) & (after[..., 0] < 80) & (after[..., 2] < 80)
    assert magenta.sum() > 20 and green.sum() == 0
