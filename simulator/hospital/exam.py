"""A console exam as a scanner writes it: one Study, its series numbered 1, 2, 3… in
acquisition order, each stamped with its time on the exam clock.

The exam clock starts at the patient's admission, like a modality's performed procedure
step (DICOM MPPS, PS3.4 F.7: IN PROGRESS from the patient's arrival, COMPLETED at the end).
An exam opens when the console opens (its default patient), again at each patient admitted
and when a worklist entry is chosen (which brings its Study Instance UID, accession number
and requested procedure). Between scans the clock runs with the wall clock; a scan moves it
on by the scan's simulated time, however fast the console's clock ran it, so that series *k*
starts after series 1…k−1 and the exam's duration is what a real one would take. PET series
are timed from the injection at the exam start plus their uptake.

The exam is COMPLETED when every series of it has been sent to the PACS, or when the next
patient's exam opens; a scan after that reopens it (IN PROGRESS). An exam left without a
series when the next opens is DISCONTINUED. Orthanc (the PACS the lab uses) has no MPPS
service (it refuses the MPPS presentation context), so the states are the console's and
the mentor's (``hospital_snapshot()["exam"]``); no N-CREATE / N-SET is sent.
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.dicom.study import Study

__all__ = [
    "Exam",
    "exam_for",
    "exam_of_series",
    "watch",
    "set_worklist_entry",
    "send_exam",
    "outbox",
    "hospital_snapshot",
    "worklist_patient",
]

_LOCK = threading.Lock()


@dataclass
class Exam:
    """One patient's exam on a console: its Study, its series, the procedure it was for.

    Attributes
    ----------
    study : Study
    first_index : int
        Index in ``session.series`` of the exam's first series (the console keeps every
        series of the session; a new patient opens a new exam from the next one).
    patient : object
        The console patient the exam is for (None: the default fictitious patient).
    procedure : ScheduledProcedure or None
        The worklist entry the exam was started from.
    statuses : dict
        Series Instance UID → latest :class:`~simulator.hospital.pacs.SeriesStatus`.
    acquired : dict
        Series index → its start on the exam clock (recorded when the scan starts).
    ended_at : datetime or None
        End of the procedure step on the exam clock (None while IN PROGRESS).
    discontinued : bool
        Closed without a series (the next patient came first).
    """

    study: Study
    first_index: int = 0
    patient: Any = None
    procedure: Any = None
    statuses: dict[str, Any] = field(default_factory=dict)
    acquired: dict[int, _dt.datetime] = field(default_factory=dict)
    ended_at: _dt.datetime | None = None
    discontinued: bool = False
    #: time.monotonic() at admission, the exam clock's advance over the wall clock from
    #: the scans (simulated minus wall seconds), and the scan under way (wall start, exam
    #: clock start).
    _wall0: float = field(default_factory=time.monotonic, repr=False)
    _ahead_s: float = field(default=0.0, repr=False)
    _scan: tuple[float, _dt.datetime] | None = field(default=None, repr=False)

    def indices(self, session: Any, end: int | None = None) -> range:
        """Indices of the exam's series in ``session.series`` (up to the next exam's)."""
        stop = len(session.series) if end is None else end
        return range(self.first_index, stop)

    def clock(self, wall: float | None = None) -> _dt.datetime:
        """The exam clock at ``wall`` (``time.monotonic()``; default now): the admission
        plus the wall time since, plus what the scans' simulated times added."""
        wall = time.monotonic() if wall is None else wall
        elapsed = max(wall - self._wall0, 0.0) + self._ahead_s
        return self.study.started_at + _dt.timedelta(seconds=round(elapsed))

    @property
    def state(self) -> str:
        """The procedure step's status, in MPPS terms: ``IN PROGRESS``, ``COMPLETED`` or
        ``DISCONTINUED`` (Performed Procedure Step Status, PS3.3 C.4.14)."""
        if self.discontinued:
            return "DISCONTINUED"
        return "IN PROGRESS" if self.ended_at is None else "COMPLETED"

    def duration_s(self, wall: float | None = None) -> float:
        """Seconds from the admission to the end (to the clock now while in progress)."""
        end = self.ended_at or self.clock(wall)
        return (end - self.study.started_at).total_seconds()

    def scan_started(self, wall: float | None = None) -> None:
        """A scan starts: its series will start at the exam clock's time now."""
        wall = time.monotonic() if wall is None else wall
        self._scan = (wall, self.clock(wall))

    def scan_stopped(self) -> None:
        """The scan under way was stopped or failed: it leaves no series."""
        self._scan = None

    def series_added(self, index: int, scan_time_s: float, wall: float | None = None) -> None:
        """Series ``index`` is acquired: it started when its scan did, and the clock moves
        on by its simulated scan time (never back: a scan slower than its simulated time
        keeps the wall time). A series after the exam was completed reopens it."""
        wall = time.monotonic() if wall is None else wall
        wall0, start = self._scan if self._scan is not None else (wall, self.clock(wall))
        self._scan = None
        self.acquired[index] = start
        self._ahead_s += max(float(scan_time_s) - (wall - wall0), 0.0)
        self.ended_at = None

    def complete(self, session: Any, wall: float | None = None) -> None:
        """End the procedure step now on the exam clock (not before its last series ends):
        COMPLETED with series, DISCONTINUED without."""
        if self.ended_at is not None or self.discontinued:
            return
        series = list(self.indices(session))
        if not series:
            self.discontinued = True
            return
        end = self.clock(wall)
        for i in series:
            end = max(end, self.series_end(session, i))
        self.ended_at = end

    def series_time(self, session: Any, index: int) -> _dt.datetime:
        """When series ``index`` was acquired on the exam clock (MR): when its scan started,
        or, for a series whose scan the exam did not see start, the exam start plus the
        scan times of the exam's series before it."""
        if index in self.acquired:
            return self.acquired[index]
        elapsed = 0.0
        for result in session.series[self.first_index : index]:
            elapsed += _scan_time_s(result)
        return self.study.started_at + _dt.timedelta(seconds=round(elapsed))

    def series_end(self, session: Any, index: int) -> _dt.datetime:
        """When series ``index``'s acquisition ended on the exam clock (PET: the injection
        at the exam start plus the uptake and the scan)."""
        result = session.series[index]
        scan_s = _scan_time_s(result)
        if result.kind == "mr":
            return self.series_time(session, index) + _dt.timedelta(seconds=round(scan_s))
        offset = float(getattr(result.series, "scan_start_offset_s", 0.0) or 0.0)
        return self.study.started_at + _dt.timedelta(seconds=round(offset + scan_s))

    def write_series(self, session: Any, index: int, out_dir: str | Path) -> list[Path]:
        """Write series ``index`` of ``session`` into ``out_dir`` as part of this study
        (Series Number: its rank in the exam, from 1)."""
        import simulator.dicom as dicom
        from simulator.console.session import _dicom_patient

        result = session.series[index]
        patient = None
        if self.procedure is not None:
            patient = worklist_patient(self.procedure)
        if patient is None and self.patient is not None:
            patient = _dicom_patient(dicom.FictitiousPatient, self.patient)
        number = index - self.first_index + 1
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


def _scan_time_s(result: Any) -> float:
    try:
        return float((result.metrics or {}).get("scan_time_s", 0.0) or 0.0)
    except (TypeError, ValueError):
        return 0.0


def worklist_patient(procedure: Any) -> Any:
    """The DICOM patient of a worklist entry, as the worklist gives it (IHE Scheduled
    Workflow: the modality copies the MWL's name, ID, birth date, sex, weight and size, so
    the PACS files the images under the ordered patient); None where the entry is not a
    ``SIMULATION^…`` patient (the console's own patient is written instead)."""
    import simulator.dicom as dicom
    from simulator.errors import UserError

    try:
        born = _dt.datetime.strptime(procedure.birth_date, "%Y%m%d").date()
    except (TypeError, ValueError):
        born = dicom.FictitiousPatient().birth_date
    extra = {"height_m": procedure.height_m} if getattr(procedure, "height_m", 0) else {}
    try:
        return dicom.FictitiousPatient(
            name=procedure.patient_name,
            patient_id=procedure.patient_id,
            birth_date=born,
            sex=procedure.sex if procedure.sex in ("F", "M", "O") else "O",
            weight_kg=procedure.weight_kg or 70.0,
            **extra,
        )
    except UserError:
        return None


def _new_study(session: Any) -> Study:
    from simulator.dicom._common import make_uid

    now = _dt.datetime.now().replace(microsecond=0)
    n = getattr(session, "_hospital_opened", 0)  # exams opened so far, replaced ones too
    session._hospital_opened = n + 1
    uid = make_uid("console-exam", session.modality, id(session), n, now.isoformat())
    return Study(study_uid=uid, started_at=now)


def _exams(session: Any) -> list[Exam]:
    exams = getattr(session, "hospital_exams", None)
    if exams is None:
        exams = []
        session.hospital_exams = exams
    return exams


def _open(session: Any, exam: Exam) -> Exam:
    exams = _exams(session)
    if exams and exams[-1].first_index == exam.first_index:
        exams[-1].complete(session)  # nothing scanned: DISCONTINUED
        exams[-1] = exam  # nothing scanned yet in the last exam: this one replaces it
    else:
        if exams:
            exams[-1].complete(session)  # the next patient ends the last exam
        exams.append(exam)
    session.hospital_exam = exam
    return exam


def watch(session: Any) -> None:
    """Open the session's first exam now, and a new exam whenever ``session`` admits
    another patient; follow its scans on the exam clock (idempotent).

    The consoles call it when they open; :func:`exam_for` calls it too, so that a script
    that changes patients after its first send gets one study per patient.
    """
    if getattr(session, "_hospital_watched", False) or not hasattr(session, "on_change"):
        return
    session._hospital_watched = True

    def on_event(event: dict[str, Any]) -> None:
        if not isinstance(event, dict):
            return
        kind = event.get("type")
        if kind in ("scan_progress", "series"):
            _clock_event(session, event)
            return
        if kind != "patient":
            return
        patient = getattr(session, "patient", None)
        with _LOCK:
            exam = getattr(session, "hospital_exam", None)
            if exam is not None and exam.patient is patient:
                return
            first = len(session.series)
            _open(session, Exam(study=_new_study(session), first_index=first, patient=patient))

    session.on_change(on_event)
    with _LOCK:  # the console is open: its (default) patient's exam and clock start now
        if getattr(session, "hospital_exam", None) is None:
            patient = getattr(session, "patient", None)
            _open(session, Exam(study=_new_study(session), patient=patient))


def _clock_event(session: Any, event: dict[str, Any]) -> None:
    """Move the exam clock on a scan's start, stop and new series (see :class:`Exam`)."""
    with _LOCK:
        exam = getattr(session, "hospital_exam", None)
        if exam is None:
            return
        if event.get("type") == "scan_progress":
            state = event.get("state")
            if state == "running" and exam._scan is None:
                exam.scan_started()
            elif state in ("stopped", "error"):
                exam.scan_stopped()
            return
        index = event.get("index")
        series = getattr(session, "series", [])
        if isinstance(index, int) and exam.first_index <= index < len(series):
            if index not in exam.acquired:
                exam.series_added(index, _scan_time_s(series[index]))


def exam_for(session: Any) -> Exam:
    """The current exam of ``session`` (``session.hospital_exam``), opened if needed; a new
    patient opens a new exam (a new Study) from the next series (see :func:`watch`)."""
    watch(session)
    with _LOCK:
        exam = getattr(session, "hospital_exam", None)
        if exam is None:
            patient = getattr(session, "patient", None)
            exam = _open(session, Exam(study=_new_study(session), patient=patient))
        return exam


def exam_of_series(session: Any, index: int) -> Exam:
    """The exam series ``index`` of ``session`` belongs to (the last opened before it)."""
    current = exam_for(session)
    for exam in reversed(_exams(session)):
        if exam.first_index <= index:
            return exam
    return current


def set_worklist_entry(session: Any, procedure: Any) -> Exam:
    """Start a new exam of the session from a worklist entry (its study, accession,
    procedure), from the next series on."""
    import dataclasses

    now = _dt.datetime.now().replace(microsecond=0)
    with _LOCK:
        # The study UID, accession and request are the worklist's; the clock is the exam's.
        exam = Exam(
            study=dataclasses.replace(procedure.study(), started_at=now),
            first_index=len(session.series),
            patient=getattr(session, "patient", None),
            procedure=procedure,
        )
        _open(session, exam)
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
    out: dict[str, Any] = {
        "exam": {
            "state": exam.state,
            "started": exam.study.started_at.isoformat(),
            "ended": exam.ended_at.isoformat() if exam.ended_at is not None else None,
            "duration_s": round(exam.duration_s()),
        }
    }
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
            {
                "series": st.number,
                "state": st.state,
                "reason": st.reason_en,
                "reason_fr": st.reason_fr,
            }
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
    """Write every series of ``session`` into its exam's study and C-STORE them to ``addr``;
    the ImageComments carry the detection AI's findings and the trainee's calls
    (:func:`simulator.dicom.findings.annotate_findings`).

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
    from simulator.dicom.findings import annotate_findings
    from simulator.hospital.pacs import send_series

    exam = exam_for(session)
    root = outbox(exam)
    folders = []
    for i in exam.indices(session):
        folder = root / f"S{i - exam.first_index + 1:03d}"
        paths = exam.write_series(session, i, folder)  # same exam, same bytes: safe to rewrite
        # the AI findings and the trainee's calls, as in the console's DICOM download
        annotate_findings(paths, (session.series[i].metrics or {}).get("ai_findings"))
        folders.append(folder)
    if only_failed:
        sent = {s.folder for s in exam.statuses.values() if s.state == "sent"}
        folders = [f for f in folders if str(f) not in sent]

    def each(status: Any) -> None:
        exam.statuses[status.series_uid] = status
        _emit(session, {"type": "pacs", **hospital_snapshot(session)})
        if on_status is not None:
            on_status(status)

    statuses = send_series(folders, addr, web_base=web_base, on_status=each)
    with _LOCK:
        uids = {st.series_uid for st in exam.statuses.values() if st.state == "sent"}
        all_sent = len(uids) >= len(exam.indices(session)) > 0
        if all_sent and session.hospital_exam is exam and exam._scan is None:
            exam.complete(session)  # every series is in the PACS: the step is COMPLETED
    _emit(session, {"type": "pacs", **hospital_snapshot(session)})
    return statuses
