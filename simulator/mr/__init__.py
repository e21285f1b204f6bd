"""Virtual MR scanner: anatomy, tissues, protocol, console rules, k-space, reconstruction.

Physics only (numpy/scipy): no widgets. See ``docs/architecture.md`` for the contract.

The package exports the task-level API: an anatomy, a protocol, its rules, a scan and its
series, the localizer, the raw k-space and its reconstruction. The rest has its own public
module: slice planning (default geometry, plane axes, phase directions, wrap and coverage)
in :mod:`simulator.mr.planning`, the encoding operator in :mod:`simulator.mr.operators`, the
sampling pattern in :mod:`simulator.mr.acquisition` and the g-factor in
:mod:`simulator.mr.recon`.

>>> import numpy as np
>>> from simulator.mr import load_anatomy, preset, scan          # doctest: +SKIP
>>> s = scan(load_anatomy("brain"), preset("brain", "t1_se"),
...          rng=np.random.default_rng(1), slices=[10])          # doctest: +SKIP
"""

from __future__ import annotations

from simulator.mr.anatomy import ANATOMIES, PATHOLOGIES, Anatomy, load_anatomy
from simulator.mr.kspace import KSpace, acquire_kspace
from simulator.mr.localizer import Localizer, localizer
from simulator.mr.presets import PRESETS, preset
from simulator.mr.protocol import Geometry, MRProtocol
from simulator.mr.recon import reconstruct
from simulator.mr.rules import MRDerived, check_protocol, derive
from simulator.mr.scan import MRSeries, scan
from simulator.mr.tissues import Tissue, tissue_table

__all__ = [
    "Anatomy", "load_anatomy", "ANATOMIES", "PATHOLOGIES",
    "Tissue", "tissue_table",
    "MRProtocol", "Geometry", "MRDerived", "check_protocol", "derive", "preset", "PRESETS",
    "MRSeries", "scan", "Localizer", "localizer", "KSpace", "acquire_kspace", "reconstruct",
]
