"""Modality worklist: scheduled procedures from the lab's scenarios, and C-FIND to read them.

An instructor fills a day's list with ``merm-lab worklist add --scenario NAME --to DIR``
(``--modality PT`` for the PET scenarios of :data:`PET_SCENARIOS`): one
worklist file (``.wl``, a DICOM dataset as Orthanc's worklist plugin reads from its folder)
per scheduled procedure step. The console's patient step asks the worklist server (C-FIND,
Modality Worklist Information Model – FIND, PS3.4 K.6) and fills the patient card, the
accession number, the requested procedure and its protocol from the entry chosen.

The patient of a scenario is the same fictitious one the DICOM export writes
(``SIMULATION^…``, PatientID ``MERM-<KEY>``, ``MERM-PT-<KEY>`` for a PET scenario), so the
PACS study matches the worklist entry.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

from simulator.dicom.study import RequestedProcedure, Study
from simulator.errors import UserError
from simulator.hospital.address import CALLING_AET, DicomAddress

__all__ = [
    "ScheduledProcedure",
    "PETScenario",
    "PET_SCENARIOS",
    "MODALITIES",
    "parse_modality",
    "pet_scenario_patient",
    "MWL_FIND",
    "PROTOCOL_SCHEME",
    "scenario_names",
    "procedure_for_scenario",
    "write_worklist_files",
    "find_worklist",
    "scenario_key",
]

#: SOP Class UID of Modality Worklist Information Model – FIND.
MWL_FIND = "1.2.840.10008.5.1.4.31"

#: Coding scheme of the lab's protocol codes in Scheduled Protocol Code Sequence (private,
#: "99" prefix as PS3.3 8.2 allows for local schemes).
PROTOCOL_SCHEME = "99MERMLAB"


@dataclass(frozen=True)
class ScheduledProcedure:
    """One scheduled procedure step of the worklist.

    Attributes
    ----------
    patient_name, patient_id, birth_date, sex : str
        The fictitious patient (DICOM forms: ``SIMULATION^…``, ``YYYYMMDD``, ``F/M/O``).
    weight_kg : float
    accession_number : str
        SH, ≤ 16 characters.
    study_uid : str
        The Study Instance UID the exam will carry.
    procedure_id, procedure_description : str
        Requested Procedure ID and Description.
    step_id, step_description : str
        Scheduled Procedure Step ID and Description.
    modality : str
        ``MR`` or ``PT``.
    station_aet : str
        Scheduled Station AE Title.
    start : datetime
        Scheduled start.
    protocol : str
        The lab's protocol key (``anatomy/preset``), from Scheduled Protocol Code Sequence.
    reason : str
        Reason for the requested procedure (the scenario's indication).
    height_m : float
        Patient Size (m); 0 when the worklist gives none.
    """

    patient_name: str
    patient_id: str
    birth_date: str
    sex: str
    weight_kg: float
    accession_number: str
    study_uid: str
    procedure_id: str
    procedure_description: str
    step_id: str
    step_description: str
    modality: str
    station_aet: str
    start: _dt.datetime
    protocol: str
    reason: str = ""
    height_m: float = 0.0

    @property
    def label(self) -> str:
        """One line for a picker: time, patient, procedure, accession."""
        name = self.patient_name.split("^", 1)[-1].replace("_", " ")
        return f"{self.start:%H:%M} {name} — {self.procedure_description} ({self.accession_number})"

    def study(self) -> Study:
        """The :class:`Study` an exam for this step is written into."""
        return Study(
            study_uid=self.study_uid,
            started_at=self.start,
            accession_number=self.accession_number,
            description=self.procedure_description,
            request=RequestedProcedure(
                self.procedure_id,
                self.procedure_description,
                self.step_id,
                self.step_description,
                self.protocol,
            ),
        )


def scenario_key(patient_id: str) -> str | None:
    """The scenario key of a worklist PatientID ``MERM-<KEY>`` (None for another ID)."""
    from simulator.console.patient import SCENARIOS

    if not patient_id.upper().startswith("MERM-"):
        return None
    key = patient_id[5:].lower()
    return key if key in SCENARIOS else None


#: The modalities ``worklist add`` schedules: MR (the MR console's scenarios) and PT.
MODALITIES = ("MR", "PT")


def parse_modality(text: str) -> str:
    """``MR`` or ``PT`` from what a user typed (``mr``, ``PT``, ``pet``…).

    Raises
    ------
    UserError
        Any other value (the message lists the allowed ones).
    """
    value = text.strip().upper()
    value = {"PET": "PT", "IRM": "MR", "MRI": "MR"}.get(value, value)
    if value not in MODALITIES:
        raise UserError(
            f"--modality {text}: allowed MR, PT",
            f"--modality {text} : valeurs permises MR, PT",
        )
    return value


@dataclass(frozen=True)
class PETScenario:
    """A fictitious PET patient and the FDG procedure asked for them.

    Attributes
    ----------
    key : str
        Scenario key (``--scenario``); PatientID ``MERM-PT-<KEY>``.
    name : str
        ``FAMILY Given`` (written ``SIMULATION^FAMILY_Given``, as the MR scenarios).
    age, sex, weight_kg, height_cm
        Demographics; the weight sets the EANM activity, the height the SUL.
    phantom : str
        The PET console's phantom for it: ``patient`` (whole body) or ``brain``.
    procedure : str
        Requested Procedure Description (LO).
    indication_en, indication_fr, indication_de : str
        Reason for the requested procedure (the worklist carries the English one, as
        the MR scenarios' entries do; the console's card can show the trainee's language
        through :func:`pet_scenario_patient`).
    """

    key: str
    name: str
    age: int
    sex: str
    weight_kg: float
    height_cm: float
    phantom: str
    procedure: str
    indication_en: str
    indication_fr: str
    indication_de: str

    @property
    def protocol(self) -> str:
        """The lab's protocol key: ``<phantom>/fdg`` (the console loads the phantom)."""
        return f"{self.phantom}/fdg"


#: The PET scenarios: FDG oncology staging and restaging over the whole body, and FDG
#: brain for cognitive decline (EANM procedure guidelines: Boellaard 2015 for tumour
#: imaging, Guedj 2022 for the brain), each on the phantom the PET console has for it.
PET_SCENARIOS: dict[str, PETScenario] = {
    p.key: p
    for p in (
        PETScenario(
            "lymphoma",
            "MOREAU Paul",
            47,
            "M",
            82.0,
            178.0,
            "patient",
            "PET FDG whole body",
            "Hodgkin lymphoma, initial staging",
            "Lymphome de Hodgkin, bilan d'extension initial",
            "Hodgkin-Lymphom, initiales Staging",
        ),
        PETScenario(
            "lung_nodule",
            "FAURE Hélène",
            66,
            "F",
            58.0,
            162.0,
            "patient",
            "PET FDG whole body",
            "Solitary lung nodule 18 mm, characterisation",
            "Nodule pulmonaire solitaire de 18 mm, caractérisation",
            "Solitärer Lungenrundherd 18 mm, Dignitätsbeurteilung",
        ),
        PETScenario(
            "dementia",
            "ROUX Gérard",
            72,
            "M",
            76.0,
            171.0,
            "brain",
            "PET FDG brain",
            "Memory decline for 1 year, suspected Alzheimer disease",
            "Troubles mnésiques depuis 1 an, suspicion de maladie d'Alzheimer",
            "Gedächtnisstörungen seit 1 Jahr, Verdacht auf Alzheimer-Krankheit",
        ),
    )
}


def pet_scenario_patient(sp: ScheduledProcedure) -> Any:
    """The console :class:`~simulator.console.patient.Patient` of a worklist entry written
    from a PET scenario (PatientID ``MERM-PT-<KEY>``), with its indication in French,
    English and German; None for any other entry."""
    from simulator.console.patient import Patient

    pid = sp.patient_id.upper()
    key = pid[len("MERM-PT-") :].lower() if pid.startswith("MERM-PT-") else ""
    p = PET_SCENARIOS.get(key)
    if p is None:
        return None
    return Patient(
        f"pt-{p.key}",
        p.name,
        p.age,
        p.sex,
        p.weight_kg,
        p.phantom,
        None,
        p.indication_fr,
        p.indication_en,
        "calm",
        indication_de=p.indication_de,
    )


def scenario_names(modality: str = "MR") -> list[str]:
    """The keys of the lab's scenarios for ``modality``: the MR console's patients
    (``simulator.console.patient.SCENARIOS``) or :data:`PET_SCENARIOS`."""
    if parse_modality(modality) == "PT":
        return list(PET_SCENARIOS)
    from simulator.console.patient import SCENARIOS

    return list(SCENARIOS)


def _uid(*parts: Any) -> str:
    from simulator.dicom._common import make_uid

    return make_uid("worklist", *parts)


#: The protocol a radiologist would ask for, by pathology (else the anatomy's first preset).
_PROTOCOL_FOR = {
    "ms_lesions": "flair",
    "tumour": "t2_tse",
    "meniscal_tear": "pd_fs",
    "bone_marrow_oedema": "t2_fs",
    "disc_herniation": "t2_tse_sag",
    "acl_tear": "pd_fs",
    "vertebral_fracture": "stir_sag",  # marrow oedema: acute, not an old wedge
}


def _default_protocol(anatomy: str, pathology: str | None = None) -> str:
    import simulator.mr as mr

    presets = list(mr.PRESETS.get(anatomy) or ()) if hasattr(mr.PRESETS, "get") else []
    wanted = _PROTOCOL_FOR.get(pathology or "")
    name = wanted if wanted in presets else (presets[0] if presets else "")
    return f"{anatomy}/{name}" if name else anatomy


def _unknown(name: str, modality: str) -> UserError:
    known = ", ".join(scenario_names(modality))
    other = "PT" if modality == "MR" else "MR"
    hint_en = hint_fr = ""
    if name in scenario_names(other):
        hint_en = f" ({name} is a {other} scenario: add --modality {other})"
        hint_fr = f" ({name} est un scénario {other} : ajoutez --modality {other})"
    return UserError(
        f"--scenario {name}: unknown for {modality}; allowed: {known}, all{hint_en}",
        f"--scenario {name} : inconnu en {modality} ; valeurs permises : {known}, all{hint_fr}",
    )


def _pet_procedure(
    name: str, start: _dt.datetime, index: int, station_aet: str
) -> ScheduledProcedure:
    from simulator.dicom.patient import FictitiousPatient

    p = PET_SCENARIOS[name]
    fp = FictitiousPatient(
        name="SIMULATION^" + p.name.replace(" ", "_"),
        patient_id=f"MERM-PT-{p.key.upper()}",
        birth_date=_dt.date(2026 - p.age, 1, 1),
        sex=p.sex,
        weight_kg=p.weight_kg,
        height_m=p.height_cm / 100.0,
    )
    digest = hashlib.sha1(f"PT|{name}|{start.isoformat()}".encode()).hexdigest()
    return ScheduledProcedure(
        patient_name=fp.name,
        patient_id=fp.patient_id,
        birth_date=fp.birth_date.strftime("%Y%m%d"),
        sex=fp.sex,
        weight_kg=float(fp.weight_kg),
        accession_number=f"PT{start:%y%m%d}{int(digest[:6], 16) % 10000:04d}",
        study_uid=_uid("PT", name, start.isoformat()),
        procedure_id=f"RP{index + 1:03d}",
        procedure_description=p.procedure,
        step_id=f"SPS{index + 1:03d}",
        step_description=f"{p.procedure} - protocol {p.protocol}",
        modality="PT",
        station_aet=station_aet,
        start=start,
        protocol=p.protocol,
        reason=p.indication_en,
        height_m=fp.height_m,
    )


def procedure_for_scenario(
    name: str,
    start: _dt.datetime,
    index: int = 0,
    station_aet: str = CALLING_AET,
    modality: str = "MR",
) -> ScheduledProcedure:
    """The scheduled procedure of scenario ``name`` at ``start``.

    Parameters
    ----------
    name : str
        A key of :func:`scenario_names` for ``modality``.
    start : datetime
        Scheduled start.
    index : int
        Rank in the day's list (Requested Procedure and Step IDs).
    station_aet : str
        Scheduled Station AE Title.
    modality : {"MR", "PT"}
        ``PT``: a PET scenario (:data:`PET_SCENARIOS`), PatientID ``MERM-PT-<KEY>``,
        accession ``PT…``, protocol ``<phantom>/fdg``.

    Raises
    ------
    UserError
        An unknown scenario (the message lists the known ones) or modality.
    """
    from simulator.console.patient import SCENARIOS
    from simulator.console.session import _dicom_patient
    from simulator.dicom.patient import FictitiousPatient

    modality = parse_modality(modality)
    if name not in scenario_names(modality):
        raise _unknown(name, modality)
    if modality == "PT":
        return _pet_procedure(name, start, index, station_aet)
    p = SCENARIOS[name]
    fp = _dicom_patient(FictitiousPatient, p)
    digest = hashlib.sha1(f"{name}|{start.isoformat()}".encode()).hexdigest()
    accession = f"ML{start:%y%m%d}{int(digest[:6], 16) % 10000:04d}"[:16]
    protocol = _default_protocol(p.anatomy, p.pathology)
    what = {"brain": "MR brain", "knee": "MR knee", "spine": "MR lumbar spine"}.get(
        p.anatomy, f"MR {p.anatomy}"
    )
    return ScheduledProcedure(
        patient_name=fp.name,
        patient_id=fp.patient_id,
        birth_date=fp.birth_date.strftime("%Y%m%d"),
        sex=fp.sex,
        weight_kg=float(fp.weight_kg),
        accession_number=accession,
        study_uid=_uid(name, start.isoformat()),
        procedure_id=f"RP{index + 1:03d}",
        procedure_description=what,
        step_id=f"SPS{index + 1:03d}",
        step_description=f"{what} - protocol {protocol}",
        modality="MR",
        station_aet=station_aet,
        start=start,
        protocol=protocol,
        reason=p.indication_en,
        height_m=float(fp.height_m),
    )


def _dataset(sp: ScheduledProcedure) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = sp.patient_name
    ds.PatientID = sp.patient_id
    ds.PatientBirthDate = sp.birth_date
    ds.PatientSex = sp.sex
    ds.PatientWeight = f"{sp.weight_kg:g}"
    if sp.height_m > 0:
        ds.PatientSize = f"{sp.height_m:g}"
    ds.AccessionNumber = sp.accession_number
    ds.ReferringPhysicianName = ""
    ds.StudyInstanceUID = sp.study_uid
    ds.RequestedProcedureID = sp.procedure_id
    ds.RequestedProcedureDescription = sp.procedure_description
    ds.ReasonForTheRequestedProcedure = sp.reason[:64]
    step = Dataset()
    step.Modality = sp.modality
    step.ScheduledStationAETitle = sp.station_aet
    step.ScheduledProcedureStepStartDate = sp.start.strftime("%Y%m%d")
    step.ScheduledProcedureStepStartTime = sp.start.strftime("%H%M%S")
    step.ScheduledPerformingPhysicianName = ""
    step.ScheduledProcedureStepDescription = sp.step_description[:64]
    step.ScheduledProcedureStepID = sp.step_id
    code = Dataset()
    code.CodeValue = sp.protocol[:16]
    code.CodingSchemeDesignator = PROTOCOL_SCHEME
    code.CodeMeaning = sp.protocol[:64]
    step.ScheduledProtocolCodeSequence = [code]
    ds.ScheduledProcedureStepSequence = [step]
    return ds


def write_worklist_files(
    procedures: Sequence[ScheduledProcedure], folder: str | Path
) -> list[Path]:
    """One ``<accession>.wl`` file per procedure in ``folder`` (Orthanc's worklist folder).

    Raises
    ------
    UserError
        ``folder`` cannot be created or written.
    """
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--to {out}: {exc.strerror}", f"--to {out} : {exc.strerror}") from None
    paths = []
    for sp in procedures:
        ds = _dataset(sp)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = UID(MWL_FIND)
        meta.MediaStorageSOPInstanceUID = UID(_uid("file", sp.accession_number, sp.study_uid))
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        ds.file_meta = meta
        path = out / f"{sp.accession_number}.wl"
        try:
            ds.save_as(path, enforce_file_format=True)
        except OSError as exc:
            raise UserError(f"{path}: {exc.strerror}", f"{path} : {exc.strerror}") from None
        paths.append(path)
    return paths


def _query(modality: str | None) -> Dataset:
    q = Dataset()
    for key in (
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "PatientWeight",
        "PatientSize",
        "AccessionNumber",
        "StudyInstanceUID",
        "RequestedProcedureID",
        "RequestedProcedureDescription",
        "ReasonForTheRequestedProcedure",
    ):
        setattr(q, key, "")
    step = Dataset()
    step.Modality = modality or ""
    for key in (
        "ScheduledStationAETitle",
        "ScheduledProcedureStepStartDate",
        "ScheduledProcedureStepStartTime",
        "ScheduledProcedureStepDescription",
        "ScheduledProcedureStepID",
    ):
        setattr(step, key, "")
    step.ScheduledProtocolCodeSequence = [Dataset()]
    q.ScheduledProcedureStepSequence = [step]
    return q


def _from_dataset(ds: Dataset) -> ScheduledProcedure:
    step = (ds.get("ScheduledProcedureStepSequence") or [Dataset()])[0]
    codes = step.get("ScheduledProtocolCodeSequence") or []
    protocol = next(
        (
            str(c.get("CodeMeaning", ""))
            for c in codes
            if c.get("CodingSchemeDesignator") == PROTOCOL_SCHEME
        ),
        "",
    )
    date = str(step.get("ScheduledProcedureStepStartDate", "") or "")
    time = str(step.get("ScheduledProcedureStepStartTime", "") or "000000").split(".")[0]
    try:
        start = _dt.datetime.strptime(date + time.ljust(6, "0")[:6], "%Y%m%d%H%M%S")
    except ValueError:
        start = _dt.datetime.now().replace(microsecond=0)
    try:
        weight = float(ds.get("PatientWeight", 0) or 0)
    except (TypeError, ValueError):
        weight = 0.0
    try:
        height = float(ds.get("PatientSize", 0) or 0)
    except (TypeError, ValueError):
        height = 0.0
    return ScheduledProcedure(
        patient_name=str(ds.get("PatientName", "")),
        patient_id=str(ds.get("PatientID", "")),
        birth_date=str(ds.get("PatientBirthDate", "")),
        sex=str(ds.get("PatientSex", "") or "O"),
        weight_kg=weight,
        accession_number=str(ds.get("AccessionNumber", "")),
        study_uid=str(ds.get("StudyInstanceUID", "")),
        procedure_id=str(ds.get("RequestedProcedureID", "")),
        procedure_description=str(ds.get("RequestedProcedureDescription", "")),
        step_id=str(step.get("ScheduledProcedureStepID", "")),
        step_description=str(step.get("ScheduledProcedureStepDescription", "")),
        modality=str(step.get("Modality", "")),
        station_aet=str(step.get("ScheduledStationAETitle", "")),
        start=start,
        protocol=protocol,
        reason=str(ds.get("ReasonForTheRequestedProcedure", "")),
        height_m=height,
    )


def find_worklist(addr: DicomAddress, modality: str | None = None) -> list[ScheduledProcedure]:
    """C-FIND the worklist at ``addr`` (optionally one modality), sorted by start time.

    Raises
    ------
    UserError
        Unreachable server, refused association, or a failed query (one line).
    """
    from simulator.hospital.pacs import associate

    assoc = associate(addr, [MWL_FIND])
    found: list[ScheduledProcedure] = []
    try:
        for status, identifier in assoc.send_c_find(_query(modality), MWL_FIND):
            code = getattr(status, "Status", None)
            if code is None:
                raise UserError(
                    f"{addr}: connection lost during the worklist query",
                    f"{addr} : connexion perdue pendant la requête de worklist",
                )
            if code in (0xFF00, 0xFF01) and identifier is not None:
                found.append(_from_dataset(identifier))
            elif code not in (0x0000, 0xFF00, 0xFF01):
                raise UserError(
                    f"{addr}: worklist query failed (C-FIND status 0x{code:04X})",
                    f"{addr} : requête de worklist en échec (statut C-FIND 0x{code:04X})",
                )
    finally:
        if assoc.is_established:
            assoc.release()
    return sorted(found, key=lambda sp: (sp.start, sp.accession_number))
