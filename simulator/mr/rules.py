"""Console rules of the virtual MR scanner: timing, SAR, derived values.

A real console refuses a TE shorter than the readout allows, a TR too short for the slices,
an echo train that cannot reach the TE, and a SAR above the IEC 60601-2-33 normal operating
mode. :func:`check_protocol` applies those rules (raising
:class:`~simulator.errors.ParameterError` with the allowed range and the reason) and returns
warnings; :func:`derive` computes what the console shows (scan time, relative SNR, SAR, fat
shift, voxel size, limits).

Timing model (ms): readout duration ``T_ro = 1000 / bandwidth_hz_px``; RF pulse durations and
gradient times below are typical of a clinical scanner. SAR is relative: proportional to
``B0²`` and to the RF energy per second. A pulse of one shape turning the magnetisation by
α in a time τ needs ``B1 ∝ α/τ``, so it deposits ``∫B1² dt ∝ α²/τ``: each pulse counts
``(α/90°)² · τ_90/τ`` units of the 2.56 ms 90° excitation (the 3 ms refocusing pulse 0.85 of
a 2.56 ms pulse of the same angle, the 1 ms GRE pulse 2.56). Calibrated so that a 1.5 T
brain TSE (20 slices, ETL 16, 180° refocusing, TR 4 s) gives about 1 W/kg.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from simulator.errors import ParameterError
from simulator.mr.planning import WRAP_WARN_SHARE, check_phase_dir, default_geometry, wrap_share
from simulator.mr.protocol import MRProtocol

__all__ = ["MRDerived", "derive", "check_protocol", "timing", "Timing",
           "GAMMA_MHZ_T", "SAR_LIMITS_W_KG", "COIL_SNR_GAIN"]

#: Proton gyromagnetic ratio γ/2π in MHz/T.
GAMMA_MHZ_T = 42.577
#: Fat–water chemical shift of the main fat peak, ppm.
FAT_SHIFT_PPM = 3.4
#: IEC 60601-2-33 normal operating mode: head SAR 3.2 W/kg, whole body 2 W/kg.
SAR_LIMITS_W_KG = {"head": 3.2, "knee": 2.0, "spine": 2.0}
#: Receive-coil SNR gain per body part: a dedicated knee coil sits closer to a small volume.
COIL_SNR_GAIN = {"head": 1.0, "knee": 3.0, "spine": 1.0}
#: W/kg per unit of RF energy per second at 1.5 T (calibration, see module docstring).
SAR_W_KG_PER_UNIT = 0.0035

RF_EXC_MS = 2.56     # 90° sinc excitation
RF_REF_MS = 3.0      # 180° refocusing pulse
RF_GRE_MS = 1.0      # short GRE excitation
RF_INV_MS = 8.0      # adiabatic inversion (IR)
T_ENC_MS = 1.0       # phase-encoding / prephasing gradient
T_SPOIL_MS = 2.0     # spoiler and slice rewinders
MAX_CONCATENATIONS = 4


@dataclass(frozen=True)
class Timing:
    """Sequence timing derived from a protocol (all in ms)."""

    readout_ms: float
    echo_spacing_ms: float
    min_te_ms: float
    max_te_ms: float
    te_eff_ms: float
    slice_time_ms: float


@dataclass(frozen=True)
class MRDerived:
    """What the console displays for a protocol.

    Parameters
    ----------
    scan_time_s : float
        ``TR · shots · NEX · concatenations`` with ``shots = lines / ETL`` and
        ``lines = phase lines · partial Fourier / R``.
    snr_rel : float
        SNR relative to the default brain T1 SE at 1.5 T, from
        ``voxel volume · √(N_phase · NEX / BW) · B0`` (× coil gain): the acquisition's share
        of the SNR, for the same tissue signal — relaxation (contrast) is not in it.
    sar_w_kg, sar_limit_w_kg : float
        Estimated SAR and the IEC normal-mode limit for the body part.
    fat_shift_px : float
        Fat–water displacement along read, ``3.4 ppm · γ · B0 / BW_px``.
    voxel_mm : tuple of float
        (read, phase, slice) voxel size.
    min_te_ms, min_tr_ms : float
        Shortest TE and TR the console accepts for the other values.
    max_slices_per_tr : int
        Slices that fit one TR.
    concatenations : int
        Number of concatenations (packages) the slices are split into.
    te_eff_ms, echo_spacing_ms, readout_ms : float
        Effective TE used (TSE: a multiple of the echo spacing), echo spacing, readout.
    phase_lines_acquired : int
        Phase-encoding lines actually acquired per slice and average.
    """

    scan_time_s: float
    snr_rel: float
    sar_w_kg: float
    sar_limit_w_kg: float
    fat_shift_px: float
    voxel_mm: tuple[float, float, float]
    min_te_ms: float
    min_tr_ms: float
    max_slices_per_tr: int
    concatenations: int
    te_eff_ms: float
    echo_spacing_ms: float
    readout_ms: float
    phase_lines_acquired: int


def _turbo(p: MRProtocol) -> bool:
    return p.sequence == "tse" or (p.sequence == "ir" and p.etl > 1)


def timing(p: MRProtocol) -> Timing:
    """Return the readout, echo spacing, TE limits and time per slice of a protocol."""
    t_ro = 1000.0 / p.bandwidth_hz_px
    if p.sequence == "gre":
        min_te = RF_GRE_MS / 2 + T_ENC_MS + t_ro / 2
        esp = 0.0
        te_eff = p.te_ms
        max_te = p.tr_ms - RF_GRE_MS / 2 - t_ro / 2 - 1.5
        slice_time = RF_GRE_MS / 2 + te_eff + t_ro / 2 + 1.5
    elif _turbo(p):
        esp = RF_REF_MS + 1.2 * T_ENC_MS + t_ro
        min_te = esp
        max_te = p.etl * esp
        n = min(max(1, round(p.te_ms / esp)), p.etl)
        te_eff = n * esp
        slice_time = RF_EXC_MS / 2 + p.etl * esp + esp / 2 + T_SPOIL_MS
    else:
        esp = 0.0
        left = RF_EXC_MS / 2 + T_ENC_MS + RF_REF_MS / 2
        right = RF_REF_MS / 2 + T_ENC_MS / 2 + t_ro / 2
        min_te = 2 * max(left, right)
        te_eff = p.te_ms
        slice_time = RF_EXC_MS / 2 + te_eff + t_ro / 2 + T_SPOIL_MS
        max_te = RANGES_TE_MAX
    if p.sequence == "ir":
        slice_time += RF_INV_MS
    if p.fat_sat:
        slice_time += 10.0  # spectral saturation pulse and spoiler
    return Timing(t_ro, esp, min_te, max_te, te_eff, slice_time)


RANGES_TE_MAX = 400.0


def _available_ms(p: MRProtocol) -> float:
    return p.tr_ms - (p.ti_ms if p.sequence == "ir" else 0.0)


def pulse_energy_units(flip_deg: float, duration_ms: float) -> float:
    """RF energy of one pulse, in units of the 90° excitation of ``RF_EXC_MS``: α²/τ."""
    return (flip_deg / 90.0) ** 2 * RF_EXC_MS / duration_ms


def _rf_units_per_slice(p: MRProtocol) -> float:
    """RF energy per slice per TR, in units of one 90° excitation pulse."""
    if p.sequence == "gre":
        units = pulse_energy_units(p.flip_deg, RF_GRE_MS)
    else:
        refocusing = p.etl if _turbo(p) else 1
        units = (pulse_energy_units(p.flip_deg, RF_EXC_MS)
                 + refocusing * pulse_energy_units(p.refocus_deg, RF_REF_MS))
    if p.sequence == "ir":
        units += 6.0  # adiabatic inversion: more energy than a plain 180°
    if p.fat_sat:
        units += 1.0
    return units


def _lines(p: MRProtocol) -> int:
    n = p.phase_lines_encoded
    if p.partial_fourier < 1.0:
        n = max(int(round(n * p.partial_fourier)), n // 2 + 8)
    return int(math.ceil(n / p.parallel_r))


@functools.lru_cache(maxsize=1)
def _reference_snr_factor() -> float:
    return _snr_factor(MRProtocol())


def _snr_factor(p: MRProtocol) -> float:
    vox = (p.fov_mm / p.matrix_read) * (p.fov_mm / p.matrix_phase) * p.slice_mm
    gain = COIL_SNR_GAIN[p.body_part]
    return vox * math.sqrt(_lines(p) * p.nex / p.bandwidth_hz_px) * (p.field_t / 1.5) * gain


def derive(p: MRProtocol) -> MRDerived:
    """Compute what the console shows for a protocol; never raises on rule violations.

    Parameters
    ----------
    p : MRProtocol
        The protocol.

    Returns
    -------
    MRDerived
        Scan time, relative SNR, SAR and limit, fat shift, voxel size and timing limits.

    Examples
    --------
    >>> d = derive(MRProtocol())
    >>> round(d.scan_time_s)
    96
    """
    return _derive(p)


@functools.lru_cache(maxsize=512)
def _derive(p: MRProtocol) -> MRDerived:
    t = timing(p)
    avail = _available_ms(p)
    max_slices = max(0, int(avail // t.slice_time_ms))
    needed = math.ceil(p.slices / max_slices) if max_slices else MAX_CONCATENATIONS + 1
    concat = max(p.concatenations, needed)
    per_concat = math.ceil(p.slices / concat)
    min_tr = per_concat * t.slice_time_ms + (p.ti_ms if p.sequence == "ir" else 0.0)
    lines = _lines(p)
    shots = math.ceil(lines / p.etl)
    scan_time = p.tr_ms / 1000.0 * shots * p.nex * concat
    energy_per_s = per_concat * _rf_units_per_slice(p) / (p.tr_ms / 1000.0)
    sar = SAR_W_KG_PER_UNIT * (p.field_t / 1.5) ** 2 * energy_per_s
    voxel = (p.fov_mm / p.matrix_read, p.fov_mm / p.matrix_phase, p.slice_mm)
    return MRDerived(
        scan_time_s=scan_time,
        snr_rel=_snr_factor(p) / _reference_snr_factor(),
        sar_w_kg=sar,
        sar_limit_w_kg=SAR_LIMITS_W_KG[p.body_part],
        fat_shift_px=FAT_SHIFT_PPM * GAMMA_MHZ_T * p.field_t / p.bandwidth_hz_px,
        voxel_mm=voxel,
        min_te_ms=t.min_te_ms,
        min_tr_ms=min_tr,
        max_slices_per_tr=max_slices,
        concatenations=concat,
        te_eff_ms=t.te_eff_ms,
        echo_spacing_ms=t.echo_spacing_ms,
        readout_ms=t.readout_ms,
        phase_lines_acquired=lines,
    )


def check_protocol(p: MRProtocol, anatomy: Any = None,
                   geometry: Any = None) -> tuple[str, ...]:
    """Apply the console rules to a protocol.

    Parameters
    ----------
    p : MRProtocol
        The protocol (each field already range-checked by :class:`MRProtocol`).
    anatomy : Anatomy, optional
        The patient: adds the warnings that need the body (wrap-around).
    geometry : Geometry, optional
        The slice stack (default: centred on the anatomy in the protocol's orientation);
        its orientation must hold the phase direction.

    Returns
    -------
    tuple of str
        Warnings the console shows (the protocol still runs).

    Raises
    ------
    ParameterError
        With the allowed range and the reason when a rule is broken: TE below the minimum
        for the bandwidth and matrix, TE beyond the echo train, TI against TR, TR too short
        for the slices, acceleration beyond the coil array, SAR above the IEC limit.
    """
    check_phase_dir(p.orientation, p.phase_dir)
    t = timing(p)
    d = derive(p)
    warnings: list[str] = []
    te_hi = t.max_te_ms
    if p.te_ms < t.min_te_ms - 1e-9:
        raise ParameterError(
            "te_ms", p.te_ms, f"{t.min_te_ms:.1f}–{te_hi:.0f} ms",
            f"readout of {p.matrix_read} samples at {p.bandwidth_hz_px:g} Hz/px lasts "
            f"{t.readout_ms:.1f} ms; raise the bandwidth to shorten TE",
            f"la lecture de {p.matrix_read} points à {p.bandwidth_hz_px:g} Hz/px dure "
            f"{t.readout_ms:.1f} ms ; augmenter la bande passante pour raccourcir le TE",
        )
    if p.te_ms > te_hi + 0.5 * max(t.echo_spacing_ms, 0.0) + 1e-9:
        reason = (f"echo train of {p.etl} echoes × {t.echo_spacing_ms:.1f} ms spacing"
                  if t.echo_spacing_ms else "TE must leave time for the readout within TR")
        raise ParameterError("te_ms", p.te_ms, f"{t.min_te_ms:.1f}–{te_hi:.0f} ms", reason,
                             "train d'échos trop court pour ce TE" if t.echo_spacing_ms
                             else "le TE doit laisser le temps de la lecture dans le TR")
    if t.echo_spacing_ms and abs(t.te_eff_ms - p.te_ms) > 0.01 * p.te_ms:
        warnings.append(f"effective TE {t.te_eff_ms:.1f} ms (a multiple of the echo spacing "
                        f"{t.echo_spacing_ms:.1f} ms)")
    if p.sequence == "ir":
        hi = p.tr_ms - t.slice_time_ms
        if p.ti_ms < 20.0 or p.ti_ms > hi:
            raise ParameterError("ti_ms", p.ti_ms, f"20–{max(hi, 20.0):.0f} ms",
                                 "TI must be shorter than TR minus one slice readout",
                                 "le TI doit être plus court que le TR moins une lecture")
    if p.etl > d.phase_lines_acquired:
        raise ParameterError("etl", p.etl, f"1–{d.phase_lines_acquired}",
                             "the echo train cannot be longer than the phase lines",
                             "le train d'échos ne peut dépasser le nombre de lignes de phase")
    if d.max_slices_per_tr == 0 or d.concatenations > MAX_CONCATENATIONS:
        per = math.ceil(p.slices / MAX_CONCATENATIONS)
        min_tr = per * t.slice_time_ms + (p.ti_ms if p.sequence == "ir" else 0.0)
        raise ParameterError(
            "tr_ms", p.tr_ms, f"{min_tr:.0f}–15000 ms",
            f"{p.slices} slices of {t.slice_time_ms:.1f} ms each need this TR even in "
            f"{MAX_CONCATENATIONS} concatenations",
            f"{p.slices} coupes de {t.slice_time_ms:.1f} ms chacune exigent ce TR même en "
            f"{MAX_CONCATENATIONS} concaténations",
        )
    if d.concatenations > p.concatenations:
        warnings.append(f"{p.slices} slices do not fit one TR (max {d.max_slices_per_tr}): "
                        f"{d.concatenations} concatenations, scan time multiplied")
    r_max = min(4, p.coils // 2)
    if p.parallel_r > r_max or p.phase_lines / p.parallel_r < 32:
        r_hi = min(r_max, max(1, p.phase_lines // 32))
        raise ParameterError("parallel_r", p.parallel_r, f"1–{r_hi}",
                             f"{p.coils} coil channels and {p.phase_lines} phase lines",
                             f"{p.coils} canaux et {p.phase_lines} lignes de phase")
    if d.sar_w_kg > d.sar_limit_w_kg:
        per_slice = d.sar_w_kg / math.ceil(p.slices / d.concatenations)
        max_n = int(d.sar_limit_w_kg // per_slice) * d.concatenations
        min_tr = p.tr_ms * d.sar_w_kg / d.sar_limit_w_kg
        hint_en = f"at most {max_n} slices at this TR, or TR ≥ {min_tr:.0f} ms"
        hint_fr = f"au plus {max_n} coupes à ce TR, ou TR ≥ {min_tr:.0f} ms"
        if p.sequence != "gre":
            hint_en += ", or a lower refocusing angle"
            hint_fr += ", ou un angle de refocalisation plus faible"
        raise ParameterError(
            "slices", p.slices, f"1–{max(max_n, 0)}",
            f"SAR {d.sar_w_kg:.1f} W/kg exceeds the IEC normal-mode limit "
            f"{d.sar_limit_w_kg:g} W/kg ({p.body_part}): {hint_en}",
            f"DAS {d.sar_w_kg:.1f} W/kg au-delà de la limite CEI mode normal "
            f"{d.sar_limit_w_kg:g} W/kg ({p.body_part}) : {hint_fr}",
        )
    if d.sar_w_kg > 0.8 * d.sar_limit_w_kg:
        warnings.append(f"SAR {d.sar_w_kg:.1f} W/kg close to the limit "
                        f"{d.sar_limit_w_kg:g} W/kg")
    if d.fat_shift_px > 2.0:
        warnings.append(f"fat shift {d.fat_shift_px:.1f} px: chemical-shift artefact visible")
    if _turbo(p) and p.etl > 24:
        warnings.append(f"echo train {p.etl}: blurring of short-T2 tissues")
    if d.snr_rel < 0.35:
        warnings.append(f"low SNR ({d.snr_rel:.2f} of the reference)")
    if p.parallel_r > 1 and p.parallel_r >= p.coils // 2:
        warnings.append(f"R = {p.parallel_r} with {p.coils} channels: strong g-factor noise")
    if anatomy is not None:
        geo = geometry if geometry is not None else default_geometry(anatomy, p)
        share = wrap_share(anatomy, p, geo)
        if share > WRAP_WARN_SHARE:
            warnings.append("phase FOV smaller than the body: wrap expected "
                            f"({100 * share:.0f} % of the body outside the phase FOV)")
    return tuple(warnings)
