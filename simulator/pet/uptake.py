"""FDG uptake kinetics: how the tumour SUV depends on the uptake time (injection → scan).

The SUV of a tumour is not a constant: FDG keeps accumulating in tissue that traps it
(irreversible uptake, k4 ≈ 0) long after 60 min, while the plasma is cleared. A scan at
45 min reads a lower SUV than at 60 min, at 90 min a higher one, even after decay
correction. This module computes that dependence with the standard irreversible
two-tissue compartment model of FDG (Sokoloff / Phelps, k4 = 0) driven by a published
population plasma input function (Feng et al. 1993, "model 2"):

    Cp(t) = (A1·t − A2 − A3)·exp(λ1·t) + A2·exp(λ2·t) + A3·exp(λ3·t)      (t in min)
    dC1/dt = K1·Cp − (k2 + k3)·C1,        dC2/dt = k3·C1,        C_T = C1 + C2

solved in closed form (convolutions of exponentials). Concentrations are decay-corrected,
so for the same injected activity and weight the SUV ratio between two uptake times is the
ratio of C_T. Radioactive decay is not a change of SUV (the image and the dose are both
decay-corrected) but of counts: :func:`activity_at_scan_fraction` gives it.

The rate constants are illustrative (an FDG-avid tissue of the order of those reported for
tumours); the ratio is what the console shows, as an order of magnitude, not a prediction
for a patient.

References
----------
- Feng D, Huang SC, Wang X. Models for computer simulation studies of input functions for
  tracer kinetic modeling with positron emission tomography. Int J Biomed Comput.
  1993;32(2):95–110 (model 2 parameters: A1 = 851.1225 µCi/mL/min, A2 = 21.8798 µCi/mL,
  A3 = 20.8113 µCi/mL, λ1 = −4.1339, λ2 = −0.1191, λ3 = −0.0104 /min).
- Phelps ME, Huang SC, Hoffman EJ, et al. Tomographic measurement of local cerebral glucose
  metabolic rate in humans with (F-18)2-fluoro-2-deoxy-D-glucose. Ann Neurol.
  1979;6:371–388 (the compartment model).
- Boellaard R, et al. FDG PET/CT: EANM procedure guidelines for tumour imaging: version
  2.0. Eur J Nucl Med Mol Imaging. 2015;42:328–354 (uptake 60 min, 55–75 min accepted).

Examples
--------
>>> round(suv_ratio(75.0), 2) > 1.0 > round(suv_ratio(45.0), 2)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "FDGInput",
    "FENG_1993",
    "Kinetics",
    "TUMOUR_FDG",
    "plasma_fdg",
    "tissue_fdg",
    "suv_ratio",
    "activity_at_scan_fraction",
    "EANM_UPTAKE_MIN",
    "EANM_UPTAKE_RANGE_MIN",
]

#: EANM 2015: uptake 60 min, 55–75 min accepted for quantitative comparison.
EANM_UPTAKE_MIN = 60.0
EANM_UPTAKE_RANGE_MIN = (55.0, 75.0)


@dataclass(frozen=True)
class FDGInput:
    """A plasma input function of Feng's form (amplitudes in any unit, rates in 1/min)."""

    a1_per_min: float
    a2: float
    a3: float
    lambda1_per_min: float
    lambda2_per_min: float
    lambda3_per_min: float

    def __post_init__(self) -> None:
        if max(self.lambda1_per_min, self.lambda2_per_min, self.lambda3_per_min) >= 0.0:
            raise ValueError("the input function's exponents must be negative (clearance)")


#: Feng et al. 1993, model 2 (µCi/mL; only ratios are used here).
FENG_1993 = FDGInput(851.1225, 21.8798, 20.8113, -4.1339, -0.1191, -0.0104)


@dataclass(frozen=True)
class Kinetics:
    """Rate constants of the irreversible two-tissue FDG model (k4 = 0)."""

    k1_ml_per_min_ml: float
    k2_per_min: float
    k3_per_min: float

    def __post_init__(self) -> None:
        if min(self.k1_ml_per_min_ml, self.k2_per_min, self.k3_per_min) <= 0.0:
            raise ValueError("rate constants must be positive")


#: An FDG-avid tissue (illustrative, of the order reported for tumours).
TUMOUR_FDG = Kinetics(k1_ml_per_min_ml=0.10, k2_per_min=0.10, k3_per_min=0.06)


def plasma_fdg(t_min: ArrayLike, inp: FDGInput = FENG_1993) -> NDArray[np.float64]:
    """Plasma FDG concentration Cp(t) (decay-corrected), t in minutes after injection."""
    t = np.asarray(t_min, np.float64)
    return (
        (inp.a1_per_min * t - inp.a2 - inp.a3) * np.exp(inp.lambda1_per_min * t)
        + inp.a2 * np.exp(inp.lambda2_per_min * t)
        + inp.a3 * np.exp(inp.lambda3_per_min * t)
    )


def _conv_exp(t: NDArray[np.float64], inp: FDGInput, beta: float) -> NDArray[np.float64]:
    """∫0^t Cp(τ)·exp(−β(t−τ)) dτ in closed form (β = 0: the integral of Cp)."""

    def expo(a: float, lam: float) -> NDArray[np.float64]:  # ∫ a·e^{λτ} e^{−β(t−τ)}
        s = lam + beta
        return a * (np.exp(lam * t) - np.exp(-beta * t)) / s

    s1 = inp.lambda1_per_min + beta
    ramp = inp.a1_per_min * (  # ∫ A1·τ·e^{λ1 τ} e^{−β(t−τ)}
        np.exp(inp.lambda1_per_min * t) * (t / s1 - 1.0 / s1**2) + np.exp(-beta * t) / s1**2
    )
    return (
        ramp
        + expo(-inp.a2 - inp.a3, inp.lambda1_per_min)
        + expo(inp.a2, inp.lambda2_per_min)
        + expo(inp.a3, inp.lambda3_per_min)
    )


def tissue_fdg(
    t_min: ArrayLike, kin: Kinetics = TUMOUR_FDG, inp: FDGInput = FENG_1993
) -> NDArray[np.float64]:
    """Tissue FDG concentration C_T(t) = C1 + C2 of the irreversible model (decay-corrected).

    Parameters
    ----------
    t_min : array_like
        Minutes after injection (≥ 0).
    kin : Kinetics
    inp : FDGInput

    Returns
    -------
    ndarray of float64, same shape as ``t_min``
        In the unit of the input function's amplitudes (times mL/mL).
    """
    t = np.asarray(t_min, np.float64)
    if np.any(t < 0):
        raise ValueError("uptake time must be ≥ 0 min")
    b = kin.k2_per_min + kin.k3_per_min
    free = _conv_exp(t, inp, b)  # ∫ Cp e^{−b(t−τ)}
    total = _conv_exp(t, inp, 0.0)  # ∫ Cp
    k1 = kin.k1_ml_per_min_ml
    return k1 * (kin.k2_per_min * free + kin.k3_per_min * total) / b


def suv_ratio(
    uptake_min: float,
    reference_min: float = EANM_UPTAKE_MIN,
    kin: Kinetics = TUMOUR_FDG,
    inp: FDGInput = FENG_1993,
) -> float:
    """Tumour SUV at ``uptake_min`` over the SUV at ``reference_min`` (same dose, weight).

    Raises
    ------
    ValueError
        For a negative uptake time or a non-positive reference.
    """
    if not math.isfinite(uptake_min) or uptake_min < 0:
        raise ValueError("uptake time must be ≥ 0 min")
    if reference_min <= 0:
        raise ValueError("reference uptake must be > 0 min")
    c = tissue_fdg(np.array([uptake_min, reference_min]), kin, inp)
    return float(c[0] / c[1])


def activity_at_scan_fraction(uptake_min: float, half_life_s: float) -> float:
    """Fraction of the injected activity left at the start of the scan: exp(−ln2·t/T½)."""
    if uptake_min < 0:
        raise ValueError("uptake time must be ≥ 0 min")
    return math.exp(-math.log(2.0) * uptake_min * 60.0 / half_life_s)
