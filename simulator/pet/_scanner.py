"""The virtual scanner's fixed characteristics, with where each figure comes from.

The model is a current clinical PET/CT of the Siemens Biograph mCT class:

- NEMA NU 2-2007 sensitivity 9.6 kcps/MBq (70 cm line source, of which 21.6 cm lie in the
  axial field of view), transaxial resolution ≈ 4.4 mm FWHM at 1 cm, scatter fraction
  33.5 % and NECR peak 185 kcps at 29 kBq/mL (Jakoby B.W. et al., Phys Med Biol 56, 2011;
  Rausch I. et al., EJNMMI Phys 2015). Timing resolution 540 ps (TOF on).
- Sinograms of 168 angles over 180°, as on the mCT, so that 21 subsets of 8 angles
  (the vendor's clinical "3 iterations × 21 subsets") divide them.

The simulation is slice by slice (2-D): the axial resolution is a Gaussian blur along z,
and the axial sensitivity profile of a 3-D scanner is replaced by its mean over the axial
field of view (a uniform profile, as with 50 % bed overlap).
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = [
    "AXIAL_FOV_MM",
    "N_ANGLES",
    "NEMA_SENSITIVITY_KCPS_PER_MBQ",
    "SENSITIVITY_CPS_PER_BQ",
    "PSF_FWHM_MM",
    "AXIAL_FWHM_MM",
    "SCATTER_GAIN",
    "SPEED_OF_LIGHT_MM_PER_PS",
    "tof_gain",
    "allowed_subsets",
]

AXIAL_FOV_MM = 216.0
N_ANGLES = 168
NEMA_SENSITIVITY_KCPS_PER_MBQ = 9.6
#: NEMA line-source length (mm): the sensitivity refers to 700 mm of which 216 mm is seen.
_NEMA_LINE_MM = 700.0
#: Mean true-coincidence sensitivity for activity inside the axial FOV, no attenuation.
SENSITIVITY_CPS_PER_BQ = NEMA_SENSITIVITY_KCPS_PER_MBQ * 1e-3 * _NEMA_LINE_MM / AXIAL_FOV_MM
PSF_FWHM_MM = 4.4
AXIAL_FWHM_MM = 4.5
#: Randoms and dead time: :mod:`simulator.pet.countrate` (calibrated on the NEMA NECR peak).
SPEED_OF_LIGHT_MM_PER_PS = 0.299792458
_NEMA_SCATTER_FRACTION = 0.335
_NEMA_CYLINDER_RADIUS_MM = 101.5
_WATER_MU_PER_MM = 0.0096


@functools.cache
def _cylinder_log_transmission() -> float:
    """−ln of the trues-weighted mean transmission of the NEMA 20-cm water cylinder."""
    s = np.linspace(0.0, _NEMA_CYLINDER_RADIUS_MM, 4001)
    chord = 2.0 * np.sqrt(_NEMA_CYLINDER_RADIUS_MM**2 - s**2)
    t = np.sum(chord * np.exp(-_WATER_MU_PER_MM * chord)) / np.sum(chord)
    return float(-np.log(t))


def scatter_to_trues(log_transmission: float) -> float:
    """Scatter-to-trues ratio for an object of trues-weighted mean −ln transmission.

    Scatter grows with the attenuating path; the ratio is taken proportional to it and
    calibrated so that the NEMA 20-cm cylinder gives the mCT's scatter fraction 33.5 %.
    """
    sf = _NEMA_SCATTER_FRACTION
    return max(0.0, log_transmission) * (sf / (1.0 - sf)) / _cylinder_log_transmission()


#: Scatter-to-trues ratio per unit of −ln(mean transmission) (see :func:`scatter_to_trues`).
SCATTER_GAIN = scatter_to_trues(1.0)


def tof_gain(tof_ps: float, object_diameter_mm: float) -> float:
    """Effective sensitivity (noise-variance) gain of time of flight, D/Δx.

    Δx = c·Δt/2 is the localisation FWHM along the line of response; D the object
    diameter (Budinger 1983; Conti, Eur J Nucl Med Mol Imaging 2011). Returns 1 when TOF
    is off or the object is smaller than Δx.
    """
    if tof_ps <= 0:
        return 1.0
    dx = SPEED_OF_LIGHT_MM_PER_PS * tof_ps / 2.0
    return max(1.0, object_diameter_mm / dx)


def allowed_subsets(n_angles: int = N_ANGLES) -> tuple[int, ...]:
    """Subset numbers that divide the angles evenly."""
    return tuple(k for k in range(1, n_angles + 1) if n_angles % k == 0)


def axial_fraction(length_mm: float) -> float:
    """Fraction of an object of axial ``length_mm`` that one bed sees."""
    return min(1.0, AXIAL_FOV_MM / length_mm) if length_mm > 0 else 1.0
