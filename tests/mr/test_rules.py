"""Console rules: ranges, timing limits, SAR, scan-time law, presets."""

from __future__ import annotations

import dataclasses
import math

import pytest

from simulator.errors import ParameterError
from simulator.mr import PRESETS, MRProtocol, check_protocol, derive, preset
from simulator.mr.anatomy import Anatomy
from simulator.mr.rules import GAMMA_MHZ_T


def test_default_is_a_valid_brain_t1_se() -> None:
    p = MRProtocol()
    assert p.sequence == "se" and p.field_t == 1.5
    check_protocol(p)


@pytest.mark.parametrize("anatomy", list(PRESETS))
def test_every_preset_passes_the_console_at_both_fields(anatomy: str) -> None:
    for name in PRESETS[anatomy]:
        for field in (1.5, 3.0):
            check_protocol(preset(anatomy, name, field_t=field))


@pytest.mark.parametrize(
    ("name", "value"),
    [("tr_ms", 1.0), ("te_ms", -3.0), ("nex", 0), ("nex", 1.5), ("sequence", "epi"),
     ("field_t", 7.0), ("phase_dir", "XY"), ("partial_fourier", 0.3), ("slices", 200),
     ("matrix_read", "abc"), ("fat_sat", 1)],
)
def test_out_of_range_values_raise_with_the_allowed_range(name: str, value: object) -> None:
    with pytest.raises(ParameterError) as err:
        dataclasses.replace(MRProtocol(), **{name: value})
    assert err.value.name == name
    assert "allowed" in str(err.value) and err.value.message("fr")


def test_min_te_grows_when_bandwidth_drops() -> None:
    p = MRProtocol()
    low_bw = dataclasses.replace(p, bandwidth_hz_px=60.0)
    assert derive(low_bw).min_te_ms > derive(p).min_te_ms
    with pytest.raises(ParameterError) as err:
        check_protocol(dataclasses.replace(low_bw, te_ms=derive(low_bw).min_te_ms - 1))
    assert err.value.name == "te_ms" and "ms" in err.value.allowed


def test_tse_te_beyond_echo_train_is_refused() -> None:
    p = preset("brain", "t2_tse")
    d = derive(p)
    with pytest.raises(ParameterError) as err:
        check_protocol(dataclasses.replace(p, te_ms=(p.etl + 2) * d.echo_spacing_ms))
    assert err.value.name == "te_ms"


def test_tse_effective_te_is_a_multiple_of_echo_spacing() -> None:
    p = dataclasses.replace(preset("brain", "t2_tse"), te_ms=95.0)
    d = derive(p)
    n = d.te_eff_ms / d.echo_spacing_ms
    assert abs(n - round(n)) < 1e-9
    assert any("effective TE" in w for w in check_protocol(p))


def test_short_tr_adds_concatenations_then_refuses() -> None:
    p = MRProtocol()
    d = derive(p)
    more = dataclasses.replace(p, slices=d.max_slices_per_tr + 1)
    assert derive(more).concatenations == 2
    assert derive(more).scan_time_s == pytest.approx(2 * d.scan_time_s)
    with pytest.raises(ParameterError) as err:
        check_protocol(dataclasses.replace(p, tr_ms=20.0, slices=20))
    assert err.value.name == "tr_ms"


def test_ti_must_fit_in_tr() -> None:
    p = preset("brain", "flair")
    with pytest.raises(ParameterError) as err:
        check_protocol(dataclasses.replace(p, ti_ms=p.tr_ms - 10))
    assert err.value.name == "ti_ms"


def test_scan_time_law() -> None:
    p = preset("brain", "t2_tse")
    d = derive(p)
    lines = p.phase_lines
    assert d.scan_time_s == pytest.approx(p.tr_ms / 1000 * math.ceil(lines / p.etl) * p.nex)
    q = dataclasses.replace(p, nex=4)
    assert derive(q).scan_time_s == pytest.approx(2 * d.scan_time_s)
    r2 = dataclasses.replace(p, parallel_r=2)
    assert derive(r2).scan_time_s == pytest.approx(d.scan_time_s / 2, rel=0.05)


def test_reference_spine_t2_takes_about_eleven_and_a_half_minutes() -> None:
    t = derive(preset("spine", "t2_tse_sag")).scan_time_s
    assert 11 * 60 <= t <= 12 * 60


def test_sar_grows_as_b0_squared_and_3t_high_etl_tse_exceeds_the_limit() -> None:
    p = preset("brain", "t2_tse")
    d15 = derive(p)
    d3 = derive(dataclasses.replace(p, field_t=3.0))
    assert d3.sar_w_kg == pytest.approx(4 * d15.sar_w_kg)
    assert 0.5 <= d15.sar_w_kg <= 2.0  # calibration: a 1.5 T TSE is ~1 W/kg
    hot = dataclasses.replace(p, field_t=3.0, etl=24, slices=30, tr_ms=4500.0)
    with pytest.raises(ParameterError) as err:
        check_protocol(hot)
    assert "SAR" in str(err.value) and "W/kg" in str(err.value)
    lower = dataclasses.replace(hot, refocus_deg=120.0)
    assert derive(lower).sar_w_kg < derive(hot).sar_w_kg


def test_fat_shift_law() -> None:
    for field in (1.5, 3.0):
        for bw in (100.0, 200.0, 400.0):
            p = dataclasses.replace(MRProtocol(), field_t=field, bandwidth_hz_px=bw, te_ms=20)
            assert derive(p).fat_shift_px == pytest.approx(3.4 * GAMMA_MHZ_T * field / bw)


def test_snr_rel_law() -> None:
    p = MRProtocol()
    base = derive(p).snr_rel
    assert derive(dataclasses.replace(p, nex=4)).snr_rel == pytest.approx(2 * base)
    assert derive(dataclasses.replace(p, slice_mm=2.5)).snr_rel == pytest.approx(base / 2)
    assert derive(dataclasses.replace(p, bandwidth_hz_px=520.0, te_ms=15)).snr_rel == \
        pytest.approx(base / 2)


def test_parallel_r_limited_by_coils() -> None:
    with pytest.raises(ParameterError) as err:
        check_protocol(dataclasses.replace(MRProtocol(), parallel_r=4, coils=8,
                                           matrix_phase=96))
    assert err.value.name == "parallel_r"


def test_phase_dir_must_be_in_plane() -> None:
    with pytest.raises(ParameterError) as err:
        check_protocol(dataclasses.replace(MRProtocol(), phase_dir="HF"))
    assert err.value.name == "phase_dir"


def test_unknown_preset_lists_the_allowed_names() -> None:
    with pytest.raises(ParameterError) as err:
        preset("brain", "dwi")
    assert "t1_se" in err.value.allowed


def test_check_protocol_with_anatomy_announces_wrap_like_the_scan(head: Anatomy) -> None:
    from simulator.mr import scan

    # The test head is 200 mm along AP.
    base = dataclasses.replace(MRProtocol(), slices=1, phase_dir="AP")
    for pct in (100.0, 80.0, 60.0):
        p = dataclasses.replace(base, phase_fov_pct=pct)
        before = any("wrap" in w for w in check_protocol(p, head))
        after = any("wrap" in w for w in scan(head, p, rng=None).warnings)
        assert before == after == (p.phase_fov_mm < 200.0)
    assert not any("wrap" in w for w in check_protocol(
        dataclasses.replace(base, phase_fov_pct=60.0, phase_oversampling_pct=100.0), head))
