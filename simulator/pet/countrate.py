"""Count-rate physics: dead time, randoms ∝ singles², NECR against activity, per scanner.

The NEMA NU 2 count-rate test images a 70-cm polyethylene cylinder (Ø 203 mm, 22 000 mL by
the standard's convention) with a line source 45 mm off axis; activity is quoted as the
concentration a = A / 22 000 mL. Rates at concentration a (per second):

    singles    s(a) = σ · a                          (before losses)
    trues      T(a) = α · a · L(a)²                  L(a) the survival of one photon
    scatter    S(a) = T(a) · SF / (1 − SF)
    randoms    R(a) = 2 τ_w · (s(a) · L(a))²          (Cherry, Sorenson & Phelps ch. 14)
    NECR       = T² / (T + S + R)                     (NEMA NU 2-2007/2018, k = 1)

with a paralysable dead time τ per detected photon, L = exp(−τ s) (Knoll, *Radiation
Detection and Measurement*, ch. 4): a coincidence needs both photons, hence L². α follows
from the scanner's NEMA sensitivity S_NEMA (counts per decay of the 70-cm line in air) and
the mean transmission of the LORs through the cylinder: α = S_NEMA · 22 000 mL · t. The two
remaining parameters (σ and τ; τ_w is the scanner's coincidence window) are calibrated, in
closed form, so that the NECR curve peaks at the published NECR and concentration
(:func:`calibrate`); the shape of the curve — rise ∝ a, roll-off, randoms ∝ a² at low
rate — is the model's, not fitted.

Published figures (NEMA NU 2):

- Siemens Biograph mCT: 9.6 kcps/MBq, NECR 185 kcps at 29 kBq/mL, SF 33.5 %, window
  4.1 ns, TOF 540 ps (Jakoby B.W. et al., Phys Med Biol 56:2375, 2011; Rausch I. et al.,
  EJNMMI Phys 2:26, 2015).
- GE Discovery MI (4 rings): 13.7 cps/kBq, 193.4 kcps at 21.9 kBq/mL, SF 40.6 %, window
  4.9 ns, TOF 375 ps (Hsu D.F.C. et al., J Nucl Med 58:1511, 2017).
- United Imaging uMI 550: 10.24 cps/kBq, 124.4 kcps at 18.85 kBq/mL, SF 36.65 %, TOF
  372 ps (Zhang Y. et al., EJNMMI Phys 7:44, 2020); its coincidence window is not given
  there: 4.5 ns is assumed (it only scales σ, not the curve).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

from simulator.errors import ParameterError

__all__ = [
    "ScannerModel",
    "CountRateModel",
    "CountRates",
    "CountRateCurve",
    "SCANNERS",
    "DEFAULT_SCANNER",
    "NEMA_PHANTOM_ML",
    "calibrate",
    "count_rates",
    "necr_curve",
    "get_scanner",
    "nema_equivalent_kbqml",
    "BedLosses",
    "bed_losses",
]

#: NEMA NU 2 scatter phantom: the volume its concentrations refer to, and its geometry.
NEMA_PHANTOM_ML = 22_000.0
NEMA_PHANTOM_LENGTH_MM = 700.0
_PHANTOM_RADIUS_MM = 101.5
_LINE_OFFSET_MM = 45.0
#: Polyethylene (0.96 g/mL) at 511 keV: 0.0995 cm²/g × 0.96 (NIST XCOM).
_MU_POLYETHYLENE_PER_MM = 0.00955


@dataclass(frozen=True)
class ScannerModel:
    """A clinical PET scanner's published NEMA NU 2 figures (see the module docstring)."""

    name: str
    label: str
    sensitivity_cps_per_kbq: float
    scatter_fraction: float
    coincidence_window_ns: float
    tof_ps: float
    axial_fov_mm: float
    necr_peak_kcps: float
    necr_peak_kbqml: float
    source: str


SCANNERS: Mapping[str, ScannerModel] = MappingProxyType(
    {
        "biograph-mct": ScannerModel(
            "biograph-mct", "Siemens Biograph mCT", 9.6, 0.335, 4.1, 540.0, 216.0, 185.0, 29.0,
            "Jakoby et al., Phys Med Biol 2011; Rausch et al., EJNMMI Phys 2015",
        ),
        "discovery-mi": ScannerModel(
            "discovery-mi", "GE Discovery MI (4 rings)", 13.7, 0.406, 4.9, 375.0, 200.0, 193.4,
            21.9, "Hsu et al., J Nucl Med 2017",
        ),
        "umi-550": ScannerModel(
            "umi-550", "United Imaging uMI 550", 10.24, 0.3665, 4.5, 372.0, 240.0, 124.4,
            18.85, "Zhang et al., EJNMMI Phys 2020",
        ),
    }
)
#: The virtual scanner of :mod:`simulator.pet` is of the Biograph mCT class.
DEFAULT_SCANNER = "biograph-mct"


def get_scanner(name: str) -> ScannerModel:
    """The scanner ``name`` (raises ParameterError listing the allowed names)."""
    if name not in SCANNERS:
        raise ParameterError("scanner", name, ", ".join(SCANNERS))
    return SCANNERS[name]


@functools.cache
def nema_phantom_transmission() -> float:
    """Mean attenuation factor of the LORs through the off-axis line of the NEMA cylinder.

    Averaged over the transaxial angle φ: the LOR through the line at (45 mm, 0) along φ
    passes at d = 45 |sin φ| from the axis, a chord 2√(R² − d²) of polyethylene.
    """
    phi = np.linspace(0.0, np.pi, 20001)
    d = _LINE_OFFSET_MM * np.abs(np.sin(phi))
    chord = 2.0 * np.sqrt(_PHANTOM_RADIUS_MM**2 - d**2)
    return float(np.mean(np.exp(-_MU_POLYETHYLENE_PER_MM * chord)))


@dataclass(frozen=True)
class CountRateModel:
    """Calibrated count-rate parameters of one scanner (rates in cps, a in kBq/mL).

    Attributes
    ----------
    scanner : ScannerModel
    trues_cps_per_kbqml : float
        α: trues per unit concentration at low rate (no losses).
    singles_cps_per_kbqml : float
        σ: singles per unit concentration, before losses.
    dead_time_ns : float
        τ: paralysable dead time per detected photon.
    """

    scanner: ScannerModel
    trues_cps_per_kbqml: float
    singles_cps_per_kbqml: float
    dead_time_ns: float

    @property
    def randoms_cps_per_kbqml2(self) -> float:
        """β = 2 τ_w σ²: randoms per (kBq/mL)² at low rate."""
        return 2e-9 * self.scanner.coincidence_window_ns * self.singles_cps_per_kbqml**2


@functools.cache
def calibrate(name: str = DEFAULT_SCANNER) -> CountRateModel:
    """Count-rate model of scanner ``name``, its NECR peak at the published (a*, N*).

    With x = τσa, NECR(a) = α² a e^(−2x) / (α/(1−SF) + β a). Writing u = βa*/(c + βa*),
    c = α/(1−SF), the peak condition d ln NECR/da = 0 is 2τσa* = 1 − u and the peak value
    N* = α(1−SF)a* · (1−u)e^(u−1); the latter decreases from 1/e to 0 on u ∈ (0, 1), so u
    is its unique root, then β = uc/((1−u)a*), σ = √(β/2τ_w) and τ = (1−u)/(2σa*).
    """
    sc = get_scanner(name)
    alpha = sc.sensitivity_cps_per_kbq * NEMA_PHANTOM_ML * nema_phantom_transmission()
    a_star, n_star = sc.necr_peak_kbqml, sc.necr_peak_kcps * 1e3
    target = n_star / (alpha * (1.0 - sc.scatter_fraction) * a_star)
    if not 0.0 < target < 1.0 / math.e:
        raise ValueError(f"{name}: the published NECR peak is out of this model's reach")
    u = optimize.brentq(lambda v: (1.0 - v) * math.exp(v - 1.0) - target, 0.0, 1.0 - 1e-12)
    c = alpha / (1.0 - sc.scatter_fraction)
    beta = u * c / ((1.0 - u) * a_star)
    sigma = math.sqrt(beta / (2e-9 * sc.coincidence_window_ns))
    tau_s = (1.0 - u) / (2.0 * sigma * a_star)
    return CountRateModel(sc, alpha, sigma, tau_s * 1e9)


@dataclass(frozen=True)
class CountRates:
    """Rates (cps) at each concentration (arrays of the shape of ``activity_kbqml``)."""

    activity_kbqml: NDArray[np.float64]
    singles_cps: NDArray[np.float64]
    trues_cps: NDArray[np.float64]
    scatter_cps: NDArray[np.float64]
    randoms_cps: NDArray[np.float64]
    prompts_cps: NDArray[np.float64]
    necr_cps: NDArray[np.float64]
    live_fraction: NDArray[np.float64]
    """L²: the fraction of coincidences that survive dead time."""


def count_rates(
    activity_kbqml: float | NDArray[np.floating],
    scanner: str = DEFAULT_SCANNER,
    *,
    dead_time: bool = True,
    transmission_ratio: float = 1.0,
) -> CountRates:
    """Rates of the NEMA scatter phantom (or an equivalent object) at ``activity_kbqml``.

    Parameters
    ----------
    activity_kbqml : float or ndarray
        NEMA-equivalent concentration (activity near the field of view / 22 000 mL).
    scanner : str
        Key of :data:`SCANNERS`.
    dead_time : bool
        False: the ideal linear scanner (no losses; randoms still ∝ singles²).
    transmission_ratio : float
        Trues and scatter scale by this ratio of the object's mean transmission to the
        phantom's (a larger patient attenuates more; singles are assumed unchanged).
    """
    m = calibrate(scanner)
    a = np.asarray(activity_kbqml, dtype=np.float64)
    s = m.singles_cps_per_kbqml * a
    live = np.exp(-m.dead_time_ns * 1e-9 * s) if dead_time else np.ones_like(s)
    sf = m.scanner.scatter_fraction
    t = m.trues_cps_per_kbqml * transmission_ratio * a * live**2
    sc = t * sf / (1.0 - sf)
    r = 2e-9 * m.scanner.coincidence_window_ns * (s * live) ** 2
    p = t + sc + r
    necr = np.divide(t * t, p, out=np.zeros_like(p), where=p > 0)
    return CountRates(a, s * live, t, sc, r, p, necr, live**2)


@dataclass(frozen=True)
class CountRateCurve:
    """The NEMA count-rate curve of a scanner and its NECR peak."""

    scanner: ScannerModel
    model: CountRateModel
    rates: CountRates
    peak_necr_kcps: float
    peak_activity_kbqml: float

    def as_dict(self) -> dict[str, object]:
        """JSON-safe summary and the curve (rates in kcps)."""
        r = self.rates
        return {
            "scanner": self.scanner.name,
            "label": self.scanner.label,
            "source": self.scanner.source,
            "peak": {
                "necr_kcps": self.peak_necr_kcps,
                "activity_kbqml": self.peak_activity_kbqml,
                "published_necr_kcps": self.scanner.necr_peak_kcps,
                "published_activity_kbqml": self.scanner.necr_peak_kbqml,
            },
            "model": {
                "dead_time_ns": self.model.dead_time_ns,
                "singles_cps_per_kbqml": self.model.singles_cps_per_kbqml,
                "trues_cps_per_kbqml": self.model.trues_cps_per_kbqml,
                "coincidence_window_ns": self.scanner.coincidence_window_ns,
                "scatter_fraction": self.scanner.scatter_fraction,
            },
            "curve": [
                {
                    "activity_kbqml": float(a),
                    "trues_kcps": float(t / 1e3),
                    "scatter_kcps": float(s / 1e3),
                    "randoms_kcps": float(rr / 1e3),
                    "prompts_kcps": float(p / 1e3),
                    "necr_kcps": float(n / 1e3),
                    "singles_mcps": float(sg / 1e6),
                }
                for a, t, s, rr, p, n, sg in zip(
                    r.activity_kbqml,
                    r.trues_cps,
                    r.scatter_cps,
                    r.randoms_cps,
                    r.prompts_cps,
                    r.necr_cps,
                    r.singles_cps,
                    strict=True,
                )
            ],
        }


def necr_curve(
    scanner: str = DEFAULT_SCANNER,
    max_kbqml: float = 80.0,
    step_kbqml: float = 0.5,
    *,
    dead_time: bool = True,
) -> CountRateCurve:
    """The count-rate curve on a grid of concentrations, as the NEMA test samples it.

    The peak is the grid's maximum refined by a parabola through it and its neighbours.
    """
    if not 0 < step_kbqml < max_kbqml <= 500:
        raise ParameterError("max_kbqml", max_kbqml, "step < max ≤ 500 kBq/mL")
    a = np.arange(step_kbqml, max_kbqml + step_kbqml / 2, step_kbqml)
    r = count_rates(a, scanner, dead_time=dead_time)
    k = int(np.argmax(r.necr_cps))
    peak_a, peak_n = float(a[k]), float(r.necr_cps[k])
    if 0 < k < a.size - 1:
        y0, y1, y2 = r.necr_cps[k - 1 : k + 2]
        den = y0 - 2 * y1 + y2
        if den < 0:
            off = 0.5 * (y0 - y2) / den
            peak_a = float(a[k] + off * step_kbqml)
            peak_n = float(y1 - 0.25 * (y0 - y2) * off)
    return CountRateCurve(get_scanner(scanner), calibrate(scanner), r, peak_n / 1e3, peak_a)


def nema_equivalent_kbqml(activity_in_fov_mbq: float, scanner: str = DEFAULT_SCANNER) -> float:
    """Concentration of the NEMA phantom that puts ``activity_in_fov_mbq`` in the axial FOV.

    Maps a patient or phantom onto the calibrated curve: the share of the 70-cm line inside
    the scanner's axial field of view is the same fraction of 22 000 mL.
    """
    share = min(1.0, get_scanner(scanner).axial_fov_mm / NEMA_PHANTOM_LENGTH_MM)
    fov_ml = NEMA_PHANTOM_ML * share
    return 1e3 * max(0.0, activity_in_fov_mbq) / fov_ml


@dataclass(frozen=True)
class BedLosses:
    """Count losses and randoms of one bed (see :func:`bed_losses`)."""

    equivalent_kbqml: float
    live_fraction: float
    singles_cps: float
    randoms_cps: float


def bed_losses(
    activity_in_fov_mbq: float, scanner: str = DEFAULT_SCANNER, *, dead_time: bool = True
) -> BedLosses:
    """Dead-time survival of coincidences and randoms rate for the activity in one bed."""
    a = nema_equivalent_kbqml(activity_in_fov_mbq, scanner)
    r = count_rates(a, scanner, dead_time=dead_time)
    return BedLosses(a, float(r.live_fraction), float(r.singles_cps), float(r.randoms_cps))
