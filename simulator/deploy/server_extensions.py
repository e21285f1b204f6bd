"""Which Jupyter server extensions a user's server loads, by role (memory per trainee).

A trainee's single-user server opens on a Voilà dashboard and never shows JupyterLab, so it
needs only Voilà (and JupyterHub's own single-user extension, which ``jupyterhub-singleuser``
always loads). The other extensions installed with JupyterLab are loaded by every server
unless told otherwise, and each costs memory in each trainee's server; disabled on a
trainee's server (measured on a bare ``jupyter server``, PSS: all 81 MB, Voilà alone 69 MB):

* ``jupyterlab`` — the JupyterLab application (``/lab``);
* ``jupyter_lsp`` — language servers for JupyterLab (none is installed);
* ``jupyter_server_terminals`` — terminals in JupyterLab;
* ``notebook_shim`` — the classic notebook's server API for old extensions.

Staff (the instructors' group and JupyterHub admins) keep every extension: they author
exercises and lessons in JupyterLab. A trainee who opens ``/user/<name>/lab`` gets
Jupyter's "404: Not Found" page; the course's pages are all Voilà's (``/voila/render/…``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["TRAINEE_DISABLED", "EXTENSION_ARG", "extension_args", "is_staff", "apply_role"]

#: Server extensions a trainee's server does not load.
TRAINEE_DISABLED = ("jupyterlab", "jupyter_lsp", "jupyter_server_terminals", "notebook_shim")
#: The command-line option of the single-user server that turns one extension on or off.
EXTENSION_ARG = "--ServerApp.jpserver_extensions"


def extension_args(disabled: Iterable[str]) -> list[str]:
    """Arguments of ``jupyterhub-singleuser`` that turn the extensions ``disabled`` off.

    Parameters
    ----------
    disabled : iterable of str
        Importable names of Jupyter server extensions (``jupyter_lsp``).

    Returns
    -------
    list of str
        ``--ServerApp.jpserver_extensions=<name>=False`` for each, in order.
    """
    return [f"{EXTENSION_ARG}={name}=False" for name in disabled]


def is_staff(user: Any, instructors_group: str) -> bool:
    """A JupyterHub user (``spawner.user``) is staff: an admin or a member of the group."""
    if getattr(user, "admin", False):
        return True
    return any(getattr(g, "name", g) == instructors_group for g in getattr(user, "groups", ()))


def apply_role(spawner: Any, instructors_group: str,
               trainee_disabled: Iterable[str] = TRAINEE_DISABLED) -> bool:
    """Set ``spawner.args`` for its user's role before it starts (a ``pre_spawn_hook`` step).

    A trainee's server gets :func:`extension_args` of ``trainee_disabled``; a staff
    member's server loads every extension. These arguments from an earlier spawn (the role
    may have changed since) are replaced; the others, an admin's own included, are kept.

    Returns
    -------
    bool
        True when the user is staff.
    """
    staff = is_staff(spawner.user, instructors_group)
    ours = extension_args(trainee_disabled)
    args = [a for a in spawner.args if a not in ours]
    spawner.args = args if staff else [*args, *ours]
    return staff
