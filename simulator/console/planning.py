"""Slice planning on the 3-plane localizer: slice stack and FOV box, moved and angled.

The three scout images come from :func:`simulator.mr.localizer` (a fast gradient echo through
the same pipeline as any series). The planned slices are drawn as lines where they cut each
scout (:meth:`Localizer.stack_lines`, the geometry ``scan`` will use, oblique included) and
the FOV box (read × phase) on the scout parallel to the slices. Clicking a scout moves the
stack centre to that point; the wheel angles the stack; sliders do both numerically. A
banner warns when the phase FOV is smaller than the body along the phase direction
(wrap-around expected).
"""

from __future__ import annotations

import functools
from typing import Any

import ipywidgets as W
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from simulator.console import _render
from simulator.console.i18n import Labels

__all__ = ["VIEWS", "body_extent_mm", "wrap_risk", "draw_view", "click_to_centre", "Planning"]

#: Scout planes, in display order.
VIEWS = ("axial", "coronal", "sagittal")
_PHASE_AXIS = {"RL": 0, "AP": 1, "HF": 2}
_PHASE_VEC = {"RL": (1.0, 0.0, 0.0), "AP": (0.0, 1.0, 0.0), "HF": (0.0, 0.0, 1.0)}
SIZE = 215


@functools.lru_cache(maxsize=8)
def _extent_cached(
    key: int, labels_id: int, shape: tuple[int, ...], voxel: tuple[float, ...], anat: Any
) -> tuple[float, float, float]:
    body = anat.labels > 0
    out = []
    for axis_xyz in range(3):
        arr_axis = 2 - axis_xyz
        other = tuple(a for a in range(3) if a != arr_axis)
        idx = np.flatnonzero(body.any(axis=other))
        out.append(float((idx[-1] - idx[0] + 1) * voxel[arr_axis]) if idx.size else 0.0)
    return tuple(out)  # type: ignore[return-value]


def body_extent_mm(anat: Any) -> tuple[float, float, float]:
    """Extent of the body (non-air labels) along x, y, z in mm."""
    return _extent_cached(id(anat), id(anat.labels), anat.labels.shape, tuple(anat.voxel_mm), anat)


def wrap_risk(anat: Any, protocol: Any) -> tuple[float, float]:
    """(phase FOV mm, body extent along the phase direction mm); wrap when the first is smaller."""
    phase_fov = float(
        getattr(protocol, "phase_fov_mm", protocol.fov_mm * protocol.phase_fov_pct / 100.0)
    )
    return phase_fov, body_extent_mm(anat)[_PHASE_AXIS[protocol.phase_dir]]


def _plane_frame(loc: Any, view: str) -> tuple[NDArray[np.float64], NDArray[np.float64], int, int]:
    """(first-pixel position, plane normal, rows, cols) of a scout."""
    s = loc._get(view)
    iop = np.asarray(s.orientation_cosines, float)
    normal = np.cross(iop[:3], iop[3:])
    rows, cols = s.images.shape[1:]
    return np.asarray(s.slice_positions_mm[0], float), normal / np.linalg.norm(normal), rows, cols


def draw_view(loc: Any, view: str, geometry: Any, protocol: Any, size: int = SIZE) -> Image.Image:
    """One scout with the planned slices (lines) and, when parallel to them, the FOV box."""
    from simulator.mr.geometry import plane_axes

    scout = loc.image(view)
    c, w = _render.auto_window(scout)
    img = Image.fromarray(_render.to_rgb(_render.apply_window(scout, c, w * 1.2)))
    rows, cols = scout.shape
    img = img.resize((size, size), Image.Resampling.BILINEAR)
    sy, sx = size / rows, size / cols
    draw = ImageDraw.Draw(img)
    try:
        lines = loc.stack_lines(view, protocol, geometry)
    except ValueError:  # a protocol the planner refuses (the card already says why)
        lines = []
    drawn = [ln for ln in lines if ln is not None]
    for k, ((r0, c0), (r1, c1)) in enumerate(drawn):
        colour = (255, 210, 0) if k in (0, len(drawn) - 1) else (0, 200, 255)
        draw.line(
            [((c0 + 0.5) * sx, (r0 + 0.5) * sy), ((c1 + 0.5) * sx, (r1 + 0.5) * sy)],
            fill=colour,
            width=1,
        )
    row_dir, col_dir, normal = plane_axes(geometry)
    _first, plane_n, _r, _c = _plane_frame(loc, view)
    if abs(float(normal @ plane_n)) > 0.7:  # the scout is (nearly) parallel to the slices
        phase = np.asarray(_PHASE_VEC[protocol.phase_dir])
        phase_fov = float(
            getattr(protocol, "phase_fov_mm", protocol.fov_mm * protocol.phase_fov_pct / 100.0)
        )
        hr = (phase_fov if abs(row_dir @ phase) > 0.5 else protocol.fov_mm) / 2
        hc = (phase_fov if abs(col_dir @ phase) > 0.5 else protocol.fov_mm) / 2
        centre = np.asarray(geometry.center_mm, float)
        corners = [
            centre + a * hr * row_dir + b * hc * col_dir
            for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))
        ]
        pts = []
        for p in corners:
            r, cc = loc.to_pixel(view, tuple(p))
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
    _first, n, rows, cols = _plane_frame(loc, view)
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
        views = W.HBox(list(self.images.values()))
        views.add_class("merm-dark")
        self.widget = W.VBox([views, self.hint, self.cx, self.cy, self.cz, self.angle, self.wrap])
        self.widget.add_class("merm-planning")
        labels.on_switch(lambda lang: self.refresh())
        self._loc_key: Any = None
        self._loc: Any = None

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
        fov, body = wrap_risk(s.anatomy, s.protocol)
        if fov < body:
            self.wrap.value = (
                f"<b style='color:#c62828'>⚠ {self.L.t('wrap_warn', fov=fov, body=body)}</b>"
            )
        else:
            self.wrap.value = f"<span style='color:#2e7d32'>{self.L.t('no_wrap')}</span>"
