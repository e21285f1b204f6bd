"""Durations as a technologist reads them on a console: ``mm:ss``.

Shared by the consoles and the AI evaluation report; no dependencies.
"""

from __future__ import annotations

__all__ = ["format_mmss"]


def format_mmss(seconds: float) -> str:
    """``mm:ss`` (``h:mm:ss`` past an hour) of a duration in seconds; negative reads 00:00.

    Examples
    --------
    >>> format_mmss(345.6), format_mmss(691.2), format_mmss(3725)
    ('05:46', '11:31', '1:02:05')
    """
    s = int(round(max(0.0, seconds)))
    if s >= 3600:
        return f"{s // 3600}:{(s % 3600) // 60:02d}:{s % 60:02d}"
    return f"{s // 60:02d}:{s % 60:02d}"
