"""Where the lab finds its course material and keeps its data."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PACKAGED_COURSE", "course_dir", "data_home", "default_db_url"]


#: The course shipped inside the package (``simulator/course``: package data of a wheel, a
#: link to the repository's ``course/`` in a checkout).
PACKAGED_COURSE = (Path(__file__).resolve().parent / "course").resolve()


def course_dir() -> Path:
    """The course folder (``dashboards/``, ``lessons/``, ``exercises/``).

    ``$MERM_COURSE_DIR`` when set (``merm-lab serve --course DIR`` sets it for its kernels),
    else the course shipped in the package, else the repository's ``course/`` beside it.
    """
    env = os.environ.get("MERM_COURSE_DIR")
    if env:
        return Path(env).expanduser()
    if (PACKAGED_COURSE / "exercises").is_dir():
        return PACKAGED_COURSE
    return Path(__file__).resolve().parent.parent / "course"


def data_home() -> Path:
    """Per-user data folder (``$MERM_HOME`` or ``~/.merm-lab``), created on demand."""
    home = Path(os.environ.get("MERM_HOME", Path.home() / ".merm-lab"))
    home.mkdir(parents=True, exist_ok=True)
    return home


def default_db_url() -> str:
    """``$MERM_DB_URL``, else a SQLite file in :func:`data_home`."""
    return os.environ.get("MERM_DB_URL") or f"sqlite:///{data_home() / 'progress.sqlite'}"
