"""The exported DICOM files carry the AI's findings and the trainee's calls (ImageComments
of the slices they lie on), after the "simulated" notice; the other slices are unchanged."""

from __future__ import annotations

import io
import zipfile

import pydicom
import pytest

import simulator.findings as findings_pkg
from simulator.console.session import ConsoleSession
from simulator.dicom.findings import finding_lines
from simulator.findings import Finding

F1 = Finding("tumour", 4, (40.0, 50.0), (6.0, 5.0), 0.81, {"en": "Tumour"}, "F1", n_slices=3)


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> ConsoleSession:
    monkeypatch.setattr(findings_pkg, "detect", lambda series, *, rng=None: (F1,), raising=False)
    s = ConsoleSession("mr", lang="en")
    s.set_screening("ok")
    s.apply_command({"type": "set_param", "name": "matrix_read", "value": 128})
    s.apply_command({"type": "set_param", "name": "matrix_phase", "value": 96})
    s.apply_command({"type": "set_param", "name": "slices", "value": 9})
    s.start_scan()
    s.wait()
    return s


def test_findings_and_calls_in_image_comments(session: ConsoleSession) -> None:
    session.apply_command({"type": "show_findings", "on": True})
    session.apply_command({"type": "decide_finding", "id": "F1", "kind": "reject"})
    session.apply_command({"type": "add_finding", "slice": 7, "row": 30, "col": 31,
                           "label": "ms_lesion"})
    _name, data = session.dicom_zip()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = [pydicom.dcmread(io.BytesIO(zf.read(n))) for n in zf.namelist()]
    by_slice = {int(ds.InstanceNumber) - 1: str(ds.ImageComments) for ds in files}
    assert len(by_slice) == 9
    for k, text in by_slice.items():
        assert text.startswith("SIMULATED - NOT FOR DIAGNOSIS")
        has_ai = "AI finding F1: tumour (confidence 0.81)" in text
        assert has_ai == (k in (3, 4, 5)), (k, text)  # F1 spans slices 4–6 (1-based)
        if has_ai:
            assert "rejected by the trainee" in text and "rows 34-46, columns 45-55" in text
        assert ("Trainee finding T1: ms_lesion" in text) == (k == 7)


def test_no_findings_no_change(session: ConsoleSession) -> None:
    _name, data = session.dicom_zip()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        comments = {str(pydicom.dcmread(io.BytesIO(zf.read(n))).ImageComments)
                    for n in zf.namelist()}
    assert all("finding" not in c for c in comments)


def test_undecided_is_said() -> None:
    record = {"items": [F1.to_dict()], "decisions": {}, "added": []}
    assert finding_lines(record, 4)[0].endswith("not decided")
    assert finding_lines(record, 7) == []
