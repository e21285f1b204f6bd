"""MERM Lab as a plugin of The Littlest JupyterHub (entry point group ``tljh``).

The TLJH installer's ``--plugin`` installs this package into the hub's environment; TLJH
then calls :func:`tljh_extra_user_pip_packages` (the same package goes into the users'
environment, so their kernels run the consoles), :func:`tljh_new_user_create` (the course
linked into each new home) and :func:`tljh_custom_jupyterhub_config`
(:func:`simulator.deploy.jupyterhub.configure` with ``/srv/merm-lab`` as state folder:
``db-url`` and ``public-url`` there, one line each, choose the database and the address).
"""

from __future__ import annotations

import json
import pwd
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from simulator.deploy.jupyterhub import DEFAULT_STATE_DIR, configure, link_course
from simulator.paths import course_dir

__all__ = ["tljh_custom_jupyterhub_config", "tljh_extra_user_pip_packages", "tljh_new_user_create",
           "pip_spec"]

F = TypeVar("F", bound=Callable[..., Any])

try:  # TLJH finds hook implementations by pluggy's marker
    from pluggy import HookimplMarker

    hookimpl: Callable[[F], F] = HookimplMarker("tljh")
except ImportError:  # pragma: no cover - pluggy comes with TLJH (and with pytest)

    def hookimpl(func: F) -> F:
        return func


DISTRIBUTION = "merm-lab"


def pip_spec(dist: str = DISTRIBUTION, extras: str = "all") -> str:
    """What ``pip install`` needs to install this very MERM Lab again, with the consoles: the
    URL it came from (PEP 610 ``direct_url.json``: a Git commit, an archive or a folder), else
    name==version. ``extras`` is added (``merm-lab[all] @ …``): the core alone has no console.
    """
    name = f"{dist}[{extras}]" if extras else dist
    try:
        d = metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return name
    raw = d.read_text("direct_url.json")
    if raw:
        try:
            info = json.loads(raw)
        except ValueError:
            info = {}
        url = info.get("url") if isinstance(info, dict) else None
        if isinstance(url, str) and url:
            vcs = info.get("vcs_info") or {}
            if vcs.get("vcs") == "git":
                commit = vcs.get("commit_id")
                return f"{name} @ git+{url}" + (f"@{commit}" if commit else "")
            return f"{name} @ {url}"
    return f"{name}=={d.version}"


@hookimpl
def tljh_extra_user_pip_packages() -> list[str]:
    """The users' environment gets the same MERM Lab as the hub's."""
    return [pip_spec()]


#: TLJH's system account of JupyterHub user ``name`` is ``jupyter-<name>``.
SYSTEM_USER_PREFIX = "jupyter-"


@hookimpl
def tljh_custom_jupyterhub_config(c: Any) -> None:
    """The school set-up of :func:`simulator.deploy.jupyterhub.configure`."""
    configure(c, state_dir=DEFAULT_STATE_DIR, system_user_prefix=SYSTEM_USER_PREFIX)


@hookimpl
def tljh_new_user_create(username: str) -> None:
    """A new account's home gets ``~/merm-course`` before its first server starts (TLJH
    creates the account after JupyterHub's pre-spawn hook has run)."""
    entry = pwd.getpwnam(username)
    link_course(Path(entry.pw_dir), course_dir(), entry.pw_uid, entry.pw_gid)
