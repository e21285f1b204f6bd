"""The fictitious patient written into every simulated DICOM file.

MERM Lab never handles real patient data: every series names a patient whose family name is
``SIMULATION``, and the files say ``PatientIdentityRemoved = YES`` and "simulated — not for
diagnosis".
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from simulator.errors import UserError

__all__ = ["FictitiousPatient", "DEFAULT_PATIENT"]

_SEXES = ("F", "M", "O")


@dataclass(frozen=True)
class FictitiousPatient:
    """A made-up patient for simulated series.

    Parameters
    ----------
    name : str
        DICOM person name; the family name must be ``SIMULATION`` so that no file can be
        mistaken for a real person's (``"SIMULATION^Trainee"``).
    patient_id : str
        Patient ID, at most 64 characters.
    birth_date : datetime.date
        Date of birth.
    sex : str
        ``"F"``, ``"M"`` or ``"O"``.
    weight_kg : float
        Body weight in kg (PET series use the protocol's weight, the one the dose was
        computed for).
    height_m : float
        Height in metres.

    Raises
    ------
    UserError
        When the name is not a ``SIMULATION^…`` name or a value is out of range.
    """

    name: str = "SIMULATION^Trainee"
    patient_id: str = "MERM-SIM-0001"
    birth_date: _dt.date = _dt.date(1980, 1, 1)
    sex: str = "O"
    weight_kg: float = 70.0
    height_m: float = 1.70

    def __post_init__(self) -> None:
        if self.name.split("^")[0].strip().upper() != "SIMULATION":
            raise UserError(
                f"patient name {self.name!r}: the family name must be SIMULATION "
                "(simulated series never carry a real name)",
                f"nom du patient {self.name!r} : le nom de famille doit être SIMULATION "
                "(les séries simulées ne portent jamais un vrai nom)",
            )
        if not self.patient_id or len(self.patient_id) > 64:
            raise UserError(
                "patient_id: allowed 1–64 characters", "patient_id : 1 à 64 caractères permis"
            )
        if self.sex not in _SEXES:
            raise UserError(
                f"sex = {self.sex}: allowed F, M, O",
                f"sexe = {self.sex} : valeurs permises F, M, O",
            )
        if not 0.5 <= self.weight_kg <= 400.0:
            raise UserError(
                f"weight_kg = {self.weight_kg}: allowed 0.5–400 kg",
                f"weight_kg = {self.weight_kg} : valeurs permises 0,5–400 kg",
            )
        if not 0.3 <= self.height_m <= 2.8:
            raise UserError(
                f"height_m = {self.height_m}: allowed 0.3–2.8 m",
                f"height_m = {self.height_m} : valeurs permises 0,3–2,8 m",
            )


#: The patient used when a writer is given none.
DEFAULT_PATIENT = FictitiousPatient()
