"""Where the lab finds its course material and keeps its data."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["course_dir", "data_home", "default_db_url"]


def course_dir() -> Path:
    """The ``course/`` folder: ``$MERM_COURSE_DIR``, else the one beside the package."""
    env = os.environ.get("MERM_COURSE_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "course"


def data_home() -> Path:
    """Per-user data folder (``$MERM_HOME`` or ``~/.merm-lab``), created on demand."""
    home = Path(os.environ.get("MERM_HOME", Path.home() / ".merm-lab"))
    home.mkdir(parents=True, exist_ok=True)
    return home


def default_db_url() -> str:
    """``$MERM_DB_URL``, else a SQLite file in :func:`data_home`."""
    return os.environ.get("MERM_DB_URL") or f"sqlite:///{data_home() / 'progress.sqlite'}"
