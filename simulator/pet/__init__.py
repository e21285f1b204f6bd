"""Virtual PET scanner physics: phantoms, protocol, acquisition, reconstruction, analysis.

numpy/scipy only (no UI, no network). Contract: ``docs/architecture.md``.

Examples
--------
>>> import numpy as np
>>> from simulator.pet import make_phantom, PETProtocol, scan
>>> s = scan(make_phantom("nema-iec"), PETProtocol(minutes_per_bed=2), seed=1, slices=[25])
>>> s.images_bqml.shape, sorted(s.counts)[:3]
((1, 128, 128), ['nec', 'prompts', 'randoms'])
"""

from simulator.pet.acquisition import Sinogram, acquire
from simulator.pet.analysis import lesion_analysis, nema_analysis
from simulator.pet.catalogue import PHANTOMS, make_phantom
from simulator.pet.phantoms import Phantom
from simulator.pet.protocol import PETDerived, PETProtocol, check_protocol, derive
from simulator.pet.recon import iter_reconstruct, reconstruct
from simulator.pet.scanner import PETSeries, scan
from simulator.pet.tracers import TRACERS, Tracer

__all__ = [
    "Phantom",
    "make_phantom",
    "PHANTOMS",
    "PETProtocol",
    "PETDerived",
    "check_protocol",
    "derive",
    "PETSeries",
    "Sinogram",
    "scan",
    "acquire",
    "iter_reconstruct",
    "reconstruct",
    "nema_analysis",
    "lesion_analysis",
    "TRACERS",
    "Tracer",
]
