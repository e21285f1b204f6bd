"""Steady-state signal of each tissue for a protocol: the contrast equations.

Every tissue contributes a water part and a fat part (its ``fat_fraction``). The water part
relaxes with the tissue's T1/T2/T2*; the fat protons of every tissue (adipose tissue, marrow)
relax like fat (:data:`simulator.mr.tissues.FAT_PROTONS`), so marrow follows fat.

* Spin echo, turbo spin echo and inversion recovery (SE, TSE, IR, STIR, FLAIR): an extended
  phase graph (EPG, Weigel J Magn Reson Imaging 2015;41:266) of one repetition — optional
  inversion and TI, excitation, the train of refocusing pulses (CPMG phase) at the echo
  spacing, ideal spoiling at the end of the train and recovery until the next TR. The
  repetition is affine in the longitudinal magnetisation it starts from, so the steady state
  is solved exactly from two runs. Reduced refocusing angles (120° at 3 T to cut SAR) then
  give the right echo amplitudes, stimulated echoes and the Mz they leave behind; a 180°
  train reduces to the textbook ``(1 − 2·e^(−(TR−TE/2)/T1) + e^(−TR/T1)) · e^(−TE/T2)``.
* Each phase line of a turbo readout takes the echo that acquires it (the line ordering
  puts the effective TE at the k-space centre; outer lines carry the other echoes, which
  blurs short-T2 tissues).
* Fat J-coupling: closely spaced refocusing pulses break the coupling of the lipid protons
  and lengthen their apparent T2 (Henkelman, J Magn Reson Imaging 1992;2:533): fat T2 goes
  from its spin-echo value (echo interval ≥ 50 ms) to its decoupled value (≤ 10 ms), linear
  in the relaxation rate in between. That is why fat is bright on T2 TSE.
* Spoiled GRE (Ernst): ``PD · sin α (1 − E1) / (1 − cos α · E1) · e^(−TE/T2*)``, the fat part
  dephased by the six-peak fat spectrum ``Σ a_p · e^(i·2π·Δf_p·TE)`` (Hamilton 2011): in- and
  opposed-phase echoes, the in-phase one not quite full because the minor peaks dephase.

* Flow void: the ``blood`` of the anatomies is flowing blood in large vessels (popliteal,
  aorta, cava). On spin echoes a spin must see the excitation and every refocusing pulse up
  to its echo; blood moving at ``BLOOD_SPEED_MM_S`` leaves the slice, so its signal keeps
  ``max(0, 1 − v·t/slice)`` with ``t = TE/2`` for one spin echo and ``t = TE_n`` for echo n
  of a train (time-of-flight washout): vessels are dark on SE and TSE, as on a scanner.
  Spoiled GRE keeps the static value.

IR is signed (magnitude taken after reconstruction, so a voxel shared by tissues on each side
of the null goes dark). Fat saturation keeps 3 % of the fat signal (imperfect spectral
saturation). STIR needs no special case: fat has the short T1 that the TI nulls.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from simulator.mr.protocol import MRProtocol
from simulator.mr.rules import GAMMA_MHZ_T, timing
from simulator.mr.tissues import FAT_PEAKS, FAT_PROTONS, tissue_table

__all__ = ["tissue_signal", "echo_of_line", "line_weights", "FAT_SAT_RESIDUAL", "epg_echoes",
           "fat_t2_ms", "fat_phasor", "inversion_null_ms", "BLOOD_SPEED_MM_S", "J_DECOUPLED_ESP_MS", "J_COUPLED_ESP_MS"]

#: Fraction of the fat signal left after spectral fat saturation.
FAT_SAT_RESIDUAL = 0.03
#: Interval between refocusing pulses (ms) at and below which fat J-coupling is broken.
J_DECOUPLED_ESP_MS = 10.0
#: Interval (ms) at and above which fat decays with its spin-echo (J-coupled) T2.
J_COUPLED_ESP_MS = 50.0
#: Mean speed of blood in the large vessels of the anatomies, mm/s (popliteal artery and
#: vein, aorta and cava: ~10–50 cm/s).
BLOOD_SPEED_MM_S = 400.0
#: Tissue that flows (see the flow-void note of the module docstring).
FLOWING = "blood"


def _turbo(p: MRProtocol) -> bool:
    return p.sequence == "tse" or (p.sequence == "ir" and p.etl > 1)


def fat_t2_ms(field_t: float, interval_ms: float) -> float:
    """Apparent T2 of fat protons for refocusing pulses ``interval_ms`` apart.

    Parameters
    ----------
    field_t : float
        Field in tesla (1.5 or 3).
    interval_ms : float
        Echo spacing of a train, or TE of a single spin echo.
    """
    fp = FAT_PROTONS[float(field_t)]
    w = min(max((interval_ms - J_DECOUPLED_ESP_MS) / (J_COUPLED_ESP_MS - J_DECOUPLED_ESP_MS),
                0.0), 1.0)
    return 1.0 / ((1.0 - w) / fp.t2_decoupled_ms + w / fp.t2_ms)


def fat_phasor(field_t: float, te_ms: float) -> complex:
    """Phase and amplitude of the six-peak fat signal relative to water at echo time TE."""
    return complex(sum(a * np.exp(2j * np.pi * ppm * GAMMA_MHZ_T * field_t * te_ms / 1000.0)
                       for ppm, a in FAT_PEAKS))


def epg_echoes(t1_ms: NDArray[np.float64], t2_ms: NDArray[np.float64], *, flip_deg: float,
               refocus_deg: float, esp_ms: float, etl: int, tr_ms: float,
               ti_ms: float | None = None) -> NDArray[np.float64]:
    """Steady-state echo amplitudes of a (turbo) spin echo by the extended phase graph.

    Parameters
    ----------
    t1_ms, t2_ms : ndarray of float, shape (T,)
        Relaxation times of each tissue.
    flip_deg, refocus_deg : float
        Excitation and refocusing angles (CPMG: refocusing 90° in phase from excitation).
    esp_ms : float
        Echo spacing (the TE of a single spin echo).
    etl : int
        Echoes per excitation.
    tr_ms : float
        Repetition time.
    ti_ms : float, optional
        Inversion time of an ideal inversion before the excitation.

    Returns
    -------
    ndarray of float, shape (etl, T)
        Echo ``n`` (row ``n − 1``) per unit proton density, signed (negative when the
        magnetisation was still inverted at the excitation).
    """
    t1 = np.asarray(t1_ms, dtype=np.float64)[None, :, None]
    t2 = np.asarray(t2_ms, dtype=np.float64)[None, :, None]
    n_t = t1.shape[1]
    k = etl + 2
    # States Ω = [F+, F−, Z] × (run, tissue, k). Run 0 starts from Mz = 0, run 1 from Mz = 1:
    # a repetition is affine in its starting Mz, which gives the steady state exactly.
    om = np.zeros((3, 2, n_t, k), dtype=np.complex128)
    om[2, 1, :, 0] = 1.0

    def relax(tau: float) -> None:
        if tau <= 0.0:
            return
        e1 = np.exp(-tau / t1)
        om[:2] *= np.exp(-tau / t2)
        om[2] *= e1
        om[2, ..., 0] += 1.0 - e1[..., 0]

    if ti_ms is not None:
        om[2] *= -1.0
        relax(ti_ms)
    a = math.radians(flip_deg)
    om[0, ..., 0] = math.sin(a) * om[2, ..., 0]      # excitation about y: real positive F0
    om[1, ..., 0] = om[0, ..., 0]
    om[2, ..., 0] *= math.cos(a)
    b = math.radians(refocus_deg)
    c2, s2, sb, cb = math.cos(b / 2) ** 2, math.sin(b / 2) ** 2, math.sin(b), math.cos(b)
    rot = np.array([[c2, s2, -1j * sb], [s2, c2, 1j * sb], [-0.5j * sb, 0.5j * sb, cb]])
    e1h, e2h = np.exp(-0.5 * esp_ms / t1), np.exp(-0.5 * esp_ms / t2)
    rec = 1.0 - e1h[..., 0]
    fp, fm, z = om[0], om[1], om[2]

    def half() -> None:  # relaxation over ESP/2, then one unit of dephasing
        fp[...] *= e2h
        fm[...] *= e2h
        z[...] *= e1h
        z[..., 0] += rec
        fp[..., 1:] = fp[..., :-1].copy()
        fm[..., :-1] = fm[..., 1:].copy()
        fm[..., -1] = 0.0
        fp[..., 0] = np.conj(fm[..., 0])

    echoes = np.empty((etl, 2, n_t))
    flat = om.reshape(3, -1)
    for n in range(etl):
        half()
        flat[...] = rot @ flat
        half()
        echoes[n] = fp[..., 0].real
    # Spoiling after the train, then recovery of Mz until the next repetition.
    rest = tr_ms - (ti_ms or 0.0) - etl * esp_ms
    z_end = z[..., 0].real
    if rest > 0:
        e1 = np.exp(-rest / t1[..., 0])
        z_end = z_end * e1 + (1.0 - e1)
    slope = z_end[1] - z_end[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        mz = np.where(np.abs(1.0 - slope) > 1e-12, z_end[0] / (1.0 - slope), 1.0)
    return echoes[:, 0] + (echoes[:, 1] - echoes[:, 0]) * mz[None, :]


def _params(p: MRProtocol, names: Sequence[str]) -> tuple[NDArray[np.float64], ...]:
    table = tissue_table(p.field_t)
    rows = [(table[n].pd, table[n].t1_ms, table[n].t2_ms, table[n].t2s_ms, table[n].fat_fraction)
            for n in names]
    a = np.array(rows, dtype=np.float64).reshape(-1, 5)
    return a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4]


def _compute_table(p: MRProtocol, names: tuple[str, ...]) -> tuple[NDArray[np.complex128],
                                                                   NDArray[np.complex128]]:
    pd, t1, t2, t2s, ff = _params(p, names)
    fat_p = FAT_PROTONS[float(p.field_t)]
    t = timing(p)
    te = t.te_eff_ms
    with np.errstate(over="ignore", under="ignore"):
        if p.sequence == "gre":
            a = math.radians(p.flip_deg)

            def ernst(t1x: NDArray[np.float64], t2sx: NDArray[np.float64]) -> NDArray[np.float64]:
                e1 = np.exp(-p.tr_ms / t1x)
                return math.sin(a) * (1 - e1) / (1 - math.cos(a) * e1) * np.exp(-te / t2sx)

            water = ernst(t1, t2s)[None, :].astype(np.complex128)
            fat = (ernst(np.full_like(t1, fat_p.t1_ms), np.full_like(t1, fat_p.t2s_ms))[None, :]
                   * fat_phasor(p.field_t, te))
        else:
            turbo = _turbo(p)
            etl = p.etl if turbo else 1
            esp = t.echo_spacing_ms if turbo else te
            ti = p.ti_ms if p.sequence == "ir" else None
            kw = dict(flip_deg=p.flip_deg, refocus_deg=p.refocus_deg, esp_ms=esp, etl=etl,
                      tr_ms=p.tr_ms, ti_ms=ti)
            t2_fat = fat_t2_ms(p.field_t, esp)
            both = epg_echoes(np.append(t1, fat_p.t1_ms), np.append(t2, t2_fat),
                              **kw)  # type: ignore[arg-type]
            water = both[:, :-1].astype(np.complex128)
            fat = np.repeat(both[:, -1:], len(names), axis=1).astype(np.complex128)
            if FLOWING in names:
                t_stay = (np.arange(1, etl + 1) * esp) if turbo else np.array([te / 2])
                keep = np.clip(1.0 - BLOOD_SPEED_MM_S * t_stay / 1000.0 / p.slice_mm, 0.0, 1.0)
                water[:, names.index(FLOWING)] *= keep
    scale_fat = pd * ff * (FAT_SAT_RESIDUAL if p.fat_sat else 1.0)
    return ((water * (pd * (1 - ff))[None, :]).astype(np.complex128),
            (fat * scale_fat[None, :]).astype(np.complex128))


@functools.lru_cache(maxsize=64)
def _echo_table(p: MRProtocol, names: tuple[str, ...]) -> tuple[NDArray[np.complex128],
                                                                NDArray[np.complex128]]:
    water, fat = _compute_table(p, names)
    for arr in (water, fat):
        arr.flags.writeable = False
    return water, fat


def _effective_row(p: MRProtocol) -> int:
    if not _turbo(p):
        return 0
    t = timing(p)
    return int(round(t.te_eff_ms / t.echo_spacing_ms)) - 1


@functools.lru_cache(maxsize=64)
def inversion_null_ms(p: MRProtocol, tissue: str) -> float:
    """Inversion time that nulls ``tissue`` at the effective TE of an IR protocol.

    Solved on the same signal model as the images (EPG steady state with the protocol's TR,
    echo train and refocusing angle), by regula falsi around the textbook null
    ``−T1 · ln((1 + e^(−TR/T1)) / 2)`` (``T1 · ln 2`` for a long TR).

    Parameters
    ----------
    p : MRProtocol
        An inversion-recovery protocol (its own ``ti_ms`` is ignored).
    tissue : str
        Tissue of the table (``"fat"`` for STIR, ``"csf"`` for FLAIR).
    """
    from simulator.mr.protocol import RANGES

    row = _effective_row(p)

    def signed(ti: float) -> float:
        water, fat = _compute_table(dataclasses.replace(p, ti_ms=ti, fat_sat=False), (tissue,))
        return float((water[row, 0] + fat[row, 0]).real)

    t1 = tissue_table(p.field_t)[tissue].t1_ms
    guess = -t1 * math.log((1.0 + math.exp(-p.tr_ms / t1)) / 2.0)
    top = min(max(p.tr_ms - timing(p).slice_time_ms, 2.0), RANGES["ti_ms"][1])
    lo, hi = max(1.0, 0.7 * guess), min(top, 1.3 * guess)
    if not (signed(lo) < 0.0 < signed(hi)):
        lo, hi = 1.0, top
        if signed(lo) >= 0.0 or signed(hi) <= 0.0:
            return lo if signed(lo) >= 0.0 else hi
    # Regula falsi (Illinois): the signal is smooth and monotonic in TI, a few steps do.
    f_lo, f_hi = signed(lo), signed(hi)
    side = 0
    for _ in range(60):
        mid = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        f_mid = signed(mid)
        if abs(f_mid) < 1e-9 or hi - lo < 0.05:
            return mid
        if f_mid < 0.0:
            lo, f_lo = mid, f_mid
            if side == -1:
                f_hi *= 0.5
            side = -1
        else:
            hi, f_hi = mid, f_mid
            if side == 1:
                f_lo *= 0.5
            side = 1
    return 0.5 * (lo + hi)


def tissue_signal(p: MRProtocol, names: Sequence[str]) -> tuple[NDArray[np.complex128],
                                                                NDArray[np.complex128]]:
    """Water and fat signal of each tissue at the effective TE (the k-space centre).

    Parameters
    ----------
    p : MRProtocol
        The protocol.
    names : sequence of str
        Tissue names of the tissue table.

    Returns
    -------
    water, fat : ndarray of complex, shape (T,)
        Signal per tissue of its water and fat parts, per unit of the pure-water signal
        (the proton density is included).
    """
    water, fat = _echo_table(p, tuple(names))
    row = _effective_row(p)
    return water[row].copy(), fat[row].copy()


def echo_of_line(k: NDArray[np.int64], etl: int, n_eff: int) -> NDArray[np.int64]:
    """Echo number (1…etl) that acquires each phase line of a turbo spin echo.

    Lines are ranked by distance to the k-space centre and cut into ``etl`` groups; the
    central group takes the effective echo ``n_eff``, the next groups the echoes ever
    further from it (so the effective TE sets the contrast, the other echoes the edges).

    Parameters
    ----------
    k : ndarray of int, shape (N,)
        Phase-encoding index of each acquired line (0 at the centre).
    etl, n_eff : int
        Echo-train length and echo number at the effective TE.
    """
    k = np.asarray(k)
    order = np.lexsort((k, np.abs(k)))
    per = math.ceil(len(k) / etl)
    echoes = sorted(range(1, etl + 1), key=lambda e: (abs(e - n_eff), e))
    out = np.empty(len(k), dtype=np.int64)
    out[order] = np.array(echoes)[np.minimum(np.arange(len(k)) // per, etl - 1)]
    return out


def line_weights(p: MRProtocol, names: Sequence[str], k_lines: NDArray[np.float64],
                 k_acquired: NDArray[np.int64]) -> tuple[NDArray[np.complex64],
                                                          NDArray[np.complex64]]:
    """Signal weight of each tissue on each phase line of k-space.

    Parameters
    ----------
    p : MRProtocol
        The protocol.
    names : sequence of str
        Tissue names.
    k_lines : ndarray of float, shape (N,)
        Phase index (in acquired-grid units) of each line of the simulated k-space.
    k_acquired : ndarray of int, shape (M,)
        Phase indices actually acquired (echo ordering is planned on these).

    Returns
    -------
    water, fat : ndarray of complex64, shape (N, T) for turbo readouts, (1, T) otherwise
    """
    water, fat = _echo_table(p, tuple(names))
    if not _turbo(p):
        return water.astype(np.complex64), fat.astype(np.complex64)
    t = timing(p)
    n_eff = int(round(t.te_eff_ms / t.echo_spacing_ms))
    echo_acq = echo_of_line(k_acquired, p.etl, n_eff)
    srt = np.argsort(k_acquired)
    ks = k_acquired[srt]
    pos = np.clip(np.searchsorted(ks, k_lines), 1, len(ks) - 1)
    left, right = ks[pos - 1], ks[pos]
    nearest = np.where(np.abs(k_lines - left) <= np.abs(right - k_lines), pos - 1, pos)
    echo = echo_acq[srt][nearest]
    return water[echo - 1].astype(np.complex64), fat[echo - 1].astype(np.complex64)
