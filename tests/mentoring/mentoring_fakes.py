"""A small console implementing ConsoleLike for the mentoring tests and benchmark.

It really changes state (parameters with ranges, a series list that grows with each
scan, slice, window) and renders frames with numpy: a disc whose brightness follows the
window and a marker square whose grey level encodes the number of series, so a
receiver can tell from the decoded video which scan it is looking at.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: The hub secret of the test hubs (at least 16 bytes, as the hub requires).
SECRET = b"test-secret-0123456789abcdef0123456789"

RANGES = {"tr_ms": (10.0, 10000.0), "te_ms": (1.0, 300.0), "activity_mbq": (20.0, 600.0)}
MARKER_PX = 48


def marker_level(n_series: int) -> int:
    """Grey level of the marker square after ``n_series`` scans (distinct for 0–5)."""
    return 20 + 40 * (n_series % 6)


class FakeConsole:
    def __init__(self, modality: str = "mr") -> None:
        self.modality = modality
        self.params: dict[str, float] = (
            {"tr_ms": 500.0, "te_ms": 15.0} if modality == "mr" else {"activity_mbq": 200.0}
        )
        self.series: list[dict] = []
        self.slice = 0
        self.window = (300.0, 800.0)
        self.controller: str | None = None
        self.log: list[tuple[str, str, dict]] = []
        self._callbacks: list[Callable[[dict], None]] = []

    def snapshot(self) -> dict:
        return {
            "modality": self.modality,
            "protocol": dict(self.params),
            "series": list(self.series),
            "slice": self.slice,
            "window": list(self.window),
            "controller": self.controller,
        }

    def on_change(self, callback: Callable[[dict], None]) -> None:
        self._callbacks.append(callback)

    def _changed(self, event: dict) -> None:
        for cb in self._callbacks:
            cb(event)

    def set_controller(self, name: str | None) -> None:
        self.controller = name

    def apply_command(self, command: dict, actor: str, role: str) -> dict:
        self.log.append((actor, role, command))
        kind = command.get("type")
        if kind == "set_param":
            name, value = command.get("name"), command.get("value")
            if name not in self.params:
                return {
                    "ok": False,
                    "message": f"unknown parameter {name}",
                    "before": None,
                    "after": None,
                }
            lo, hi = RANGES[name]
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not lo <= value <= hi
            ):
                return {
                    "ok": False,
                    "message": f"{name}: allowed {lo:g}–{hi:g}",
                    "before": self.params[name],
                    "after": self.params[name],
                }
            before = self.params[name]
            self.params[name] = float(value)
            self._changed({"type": "param", "name": name})
            return {"ok": True, "message": "", "before": before, "after": float(value)}
        if kind == "scan":
            before = len(self.series)
            self.series.append({"n": before + 1, "by": actor, "protocol": dict(self.params)})
            self._changed({"type": "series", "n": before + 1})
            return {"ok": True, "message": "", "before": before, "after": before + 1}
        if kind == "set_slice":
            before, self.slice = self.slice, int(command["index"])
            self._changed({"type": "slice"})
            return {"ok": True, "message": "", "before": before, "after": self.slice}
        if kind == "set_window":
            before = list(self.window)
            self.window = (float(command["center"]), float(command["width"]))
            self._changed({"type": "window"})
            return {"ok": True, "message": "", "before": before, "after": list(self.window)}
        return {
            "ok": False,
            "message": f"unsupported command {kind}",
            "before": None,
            "after": None,
        }

    def render_frame(self, width: int = 640, height: int = 480) -> np.ndarray:
        yy, xx = np.mgrid[0:height, 0:width]
        r = np.hypot(yy - height / 2, xx - width / 2)
        level = np.clip(self.window[0] / 4, 0, 255)
        img = np.where(r < min(width, height) / 3, level, 10).astype(np.uint8)
        rgb = np.repeat(img[:, :, None], 3, axis=2)
        rgb[:MARKER_PX, :MARKER_PX] = marker_level(len(self.series))
        return rgb


def marker_of(frame) -> float:  # noqa: ANN001 - av.VideoFrame
    """Mean grey level of the marker square in a decoded frame (luma plane)."""
    y = frame.to_ndarray(format="gray")
    return float(y[8 : MARKER_PX - 8, 8 : MARKER_PX - 8].mean())


async def grant_control(link, mentor) -> None:  # noqa: ANN001 - TraineeLink, HubClient
    """The mentor asks for control and the trainee's kernel grants it."""
    start = len(mentor.received)
    await mentor.send({"type": "request_control"})
    await link.client.wait_for(
        "control", lambda m: any(p["peer"] == mentor.peer_id for p in m["pending"])
    )
    await link.grant(mentor.peer_id)
    await mentor.wait_for("control", lambda m: m["holder"] == mentor.peer_id, start=start)
