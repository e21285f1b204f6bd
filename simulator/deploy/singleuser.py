"""A school's single-user server: ``jupyterhub-singleuser`` without an import it never uses.

``python -m simulator.deploy.singleuser [args]`` runs JupyterHub's single-user server
(:func:`jupyterhub.singleuser.main`, the same application and arguments) after marking the
modules of :data:`UNUSED` as absent, so that nothing in the server imports them:

* ``rfc3987_syntax`` — jsonschema's checker of the ``iri`` / ``iri-reference`` formats,
  which jsonschema loads if it is installed (``jupyter_events`` pulls it in). Importing it
  compiles a Lark grammar: about 16 MB in every user's server. No schema of Jupyter Server,
  Jupyter Events, Voilà or JupyterLab declares those formats, so the server validates its
  events exactly as before (``uri`` keeps its own checker).

:func:`simulator.deploy.jupyterhub.configure` starts users' servers this way when
``c.Spawner.cmd`` is a ``…/bin/jupyterhub-singleuser`` with a Python beside it (the school
test, The Littlest JupyterHub's user environment). Kernels are new processes and are not
affected.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["UNUSED", "main", "block_unused"]

#: Modules a single-user server imports only through an optional dependency it never uses.
UNUSED = ("rfc3987_syntax",)


def block_unused(modules: dict[str, Any] | None = None) -> None:
    """Mark :data:`UNUSED` as absent in ``modules`` (``sys.modules``): importing one raises
    ``ImportError``, which jsonschema takes as "not installed". A module already imported
    is left alone."""
    target: dict[str, Any] = sys.modules if modules is None else modules  # type: ignore[assignment]
    for name in UNUSED:
        target.setdefault(name, None)


def main(argv: list[str] | None = None) -> None:
    """Run ``jupyterhub-singleuser`` with ``argv`` (default: the command line)."""
    block_unused()
    from jupyterhub.singleuser import main as singleuser_main

    singleuser_main(argv)


if __name__ == "__main__":
    main()
