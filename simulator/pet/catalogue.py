"""The PET phantoms by name: :func:`make_phantom` builds any of :data:`PHANTOMS`.

The dispatcher is apart from the builders (:mod:`simulator.pet.phantoms`,
:mod:`simulator.pet._brain`, :mod:`simulator.pet.patient`), which share the
:class:`~simulator.pet.phantoms.Phantom` type, so no builder imports the module that calls it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from simulator.errors import ParameterError
from simulator.pet._brain import brain_phantom
from simulator.pet.patient import patient_phantom
from simulator.pet.phantoms import Phantom, _iec, _torso

__all__ = ["PHANTOMS", "make_phantom"]

PHANTOMS: tuple[str, ...] = ("nema-iec", "torso", "brain", "patient")


@functools.lru_cache(maxsize=4)
def _base(name: str, ratio: float, cold_spheres: bool) -> Phantom:
    """The phantom at its reference dose and weight (cached; other doses are rescaled)."""
    if name == "nema-iec":
        return _iec(ratio, cold_spheres, 370.0, 70.0)
    if name == "torso":
        return _torso(250.0, 70.0)
    return brain_phantom(250.0, 70.0)


def make_phantom(
    name: str,
    ratio: float = 4.0,
    cold_spheres: bool = False,
    activity_mbq: float | None = None,
    weight_kg: float | None = None,
    height_cm: float | None = None,
    lesions: Mapping[str, tuple[float, float]] | None = None,
) -> Phantom:
    """Build a phantom (the geometry is cached, so a second call is cheap).

    Parameters
    ----------
    name : str
        ``"nema-iec"``, ``"torso"``, ``"brain"`` or ``"patient"``.
    ratio : float
        Sphere-to-background activity ratio of the IEC phantom (NEMA: 4 or 8; 1–20).
    cold_spheres : bool
        NEMA NU 2 variant: the 28 and 37 mm spheres are cold (water, no activity).
    activity_mbq, weight_kg : float, optional
        Dose and weight the concentrations are built for; the IEC default 370 MBq / 70 kg
        gives NEMA's 5.3 kBq/mL background, the patients' 250 MBq / 70 kg. For the
        whole-body patient the weight also sets the body's size.
    height_cm : float, optional
        Whole-body patient only: height (default 175 cm).
    lesions : mapping, optional
        Whole-body patient only: site → (diameter mm, SUV) (see
        :data:`simulator.pet.patient.LESION_SITES`).

    Examples
    --------
    >>> ph = make_phantom("nema-iec", ratio=4.0)
    >>> round(float(ph.activity_bqml[25, 100, 40]))  # background, Bq/mL
    5286
    """
    if name not in PHANTOMS:
        raise ParameterError("phantom", name, ", ".join(PHANTOMS))
    if name == "patient":
        return patient_phantom(
            activity_mbq or 250.0, weight_kg or 70.0, height_cm or 175.0, lesions
        )
    if not isinstance(ratio, (int, float)) or not 1.0 <= ratio <= 20.0:
        raise ParameterError("ratio", ratio, "1–20")
    iec = name == "nema-iec"
    base = _base(name, float(ratio) if iec else 4.0, bool(cold_spheres) if iec else False)
    return base.with_dose(activity_mbq or base.activity_mbq, weight_kg or base.weight_kg)
