"""The hospital workflow against a real Orthanc: worklist in, a console exam out to the PACS."""

from __future__ import annotations

import dataclasses
import io
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from simulator.cli import main
from simulator.hospital.address import parse_address
from simulator.hospital.exam import exam_for, send_exam
from simulator.hospital.orthanc import orthanc_id
from simulator.hospital.worklist import find_worklist, scenario_names

pytestmark = [pytest.mark.orthanc, pytest.mark.slow]


def _console_exam(n: int = 3, modality: str = "mr"):
    """A real console session with ``n`` small scans (full clock speed)."""
    from simulator.console.session import ConsoleSession

    s = ConsoleSession(modality, lang="en", seed=5)
    s.set_screening("ok")
    if modality == "mr":
        small = dataclasses.replace(s.protocol, slices=3, matrix_read=96, matrix_phase=96)
        assert s.load_protocol(small)["ok"]
    s.clock = "max"
    for _ in range(n):
        assert s.apply_command({"type": "scan"})["ok"]
        s.wait(180)
        assert s.scan_state == "done", s.message
    return s


def test_console_exam_is_one_study_of_three_numbered_series(orthanc, tmp_path, monkeypatch):
    monkeypatch.setenv("MERM_HOME", str(tmp_path / "home"))
    s = _console_exam(3)
    from simulator.console.hospital_panel import PacsPanel
    from simulator.console.i18n import Labels
    from simulator.exercises.store import ProgressStore
    from simulator.hospital.progress import pacs_rows, pacs_table_html

    store = ProgressStore("sqlite://")
    panel = PacsPanel(
        s,
        Labels("en"),
        parse_address(orthanc.address),
        orthanc.http,
        store=store,
        user="ada",
        exercise_id=lambda: "mr-brain-1",
    )
    panel.button.click()  # what the trainee does
    panel.thread.join(120)
    statuses = panel.statuses()
    assert [st.state for st in statuses] == ["sent"] * 3, [st.reason_en for st in statuses]
    assert (
        panel.status.value.count("merm-pacs-view") == 3 and "3/3 series sent" in panel.status.value
    )
    # The instructor sees which series the trainee sent.
    rows = pacs_rows(store)
    assert [(r["username"], r["number"], r["state"]) for r in rows] == [
        ("ada", n, "sent") for n in (1, 2, 3)
    ]
    assert pacs_table_html(rows, "en").count("data-state='sent'") == 3
    # Every series is in the PACS: the procedure step is COMPLETED, after the last series.
    exam = exam_for(s)
    assert exam.state == "COMPLETED" and exam.ended_at >= exam.series_end(s, 2)
    assert s.snapshot()["exam"]["state"] == "COMPLETED"
    studies = orthanc.get("/studies")
    assert len(studies) == 1
    study = orthanc.get(f"/studies/{studies[0]}")
    assert study["MainDicomTags"]["StudyInstanceUID"] == exam_for(s).study.study_uid
    series = [orthanc.get(f"/series/{sid}") for sid in study["Series"]]
    assert sorted(int(x["MainDicomTags"]["SeriesNumber"]) for x in series) == [1, 2, 3]
    times = [
        x["MainDicomTags"]["SeriesTime"]
        for x in sorted(series, key=lambda x: int(x["MainDicomTags"]["SeriesNumber"]))
    ]
    assert times == sorted(times) and len(set(times)) == 3  # on the exam clock, in order
    # Each status links to that series' page in Orthanc (its public id resolves).
    for st in statuses:
        sid = st.viewer_url.rsplit("uuid=", 1)[1]
        assert sid == orthanc_id(st.patient_id, st.study_uid, st.series_uid)
        assert orthanc.get(f"/series/{sid}")["MainDicomTags"]["SeriesInstanceUID"] == st.series_uid
    # Orthanc's own rendering of a middle MR slice is visible (not black, not washed out).
    from PIL import Image

    inst = orthanc.get(f"/series/{study['Series'][0]}")["Instances"]
    with urllib.request.urlopen(
        f"{orthanc.http}/instances/{inst[len(inst) // 2]}/rendered", timeout=30
    ) as r:
        grey = np.asarray(Image.open(io.BytesIO(r.read())).convert("L"), float).mean() / 255
    assert 0.1 <= grey <= 0.8


def test_worklist_add_is_what_cfind_returns_and_the_console_lists(orthanc, monkeypatch, capsys):
    assert (
        main(
            [
                "worklist",
                "add",
                "--scenario",
                "all",
                "--to",
                str(orthanc.worklists),
                "--start",
                "2026-03-02T08:00",
            ]
        )
        == 0
    )
    written = sorted(p.stem for p in orthanc.worklists.glob("*.wl"))
    assert len(written) == len(scenario_names())
    found = find_worklist(parse_address(orthanc.address), "MR")
    assert sorted(sp.accession_number for sp in found) == written
    first = found[0]
    assert first.patient_name.startswith("SIMULATION^") and first.protocol.startswith("brain/")
    assert first.start.hour == 8 and first.modality == "MR"
    # --to AET@host:port with the server's folder: written there, then checked by C-FIND.
    assert (
        main(
            [
                "worklist",
                "add",
                "--scenario",
                "knee",
                "--to",
                orthanc.address,
                "--folder",
                str(orthanc.worklists),
                "--start",
                "2026-03-03T14:00",
            ]
        )
        == 0
    )
    assert "lists the 1 new entries" in capsys.readouterr().out
    # The console's patient step lists them and fills the exam from the one chosen.
    monkeypatch.setenv("MERM_WORKLIST", orthanc.address)
    from simulator.console.mr_console import MRConsole

    c = MRConsole(lang="en")
    picker = c.worklist
    listed = picker.refresh()
    assert len(listed) == len(scenario_names()) + 1
    labels = [label for label, _ in picker.dropdown.options][1:]
    assert labels == [sp.label for sp in listed]
    ms = next(i for i, sp in enumerate(listed) if sp.patient_id == "MERM-MS")
    picker.dropdown.value = ms  # what the trainee does
    sp = listed[ms]
    exam = exam_for(c.session)
    assert exam.study.accession_number == sp.accession_number
    assert exam.study.study_uid == sp.study_uid and exam.study.request.protocol == sp.protocol
    # The patient card is the scenario's (implants and all), the protocol the one requested.
    assert c.session.patient.key == "ms" and c.session.pathology == "ms_lesions"
    assert sp.protocol == "brain/flair" and c.session.anatomy_name == "brain"
    import simulator.mr as mr

    flair = mr.preset("brain", "flair")
    p = c.session.protocol
    assert (p.sequence, p.tr_ms, p.te_ms, p.ti_ms) == (
        flair.sequence,
        flair.tr_ms,
        flair.te_ms,
        flair.ti_ms,
    )
    assert "LEROY" in c.patient.card.value
    assert sp.accession_number in picker.status.value and sp.protocol in picker.status.value
    # The mentor's page shows the worklist entry (the session's snapshot carries it).
    assert c.session.snapshot()["worklist"]["accession"] == sp.accession_number


def test_bad_addresses_one_line_exit_2(orthanc, tmp_path, capsys):
    port = orthanc.dicom_port
    for addr, words in [
        (f"WRONGAET@127.0.0.1:{port}", "association refused"),
        ("ORTHANC@127.0.0.1:1", "unreachable"),
        ("ORTHANC@127.0.0.1", "AET@host:port"),
    ]:
        assert main(["pacs", "echo", addr]) == 2
        err = capsys.readouterr().err.strip()
        assert words in err and len(err.splitlines()) == 1, err
    assert main(["pacs", "echo", orthanc.address]) == 0
    assert main(["worklist", "list", f"WRONGAET@127.0.0.1:{port}"]) == 2
    assert "association refused" in capsys.readouterr().err


def test_pacs_down_mid_send_says_which_to_resend(orthanc, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MERM_HOME", str(tmp_path / "home"))
    s = _console_exam(3)
    addr = parse_address(orthanc.address)

    def kill_after_first(status):
        if status.number == 1:
            orthanc.stop()

    statuses = send_exam(s, addr, on_status=kill_after_first)
    assert [st.state for st in statuses] == ["sent", "failed", "failed"]
    assert all("unreachable" in st.reason_en or "connection" in st.reason_en for st in statuses[1:])
    # Nothing lost: every series is still on disk, and the CLI says which to resend.
    for st in statuses:
        assert len(list(Path(st.folder).glob("*.dcm"))) == st.files
    root = Path(statuses[0].folder).parent
    assert main(["pacs", "send", str(root), "--to", orthanc.address]) == 2
    out = capsys.readouterr()
    assert out.out.count("FAILED") == 3 and "stay on disk" in out.err
    # The console panel shows the same per-series status.
    monkeypatch.setenv("MERM_PACS", orthanc.address)
    from simulator.console.hospital_panel import PacsPanel
    from simulator.console.i18n import Labels

    panel = PacsPanel(s, Labels("fr"), addr)
    panel.show()
    html_text = panel.status.value
    assert html_text.count("data-state='sent'") == 1 and html_text.count("data-state='failed'") == 2
    assert "à renvoyer : séries 2, 3" in html_text
    assert panel.resend.layout.display == ""
    # The mentor's page shows the PACS status too.
    assert [p["state"] for p in s.snapshot()["pacs"]] == ["sent", "failed", "failed"]


def test_orthanc_has_no_mpps_service(orthanc) -> None:
    """Why the exam's procedure step stays in the console (simulator.hospital.exam): the
    PACS refuses the MPPS presentation context, so no N-CREATE / N-SET can reach it. If a
    later Orthanc accepts it, this fails: send the step's states then."""
    from pynetdicom import AE
    from pynetdicom.sop_class import ModalityPerformedProcedureStep, Verification

    ae = AE(ae_title="MERMLAB")
    ae.add_requested_context(ModalityPerformedProcedureStep)
    ae.add_requested_context(Verification)
    a = orthanc.address
    aet, host_port = a.split("@")
    host, port = host_port.rsplit(":", 1)
    assoc = ae.associate(host, int(port), ae_title=aet)
    try:
        assert assoc.is_established
        accepted = {cx.abstract_syntax for cx in assoc.accepted_contexts}
        assert str(ModalityPerformedProcedureStep) not in accepted and str(Verification) in accepted
    finally:
        assoc.release()
