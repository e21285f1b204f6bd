"""The writers on the real scanners' output: geometry and pixels survive the round trip."""

from __future__ import annotations

import dataclasses
import importlib.util

import numpy as np
import pytest

from simulator.dicom import read_series, volume_from_series, write_mr_series

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("simulator.mr.scan") is None, reason="simulator.mr.scan not landed yet"
)


@pytest.mark.parametrize(
    ("anatomy", "name", "orientation", "angle"),
    [
        ("brain", "t1_se", "axial", 12.0),
        ("spine", "t1_se_sag", "sagittal", 0.0),
        ("knee", "t1", "coronal", (8.0, -5.0)),
    ],
)
def test_real_scan_geometry_and_pixels_round_trip(
    tmp_path, anatomy, name, orientation, angle
) -> None:
    from simulator.mr import Geometry, load_anatomy, preset
    from simulator.mr.geometry import default_geometry
    from simulator.mr.scan import scan

    anat = load_anatomy(anatomy)
    p = dataclasses.replace(
        preset(anatomy, name), slices=3, matrix_read=64, matrix_phase=64, orientation=orientation
    )
    centre = default_geometry(anat, p).center_mm
    s = scan(anat, p, Geometry(orientation, centre, angle), rng=2)
    write_mr_series(s, tmp_path)
    ds = read_series(tmp_path)
    vol, spacing, positions = volume_from_series(ds)
    # Pixels: 12-bit integers (series peak 4095, no rescale), within half a step of the
    # scanner's float images once scaled back.
    step = float(np.max(s.images)) / 4095
    assert "RescaleSlope" not in ds[0] and int(max(d.pixel_array.max() for d in ds)) == 4095
    assert np.max(np.abs(vol * step - s.images)) <= step / 2 * (1 + 1e-6)
    iop = np.array([float(v) for v in ds[0].ImageOrientationPatient])
    row, col = iop[:3], iop[3:]
    assert abs(row @ col) < 1e-6 and abs(np.linalg.norm(row) - 1) < 1e-6
    normal = np.cross(row, col)
    steps = np.diff(positions, axis=0)
    np.testing.assert_allclose(steps @ normal, p.slice_mm + p.gap_mm, atol=1e-4)
    np.testing.assert_allclose(np.cross(steps, normal), 0, atol=1e-4)
    # The stack sits where the planner put it: centre of the middle image = geometry centre.
    rows, cols = vol.shape[1:]
    mid = positions[1] + (cols - 1) / 2 * spacing[2] * row + (rows - 1) / 2 * spacing[1] * col
    np.testing.assert_allclose(mid, centre, atol=1e-3)
    assert ds[0].Rows == s.images.shape[1] and ds[0].Columns == s.images.shape[2]
