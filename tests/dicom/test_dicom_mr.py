"""MR Image Storage writer: validity, parameters in their attributes, round trips, UIDs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from dicom_fakes import dciodvfy_errors, fake_mr_series

from simulator.dicom import FictitiousPatient, read_series, volume_from_series, write_mr_series
from simulator.errors import UserError

#: DS strings keep 10 significant digits: geometry read back agrees to this (mm, cosines).
DS_TOL = 1e-6


def _values(v: object) -> list[str]:
    """A multi-valued attribute as a list (pydicom gives a plain str for one value)."""
    return [v] if isinstance(v, str) else list(v)  # type: ignore[call-overload]


@pytest.mark.dciodvfy
@pytest.mark.parametrize("sequence", ["se", "tse", "gre", "ir"])
def test_every_file_passes_dciodvfy(tmp_path, require_dciodvfy, sequence) -> None:
    s = fake_mr_series(
        sequence=sequence,
        ti_ms=150.0,
        slices=2,
        fat_sat=sequence == "gre",
        partial_fourier=0.75 if sequence == "se" else 1.0,
    )
    paths = write_mr_series(s, tmp_path)
    assert len(paths) == 2
    for path in paths:
        assert dciodvfy_errors(path, warnings=True) == [], path


@pytest.mark.dciodvfy
@pytest.mark.parametrize("factor", [1e-4, 1.0, 1e4])
def test_any_arbitrary_units_give_scanner_integers(tmp_path, require_dciodvfy, factor) -> None:
    # MR magnitudes are arbitrary units: whatever their scale, the files hold 12-bit
    # integers (peak 4095), no Modality LUT, a LINEAR window of width ≥ 1, and dciodvfy
    # has neither errors nor warnings.
    s = fake_mr_series(slices=1)
    s = dataclasses.replace(s, images=s.images * factor)
    (path,) = write_mr_series(s, tmp_path)
    assert dciodvfy_errors(path, warnings=True) == []
    ds = read_series(tmp_path)[0]
    assert "RescaleSlope" not in ds and "RescaleIntercept" not in ds
    assert "VOILUTFunction" not in ds
    assert ds.BitsStored == 12 and ds.HighBit == 11 and ds.PixelRepresentation == 0
    assert int(ds.pixel_array.max()) == 4095 and int(ds.pixel_array.min()) >= 0
    assert float(ds.WindowWidth) >= 1 and 0 < float(ds.WindowCenter) < 4095


def test_acquisition_parameters_in_standard_attributes(tmp_path) -> None:
    s = fake_mr_series(sequence="ir", ti_ms=150.0, field_t=3.0, fat_sat=True, partial_fourier=0.75)
    p = s.protocol
    write_mr_series(s, tmp_path)
    ds = read_series(tmp_path)[0]
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.4"
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert float(ds.RepetitionTime) == p.tr_ms and float(ds.EchoTime) == p.te_ms
    assert float(ds.InversionTime) == p.ti_ms
    assert int(ds.EchoTrainLength) == p.etl and float(ds.FlipAngle) == p.flip_deg
    assert float(ds.NumberOfAverages) == p.nex and float(ds.PixelBandwidth) == p.bandwidth_hz_px
    assert float(ds.SliceThickness) == p.slice_mm
    assert float(ds.SpacingBetweenSlices) == p.slice_mm + p.gap_mm
    assert float(ds.MagneticFieldStrength) == 3.0
    # Larmor frequency: γ/2π = 42.577 MHz/T (CODATA), independent of the writer's constant.
    assert float(ds.ImagingFrequency) == pytest.approx(42.577 * 3.0, rel=1e-4)
    assert _values(ds.ScanningSequence) == ["IR", "SE"] and "MP" in _values(ds.SequenceVariant)
    assert {"FS", "PFP"} <= set(_values(ds.ScanOptions))
    assert ds.MRAcquisitionType == "2D" and ds.ImagedNucleus == "1H"
    assert ds.PatientIdentityRemoved == "YES" and ds.BurnedInAnnotation == "NO"
    assert ds.SeriesDescription.endswith("(SIMULATED)") and "NOT FOR DIAGNOSIS" in ds.ImageComments
    assert str(ds.PatientName).startswith("SIMULATION^")
    assert float(ds.SAR) == s.derived.sar_w_kg


def test_inversion_time_only_for_inversion_recovery(tmp_path) -> None:
    write_mr_series(fake_mr_series(sequence="se", etl=1), tmp_path)
    ds = read_series(tmp_path)[0]
    assert "InversionTime" not in ds
    assert _values(ds.ScanningSequence) == ["SE"]


@pytest.mark.parametrize(
    ("orientation", "phase_dir", "expected"),
    [
        ("axial", "AP", "COL"),
        ("axial", "RL", "ROW"),
        ("sagittal", "AP", "ROW"),
        ("sagittal", "HF", "COL"),
        ("coronal", "RL", "ROW"),
        ("coronal", "HF", "COL"),
    ],
)
def test_phase_encoding_direction_follows_plane(tmp_path, orientation, phase_dir, expected) -> None:
    s = fake_mr_series(orientation=orientation, phase_dir=phase_dir, slices=1, phase_fov_pct=75.0)
    write_mr_series(s, tmp_path)
    ds = read_series(tmp_path)[0]
    assert ds.InPlanePhaseEncodingDirection == expected
    m = [int(v) for v in ds.AcquisitionMatrix]
    # Two of the four entries are zero; the phase entry counts the rectangular-FOV lines.
    lines = round(s.protocol.matrix_phase * s.protocol.phase_fov_pct / 100)
    assert sorted(m) == sorted([0, 0, lines, s.protocol.matrix_read])
    assert (m[2] if expected == "COL" else m[3]) == lines
    assert (m[1] if expected == "COL" else m[0]) == s.protocol.matrix_read


def test_pixels_round_trip_within_quantisation_step(tmp_path) -> None:
    s = fake_mr_series()
    volume, _, _ = volume_from_series(read_series(write_mr_series(s, tmp_path)[0].parent))
    # Stored values are the images scaled so that the series' peak is 4095 (12 bits), then
    # rounded: error at most half a step (plus float32 input).
    step = float(s.images.max()) / 4095
    assert np.max(np.abs(volume * step - s.images)) <= step / 2 * (1 + 1e-6)


@pytest.mark.parametrize(
    ("orientation", "angle"), [("axial", 0.0), ("sagittal", 0.0), ("coronal", 0.0), ("axial", 17.0)]
)
def test_geometry_round_trip(tmp_path, orientation, angle) -> None:
    s = fake_mr_series(orientation=orientation, angle_deg=angle)
    write_mr_series(s, tmp_path)
    ds = read_series(tmp_path)
    _, spacing, positions = volume_from_series(ds)
    iop = np.array([float(v) for v in ds[0].ImageOrientationPatient])
    row, col = iop[:3], iop[3:]
    assert np.linalg.norm(row) == pytest.approx(1, abs=DS_TOL)
    assert np.linalg.norm(col) == pytest.approx(1, abs=DS_TOL)
    assert row @ col == pytest.approx(0, abs=DS_TOL)
    normal = np.cross(row, col)
    steps = np.diff(positions, axis=0)
    # Consecutive images step exactly along the normal by slice + gap.
    np.testing.assert_allclose(steps @ normal, s.protocol.slice_mm + s.protocol.gap_mm, atol=1e-5)
    np.testing.assert_allclose(np.cross(steps, normal), 0, atol=1e-5)
    assert spacing[0] == pytest.approx(s.protocol.slice_mm + s.protocol.gap_mm, abs=1e-5)
    assert spacing[1:] == pytest.approx(s.pixel_spacing_mm, abs=DS_TOL)
    locs = [float(d.SliceLocation) for d in ds]
    np.testing.assert_allclose(np.diff(locs), s.protocol.slice_mm + s.protocol.gap_mm, atol=1e-5)


def _uids(path) -> list[str]:
    ds = read_series(path)
    return [ds[0].StudyInstanceUID, ds[0].SeriesInstanceUID] + [d.SOPInstanceUID for d in ds]


def test_same_scan_same_uids_and_bytes_other_seed_other_uids(tmp_path) -> None:
    a = write_mr_series(fake_mr_series(seed=3), tmp_path / "a")
    b = write_mr_series(fake_mr_series(seed=3), tmp_path / "b")
    write_mr_series(fake_mr_series(seed=4), tmp_path / "c")
    assert _uids(tmp_path / "a") == _uids(tmp_path / "b")
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    ua, uc = _uids(tmp_path / "a"), _uids(tmp_path / "c")
    assert ua[0] != uc[0]  # two separate scans (two CLI calls): two studies
    assert not set(ua[1:]) & set(uc[1:])  # every series/image UID differs
    assert len(set(ua[2:])) == len(ua) - 2  # image UIDs are unique within the series
    assert all(len(u) <= 64 for u in ua)


def test_other_protocol_other_series_uid(tmp_path) -> None:
    write_mr_series(fake_mr_series(tr_ms=4000.0), tmp_path / "a")
    write_mr_series(fake_mr_series(tr_ms=5000.0), tmp_path / "b")
    assert _uids(tmp_path / "a")[1] != _uids(tmp_path / "b")[1]


def test_fictitious_patient_is_written_and_real_names_refused(tmp_path) -> None:
    p = FictitiousPatient(name="SIMULATION^Anxious", patient_id="SIM-42", sex="F", weight_kg=55)
    write_mr_series(fake_mr_series(), tmp_path, patient=p)
    ds = read_series(tmp_path)[0]
    assert str(ds.PatientName) == "SIMULATION^Anxious" and ds.PatientID == "SIM-42"
    assert float(ds.PatientWeight) == 55
    with pytest.raises(UserError):
        FictitiousPatient(name="Dupont^Marie")
