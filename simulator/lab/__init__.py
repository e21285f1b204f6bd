"""The lab server of ``merm-lab serve``: Voilà with MERM Lab's own pages beside it.

:class:`simulator.lab.app.LabVoila` is Voilà (every ``/voila/render/…`` URL unchanged) plus:
the trainee's sign-in (name and cohort, a signed cookie), the progress API that the console
kernels submit to (:mod:`simulator.progress.api`), the instructor page, CSV and class board
behind the start token that ``serve`` prints, and ``/``, the landing page
(:mod:`simulator.lab.landing` when present). Run it with ``python -m simulator.lab`` and
Voilà's own options.
"""
