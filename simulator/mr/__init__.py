"""Virtual MR scanner: anatomy, tissues, protocol, console rules, k-space, reconstruction.

Physics only (numpy/scipy): no widgets. See ``docs/architecture.md`` for the contract.

>>> import numpy as np
>>> from simulator.mr import load_anatomy, preset, scan          # doctest: +SKIP
>>> s = scan(load_anatomy("brain"), preset("brain", "t1_se"),
...          rng=np.random.default_rng(1), slices=[10])          # doctest: +SKIP
"""

from __future__ import annotations

from simulator.mr.acquisition import EncodingOperator, Sampling, sampling
from simulator.mr.anatomy import ANATOMIES, PATHOLOGIES, Anatomy, load_anatomy
from simulator.mr.geometry import SlicePlan, plan_slices
from simulator.mr.kspace import KSpace, acquire_kspace
from simulator.mr.localizer import Localizer, localizer
from simulator.mr.presets import PRESETS, preset
from simulator.mr.protocol import Geometry, MRProtocol
from simulator.mr.recon import g_factor, reconstruct
from simulator.mr.rules import MRDerived, check_protocol, derive
from simulator.mr.scan import MRSeries, scan
from simulator.mr.tissues import Tissue, tissue_table

__all__ = [
    "Anatomy", "load_anatomy", "ANATOMIES", "PATHOLOGIES",
    "Tissue", "tissue_table",
    "MRProtocol", "Geometry", "MRDerived", "check_protocol", "derive", "preset", "PRESETS",
    "MRSeries", "scan", "Localizer", "localizer", "KSpace", "acquire_kspace",
    "SlicePlan", "plan_slices", "Sampling", "sampling", "EncodingOperator",
    "reconstruct", "g_factor",
]
