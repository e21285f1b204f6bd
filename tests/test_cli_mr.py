"""``merm-lab mr``: run as a subprocess, outputs read back from disk; --set parsing."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import simulator.mr as mr
from simulator.cli._scan_common import parse_sets, staged_output
from simulator.dicom import read_series, volume_from_series
from simulator.errors import ParameterError, UserError
from tests.conftest import missing

needs_scanner = pytest.mark.skipif(
    importlib.util.find_spec("simulator.mr.scan") is None, reason="simulator.mr.scan not landed yet"
)

#: A brain T1 SE small enough for a test (a few slices, 128 matrix).
SMALL = [
    "--set",
    "slices=3",
    "--set",
    "matrix_read=128",
    "--set",
    "matrix_phase=128",
    "--set",
    "slice_mm=5",
    "--set",
    "gap_mm=5",
]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args], capture_output=True, text=True, timeout=300
    )


# --- --set parsing (in process) ------------------------------------------------------------


def test_set_values_take_the_field_type() -> None:
    v = parse_sets(
        ["tr_ms=600", "etl=8", "fat_sat=yes", "ai_denoise=0", "sequence=tse", "nex=2.0"],
        mr.MRProtocol,
    )
    assert v == {
        "tr_ms": 600.0,
        "etl": 8,
        "fat_sat": True,
        "ai_denoise": False,
        "sequence": "tse",
        "nex": 2,
    }
    assert type(v["tr_ms"]) is float and type(v["etl"]) is int and type(v["nex"]) is int


@pytest.mark.parametrize("pair", ["tr_ms=abc", "etl=2.5", "fat_sat=maybe", "tr_ms=nan"])
def test_bad_values_are_parameter_errors(pair: str) -> None:
    with pytest.raises(ParameterError):
        parse_sets([pair], mr.MRProtocol)


def test_unknown_name_lists_the_allowed_ones() -> None:
    with pytest.raises(UserError) as err:
        parse_sets(["tr=600"], mr.MRProtocol)
    assert "tr_ms" in str(err.value) and "flip_deg" in str(err.value)
    with pytest.raises(UserError):
        parse_sets(["tr_ms"], mr.MRProtocol)


def test_staged_output_leaves_nothing_on_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), staged_output(out) as stage:
        (stage / "x.dcm").write_bytes(b"half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(UserError), staged_output(tmp_path / "other"):
        pass
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


# --- bad input through the real command line -----------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--anatomy", "elbow"],
        ["--anatomy", "brain", "--set", "tr_ms=-5"],
        ["--anatomy", "brain", "--set", "tr=500"],
        ["--anatomy", "brain", "--set", "te_ms=short"],
        ["--anatomy", "brain", "--set", "slices"],
        ["--anatomy", "brain", "--preset", "nonsense"],
        ["--anatomy", "brain", "--pathology", "broken_leg"],
        ["--anatomy", "brain", "--orientation", "diagonal"],
    ],
)
def test_bad_input_exit_2_one_line_no_output(tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "out"
    res = run_cli("mr", "scan", *args, "--seed", "1", "--out", str(out))
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_unknown_set_name_message_lists_allowed(tmp_path: Path) -> None:
    res = run_cli(
        "mr", "scan", "--anatomy", "brain", "--set", "tr=500", "--out", str(tmp_path / "o")
    )
    assert "tr_ms" in res.stderr and "bandwidth_hz_px" in res.stderr


# --- end to end -----------------------------------------------------------------------------


def _mean_by_tissue(images: np.ndarray, labels: np.ndarray, names: list[str]) -> dict[str, float]:
    return {
        n: float(images[labels == i].mean()) for i, n in enumerate(names) if np.any(labels == i)
    }


@needs_scanner
def test_scan_writes_series_metrics_and_aligned_truth(tmp_path: Path) -> None:
    out = tmp_path / "t1"
    res = run_cli(
        "mr",
        "scan",
        "--anatomy",
        "brain",
        "--preset",
        "t1_se",
        *SMALL,
        "--seed",
        "3",
        "--out",
        str(out),
        "--truth",
    )
    assert res.returncode == 0, res.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("scan_time_s", "snr", "sar_w_kg", "warnings", "protocol", "derived"):
        assert key in metrics
    assert metrics["protocol"]["slices"] == 3 and metrics["protocol"]["matrix_read"] == 128
    ds = read_series(out)
    assert len(ds) == 3 and len(list(out.glob("*.dcm"))) == 3
    vol, _, _ = volume_from_series(ds)
    truth = np.load(out / "truth.npz")
    labels, names, noiseless = truth["labels"], list(truth["names"]), truth["noiseless"]
    assert labels.shape == vol.shape == noiseless.shape
    assert np.issubdtype(labels.dtype, np.integer)
    # T1-weighted SE: white matter > grey matter > CSF, in the DICOM pixels themselves.
    m = _mean_by_tissue(vol, labels, names)
    assert m["white_matter"] > m["gray_matter"] > m["csf"]
    assert float(ds[0].RepetitionTime) == metrics["protocol"]["tr_ms"]


@needs_scanner
def test_t2_contrast_order_and_same_seed_same_files(tmp_path: Path) -> None:
    args = [
        "mr",
        "scan",
        "--anatomy",
        "brain",
        "--preset",
        "t2_tse",
        *SMALL,
        "--seed",
        "5",
        "--truth",
    ]
    assert run_cli(*args, "--out", str(tmp_path / "a")).returncode == 0
    assert run_cli(*args, "--out", str(tmp_path / "b")).returncode == 0
    truth = np.load(tmp_path / "a" / "truth.npz")
    m = _mean_by_tissue(truth["noiseless"], truth["labels"], list(truth["names"]))
    assert m["csf"] > m["gray_matter"] > m["white_matter"]
    fa, fb = sorted((tmp_path / "a").glob("*.dcm")), sorted((tmp_path / "b").glob("*.dcm"))
    assert [f.read_bytes() for f in fa] == [f.read_bytes() for f in fb]
    # Re-running into an earlier output replaces it.
    res = run_cli(*args[:-1], "--out", str(tmp_path / "a"))
    assert res.returncode == 0, res.stderr
    assert not (tmp_path / "a" / "truth.npz").exists()


@needs_scanner
@pytest.mark.dciodvfy
def test_scanned_series_passes_dciodvfy(tmp_path: Path) -> None:
    if shutil.which("dciodvfy") is None:
        missing("dciodvfy (dicom3tools) is not installed")
    out = tmp_path / "knee"
    res = run_cli(
        "mr",
        "scan",
        "--anatomy",
        "knee",
        "--set",
        "slices=2",
        "--set",
        "matrix_read=128",
        "--set",
        "matrix_phase=128",
        "--seed",
        "1",
        "--out",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    for f in sorted(out.glob("*.dcm")):
        check = subprocess.run(["dciodvfy", str(f)], capture_output=True, text=True, timeout=60)
        errors = [ln for ln in (check.stdout + check.stderr).splitlines() if ln.startswith("Error")]
        assert errors == [], f


@needs_scanner
@pytest.mark.skipif(
    importlib.util.find_spec("simulator.mr.localizer") is None,
    reason="simulator.mr.localizer not landed yet",
)
def test_localizer_writes_three_planes(tmp_path: Path) -> None:
    out = tmp_path / "loc"
    res = run_cli("mr", "localizer", "--anatomy", "spine", "--seed", "1", "--out", str(out))
    assert res.returncode == 0, res.stderr
    ds = read_series(out)
    normals = {
        tuple(
            np.round(
                np.cross(
                    np.array(d.ImageOrientationPatient[:3], float),
                    np.array(d.ImageOrientationPatient[3:], float),
                ),
                3,
            )
        )
        for d in ds
    }
    assert len({tuple(abs(v) for v in n) for n in normals}) == 3


@needs_scanner
def test_new_orientation_brings_an_in_plane_phase_direction(tmp_path: Path) -> None:
    # Brain T1 SE is axial with phase RL; RL does not lie in a sagittal plane, so the console
    # moves phase to AP (along the sagittal image rows), unless the user set phase_dir.
    out = tmp_path / "sag"
    res = run_cli(
        "mr",
        "scan",
        "--anatomy",
        "brain",
        "--preset",
        "t1_se",
        *SMALL,
        "--orientation",
        "sagittal",
        "--seed",
        "1",
        "--out",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    assert json.loads((out / "metrics.json").read_text())["protocol"]["phase_dir"] == "AP"
    assert read_series(out)[0].InPlanePhaseEncodingDirection == "ROW"
    res = run_cli(
        "mr",
        "scan",
        "--anatomy",
        "brain",
        "--preset",
        "t1_se",
        *SMALL,
        "--orientation",
        "sagittal",
        "--set",
        "phase_dir=RL",
        "--seed",
        "1",
        "--out",
        str(tmp_path / "bad"),
    )
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()


def test_pathology_help_names_every_pathology() -> None:
    """The help is written out (building the parser imports no physics); it must not drift
    from the registry."""
    import argparse

    from simulator.cli.mr import _common
    from simulator.mr.anatomy import PATHOLOGIES

    parser = argparse.ArgumentParser()
    _common(parser)
    help_text = next(a.help for a in parser._actions if a.dest == "pathology")
    for names in PATHOLOGIES.values():
        for name in names:
            assert name in help_text
