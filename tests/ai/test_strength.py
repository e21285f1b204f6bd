"""``ai_strength`` of the MR and PET protocols: checked 0–1, and the laws of the blend in a scan.

The laws, for one seed (the same noisy reconstruction every time):

- strength 0 with AI on gives exactly the image of the scan with AI off;
- strength 1 gives the network's output on that reconstruction (the denoiser called on the
  scan's own input, ``images_before_ai``);
- strength 0.5 is the midpoint of the two (where the network output is not clipped at 0).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from simulator.ai import denoise_mr, denoise_pet
from simulator.dicom import read_series, write_mr_series, write_pet_series
from simulator.errors import ParameterError
from simulator.mr import MRProtocol, load_anatomy
from simulator.mr import scan as mr_scan
from simulator.pet import PETProtocol, check_protocol, make_phantom
from simulator.pet import scan as pet_scan

#: Stops a hung command line only (a scan of one slice takes seconds).
CLI_HANG_GUARD_S = 300

#: float32 blend of values ~1 after scaling: a few ulps of the image scale.
BLEND_RTOL = 1e-5


@pytest.fixture(scope="module")
def brain():
    return load_anatomy("brain")


@pytest.fixture(scope="module")
def mr_scans(brain):
    p = dataclasses.replace(MRProtocol(), slices=1, matrix_read=128, matrix_phase=96)

    def at(strength: float | None):
        q = p if strength is None else dataclasses.replace(
            p, ai_denoise=True, ai_strength=strength)
        return mr_scan(brain, q, rng=np.random.default_rng(7))

    return {s: at(s) for s in (None, 0.0, 0.5, 1.0)}


@pytest.fixture(scope="module")
def pet_scans():
    ph = make_phantom("nema-iec")
    p = PETProtocol(minutes_per_bed=1.0, matrix=64, iterations=2, subsets=14)
    mid = ph.shape[0] // 2

    def at(strength: float | None):
        q = p if strength is None else dataclasses.replace(
            p, ai_denoise=True, ai_strength=strength)
        return pet_scan(ph, q, seed=5, slices=[mid])

    return {s: at(s) for s in (None, 0.0, 0.5, 1.0)}


@pytest.mark.parametrize("bad", [-0.1, 1.01, float("nan"), float("inf"), "half", True])
def test_mr_strength_outside_0_1_is_refused_with_the_range(bad) -> None:
    with pytest.raises(ParameterError) as exc:
        MRProtocol(ai_strength=bad)
    err = exc.value
    assert err.name == "ai_strength" and err.allowed == "0–1"
    for lang, word in (("fr", "permises"), ("en", "allowed"), ("de", "zulässig")):
        assert "0–1" in err.message(lang) and word in err.message(lang)


@pytest.mark.parametrize("bad", [-0.5, 2.0, float("nan"), True])
def test_pet_strength_outside_0_1_is_refused_with_the_range(bad) -> None:
    with pytest.raises(ParameterError) as exc:
        check_protocol(PETProtocol(ai_strength=bad))
    assert exc.value.name == "ai_strength"
    for lang in ("fr", "en", "de"):
        assert "0–1" in exc.value.message(lang)


@pytest.mark.parametrize("ok", [0, 0.0, 0.25, 1])
def test_strength_bounds_are_accepted(ok) -> None:
    assert MRProtocol(ai_strength=ok).ai_strength == float(ok)
    check_protocol(PETProtocol(ai_strength=ok))


def _laws(off, zero, half, full, images, before, denoise) -> None:
    # 0: the reconstruction exactly, the same as AI off
    np.testing.assert_array_equal(images(zero), images(off))
    np.testing.assert_array_equal(before(full), images(off))
    # 1: the network on the scan's own input
    net = np.asarray(denoise(before(full), 1.0), np.float32)
    np.testing.assert_allclose(images(full), net, rtol=BLEND_RTOL, atol=0)
    assert not np.allclose(images(full), images(off))
    # 0.5: the midpoint, where the full output was not clipped at zero
    mid = 0.5 * (images(off).astype(np.float64) + images(full).astype(np.float64))
    kept = images(full) > 0
    assert kept.mean() > 0.2
    scale = float(np.abs(images(off)).max())
    np.testing.assert_allclose(images(half)[kept], mid[kept], rtol=0, atol=BLEND_RTOL * scale)
    # and it lies strictly between where the network changed something
    changed = kept & (np.abs(images(full) - images(off)) > 1e-3 * scale)
    lo = np.minimum(images(off), images(full))[changed]
    hi = np.maximum(images(off), images(full))[changed]
    assert np.all((images(half)[changed] > lo) & (images(half)[changed] < hi))


def test_mr_scan_blends_by_strength(mr_scans) -> None:
    s = mr_scans
    _laws(s[None], s[0.0], s[0.5], s[1.0], lambda r: r.images, lambda r: r.images_before_ai,
          denoise_mr)


def test_pet_scan_blends_by_strength(pet_scans) -> None:
    s = pet_scans
    _laws(s[None], s[0.0], s[0.5], s[1.0], lambda r: r.images_bqml,
          lambda r: r.images_before_ai_bqml, denoise_pet)


def test_dicom_derivation_states_the_strength(tmp_path, mr_scans, pet_scans) -> None:
    write_mr_series(mr_scans[0.5], tmp_path / "mr")
    write_pet_series(pet_scans[1.0], tmp_path / "pet")
    mr, pet = read_series(tmp_path / "mr")[0], read_series(tmp_path / "pet")[0]
    assert "strength 0.50" in mr.DerivationDescription
    assert "50 % network output" in mr.DerivationDescription
    assert "strength 1.00" in pet.DerivationDescription
    assert "100 % network output" in pet.DerivationDescription
    assert len(mr.DerivationDescription) <= 1024  # ST


def test_cli_sets_the_strength(tmp_path) -> None:
    """``--set ai_strength=0.5`` reaches the scan (DICOM says so); 1.5 exits 2 with the range."""
    base = [sys.executable, "-m", "simulator", "mr", "scan", "--anatomy", "brain", "--seed", "1",
            "--set", "slices=1", "--set", "matrix_read=128", "--set", "matrix_phase=96"]
    ok = subprocess.run([*base, "--set", "ai_denoise=true", "--set", "ai_strength=0.5",
                         "--out", str(tmp_path / "ok")], capture_output=True, text=True,
                        timeout=CLI_HANG_GUARD_S)
    assert ok.returncode == 0, ok.stderr
    assert "strength 0.50" in read_series(tmp_path / "ok")[0].DerivationDescription
    bad = subprocess.run([*base, "--set", "ai_strength=1.5", "--out", str(tmp_path / "bad")],
                         capture_output=True, text=True, timeout=CLI_HANG_GUARD_S)
    assert bad.returncode == 2 and "ai_strength" in bad.stderr and "0–1" in bad.stderr
    assert "Traceback" not in bad.stderr
