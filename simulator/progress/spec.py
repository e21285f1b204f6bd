"""What a JupyterHub configuration needs to run the progress service.

``simulator.deploy.jupyterhub.configure(c, ...)`` calls these::

    from simulator.progress.spec import service_spec, service_role, user_environment, SERVER_TOKEN_SCOPES

    c.JupyterHub.services.append(service_spec(db_url=..., hub_url=..., hub_secret=...))
    c.JupyterHub.load_roles.append(service_role())
    # every account may open the service's pages (staff see them, a trainee gets the
    # service's own 403 page in fr/en instead of JupyterHub's): scopes of the "user" role
    c.JupyterHub.load_roles.append({"name": "user", "scopes": ["self", *user_scopes(), ...]})
    c.Spawner.environment.update(user_environment())

The service is reached by the kernels at :func:`user_environment`'s ``MERM_PROGRESS_URL``
(direct, not through the proxy) with their own ``$JUPYTERHUB_API_TOKEN``; staff open
``<hub>/services/merm-progress/instructor`` and ``…/board`` in the browser (HubOAuth).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["SERVICE_NAME", "DEFAULT_PORT", "service_spec", "service_role", "user_environment",
           "user_scopes"]

SERVICE_NAME = "merm-progress"
DEFAULT_PORT = 10102


def service_spec(*, db_url: str, hub_url: str | None = None, hub_secret: str | None = None,
                 instructors_group: str = "merm-instructors", course_dir: str | None = None,
                 port: int = DEFAULT_PORT, name: str = SERVICE_NAME,
                 python: str = sys.executable, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """The ``c.JupyterHub.services`` entry of the managed progress service.

    Parameters
    ----------
    db_url : str
        The progress database (``postgresql+psycopg://merm:…@localhost/merm`` on a school
        server); it goes into the service's environment only.
    hub_url, hub_secret : str, optional
        The mentoring hub's internal URL (e.g. ``http://127.0.0.1:8890/services/merm-hub``)
        and its secret: the class board lists the hub's rooms with them.
    instructors_group : str
        JupyterHub group whose members are staff (admins are staff too).
    course_dir : str, optional
        The course whose exercises grade the submissions (default: the shipped one).
    port : int
        Loopback port the service listens on.
    """
    env = {"MERM_DB_URL": db_url, "MERM_INSTRUCTORS_GROUP": instructors_group}
    if hub_url:
        env["MERM_HUB_URL"] = hub_url
    if hub_secret:
        env["MERM_HUB_SECRET"] = hub_secret
    if course_dir:
        env["MERM_COURSE_DIR"] = str(course_dir)
    env.update(extra_env or {})
    return {
        "name": name,
        "url": f"http://127.0.0.1:{port}",
        "command": [python, "-m", "simulator.progress.service"],
        "environment": env,
        "oauth_no_confirm": True,
        "display": True,
        "info": {"description": "MERM Lab progress: instructor dashboard and class board"},
    }


def service_role(name: str = SERVICE_NAME) -> dict[str, Any]:
    """The ``c.JupyterHub.load_roles`` entry that lets the service read accounts (groups and
    admin flag: who is staff)."""
    return {"name": f"{name}-service", "scopes": ["read:users"], "services": [name]}


def user_environment(port: int = DEFAULT_PORT, name: str = SERVICE_NAME) -> dict[str, str]:
    """``c.Spawner.environment`` entries: where a trainee's kernel submits attempts."""
    return {"MERM_PROGRESS_URL": f"http://127.0.0.1:{port}/services/{name}/"}


def user_scopes(name: str = SERVICE_NAME) -> list[str]:
    """Scopes for JupyterHub's ``user`` role: log in to the service's pages with HubOAuth
    (the service decides what each account sees; the API needs no scope, only a token)."""
    return [f"access:services!service={name}"]
