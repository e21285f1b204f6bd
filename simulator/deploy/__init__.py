"""Deploying MERM Lab for a school: JupyterHub configuration and the TLJH plugin.

* :mod:`simulator.deploy.jupyterhub` — ``configure(c, ...)``, called from a
  ``jupyterhub_config.py``: the mentoring hub and the progress service as managed
  JupyterHub services, Voilà for users, kernel culling, per-user room keys.
* :mod:`simulator.deploy.tljh` — the same as a plugin of The Littlest JupyterHub (entry
  point group ``tljh``).

See ``docs/deploy.md`` for the steps a school's administrator types.
"""
