"""Slice planning on the 3-plane localizer: slice stack and FOV box, moved and angled.

The three scout images come from :func:`simulator.mr.localizer` (a fast gradient echo through
the same pipeline as any series). The planned slices are drawn as lines where they cut each
scout (:meth:`Localizer.stack_lines`, the geometry ``scan`` will use, oblique included) and
the FOV box (read × phase) on the scout parallel to the slices. Clicking a scout moves the
stack centre to that point; the wheel angles the stack; sliders do both numerically. A
banner warns when part of the imaged body lies outside the phase FOV (wrap-around expected):
the measure of :func:`simulator.mr.planning.wrap_estimate`, on the stack as planned (centre,
angle, slices), the same as the scan's own warning and the exercises' ``wrap``.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import numpy as np
from PIL import Image, ImageDraw

from simulator.console import _render
from simulator.console._a11y import A11yBridge
from simulator.console.i18n import Labels
from simulator.mr import planning

__all__ = ["VIEWS", "draw_view", "click_to_centre", "wrap_banner", "Planning"]

#: Scout planes, in display order.
VIEWS = ("axial", "coronal", "sagittal")
SIZE = 215


def wrap_banner(anatomy: Any, protocol: Any, geometry: Any, labels: Labels) -> str:
    """HTML of the wrap-around banner under the scouts: the measure of
    :func:`simulator.mr.planning.wrap_estimate` (the stack's centre, angles and slices, as the
    scan folds it), empty when the protocol cannot be planned (the card says why)."""
    try:
        w = planning.wrap_estimate(anatomy, protocol, geometry)
    except ValueError:
        return ""
    if w.wraps:
        text = labels.t("wrap_warn", fov=w.phase_fov_mm, body=w.body_mm)
        return f"<b style='color:#c62828'>⚠ {text}</b>"
    return f"<span style='color:#2e7d32'>{labels.t('no_wrap')}</span>"


def draw_view(loc: Any, view: str, geometry: Any, protocol: Any, size: int = SIZE) -> Image.Image:
    """One scout with the planned slices (lines) and, when parallel to them, the FOV box."""
    scout = loc.image(view)
    c, w = _render.auto_window(scout)
    img = Image.fromarray(_render.to_rgb(_render.apply_window(scout, c, w * 1.2)))
    rows, cols = scout.shape
    img = img.resize((size, size), Image.Resampling.BILINEAR)
    sy, sx = size / rows, size / cols
    draw = ImageDraw.Draw(img)
    try:
        lines = loc.stack_lines(view, protocol, geometry)
        corners = planning.fov_corners_mm(protocol, geometry)
    except ValueError:  # a protocol the planner refuses (the card already says why)
        lines, corners = [], None
    drawn = [ln for ln in lines if ln is not None]
    for k, ((r0, c0), (r1, c1)) in enumerate(drawn):
        colour = (255, 210, 0) if k in (0, len(drawn) - 1) else (0, 200, 255)
        draw.line(
            [((c0 + 0.5) * sx, (r0 + 0.5) * sy), ((c1 + 0.5) * sx, (r1 + 0.5) * sy)],
            fill=colour,
            width=1,
        )
    normal = planning.plane_axes(geometry)[2]
    if corners is not None and abs(float(normal @ loc.normal(view))) > 0.7:
        # the scout is (nearly) parallel to the slices: the FOV box (phase × read)
        pts = []
        for p in corners:
            r, cc = loc.to_pixel(view, (float(p[0]), float(p[1]), float(p[2])))
            pts.append(((cc + 0.5) * sx, (r + 0.5) * sy))
        draw.polygon(pts, outline=(255, 80, 80), width=2)
    _render.draw_text(img, (4, 2), view, size=12)
    return img


def click_to_centre(
    loc: Any, view: str, x: float, y: float, centre_mm: tuple[float, float, float], size: int = SIZE
) -> tuple[float, float, float]:
    """New stack centre for a click at (x, y) px on ``view``: the clicked point, keeping the
    centre's offset along the scout's normal (a click on the sagittal scout does not move
    the stack left or right)."""
    n = loc.normal(view)
    rows, cols = loc.shape(view)
    p = np.asarray(loc.to_mm(view, y / size * rows - 0.5, x / size * cols - 0.5))
    c = np.asarray(centre_mm, float)
    new = p + float((c - p) @ n) * n
    return (round(float(new[0]), 1), round(float(new[1]), 1), round(float(new[2]), 1))


class Planning:
    """Three clickable localizer views + numeric centre/angle controls bound to a session."""

    def __init__(self, session: Any, labels: Labels) -> None:
        self.session, self.L = session, labels
        self._syncing = False
        self.images: dict[str, W.Image] = {}
        for view in VIEWS:
            im = W.Image(format="png", layout=W.Layout(width=f"{SIZE}px", height=f"{SIZE}px"))
            im.add_class(f"merm-localizer-{view}")
            self.images[view] = im
        self.a11y = A11yBridge()  # an accessible name for each scout, in the language
        self._name_views()
        labels.on_switch(lambda lang: self._name_views())
        self.cx = labels(W.FloatSlider(min=-150, max=150, step=1), "center_x")
        self.cy = labels(W.FloatSlider(min=-150, max=150, step=1), "center_y")
        self.cz = labels(W.FloatSlider(min=-200, max=200, step=1), "center_z")
        self.angle = labels(W.FloatSlider(min=-45, max=45, step=1), "angle")
        for key, w in (("x", self.cx), ("y", self.cy), ("z", self.cz), ("angle", self.angle)):
            w.add_class(f"merm-plan-{key}")
            w.style = {"description_width": "180px"}
            w.layout = W.Layout(width="450px")
            w.continuous_update = False
            w.observe(lambda ch: self._moved(), "value")
        self.wrap = W.HTML()
        self.wrap.add_class("merm-wrap")
        self.hint = labels(W.HTML(), "plan_hint", "value")
        self.events = []
        try:
            from ipyevents import Event

            for view, im in self.images.items():
                ev = Event(
                    source=im, watched_events=["click", "wheel"], prevent_default_action=True
                )
                ev.on_dom_event(lambda e, v=view: self._mouse(v, e))
                self.events.append(ev)
        except ImportError:
            pass
        views = W.HBox([self.a11y, *self.images.values()])
        views.add_class("merm-dark")
        self.widget = W.VBox([views, self.hint, self.cx, self.cy, self.cz, self.angle, self.wrap])
        self.widget.add_class("merm-planning")
        labels.on_switch(lambda lang: self.refresh())
        self._loc_key: Any = None
        self._loc: Any = None

    def _name_views(self) -> None:
        self.a11y.names = {f"merm-localizer-{view}": self.L.t("localizer_name", plane=self.L.t(view))
                           for view in self.images}

    def _localizer(self) -> Any:
        """The scout of the current anatomy (acquired once per anatomy, ~0.2 s)."""
        from simulator.mr import localizer

        anat = self.session.anatomy
        if id(anat) != self._loc_key:
            self._loc, self._loc_key = localizer(anat, rng=self.session.seed), id(anat)
        return self._loc

    def _moved(self) -> None:
        if self._syncing:
            return
        self.session.apply_command(
            {
                "type": "set_geometry",
                "center_mm": (self.cx.value, self.cy.value, self.cz.value),
                "angle_deg": self.angle.value,
            },
            "local",
            "trainee",
        )

    def _mouse(self, view: str, e: dict) -> None:
        """Click: centre the stack there; wheel: angle it by 1° per notch (5° with Shift)."""
        if e.get("type") == "wheel":
            a = float(np.ravel(self.session.geometry.angle_deg)[0])
            step = (5.0 if e.get("shiftKey") else 1.0) * (1 if e.get("deltaY", 0) < 0 else -1)
            self.session.apply_command(
                {"type": "set_geometry", "angle_deg": float(np.clip(a + step, -45, 45))},
                "local",
                "trainee",
            )
        else:
            self.click(view, e.get("relativeX", 0), e.get("relativeY", 0))

    def click(self, view: str, x: float, y: float) -> None:
        """Move the stack centre to the clicked point of ``view`` (pixel coordinates)."""
        centre = click_to_centre(self._localizer(), view, x, y, self.session.geometry.center_mm)
        self.session.apply_command(
            {"type": "set_geometry", "center_mm": centre}, "local", "trainee"
        )

    def refresh(self) -> None:
        s = self.session
        if s.geometry is None:
            return
        loc = self._localizer()
        for view, im in self.images.items():
            im.value = _render.png_bytes(draw_view(loc, view, s.geometry, s.protocol))
        self._syncing = True
        try:
            c = s.geometry.center_mm
            self.cx.value, self.cy.value, self.cz.value = c
            a = s.geometry.angle_deg
            self.angle.value = a if np.isscalar(a) else a[0]
        finally:
            self._syncing = False
        self.wrap.value = wrap_banner(s.anatomy, s.protocol, s.geometry, self.L)
