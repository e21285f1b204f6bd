"""Send to PACS: C-ECHO, and C-STORE of series folders with a status per series.

Each series goes in its own association, so that when the PACS goes down mid-send the series
already stored say ``sent``, the others ``failed`` with the reason, and nothing is deleted:
the folders stay on disk for a retry of exactly the failed ones.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.errors import UserError
from simulator.hospital.address import CALLING_AET, DicomAddress, reachable
from simulator.hospital.orthanc import series_viewer_url

__all__ = ["SeriesStatus", "echo", "send_series", "series_folders", "TIMEOUT_S"]

#: SOP Class UID of the Verification service (C-ECHO).
VERIFICATION = "1.2.840.10008.1.1"

#: Association attempts before "the server closed the connection" (see :func:`associate`).
_TRIES = 4

#: Network timeouts (connect, association, each message); stops a hang, not a budget.
TIMEOUT_S = 15.0

# pynetdicom logs every failed association at ERROR on the root of its logger: our one-line
# messages say it better.
logging.getLogger("pynetdicom").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class SeriesStatus:
    """What happened to one series.

    Attributes
    ----------
    folder : str
        Where the series' files are (kept whatever the outcome).
    series_uid, study_uid, patient_id : str
        Its identifiers.
    number : int
        Series Number.
    description : str
        Series Description.
    files : int
        Files in the series.
    stored : int
        Files the PACS confirmed (C-STORE status Success or Warning).
    state : str
        ``"sent"``, ``"failed"`` or ``"pending"`` (not tried yet).
    reason_en, reason_fr : str
        Why it failed (empty when sent).
    viewer_url : str
        The PACS viewer page of the series (Orthanc), when known.
    """

    folder: str
    series_uid: str
    study_uid: str
    patient_id: str
    number: int
    description: str
    files: int
    stored: int = 0
    state: str = "pending"
    reason_en: str = ""
    reason_fr: str = ""
    viewer_url: str = ""

    def reason(self, lang: str = "en") -> str:
        return self.reason_fr if lang == "fr" else self.reason_en

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _ae(contexts: Iterable[Any]) -> Any:
    try:
        from pynetdicom import AE
    except ImportError:
        raise UserError(
            "DICOM networking needs pynetdicom: pip install 'merm-lab[hospital]'",
            "le réseau DICOM demande pynetdicom : pip install 'merm-lab[hospital]'",
        ) from None
    ae = AE(ae_title=CALLING_AET)
    for ctx in contexts:
        ae.add_requested_context(*ctx) if isinstance(ctx, tuple) else ae.add_requested_context(ctx)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = TIMEOUT_S
    ae.connection_timeout = TIMEOUT_S
    return ae


def associate(addr: DicomAddress, contexts: Iterable[Any]) -> Any:
    """An established association with ``addr``; one-line UserError otherwise.

    Unreachable (nothing listens), refused (the peer rejected the association: wrong called
    AE title, this station not allowed) and aborted are told apart.
    """
    reachable(addr, TIMEOUT_S)
    ae = _ae(contexts)
    # A peer that rejects closes its socket right after the A-ASSOCIATE-RJ; pynetdicom now
    # and then sees the close first and reports an abort. Asking again tells them apart.
    for attempt in range(_TRIES):
        assoc = ae.associate(addr.host, addr.port, ae_title=addr.aet)
        if assoc.is_established or assoc.is_rejected:
            break
        time.sleep(0.2 * (attempt + 1))
    if assoc.is_established:
        return assoc
    if assoc.is_rejected:
        raise UserError(
            f"{addr}: association refused (wrong AE title {addr.aet!r}, or station "
            f"{CALLING_AET!r} not allowed by the server)",
            f"{addr} : association refusée (titre AE {addr.aet!r} erroné, ou poste "
            f"{CALLING_AET!r} non autorisé par le serveur)",
        )
    raise UserError(
        f"{addr}: the server closed the connection (not a DICOM server, or it went down)",
        f"{addr} : le serveur a fermé la connexion (pas un serveur DICOM, ou il s'est arrêté)",
    )


def echo(addr: DicomAddress) -> None:
    """C-ECHO ``addr``; returns when it answers Success, else a one-line UserError."""
    assoc = associate(addr, [VERIFICATION])
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    code = getattr(status, "Status", None)
    if code != 0x0000:
        raise UserError(
            f"{addr}: C-ECHO failed (status {code if code is not None else 'none'})",
            f"{addr} : C-ECHO en échec (statut {code if code is not None else 'aucun'})",
        )


def series_folders(root: str | Path) -> list[Path]:
    """Folders under ``root`` (``root`` included) that hold ``.dcm`` files, sorted."""
    base = Path(root)
    if not base.is_dir():
        raise UserError(
            f"{base}: not a folder of DICOM series", f"{base} : pas un dossier de séries DICOM"
        )
    found = sorted({p.parent for p in base.rglob("*.dcm")})
    if not found:
        raise UserError(f"{base}: no .dcm files found", f"{base} : aucun fichier .dcm trouvé")
    return found


def _read_series(folder: Path) -> list[Any]:
    from pydicom import dcmread

    return [dcmread(p) for p in sorted(folder.glob("*.dcm"))]


def _describe(folder: Path, datasets: Sequence[Any]) -> dict[str, Any]:
    d = datasets[0]
    return {
        "folder": str(folder),
        "series_uid": str(d.SeriesInstanceUID),
        "study_uid": str(d.StudyInstanceUID),
        "patient_id": str(d.PatientID),
        "number": int(d.get("SeriesNumber", 0) or 0),
        "description": str(d.get("SeriesDescription", "")),
        "files": len(datasets),
    }


def _store_one(addr: DicomAddress, datasets: Sequence[Any]) -> tuple[int, str, str]:
    """C-STORE one series; (files stored, reason en, reason fr)."""
    from pydicom.uid import ExplicitVRLittleEndian

    classes = sorted({str(d.SOPClassUID) for d in datasets})
    assoc = associate(addr, [(uid, [ExplicitVRLittleEndian]) for uid in classes])
    stored = 0
    try:
        for ds in datasets:
            status = assoc.send_c_store(ds)
            code = getattr(status, "Status", None)
            if code is None:
                return (
                    stored,
                    "connection lost during the send (PACS down?)",
                    "connexion perdue pendant l'envoi (PACS arrêté ?)",
                )
            if code != 0x0000 and not 0xB000 <= code <= 0xBFFF:
                return (
                    stored,
                    f"the PACS refused a file (C-STORE status 0x{code:04X})",
                    f"le PACS a refusé un fichier (statut C-STORE 0x{code:04X})",
                )
            stored += 1
    finally:
        if assoc.is_established:
            assoc.release()
    return stored, "", ""


def send_series(
    folders: Iterable[str | Path],
    addr: DicomAddress,
    *,
    web_base: str = "",
    on_status: Callable[[SeriesStatus], None] | None = None,
) -> list[SeriesStatus]:
    """C-STORE each series folder to ``addr``; a status per series, never an exception for
    a network failure (that is the series' ``reason``).

    Parameters
    ----------
    folders : iterable of path
        One folder per series (``*.dcm`` files).
    addr : DicomAddress
        The PACS.
    web_base : str
        Orthanc's HTTP address, for each sent series' viewer link.
    on_status : callable, optional
        Called with each series' status as soon as it is known (the console's live list).

    Returns
    -------
    list of SeriesStatus
        In the order of ``folders``.
    """
    out: list[SeriesStatus] = []
    for folder in folders:
        path = Path(folder)
        datasets = _read_series(path)
        if not datasets:
            continue
        info = _describe(path, datasets)
        try:
            stored, why_en, why_fr = _store_one(addr, datasets)
        except UserError as exc:
            stored, why_en, why_fr = 0, exc.en, exc.fr
        if not why_en and stored == len(datasets):
            url = series_viewer_url(
                web_base, info["patient_id"], info["study_uid"], info["series_uid"]
            )
            status = SeriesStatus(**info, stored=stored, state="sent", viewer_url=url)
        else:
            status = SeriesStatus(
                **info, stored=stored, state="failed", reason_en=why_en, reason_fr=why_fr
            )
        out.append(status)
        if on_status is not None:
            on_status(status)
    return out
