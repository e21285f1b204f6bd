"""The PACS send carries the AI findings and the trainee's calls, as the DICOM download does.

A real console session scans the brain with a tumour on FLAIR; the trainee shows the AI
findings, accepts the first, rejects the others and marks a lesion of their own. The
series written for the C-STORE (the outbox the sender reads) and the instances the real
Orthanc then holds have those lines in their ImageComments, on the slices they lie on.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from simulator.hospital.address import parse_address
from simulator.hospital.exam import send_exam
from simulator.mr import preset
from tests.hospital.conftest import orthanc  # noqa: F401  (the real Orthanc fixture)

#: Stops a hung scan; not a performance budget.
SCAN_TIMEOUT_S = 300


def _decided_session():
    from simulator.console.session import ConsoleSession

    s = ConsoleSession("mr", lang="en", anatomy="brain", pathology="tumour", seed=21)
    s.set_screening("ok")
    assert s.load_protocol(preset("brain", "flair"))["ok"]
    s.clock = "max"
    assert s.apply_command({"type": "scan"})["ok"]
    s.wait(SCAN_TIMEOUT_S)
    assert s.scan_state == "done", s.message
    assert s.apply_command({"type": "show_findings", "on": True})["ok"]
    found = s.findings_of()
    assert found, "the brain detector marks the canonical tumour on FLAIR"
    for i, f in enumerate(found):
        kind = "accept" if i == 0 else "reject"
        assert s.apply_command({"type": "decide_finding", "id": f.id, "kind": kind})["ok"]
    assert s.apply_command({"type": "add_finding", "slice": 3, "row": 40.0, "col": 50.0})["ok"]
    return s, found


def _comments(paths) -> dict[int, str]:
    out = {}
    for p in paths:
        ds = pydicom.dcmread(str(p))
        out[int(ds.InstanceNumber) - 1] = str(getattr(ds, "ImageComments", "") or "")
    return out


def _check(comments: dict[int, str], found) -> None:
    first = found[0]
    assert f"AI finding {first.id}: {first.label}" in comments[first.slice_index]
    assert "accepted by the trainee" in comments[first.slice_index]
    for f in found[1:]:
        assert f"AI finding {f.id}" in comments[f.slice_index]
    assert "rejected by the trainee" in "".join(comments.values()) or len(found) == 1
    assert "Trainee finding T1: unspecified missed by the AI, at row 40, column 50" in comments[3]
    quiet = [k for k, c in comments.items() if "finding" not in c]
    assert quiet, "slices without a finding carry no finding line"


@pytest.mark.slow
def test_the_dataset_handed_to_the_sender_carries_the_findings(tmp_path, monkeypatch):
    monkeypatch.setenv("MERM_HOME", str(tmp_path / "home"))
    s, found = _decided_session()
    handed: list[Path] = []

    def fake_send(folders, addr, **kw):
        handed.extend(folders)
        return []

    monkeypatch.setattr("simulator.hospital.pacs.send_series", fake_send)
    send_exam(s, parse_address("ORTHANC@127.0.0.1:4242"))
    assert len(handed) == 1
    _check(_comments(sorted(Path(handed[0]).glob("*.dcm")) or sorted(Path(handed[0]).iterdir())),
           found)


@pytest.mark.orthanc
@pytest.mark.slow
def test_orthanc_receives_the_findings_in_image_comments(orthanc, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("MERM_HOME", str(tmp_path / "home"))
    s, found = _decided_session()
    statuses = send_exam(s, parse_address(orthanc.address))
    assert [st.state for st in statuses] == ["sent"], [st.reason_en for st in statuses]
    comments = {}
    for iid in orthanc.get("/instances"):
        tags = orthanc.get(f"/instances/{iid}/simplified-tags")
        comments[int(tags["InstanceNumber"]) - 1] = str(tags.get("ImageComments", ""))
    _check(comments, found)
