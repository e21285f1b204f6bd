"""The hospital pieces that need no server: addresses, worklist files, serve options, and a
console without any hospital configured."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt

import pytest
from pydicom import dcmread

from simulator.cli import main
from simulator.errors import UserError
from simulator.hospital.address import parse_address
from simulator.hospital.config import add_serve_arguments, serve_env
from simulator.hospital.worklist import (
    MWL_FIND,
    _from_dataset,
    procedure_for_scenario,
    write_worklist_files,
)


@pytest.mark.parametrize(
    ("text", "aet", "host", "port"),
    [
        ("ORTHANC@127.0.0.1:4242", "ORTHANC", "127.0.0.1", 4242),
        ("WL@pacs.school:104", "WL", "pacs.school", 104),
    ],
)
def test_addresses_parse(text, aet, host, port) -> None:
    a = parse_address(text)
    assert (a.aet, a.host, a.port) == (aet, host, port) and str(a) == text


@pytest.mark.parametrize(
    "text",
    ["ORTHANC", "@h:1", "A@h", "A@h:0", "A@h:99999", "A@h:x", "SEVENTEEN_CHARS_AE@h:1", "A\\B@h:1"],
)
def test_bad_addresses_say_the_form(text) -> None:
    with pytest.raises(UserError) as e:
        parse_address(text, "--to")
    assert "AET@host:port" in e.value.en and "AET@hôte:port" in e.value.fr


def test_worklist_file_round_trip(tmp_path) -> None:
    sp = procedure_for_scenario("tumour", dt.datetime(2026, 3, 2, 9, 30))
    (path,) = write_worklist_files([sp], tmp_path)
    ds = dcmread(path)
    assert path.suffix == ".wl" and ds.file_meta.MediaStorageSOPClassUID == MWL_FIND
    assert str(ds.PatientName).startswith("SIMULATION^") and ds.PatientID == "MERM-TUMOUR"
    back = _from_dataset(ds)
    assert back == sp
    assert len(sp.accession_number) <= 16 and sp.study().request.protocol == sp.protocol


def test_unknown_scenario_lists_the_known(tmp_path, capsys) -> None:
    assert main(["worklist", "add", "--scenario", "nobody", "--to", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "headache" in err and "all" in err and len(err.strip().splitlines()) == 1


def test_address_without_folder_is_refused(capsys) -> None:
    assert main(["worklist", "add", "--scenario", "ms", "--to", "WL@127.0.0.1:4242"]) == 2
    assert "--folder" in capsys.readouterr().err


def test_send_of_a_folder_without_dicom(tmp_path, capsys) -> None:
    assert main(["pacs", "send", str(tmp_path), "--to", "A@127.0.0.1:1"]) == 2
    assert "no .dcm files" in capsys.readouterr().err


def test_serve_options_reach_the_environment() -> None:
    p = argparse.ArgumentParser()
    add_serve_arguments(p)
    env: dict[str, str] = {}
    serve_env(
        p.parse_args(["--worklist", "WL@h:1", "--pacs", "P@h:2", "--pacs-web", "http://h:8042/"]),
        env,
    )
    assert env == {
        "MERM_WORKLIST": "WL@h:1",
        "MERM_PACS": "P@h:2",
        "MERM_PACS_WEB": "http://h:8042",
    }
    with pytest.raises(UserError):
        serve_env(p.parse_args(["--pacs", "nonsense"]), {})


def test_console_without_hospital_is_unchanged(monkeypatch) -> None:
    monkeypatch.delenv("MERM_WORKLIST", raising=False)
    monkeypatch.delenv("MERM_PACS", raising=False)
    from simulator.console.mr_console import MRConsole

    c = MRConsole(lang="en")
    assert not hasattr(c, "worklist") and not hasattr(c, "pacs")
    assert c.session.patient is not None and c.session.patient.key == c.patient.scenario.value


def test_console_with_unreachable_worklist_and_pacs_says_one_line(monkeypatch) -> None:
    monkeypatch.setenv("MERM_WORKLIST", "WL@127.0.0.1:1")
    monkeypatch.setenv("MERM_PACS", "P@127.0.0.1:1")
    from simulator.console.mr_console import MRConsole

    c = MRConsole(lang="fr")
    assert c.worklist.refresh() == []
    assert "injoignable" in c.worklist.status.value
    assert "merm-send-pacs" in c.pacs.button._dom_classes
    c.pacs.send(wait=True)  # no series yet
    assert "aucune série" in c.pacs.status.value


def test_unreachable_pacs_fails_each_series_and_keeps_it(monkeypatch, tmp_path) -> None:
    import dataclasses
    from pathlib import Path

    from simulator.console.hospital_panel import PacsPanel
    from simulator.console.i18n import Labels
    from simulator.console.session import ConsoleSession

    monkeypatch.setenv("MERM_HOME", str(tmp_path))
    s = ConsoleSession("mr", lang="en", seed=3)
    s.set_screening("ok")
    assert s.load_protocol(
        dataclasses.replace(s.protocol, slices=2, matrix_read=64, matrix_phase=64)
    )["ok"]
    s.clock = "max"
    s.apply_command({"type": "scan"})
    s.wait(120)
    panel = PacsPanel(s, Labels("en"), parse_address("P@127.0.0.1:1"))
    panel.send(wait=True)
    (st,) = panel.statuses()
    assert st.state == "failed" and "unreachable" in st.reason_en
    assert len(list(Path(st.folder).glob("*.dcm"))) == 2
    assert "to resend: series 1" in panel.status.value


def test_console_downloads_are_one_study_numbered_in_order(monkeypatch) -> None:
    import dataclasses
    import io
    import zipfile

    from pydicom import dcmread

    from simulator.console.session import ConsoleSession

    s = ConsoleSession("mr", lang="en", seed=4)
    s.set_screening("ok")
    assert s.load_protocol(
        dataclasses.replace(s.protocol, slices=2, matrix_read=64, matrix_phase=64)
    )["ok"]
    s.clock = "max"
    for _ in range(2):
        s.apply_command({"type": "scan"})
        s.wait(120)
    heads = []
    for i in (0, 1):
        _, data = s.dicom_zip(i)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            heads.append(dcmread(io.BytesIO(zf.read(zf.namelist()[0]))))
    assert heads[0].StudyInstanceUID == heads[1].StudyInstanceUID
    assert [int(h.SeriesNumber) for h in heads] == [1, 2]
    assert heads[0].SeriesTime < heads[1].SeriesTime  # the second scan after the first's scan time


def test_pacs_sent_objective_reads_the_send_events() -> None:
    from types import SimpleNamespace

    from simulator.exercises._measure import measure
    from simulator.exercises.objectives import METRICS
    from simulator.exercises.store import ProgressStore
    from simulator.hospital.pacs import SeriesStatus
    from simulator.hospital.progress import pacs_rows, record_send

    assert METRICS["pacs_sent"].kind == "bool"
    store = ProgressStore("sqlite://")
    ex = SimpleNamespace(id="ex-pacs", modality="mr")
    ctx = SimpleNamespace(store=store, user="bo", exercise=ex, since=None, protocol=None)
    obj = SimpleNamespace(metric="pacs_sent", args={})
    assert measure(obj, ctx) is False
    one = dict(study_uid="1.2.3", patient_id="P", description="T2", files=3, folder="/x")
    failed = SeriesStatus(
        series_uid="1.2.3.1", number=1, state="failed", reason_en="unreachable", **one
    )
    record_send(store, "bo", [failed], pacs="P@h:1", exercise_id="ex-pacs")
    assert measure(obj, ctx) is False  # a failed send does not count
    sent = dataclasses.replace(failed, state="sent", stored=3, reason_en="")
    record_send(store, "bo", [sent], pacs="P@h:1", exercise_id="ex-pacs")
    assert measure(obj, ctx) is True
    (row,) = pacs_rows(store)  # the latest outcome of the series
    assert row["state"] == "sent" and row["exercise_id"] == "ex-pacs"


def test_pet_console_gets_send_to_pacs_and_texts_have_three_languages(monkeypatch) -> None:
    from simulator.console.hospital_panel import TEXTS
    from simulator.console.pet_console import PETConsole

    assert all(set(v) == {"fr", "en", "de"} for v in TEXTS.values())
    monkeypatch.setenv("MERM_PACS", "ORTHANC@127.0.0.1:1")
    monkeypatch.delenv("MERM_WORKLIST", raising=False)
    c = PETConsole(lang="en")
    assert (
        "merm-send-pacs" in c.pacs.button._dom_classes
        and c.pacs.button.description == "Send to PACS"
    )
    c.L.switch("fr")
    assert c.pacs.button.description == "Envoyer au PACS"
    monkeypatch.setenv("MERM_PACS", "not an address")
    bad = PETConsole(lang="en")
    assert not hasattr(bad, "pacs") and "AET@host:port" in bad.session.message


def test_a_new_patient_is_a_new_study_numbered_from_one(monkeypatch) -> None:
    import io
    import zipfile

    from pydicom import dcmread

    from simulator.console.patient import SCENARIOS
    from simulator.console.session import ConsoleSession
    from simulator.hospital.exam import watch

    s = ConsoleSession("mr", lang="en", seed=6)
    watch(s)  # what the consoles do when they open
    small = dataclasses.replace(s.protocol, slices=2, matrix_read=64, matrix_phase=64)

    def scan() -> None:
        s.set_screening("ok")
        assert s.load_protocol(small)["ok"]
        s.clock = "max"
        s.apply_command({"type": "scan"})
        s.wait(120)
        assert s.scan_state == "done", s.message

    s.set_patient(SCENARIOS["headache"])
    scan()
    scan()
    s.set_patient(SCENARIOS["ms"])
    scan()

    def head(i: int):
        _, data = s.dicom_zip(i)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return dcmread(io.BytesIO(zf.read(zf.namelist()[0])))

    a, b, c = head(0), head(1), head(2)
    assert a.StudyInstanceUID == b.StudyInstanceUID != c.StudyInstanceUID
    assert [int(x.SeriesNumber) for x in (a, b, c)] == [1, 2, 1]
    assert a.PatientID == b.PatientID == "MERM-HEADACHE" and c.PatientID == "MERM-MS"


def test_instructor_dashboard_lists_the_series_each_trainee_sent() -> None:
    from simulator.exercises.instructor import InstructorDashboard
    from simulator.exercises.store import ProgressStore
    from simulator.hospital.pacs import SeriesStatus
    from simulator.hospital.progress import record_send

    store = ProgressStore("sqlite://")
    one = dict(study_uid="1.2.3", patient_id="P", files=3, folder="/x")
    record_send(
        store,
        "ana",
        [
            SeriesStatus(series_uid="1.2.3.1", number=1, description="T1 SE", state="sent", **one),
            SeriesStatus(
                series_uid="1.2.3.2",
                number=2,
                description="FLAIR",
                state="failed",
                reason_en="unreachable",
                **one,
            ),
        ],
        pacs="ORTHANC@h:4242",
    )
    record_send(
        store,
        "ben",
        [SeriesStatus(series_uid="9.1", number=1, description="PD FS", state="sent", **one)],
        pacs="ORTHANC@h:4242",
    )
    dash = InstructorDashboard(store=store, lang="en")
    text = dash.pacs.value
    assert "Series sent to PACS" in text and text.count("<tr data-state=") == 3
    assert "failed: unreachable" in text and "PD FS" in text
    dash.trainee.value = "ben"  # the filter applies
    assert dash.pacs.value.count("<tr data-state=") == 1
