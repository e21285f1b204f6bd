"""PET Image Storage writer: validity, SUV from the header alone, decay bookkeeping, UIDs."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from dicom_fakes import F18_HALF_LIFE_S, dciodvfy_errors, fake_pet_series

from simulator.dicom import read_series, suv_from_pet_series, volume_from_series, write_pet_series
from simulator.errors import UserError

#: Per-slice 16-bit quantisation: relative error ≤ 0.5 / 32767 of the slice maximum.
QUANT_REL = 0.5 / 32767


def _values(v: object) -> list[str]:
    return [v] if isinstance(v, str) else list(v)  # type: ignore[call-overload]


@pytest.mark.dciodvfy
@pytest.mark.parametrize(("beds", "phantom"), [(1, "nema-iec"), (2, "torso"), (1, "brain")])
def test_every_file_passes_dciodvfy(tmp_path, require_dciodvfy, beds, phantom) -> None:
    s = fake_pet_series(beds=beds, tof_ps=400.0, phantom_name=phantom)
    paths = write_pet_series(s, tmp_path)
    assert len(paths) == 6
    for path in paths:
        assert dciodvfy_errors(path) == [], path


def test_suv_of_uniform_phantom_is_one(tmp_path) -> None:
    s = fake_pet_series(images_bqml=np.ones((4, 8, 8)))
    uniform = s.dose_at_scan_bq / (s.protocol.weight_kg * 1000.0)
    s = fake_pet_series(images_bqml=np.full((4, 8, 8), uniform))
    write_pet_series(s, tmp_path)
    suv = suv_from_pet_series(read_series(tmp_path))
    # Only the DS string precision (10 digits) and 16-bit quantisation stand between.
    np.testing.assert_allclose(suv, 1.0, rtol=1e-4)


def test_header_holds_what_suv_needs(tmp_path) -> None:
    s = fake_pet_series(uptake_min=75.0, weight_kg=92.5)
    write_pet_series(s, tmp_path)
    ds = read_series(tmp_path)[0]
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.128"
    assert ds.Units == "BQML" and ds.DecayCorrection == "START"
    assert {"DECY", "ATTN", "SCAT"} <= set(_values(ds.CorrectedImage))
    assert float(ds.PatientWeight) == 92.5
    info = ds.RadiopharmaceuticalInformationSequence[0]
    # Injected activity in Bq, at the injection time.
    assert float(info.RadionuclideTotalDose) == pytest.approx(
        s.protocol.activity_mbq * 1e6, rel=1e-9
    )
    assert float(info.RadionuclideHalfLife) == pytest.approx(F18_HALF_LIFE_S)
    assert info.RadionuclideCodeSequence[0].CodeMeaning == "^18^Fluorine"
    inj = dt.datetime.strptime(str(info.RadiopharmaceuticalStartDateTime)[:14], "%Y%m%d%H%M%S")
    series = dt.datetime.strptime(ds.SeriesDate + ds.SeriesTime[:6], "%Y%m%d%H%M%S")
    assert (series - inj).total_seconds() == pytest.approx(75 * 60)
    assert int(ds.ActualFrameDuration) == 120_000
    # The whole tracer name (with its ^18^) and the notice, within the 64 characters of LO.
    assert ds.SeriesDescription.endswith("(SIMULATED)") and len(ds.SeriesDescription) <= 64
    assert "Fluorodeoxyglucose F^18^" in ds.SeriesDescription
    assert "NOT FOR DIAGNOSIS" in ds.ImageComments


def test_no_attenuation_correction_is_said(tmp_path) -> None:
    write_pet_series(fake_pet_series(attenuation_correction=False), tmp_path)
    assert "ATTN" not in _values(read_series(tmp_path)[0].CorrectedImage)


def test_per_slice_slope_keeps_each_slice_within_quantisation(tmp_path) -> None:
    rng = np.random.default_rng(5)
    # Slices spanning five decades: one series-wide slope would flatten the faint ones.
    vol = rng.random((5, 8, 8)) * (10.0 ** np.arange(5))[:, None, None]
    vol[2, 0, 0] = -3.0  # FBP undershoot: stored signed, not clipped
    write_pet_series(fake_pet_series(images_bqml=vol), tmp_path)
    back, spacing, _ = volume_from_series(read_series(tmp_path))
    peak = np.abs(vol).max(axis=(1, 2))[:, None, None]
    assert np.all(np.abs(back - vol.astype(np.float32)) <= peak * QUANT_REL * (1 + 1e-5) + 1e-12)
    assert back[2, 0, 0] < 0
    assert spacing == pytest.approx((3.0, 4.0, 4.0))


def test_activity_read_back_is_truth_decayed_to_series_start(tmp_path) -> None:
    truth_at_injection = 5300.0  # Bq/mL, IEC background at the reference time
    s = fake_pet_series(images_bqml=np.ones((3, 8, 8)))
    decayed = truth_at_injection * 2 ** (-s.scan_start_offset_s / F18_HALF_LIFE_S)
    write_pet_series(fake_pet_series(images_bqml=np.full((3, 8, 8), decayed)), tmp_path)
    ds = read_series(tmp_path)
    vol, _, _ = volume_from_series(ds)
    inj = str(ds[0].RadiopharmaceuticalInformationSequence[0].RadiopharmaceuticalStartTime)
    elapsed = (
        dt.datetime.strptime(ds[0].SeriesTime[:6], "%H%M%S")
        - dt.datetime.strptime(inj[:6], "%H%M%S")
    ).total_seconds()
    np.testing.assert_allclose(
        vol * 2 ** (elapsed / F18_HALF_LIFE_S), truth_at_injection, rtol=1e-4
    )


def test_frame_reference_time_and_decay_factor_agree(tmp_path) -> None:
    s = fake_pet_series(beds=2, minutes_per_bed=3.0)
    write_pet_series(s, tmp_path)
    ds = read_series(tmp_path)
    lam = math.log(2) / F18_HALF_LIFE_S
    frame_s = s.protocol.minutes_per_bed * 60
    for d in ds:
        frt_s = float(d.FrameReferenceTime) / 1000
        # Decay factor to the series start = exp(λ·frame reference time) (PS3.3 C.8.9.4.1.5).
        assert float(d.DecayFactor) == pytest.approx(math.exp(lam * frt_s), rel=1e-8)
        # The reference time is where A(t) equals the frame's mean activity.
        mean = (1 - math.exp(-lam * frame_s)) / (lam * frame_s)
        assert math.exp(-lam * frt_s) == pytest.approx(mean, rel=1e-8)
        assert 0 < frt_s < frame_s / 2  # decay: just before the midpoint
        assert d.AcquisitionTime == d.SeriesTime
        assert int(d.ActualFrameDuration) == frame_s * 1000
    assert _values(ds[0].SeriesType)[0] == "WHOLE BODY"


def test_same_seed_same_uids_other_seed_other(tmp_path) -> None:
    def uids(path):
        ds = read_series(path)
        return [ds[0].SeriesInstanceUID] + [d.SOPInstanceUID for d in ds]

    write_pet_series(fake_pet_series(seed=1), tmp_path / "a")
    write_pet_series(fake_pet_series(seed=1), tmp_path / "b")
    write_pet_series(fake_pet_series(seed=2), tmp_path / "c")
    assert uids(tmp_path / "a") == uids(tmp_path / "b")
    assert not set(uids(tmp_path / "a")) & set(uids(tmp_path / "c"))


def test_unknown_tracer_is_a_user_error(tmp_path) -> None:
    with pytest.raises(UserError):
        write_pet_series(fake_pet_series(tracer="unobtainium"), tmp_path)


def test_suv_refuses_a_header_without_units(tmp_path) -> None:
    write_pet_series(fake_pet_series(), tmp_path)
    ds = read_series(tmp_path)
    ds[0].Units = "CNTS"
    with pytest.raises(UserError):
        suv_from_pet_series(ds)
