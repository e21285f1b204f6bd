"""A Jupyter server extension that gives a user's server's freed heap back every minute.

A single-user server renders the trainee's Voilà page (the notebook, its templates, the
widget state of the console: tens of MB of short-lived objects), then mostly waits. glibc
keeps the freed memory in the process for reuse; :func:`simulator.memory.release_free_memory`
(``malloc_trim(0)``) returns it. Loaded by :mod:`simulator.deploy.singleuser`
(``--ServerApp.jpserver_extensions=simulator.deploy.server_memory=True``); every
:data:`PERIOD_S` seconds, on the server's event loop, it costs a few milliseconds.
"""

from __future__ import annotations

from typing import Any

from simulator.memory import release_free_memory

__all__ = ["PERIOD_S", "EXTENSION"]

_RUNNING: list[Any] = []  # the server's periodic callback, kept alive with the process

#: Seconds between two releases.
PERIOD_S = 60.0
#: The name to enable in ``ServerApp.jpserver_extensions``.
EXTENSION = "simulator.deploy.server_memory"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": EXTENSION}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from tornado.ioloop import PeriodicCallback

    if not release_free_memory():  # not glibc: nothing to do, now or later
        serverapp.log.info("MERM Lab: no malloc_trim here; freed memory stays with the server")
        return
    def release() -> None:
        release_free_memory()

    callback = PeriodicCallback(release, PERIOD_S * 1000)
    callback.start()
    _RUNNING.append(callback)
