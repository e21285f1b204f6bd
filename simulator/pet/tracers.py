"""Radiotracers: nuclide half-life, positron fraction and effective-dose coefficient.

References
----------
- F-18 half-life 109.77 min (6586.2 s) and β+ branching 0.9686: NNDC / DDEP
  recommended data (LNHB, "F-18 table", 2013 evaluation).
- Effective dose coefficient of [18F]FDG for adults, 0.019 mSv/MBq: ICRP Publication 128
  (2015), table C.1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["Tracer", "TRACERS", "decay_factor", "frame_decay_factor"]


@dataclass(frozen=True)
class Tracer:
    """A radiopharmaceutical as the scanner needs it.

    Parameters
    ----------
    name : str
        Contract name, e.g. ``"F18-FDG"``.
    nuclide : str
        Radionuclide, e.g. ``"F-18"``.
    half_life_s : float
        Physical half-life in seconds.
    positron_fraction : float
        β+ branching ratio (fraction of decays that yield an annihilation pair).
    dose_msv_per_mbq : float
        Adult effective dose coefficient.
    nuclide_code : str
        DICOM radionuclide code, SNOMED CT (scheme "SCT", DICOM CID 4020).
    pharmaceutical : str
        Radiopharmaceutical name for DICOM (CID 4021 meaning).
    pharmaceutical_code : str
        Radiopharmaceutical code, SNOMED CT (scheme "SCT", DICOM CID 4021).
    """

    name: str
    nuclide: str
    half_life_s: float
    positron_fraction: float
    dose_msv_per_mbq: float
    nuclide_code: str
    pharmaceutical: str
    pharmaceutical_code: str

    @property
    def decay_constant_per_s(self) -> float:
        """λ = ln 2 / T½ in 1/s."""
        return math.log(2.0) / self.half_life_s


TRACERS: Mapping[str, Tracer] = MappingProxyType(
    {
        "F18-FDG": Tracer(
            name="F18-FDG",
            nuclide="F-18",
            half_life_s=6586.2,
            positron_fraction=0.9686,
            dose_msv_per_mbq=0.019,
            nuclide_code="77004003",
            pharmaceutical="Fluorodeoxyglucose F^18^",
            pharmaceutical_code="35321007",
        ),
    }
)


def decay_factor(tracer: Tracer, elapsed_s: float) -> float:
    """Fraction of activity left after ``elapsed_s`` seconds: exp(−λ t)."""
    return math.exp(-tracer.decay_constant_per_s * elapsed_s)


def frame_decay_factor(tracer: Tracer, duration_s: float, power: int = 1) -> float:
    """Mean of (A(t)/A(0))**power over a frame of ``duration_s`` seconds.

    ``power=1`` gives the usual (1 − e^(−λT))/(λT) that links counts to the activity at
    the frame start; ``power=2`` gives the same for randoms (rate ∝ activity²).
    """
    x = power * tracer.decay_constant_per_s * duration_s
    if x < 1e-12:
        return 1.0
    return (1.0 - math.exp(-x)) / x
