"""The exam a series belongs to: one DICOM Study, as a scanner opens it for one patient visit.

A scanner opens one Study per exam (per patient visit or worklist entry) and numbers the
series of that exam 1, 2, 3… in acquisition order; each series is stamped with the time it
was acquired on the exam clock. :class:`Study` carries what all the series of one exam share
(Study Instance UID, Frame of Reference, accession number, the requested procedure from the
worklist); the writers take one, or open a study of their own for a lone series.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any

from simulator.errors import UserError

__all__ = ["Study", "RequestedProcedure", "check_uid"]

#: A valid UID: ``pydicom.uid.RE_VALID_UID``, written out so that opening an exam needs no
#: pydicom (tests/test_memory_imports.py compares them).
RE_VALID_UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")


def check_uid(text: str, what: str = "--study-uid") -> str:
    """``text`` if it is a valid DICOM UID (digits and dots, ≤ 64 characters), else UserError."""
    uid = str(text).strip()
    if not uid or len(uid) > 64 or not RE_VALID_UID.match(uid):
        raise UserError(
            f"{what} {text!r}: not a DICOM UID (digits separated by dots, at most 64 "
            "characters, no leading zeros)",
            f"{what} {text!r} : pas un UID DICOM (chiffres séparés par des points, 64 "
            "caractères au plus, sans zéro en tête)",
        )
    return uid


@dataclass(frozen=True)
class RequestedProcedure:
    """What the modality worklist scheduled (PS3.4 K.6, Request Attributes Sequence).

    Parameters
    ----------
    procedure_id : str
        Requested Procedure ID (SH, ≤ 16 characters).
    description : str
        Requested Procedure Description (LO).
    step_id : str
        Scheduled Procedure Step ID (SH).
    step_description : str
        Scheduled Procedure Step Description (LO): the protocol asked for.
    protocol : str
        The lab's protocol key the step names (``"brain/t2_tse"``), empty if none.
    """

    procedure_id: str = ""
    description: str = ""
    step_id: str = ""
    step_description: str = ""
    protocol: str = ""


@dataclass(frozen=True)
class Study:
    """One exam: the Study every series of it is written into.

    Parameters
    ----------
    study_uid : str
        Study Instance UID.
    started_at : datetime
        Study date and time (the exam clock starts here).
    frame_of_reference_uid : str, optional
        Shared by the series of the exam (the patient does not move between them);
        derived from the study UID when empty.
    accession_number : str
        From the worklist (SH, ≤ 16 characters); empty when the exam was not scheduled.
    study_id : str
        Study ID (SH).
    description : str
        Study Description; the writers say what they scanned when empty.
    request : RequestedProcedure, optional
        The worklist's requested procedure, written in every series' Request Attributes.
    """

    study_uid: str
    started_at: _dt.datetime
    frame_of_reference_uid: str = ""
    accession_number: str = ""
    study_id: str = "1"
    description: str = ""
    request: RequestedProcedure | None = field(default=None)

    def __post_init__(self) -> None:
        check_uid(self.study_uid, "study_uid")
        if len(self.accession_number) > 16:
            raise UserError(
                "accession number: at most 16 characters",
                "numéro d'accession : 16 caractères au plus",
            )

    def frame_uid(self, make_uid: Any) -> str:
        """The exam's Frame of Reference UID (``make_uid`` builds one from the study's)."""
        return self.frame_of_reference_uid or str(make_uid("frame-of-reference", self.study_uid))
