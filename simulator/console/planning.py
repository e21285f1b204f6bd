"""Slice planning on the 3-plane localizer: slice stack and FOV box, moved and angled.

The three localizer views (axial, coronal, sagittal through the stack centre) are drawn
with the planned slices as lines where they cut the view, and the FOV box (read × phase)
where the view is parallel to the slices. Clicking a view moves the stack centre there;
sliders set the centre and the oblique angle numerically. A banner warns when the phase
FOV is smaller than the body along the phase direction (wrap-around expected).

Geometry conventions follow ``simulator.mr``: patient LPS with z toward the head; array
axes (z, y, x). Views are displayed radiologically (patient left on the image right).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import ipywidgets as W
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from simulator.console import _render
from simulator.console.i18n import Labels

__all__ = [
    "VIEWS",
    "slice_normal",
    "stack_centres",
    "body_extent_mm",
    "wrap_risk",
    "localizer_images",
    "Planning",
]

#: view -> (axis index of the view normal in (x, y, z), in-plane (u, v) axes in (x, y, z), v flipped)
VIEWS: dict[str, tuple[int, tuple[int, int], bool]] = {
    "axial": (2, (0, 1), False),  # cols = x (left →), rows = y (posterior ↓)
    "coronal": (1, (0, 2), True),  # cols = x, rows = z (head ↑)
    "sagittal": (0, (1, 2), True),  # cols = y (posterior →), rows = z (head ↑)
}
_BASE_NORMAL = {"axial": (0.0, 0.0, 1.0), "coronal": (0.0, 1.0, 0.0), "sagittal": (1.0, 0.0, 0.0)}
_ROW_AXIS = {"axial": (1.0, 0.0, 0.0), "coronal": (1.0, 0.0, 0.0), "sagittal": (0.0, 1.0, 0.0)}
_PHASE_AXIS = {"RL": 0, "AP": 1, "HF": 2}
SIZE = 215


def _rotate(v: NDArray[np.float64], axis: NDArray[np.float64], deg: float) -> NDArray[np.float64]:
    """Rodrigues rotation of ``v`` about unit ``axis`` by ``deg``."""
    a = math.radians(deg)
    return (
        v * math.cos(a)
        + np.cross(axis, v) * math.sin(a)
        + axis * np.dot(axis, v) * (1 - math.cos(a))
    )


def slice_normal(orientation: str, angle_deg: float | tuple[float, float]) -> NDArray[np.float64]:
    """Unit normal of the slices: base normal turned about the row axis (then the column axis)."""
    n = np.array(_BASE_NORMAL[orientation])
    row = np.array(_ROW_AXIS[orientation])
    a, b = (angle_deg, 0.0) if np.isscalar(angle_deg) else tuple(angle_deg)  # type: ignore[misc]
    n = _rotate(n, row, float(a))
    col = np.cross(n, row)
    n = _rotate(n, col / np.linalg.norm(col), float(b))
    return n / np.linalg.norm(n)


def stack_centres(
    center_mm: tuple[float, float, float],
    normal: NDArray[np.float64],
    slices: int,
    slice_mm: float,
    gap_mm: float,
) -> NDArray[np.float64]:
    """(slices, 3) patient positions of each slice centre, spaced ``slice_mm + gap_mm``."""
    k = np.arange(slices) - (slices - 1) / 2.0
    return (
        np.asarray(center_mm, float)[None, :] + k[:, None] * (slice_mm + gap_mm) * normal[None, :]
    )


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


def localizer_images(anat: Any, field_t: float = 1.5) -> dict[str, Any]:
    """Three mid-planes of a fast T1-weighted localizer and their mm frames.

    Uses ``simulator.mr.localizer`` when it gives (axial, coronal, sagittal) images on the
    anatomy grid; otherwise computes the signal of a short-TR gradient echo,
    PD·(1 − e^(−TR/T1)) with TR = 150 ms, per tissue of the label volume (no noise).
    """
    from simulator.mr.tissues import tissue_table

    table = tissue_table(field_t)
    lut = np.array(
        [0.0]
        + [
            table[n].pd * (1 - math.exp(-150.0 / table[n].t1_ms)) if n in table else 0.0
            for n in anat.names[1:]
        ],
        dtype=np.float32,
    )
    return {
        "volume": lut[anat.labels],
        "origin": np.asarray(anat.origin_mm, float),
        "voxel": np.asarray(anat.voxel_mm, float)[::-1],
    }  # voxel in (x, y, z)


def _view_image(
    loc: dict[str, Any], view: str, center: NDArray[np.float64]
) -> tuple[NDArray[np.float32], tuple[float, float, float, float]]:
    vol, origin, voxel = loc["volume"], loc["origin"], loc["voxel"]
    w_axis, (u_axis, v_axis), flip = VIEWS[view]
    idx = int(round((center[w_axis] - origin[w_axis]) / voxel[w_axis]))
    arr_w = 2 - w_axis
    idx = min(max(idx, 0), vol.shape[arr_w] - 1)
    plane = np.take(vol, idx, axis=arr_w)  # remaining array axes in (z, y, x) order minus arr_w
    # plane axes are (higher xyz axis, lower xyz axis) → rows = v, cols = u
    u0 = origin[u_axis] - voxel[u_axis] / 2
    v0 = origin[v_axis] - voxel[v_axis] / 2
    u1 = u0 + vol.shape[2 - u_axis] * voxel[u_axis]
    v1 = v0 + vol.shape[2 - v_axis] * voxel[v_axis]
    if flip:
        plane = plane[::-1]
    return plane, (u0, u1, v0, v1)


def planned_stack(geometry: Any, protocol: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(normal, slice centres) exactly as ``simulator.mr`` places them (own model as fallback)."""
    try:
        from simulator.mr.geometry import plan_slices, plane_axes

        return np.asarray(plane_axes(geometry)[2]), np.asarray(
            plan_slices(protocol, geometry).centers_mm
        )
    except (ImportError, ValueError, AttributeError):  # ParameterError is a ValueError
        n = slice_normal(geometry.orientation, geometry.angle_deg)
        return n, stack_centres(
            tuple(geometry.center_mm), n, protocol.slices, protocol.slice_mm, protocol.gap_mm
        )


def draw_view(
    loc: dict[str, Any], view: str, geometry: Any, protocol: Any, size: int = SIZE
) -> tuple[Image.Image, tuple]:
    """One localizer view with the slice stack / FOV box; returns (image, mm frame)."""
    center = np.asarray(geometry.center_mm, float)
    plane, (u0, u1, v0, v1) = _view_image(loc, view, center)
    c, w = _render.auto_window(plane)
    rgb = _render.to_rgb(_render.apply_window(plane, c, w * 1.2))
    img = Image.fromarray(rgb).resize((size, size), Image.Resampling.BILINEAR)
    w_axis, (ua, va), flip = VIEWS[view]

    def px(u: float, v: float) -> tuple[float, float]:
        x = (u - u0) / (u1 - u0) * size
        y = (v - v0) / (v1 - v0) * size
        return x, (size - y if flip else y)

    draw = ImageDraw.Draw(img)
    n, centres = planned_stack(geometry, protocol)
    half = protocol.fov_mm / 2
    in_plane = np.array([n[ua], n[va]])
    if np.linalg.norm(in_plane) > 0.2:  # slices cut this view: lines
        d = np.array([-in_plane[1], in_plane[0]]) / np.linalg.norm(in_plane)
        for k, p in enumerate(centres):
            a = (p[ua] - d[0] * half, p[va] - d[1] * half)
            b = (p[ua] + d[0] * half, p[va] + d[1] * half)
            colour = (255, 210, 0) if k in (0, len(centres) - 1) else (0, 200, 255)
            draw.line([px(*a), px(*b)], fill=colour, width=1)
    # FOV box: read × phase in the slice plane, drawn where the view is close to the slice plane
    if abs(n[w_axis]) > 0.7:
        phase_axis = _PHASE_AXIS[protocol.phase_dir]
        pf = (
            float(
                getattr(protocol, "phase_fov_mm", protocol.fov_mm * protocol.phase_fov_pct / 100.0)
            )
            / 2
        )
        hu = pf if ua == phase_axis else half
        hv = pf if va == phase_axis else half
        cu, cv = center[ua], center[va]
        box = [px(cu - hu, cv - hv), px(cu + hu, cv + hv)]
        xs, ys = sorted([box[0][0], box[1][0]]), sorted([box[0][1], box[1][1]])
        draw.rectangle([xs[0], ys[0], xs[1], ys[1]], outline=(255, 80, 80), width=2)
    _render.draw_text(img, (4, 2), view, size=12)
    return img, (u0, u1, v0, v1)


class Planning:
    """Three clickable localizer views + numeric centre/angle controls bound to a session."""

    def __init__(self, session: Any, labels: Labels) -> None:
        self.session, self.L = session, labels
        self._syncing = False
        self.images: dict[str, W.Image] = {}
        self.frames: dict[str, tuple] = {}
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
            w.style = {"description_width": "150px"}
            w.layout = W.Layout(width="420px")
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
        self._loc: dict[str, Any] | None = None

    def _localizer(self) -> dict[str, Any]:
        anat = self.session.anatomy
        key = (id(anat), self.session.protocol.field_t)
        if key != self._loc_key:
            self._loc, self._loc_key = localizer_images(anat, self.session.protocol.field_t), key
        assert self._loc is not None
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
            a = self.session.geometry.angle_deg
            a = a if np.isscalar(a) else a[0]
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
        u0, u1, v0, v1 = self.frames[view]
        _w, (ua, va), flip = VIEWS[view]
        u = u0 + x / SIZE * (u1 - u0)
        v = v0 + ((SIZE - y) if flip else y) / SIZE * (v1 - v0)
        c = list(self.session.geometry.center_mm)
        c[ua], c[va] = round(u, 1), round(v, 1)
        self.session.apply_command(
            {"type": "set_geometry", "center_mm": tuple(c)}, "local", "trainee"
        )

    def refresh(self) -> None:
        s = self.session
        if s.geometry is None:
            return
        loc = self._localizer()
        for view, im in self.images.items():
            img, frame = draw_view(loc, view, s.geometry, s.protocol)
            self.frames[view] = frame
            im.value = _render.png_bytes(img)
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
