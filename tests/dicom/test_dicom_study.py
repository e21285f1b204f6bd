"""Studies and series like a scanner's: one study per exam, numbers and times, descriptions
within their VR limits with the notice, AI series marked as derived, a neutral Manufacturer."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from dicom_fakes import dciodvfy_errors, fake_mr_series, fake_pet_series

from simulator.dicom import read_series, write_mr_series, write_pet_series
from simulator.dicom._common import describe
from simulator.dicom.study import RequestedProcedure, Study
from simulator.errors import UserError

START = dt.datetime(2026, 3, 2, 8, 30, 0)


def test_series_of_one_exam_share_its_study_numbers_and_clock(tmp_path) -> None:
    study = Study(
        study_uid="1.2.826.0.1.3680043.8.498.17", started_at=START, accession_number="A17"
    )
    times = [START + dt.timedelta(minutes=m) for m in (0, 4, 9)]
    for n, when in enumerate(times, start=1):
        write_mr_series(
            fake_mr_series(seed=n),
            tmp_path / f"s{n}",
            series_number=n,
            acquired_at=when,
            study=study,
        )
    first = [read_series(tmp_path / f"s{n}")[0] for n in (1, 2, 3)]
    assert {d.StudyInstanceUID for d in first} == {study.study_uid}
    assert {d.FrameOfReferenceUID for d in first} == {first[0].FrameOfReferenceUID}
    assert len({d.SeriesInstanceUID for d in first}) == 3
    assert [int(d.SeriesNumber) for d in first] == [1, 2, 3]
    assert [d.SeriesTime[:6] for d in first] == ["083000", "083400", "083900"]
    assert [d.AcquisitionTime[:6] for d in first] == ["083000", "083400", "083900"]
    assert {d.StudyTime[:6] for d in first} == {"083000"} and first[0].AccessionNumber == "A17"


def test_separate_calls_open_separate_studies(tmp_path) -> None:
    write_mr_series(fake_mr_series(seed=1), tmp_path / "a")
    write_mr_series(fake_mr_series(seed=2), tmp_path / "b")
    write_pet_series(fake_pet_series(seed=1), tmp_path / "c")
    uids = {read_series(tmp_path / k)[0].StudyInstanceUID for k in "abc"}
    assert len(uids) == 3


@pytest.mark.dciodvfy
def test_requested_procedure_from_the_worklist_is_written(tmp_path, require_dciodvfy) -> None:
    req = RequestedProcedure("RP17", "MR brain", "SPS17", "brain/t2_tse", "brain/t2_tse")
    study = Study(
        study_uid="1.2.826.0.1.3680043.8.498.18",
        started_at=START,
        accession_number="ACC0017",
        request=req,
    )
    (path,) = write_mr_series(fake_mr_series(slices=1), tmp_path, study=study)
    ds = read_series(tmp_path)[0]
    item = ds.RequestAttributesSequence[0]
    assert item.RequestedProcedureID == "RP17" and item.ScheduledProcedureStepID == "SPS17"
    assert item.ScheduledProcedureStepDescription == "brain/t2_tse"
    assert dciodvfy_errors(path, warnings=True) == []


def test_bad_study_uid_is_refused() -> None:
    with pytest.raises(UserError, match="not a DICOM UID"):
        Study(study_uid="1.2.abc", started_at=START)


@pytest.mark.parametrize("label", ["T2 TSE axial", "x" * 80, "word " * 20])
def test_descriptions_fit_lo_and_keep_the_notice(label) -> None:
    text = describe(label)
    assert len(text) <= 64 and text.endswith("(SIMULATED)")


def test_long_descriptions_in_files_keep_notice_and_tracer(tmp_path) -> None:
    s = fake_pet_series(phantom_name="a-phantom-with-a-very-long-name-for-the-description")
    write_pet_series(s, tmp_path)
    ds = read_series(tmp_path)[0]
    assert len(ds.SeriesDescription) <= 64 and ds.SeriesDescription.endswith("(SIMULATED)")
    assert "Fluorodeoxyglucose F^18^" in ds.SeriesDescription
    assert ds.RadiopharmaceuticalInformationSequence[0].Radiopharmaceutical.endswith("F^18^")
    assert "NOT FOR DIAGNOSIS" in ds.ImageComments and len(ds.StudyDescription) <= 64


@pytest.mark.dciodvfy
@pytest.mark.parametrize("modality", ["mr", "pet"])
def test_ai_denoised_series_are_derived_and_say_ai(tmp_path, require_dciodvfy, modality) -> None:
    if modality == "mr":
        s = fake_mr_series(slices=1)
        s = dataclasses.replace(s, protocol=dataclasses.replace(s.protocol, ai_denoise=True))
        paths = write_mr_series(s, tmp_path)
    else:
        paths = write_pet_series(fake_pet_series(ai_denoise=True), tmp_path)
    ds = read_series(tmp_path)[0]
    assert ds.ImageType[0] == "DERIVED" and "AI" in ds.DerivationDescription
    assert "AI" in ds.SeriesDescription.split() or ds.SeriesDescription.startswith("AI")
    assert dciodvfy_errors(paths[0], warnings=modality == "mr") == []
    plain = write_mr_series(fake_mr_series(slices=1), tmp_path / "plain")
    assert "DerivationDescription" not in read_series(plain[0].parent)[0]


def test_manufacturer_names_no_vendor(tmp_path) -> None:
    # dcm2niix and others guess the vendor from the first two letters of Manufacturer.
    write_mr_series(fake_mr_series(slices=1), tmp_path)
    head = read_series(tmp_path)[0].Manufacturer[:2].upper()
    assert head not in {"SI", "GE", "HI", "ME", "PH", "TO", "CA", "UI", "BR", "MR", "HY", "CP"}


@pytest.mark.slow
def test_cli_calls_are_studies_unless_study_uid_joins(tmp_path, capsys) -> None:
    from simulator.cli import main

    base = ["pet", "scan", "--phantom", "nema-iec", "--seed", "2"]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    assert main([*base, "--seed", "3", "--out", str(tmp_path / "b")]) == 0
    a, b = (read_series(tmp_path / k)[0] for k in "ab")
    assert a.StudyInstanceUID != b.StudyInstanceUID  # one CLI call, one study
    joined = ["--study-uid", a.StudyInstanceUID, "--series-number", "2"]
    assert main([*base, "--seed", "3", *joined, "--out", str(tmp_path / "c")]) == 0
    c = read_series(tmp_path / "c")[0]
    assert c.StudyInstanceUID == a.StudyInstanceUID and int(c.SeriesNumber) == 2
    assert c.SeriesInstanceUID not in (a.SeriesInstanceUID, b.SeriesInstanceUID)
    assert c.FrameOfReferenceUID == a.FrameOfReferenceUID
    assert main([*base, "--study-uid", "1.2.x", "--out", str(tmp_path / "d")]) == 2
    assert "not a DICOM UID" in capsys.readouterr().err and not (tmp_path / "d").exists()
