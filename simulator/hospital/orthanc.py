"""Links into Orthanc (the PACS a school can run) for a stored series."""

from __future__ import annotations

import hashlib
import os

__all__ = ["orthanc_id", "series_viewer_url", "web_base"]


def orthanc_id(*parts: str) -> str:
    """Orthanc's public identifier of a resource: SHA-1 of its DICOM identifiers joined by
    ``|`` (patient: PatientID; study: + StudyInstanceUID; series: + SeriesInstanceUID),
    written as five dash-separated groups of 8 hex digits."""
    h = hashlib.sha1("|".join(parts).encode()).hexdigest()
    return "-".join(h[i : i + 8] for i in range(0, 40, 8))


def web_base() -> str:
    """Orthanc's HTTP address from ``MERM_PACS_WEB`` (``http://host:8042``), or ``""``."""
    return os.environ.get("MERM_PACS_WEB", "").strip().rstrip("/")


def series_viewer_url(base: str, patient_id: str, study_uid: str, series_uid: str) -> str:
    """The Orthanc Explorer page of a series, or ``""`` when no web address is known."""
    if not base:
        return ""
    sid = orthanc_id(patient_id, study_uid, series_uid)
    return f"{base}/app/explorer.html#series?uuid={sid}"
