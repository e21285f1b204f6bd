"""Series comparison: A newest / B previous, slices matched by patient position, W/L per
series, MR shown in the stored-value scale of its DICOM, PET in SUV."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from simulator.console._matching import SlicePlanes, match_slice


def _planes(offsets: list[float], thickness: float, normal=(0.0, 0.0, 1.0)) -> SlicePlanes:
    n = np.asarray(normal, np.float64)
    return SlicePlanes(n / np.linalg.norm(n), np.asarray(offsets, np.float64), thickness)


def test_nearest_slice_within_half_a_thickness_else_none() -> None:
    b = _planes([0.0, 5.0, 10.0], 5.0)
    assert match_slice(_planes([7.4], 3.0), 0, b) == 1  # 2.4 mm from slice 1 (< 2.5)
    assert match_slice(_planes([7.6], 3.0), 0, b) == 2  # nearer slice 2
    assert match_slice(_planes([12.6], 3.0), 0, b) is None  # 2.6 mm beyond the last slice
    assert match_slice(_planes([-2.4], 3.0), 0, b) == 0
    # the same planes with the normal reversed still match; tilted planes never do
    assert match_slice(_planes([-5.0], 3.0, (0, 0, -1)), 0, b) == 1
    assert match_slice(_planes([5.0], 3.0, (0, 0.2, 1)), 0, b) is None


@pytest.fixture(scope="module")
def two_series():
    from simulator.console.session import ConsoleSession

    s = ConsoleSession("mr", "en", "brain")
    s.clock = "max"
    s.set_screening("ok")
    for tr in (500.0, 2500.0):
        assert s.apply_command({"type": "set_param", "name": "tr_ms", "value": tr})["ok"]
        assert s.start_scan()["ok"]
        s.wait(300.0)  # hang guard only
        assert s.scan_state == "done", s.message
    return s


def test_after_a_new_series_a_is_newest_b_previous_and_they_differ(two_series) -> None:
    s = two_series
    assert s.compare == (1, 0)
    ka, kb = s.compare_slices()
    assert kb == ka  # same stack planned twice: same positions
    s.set_view("diff")
    frame = s.render_frame(640, 480)
    s.set_view("side")
    side = s.render_frame(640, 480)
    s.set_view("single")
    body = frame[60:420, 60:580].astype(float)
    assert body.std() > 5.0  # T1 minus T2 weighting is not a black image
    left, right = side[60:420, 20:300], side[60:420, 340:620]
    assert np.abs(left.astype(float) - right.astype(float)).mean() > 3.0


def test_wl_is_kept_per_series(two_series) -> None:
    s = two_series
    s.select_series(0)
    s.set_window(700.0, 900.0)
    s.select_series(1)
    assert s.window != (700.0, 900.0)
    s.set_window(1500.0, 2000.0)
    s.select_series(0)
    assert s.window == (700.0, 900.0)
    s.select_series(1)
    assert s.window == (1500.0, 2000.0)
    assert s.window_of(0) == (700.0, 900.0)


def test_mr_display_is_the_stored_integer_scale_of_its_dicom(two_series) -> None:
    pydicom = pytest.importorskip("pydicom")
    s = two_series
    s.select_series(1)
    _, data = s.dicom_zip()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = sorted(zf.namelist())
        ds = [pydicom.dcmread(io.BytesIO(zf.read(n))) for n in names]
    ds.sort(key=lambda d: int(d.InstanceNumber))
    stored = np.stack([d.pixel_array for d in ds]).astype(np.float32)
    shown = s.series[1].images
    assert shown.shape == stored.shape
    assert np.array_equal(shown, stored)
    assert float(shown.max()) <= 4095 and shown.dtype == np.float32
    assert "W 2000  L 1500" in _frame_text(s)


def _frame_text(s) -> str:
    from simulator.console._view_state import wl_text

    return wl_text(s.window, s.series[s.current].unit)


def test_pet_is_shown_in_suv() -> None:
    from simulator.console.session import ConsoleSession

    s = ConsoleSession("pet", "en")
    s.clock = "max"
    assert s.start_scan()["ok"]
    s.wait(300.0)  # hang guard only
    r = s.series[0]
    assert r.unit == "SUV"
    # SUV = C / (activity at scan / weight): the background of a 4:1 phantom reads ~1 only
    # if the phantom is normalised that way; here check the definition on one voxel
    ser = r.series
    z, y, x = (d // 2 for d in r.images.shape)
    want = float(ser.images_bqml[z, y, x]) / (float(ser.dose_at_scan_bq) / (ser.protocol.weight_kg * 1000))
    assert r.images[z, y, x] == pytest.approx(want, rel=1e-5)
