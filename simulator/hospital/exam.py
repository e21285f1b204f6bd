"""A console exam as a scanner writes it: one Study, its series numbered 1, 2, 3… in
acquisition order, each stamped with its time on the exam clock.

The exam opens when the console first needs it (or when a worklist entry is chosen, which
brings its Study Instance UID, accession number and requested procedure); the clock starts
then, and series *k* is acquired after the scan times of series 1…k−1 (MR), or at the
injection plus its uptake (PET, injection at the exam start).
"""

from __future__ import annotations

import datetime as _dt
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.dicom.study import Study

__all__ = ["Exam", "exam_for", "set_worklist_entry", "send_exam", "outbox", "hospital_snapshot"]

_LOCK = threading.Lock()


@dataclass
class Exam:
    """The study of one console session and the procedure it was scheduled for.

    Attributes
    ----------
    study : Study
    procedure : ScheduledProcedure or None
        The worklist entry the exam was started from.
    statuses : dict
        Series Instance UID → latest :class:`~simulator.hospital.pacs.SeriesStatus`.
    """

    study: Study
    procedure: Any = None
    statuses: dict[str, Any] = field(default_factory=dict)

    def series_time(self, session: Any, index: int) -> _dt.datetime:
        """When series ``index`` (0-based) was acquired on the exam clock (MR)."""
        elapsed = 0.0
        for result in session.series[:index]:
            elapsed += float((result.metrics or {}).get("scan_time_s", 0.0) or 0.0)
        return self.study.started_at + _dt.timedelta(seconds=round(elapsed))

    def write_series(self, session: Any, index: int, out_dir: str | Path) -> list[Path]:
        """Write series ``index`` of ``session`` into ``out_dir`` as part of this study."""
        import simulator.dicom as dicom
        from simulator.console.session import _dicom_patient

        result = session.series[index]
        patient = None
        if session.patient is not None:
            patient = _dicom_patient(dicom.FictitiousPatient, session.patient)
        number = index + 1
        if result.kind == "mr":
            return dicom.write_mr_series(
                result.series,
                out_dir,
                patient=patient,
                series_number=number,
                acquired_at=self.series_time(session, index),
                study=self.study,
            )
        return dicom.write_pet_series(
            result.series,
            out_dir,
            patient=patient,
            series_number=number,
            injected_at=self.study.started_at,
            study=self.study,
        )

    def write_all(self, session: Any, root: str | Path) -> list[Path]:
        """Every series of the session, one folder each (``S001``, ``S002``…) under ``root``."""
        folders = []
        for i in range(len(session.series)):
            folder = Path(root) / f"S{i + 1:03d}"
            self.write_series(session, i, folder)
            folders.append(folder)
        return folders


def _new_study(session: Any) -> Study:
    from simulator.dicom._common import make_uid

    now = _dt.datetime.now().replace(microsecond=0)
    uid = make_uid("console-exam", session.modality, id(session), now.isoformat())
    return Study(study_uid=uid, started_at=now)


def exam_for(session: Any) -> Exam:
    """The exam of ``session`` (kept on the session as ``hospital_exam``), opened if needed."""
    with _LOCK:
        exam = getattr(session, "hospital_exam", None)
        if exam is None:
            exam = Exam(study=_new_study(session))
            session.hospital_exam = exam
        return exam


def set_worklist_entry(session: Any, procedure: Any) -> Exam:
    """Start the session's exam from a worklist entry (its study, accession, procedure)."""
    import dataclasses

    now = _dt.datetime.now().replace(microsecond=0)
    with _LOCK:
        # The study UID, accession and request are the worklist's; the clock is the exam's.
        exam = Exam(
            study=dataclasses.replace(procedure.study(), started_at=now), procedure=procedure
        )
        session.hospital_exam = exam
    _emit(session, {"type": "worklist", **hospital_snapshot(session)})
    return exam


def _emit(session: Any, event: dict[str, Any]) -> None:
    emit = getattr(session, "_emit", None)
    if emit is not None:  # the mentor's page and the exercise panel follow the session
        emit(event)


def hospital_snapshot(session: Any) -> dict[str, Any]:
    """The worklist entry and the PACS status of the session's exam, for ``snapshot()``
    (the mentor's page): ``{"worklist": {...}, "pacs": [...]}``, only the keys known."""
    exam = getattr(session, "hospital_exam", None)
    if exam is None:
        return {}
    out: dict[str, Any] = {}
    sp = exam.procedure
    if sp is not None:
        out["worklist"] = {
            "accession": sp.accession_number,
            "procedure": sp.procedure_description,
            "protocol": sp.protocol,
            "patient_id": sp.patient_id,
        }
    if exam.statuses:
        out["pacs"] = [
            {"series": st.number, "state": st.state, "reason": st.reason_en}
            for st in sorted(exam.statuses.values(), key=lambda st: st.number)
        ]
    return out


def outbox(exam: Exam) -> Path:
    """Where the exam's series are written before sending: ``<data home>/outbox/<study>``.

    Kept after the send, so that a failed series can be sent again as it was.
    """
    from simulator.paths import data_home

    folder = data_home() / "outbox" / exam.study.study_uid
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def send_exam(
    session: Any,
    addr: Any,
    *,
    web_base: str = "",
    only_failed: bool = False,
    on_status: Any = None,
) -> list[Any]:
    """Write every series of ``session`` into its exam's study and C-STORE them to ``addr``.

    Parameters
    ----------
    session : ConsoleSession
    addr : DicomAddress
        The PACS.
    web_base : str
        Orthanc's HTTP address for the viewer links.
    only_failed : bool
        Send only the series not yet ``sent`` (a retry after a failure).
    on_status : callable, optional
        Called with each series' status as it is known.

    Returns
    -------
    list of SeriesStatus
        One per series sent this time; also kept in ``exam.statuses`` by Series UID.
    """
    from simulator.hospital.pacs import send_series

    exam = exam_for(session)
    root = outbox(exam)
    folders = []
    for i in range(len(session.series)):
        folder = root / f"S{i + 1:03d}"
        exam.write_series(session, i, folder)  # same exam, same bytes: safe to rewrite
        folders.append(folder)
    if only_failed:
        sent = {s.folder for s in exam.statuses.values() if s.state == "sent"}
        folders = [f for f in folders if str(f) not in sent]

    def each(status: Any) -> None:
        exam.statuses[status.series_uid] = status
        _emit(session, {"type": "pacs", **hospital_snapshot(session)})
        if on_status is not None:
            on_status(status)

    return send_series(folders, addr, web_base=web_base, on_status=each)
