"""Virtual PET scanner physics: phantoms, protocol, acquisition, reconstruction, analysis.

numpy/scipy only (no UI, no network). See ``docs/architecture.md`` for the contract.
"""

from simulator.pet.acquisition import Sinogram, acquire
from simulator.pet.phantoms import PHANTOMS, Phantom, make_phantom
from simulator.pet.protocol import PETDerived, PETProtocol, check_protocol, derive
from simulator.pet.tracers import TRACERS, Tracer

__all__ = [
    "Phantom",
    "make_phantom",
    "PHANTOMS",
    "PETProtocol",
    "PETDerived",
    "check_protocol",
    "derive",
    "Sinogram",
    "acquire",
    "TRACERS",
    "Tracer",
]
