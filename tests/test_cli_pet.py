"""``merm-lab pet``: run as a subprocess, outputs read back from disk (DICOM, metrics, truth)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

import simulator.pet as pet
from simulator.cli._scan_common import parse_sets
from simulator.dicom import read_series, suv_from_pet_series, volume_from_series
from simulator.errors import ParameterError
from tests.conftest import missing

needs_scanner = pytest.mark.skipif(
    not hasattr(pet, "scan"), reason="simulator.pet.scan not landed yet"
)

#: Quick reconstruction for tests: small matrix, few subsets.
SMALL = [
    "--set",
    "matrix=64",
    "--set",
    "iterations=2",
    "--set",
    "subsets=7",
    "--set",
    "minutes_per_bed=3",
]

#: Background of the reconstructed IEC phantom against truth: OSEM bias after 2 iterations,
#: partial volume at ROI edges and the residual of scatter/attenuation correction (the NEMA
#: literature reports background accuracy of a few percent; we allow 5 %).
BACKGROUND_TOL = 0.05


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args], capture_output=True, text=True, timeout=300
    )


def test_set_values_take_the_pet_field_types() -> None:
    v = parse_sets(
        ["activity_mbq=200", "beds=2", "tof_ps=0", "scatter_correction=no", "recon=osem"],
        pet.PETProtocol,
    )
    assert v == {
        "activity_mbq": 200.0,
        "beds": 2,
        "tof_ps": 0.0,
        "scatter_correction": False,
        "recon": "osem",
    }
    with pytest.raises(ParameterError):
        parse_sets(["beds=two"], pet.PETProtocol)


@pytest.mark.parametrize(
    "args",
    [
        ["--phantom", "teapot"],
        ["--phantom", "nema-iec", "--set", "activity_mbq=-5"],
        ["--phantom", "nema-iec", "--set", "activity=200"],
        ["--phantom", "nema-iec", "--set", "minutes_per_bed=long"],
        ["--phantom", "nema-iec", "--set", "subsets=5"],
        ["--phantom", "nema-iec", "--ratio", "50"],
    ],
)
def test_bad_input_exit_2_one_line_no_output(tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "out"
    res = run_cli("pet", "scan", *args, "--seed", "1", "--out", str(out))
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert list(tmp_path.iterdir()) == []


@needs_scanner
def test_iec_scan_metrics_truth_and_suv(tmp_path: Path) -> None:
    out = tmp_path / "iec"
    res = run_cli(
        "pet", "scan", "--phantom", "nema-iec", *SMALL, "--seed", "2", "--out", str(out), "--truth"
    )
    assert res.returncode == 0, res.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("trues", "scatter", "randoms"):
        assert metrics["counts"][key] >= 0
    assert "warnings" in metrics and metrics["protocol"]["matrix"] == 64
    ds = read_series(out)
    vol, _, _ = volume_from_series(ds)
    truth = np.load(out / "truth.npz")
    labels, names, act = truth["labels"], list(truth["names"]), truth["activity_bqml"]
    assert labels.shape == vol.shape == act.shape
    assert {"background", "sphere_10", "sphere_37"} <= set(names)
    bg = labels == names.index("background")
    # Deep background: away from spheres, inserts and walls by two voxels.
    bg = ndimage.binary_erosion(bg, iterations=2)
    assert bg.sum() > 100
    hot = labels == names.index("sphere_37")
    assert vol[hot].mean() > 1.5 * vol[bg].mean()  # the 4:1 sphere stands out
    # Activity read back = truth at injection decayed to the series start.
    info = ds[0].RadiopharmaceuticalInformationSequence[0]
    decay = 2.0 ** (-metrics["scan_start_offset_s"] / float(info.RadionuclideHalfLife))
    assert vol[bg].mean() == pytest.approx(act[bg].mean() * decay, rel=BACKGROUND_TOL)
    # IEC background is built at SUV 1 (dose/weight), so the header-only SUV reads ≈ 1.
    suv = suv_from_pet_series(ds)
    assert suv[bg].mean() == pytest.approx(1.0, rel=BACKGROUND_TOL)


@needs_scanner
def test_torso_suvmax_from_header_alone_matches_the_scanner(tmp_path: Path) -> None:
    out = tmp_path / "torso"
    res = run_cli(
        "pet", "scan", "--phantom", "torso", *SMALL, "--seed", "4", "--out", str(out), "--truth"
    )
    assert res.returncode == 0, res.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    truth = np.load(out / "truth.npz")
    labels, names = truth["labels"], list(truth["names"])
    suv = suv_from_pet_series(read_series(out))
    assert metrics["lesions"] and "liver_cov" in metrics
    for name, lesion in metrics["lesions"].items():
        region = labels == names.index(name)
        # Independent reading (DICOM header only) vs the scanner's own SUV: equal up to the
        # per-slice 16-bit quantisation (≤ 1/65534 of the slice maximum) and DS digits.
        assert suv[region].max() == pytest.approx(lesion["suv_max"], rel=1e-4), name


@needs_scanner
@pytest.mark.dciodvfy
def test_scanned_pet_series_passes_dciodvfy(tmp_path: Path) -> None:
    if shutil.which("dciodvfy") is None:
        missing("dciodvfy (dicom3tools) is not installed")
    for phantom in ("brain",):  # IEC and torso headers: tests/dicom (fakes named alike)
        out = tmp_path / phantom
        res = run_cli("pet", "scan", "--phantom", phantom, *SMALL, "--seed", "1", "--out", str(out))
        assert res.returncode == 0, res.stderr
        files = sorted(out.glob("*.dcm"))
        assert files
        for f in files:
            check = subprocess.run(["dciodvfy", str(f)], capture_output=True, text=True, timeout=60)
            lines = (check.stdout + check.stderr).splitlines()
            assert [ln for ln in lines if ln.startswith("Error")] == [], f


@pytest.mark.parametrize(("scanner", "peak"), [("biograph-mct", 185.0), ("discovery-mi", 193.4)])
def test_countrate_json_curve_and_peak(scanner: str, peak: float) -> None:
    res = run_cli("pet", "countrate", "--scanner", scanner, "--format", "json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    necr = [row["necr_kcps"] for row in data["curve"]]
    assert max(necr) == pytest.approx(peak, rel=0.15)
    assert data["peak"]["necr_kcps"] == pytest.approx(peak, rel=0.15)
    assert necr[-1] < max(necr)  # the default range goes past the peak


def test_countrate_csv_and_text() -> None:
    csv = run_cli("pet", "countrate", "--scanner", "umi-550", "--format", "csv")
    assert csv.returncode == 0, csv.stderr
    header, *rows = csv.stdout.strip().splitlines()
    assert header.split(",")[0] == "activity_kbqml" and "necr_kcps" in header
    assert len(rows) == 60
    text = run_cli("pet", "countrate", "--scanner", "umi-550")
    assert "NECR peak" in text.stdout.strip().splitlines()[-1]


def test_countrate_unknown_scanner_one_line_exit_2() -> None:
    res = run_cli("pet", "countrate", "--scanner", "ecat")
    assert res.returncode == 2
    assert res.stdout == "" and "Traceback" not in res.stderr
    (line,) = res.stderr.strip().splitlines()
    assert "biograph-mct, discovery-mi, umi-550" in line


def _qiba_suv(path: Path) -> tuple[np.ndarray, float]:
    """SUVbw of one PET file from its header alone, as the QIBA SUV profile computes it:
    decay correction START → decay the dose from injection to SeriesTime, which must not
    be later than the slice's AcquisitionTime. Returns (SUV image, its z position)."""
    import datetime as dt

    import pydicom

    ds = pydicom.dcmread(path)
    assert ds.Units == "BQML" and ds.DecayCorrection == "START"
    assert {"ATTN", "DECY"} <= set(ds.CorrectedImage)
    info = ds.RadiopharmaceuticalInformationSequence[0]

    def when(date: str, time: str) -> dt.datetime:
        return dt.datetime.strptime(date + time.split(".")[0], "%Y%m%d%H%M%S")

    series = when(ds.SeriesDate, ds.SeriesTime)
    assert series <= when(ds.AcquisitionDate, ds.AcquisitionTime)
    injected = dt.datetime.strptime(
        str(info.RadiopharmaceuticalStartDateTime).split(".")[0], "%Y%m%d%H%M%S"
    )
    decayed = float(info.RadionuclideTotalDose) * 2.0 ** (
        -(series - injected).total_seconds() / float(info.RadionuclideHalfLife)
    )
    bqml = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    return bqml * float(ds.PatientWeight) * 1000.0 / decayed, float(ds.ImagePositionPatient[2])


@pytest.mark.slow
@pytest.mark.dciodvfy
def test_whole_body_series_suv_from_tags_and_dciodvfy(tmp_path: Path) -> None:
    """Two beds of the whole-body patient: one series over the range, per-slice frame
    times of each bed, liver SUV read back from the tags alone within 5 % of truth."""
    import pydicom

    out = tmp_path / "wb"
    res = run_cli(
        "pet", "scan", "--phantom", "patient", "--set", "beds=2", "--set", "range_top_mm=450",
        "--seed", "2", "--out", str(out), "--truth",
    )
    assert res.returncode == 0, res.stderr
    files = sorted(out.glob("*.dcm"))
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["beds"]) == 2
    slices = [_qiba_suv(f) for f in files]
    order = np.argsort([z for _, z in slices])
    suv = np.stack([slices[k][0] for k in order])
    truth = np.load(out / "truth.npz")
    names = list(truth["names"])
    assert suv.shape == truth["labels"].shape
    liver = ndimage.binary_erosion(truth["labels"] == names.index("liver"), iterations=2)
    true_suv = truth["activity_bqml"][liver].mean() / (250e6 / 70e3)
    assert suv[liver].mean() == pytest.approx(true_suv, rel=0.05)
    # each slice carries its bed's frame: two acquisition times, decay factor = e^(λ·FRT)
    heads = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    assert len({h.AcquisitionTime for h in heads}) == 2
    assert {h.SeriesType[0] for h in heads} == {"WHOLE BODY"}
    for h in heads:
        lam = np.log(2) / float(h.RadiopharmaceuticalInformationSequence[0].RadionuclideHalfLife)
        assert float(h.DecayFactor) == pytest.approx(
            np.exp(lam * float(h.FrameReferenceTime) / 1000.0), rel=1e-5
        )
    if shutil.which("dciodvfy") is None:
        missing("dciodvfy (dicom3tools) is not installed")
    for f in files[:: max(1, len(files) // 6)]:
        check = subprocess.run(["dciodvfy", str(f)], capture_output=True, text=True, timeout=60)
        lines = (check.stdout + check.stderr).splitlines()
        assert [ln for ln in lines if ln.startswith("Error")] == [], f


def test_nema_preset_scans_at_5_3_kbqml(tmp_path: Path) -> None:
    out = tmp_path / "nema"
    res = run_cli(
        "pet", "scan", "--phantom", "nema-iec", "--nema", "--set", "matrix=64", "--set",
        "subsets=7", "--seed", "1", "--out", str(out),
    )
    assert res.returncode == 0, res.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["protocol"]["uptake_min"] == 0.0
    assert metrics["protocol"]["minutes_per_bed"] == pytest.approx(4.86)
    bg = metrics["nema"]["background_bqml"]["sphere_37"]
    assert bg == pytest.approx(5300.0, rel=BACKGROUND_TOL)
