"""Progress as a service: trainees' kernels submit attempts to an authenticated server.

* :mod:`simulator.progress.api` — the rules (server-side grading, own data only, staff reads);
* :mod:`simulator.progress.service` — ``merm-progress``, the JupyterHub service (HubAuth,
  HubOAuth staff pages); :mod:`simulator.progress.spec` — its ``c.JupyterHub.services`` entry;
* :mod:`simulator.progress.client` — the kernel's client (JupyterHub token, or ``serve``'s
  signed identity);
* :mod:`simulator.progress.identity` — the signed name and cohort of ``merm-lab serve``;
* :mod:`simulator.progress.pages` — instructor dashboard, class board, sign-in, refusals.

The database URL lives only in the server's environment.
"""
