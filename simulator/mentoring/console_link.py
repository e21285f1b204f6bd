"""The console as the mentoring package sees it (``docs/architecture.md``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["ConsoleLike"]


@runtime_checkable
class ConsoleLike(Protocol):
    """A trainee console model: state, commands, rendering and change events."""

    modality: str

    def snapshot(self) -> dict: ...

    def apply_command(self, command: dict, actor: str, role: str) -> dict: ...

    def render_frame(self, width: int = 640, height: int = 480) -> np.ndarray: ...

    def on_change(self, callback: Callable[[dict], None]) -> None: ...
