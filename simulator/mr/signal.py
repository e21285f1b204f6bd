"""Steady-state signal of each tissue for a protocol: the contrast equations.

Every tissue contributes a water part and a fat part (its ``fat_fraction``). The equations are
the textbook steady-state ones, per sequence:

* SE: ``PD · (1 − 2·e^(−(TR−TE/2)/T1) + e^(−TR/T1)) · e^(−TE/T2)``
* TSE: longitudinal recovery after the echo train, ``1 − e^(−(TR − ETL·ESP)/T1)``, and each
  phase line weighted by ``e^(−TE_n/T2)`` of the echo ``n`` that acquires it (the line
  ordering puts the effective TE at the k-space centre; the outer lines carry the other
  echoes, which blurs short-T2 tissues);
* spoiled GRE (Ernst): ``PD · sin α (1 − E1) / (1 − cos α · E1) · e^(−TE/T2*)``, with the fat
  part dephased by ``e^(i·2π·Δf·TE)`` (in- and opposed-phase);
* IR: signed ``1 − 2·e^(−TI/T1) + e^(−TR'/T1)`` (magnitude taken after reconstruction, so a
  voxel shared by tissues on each side of the null goes dark), then SE or TSE decay.

Refocusing angles below 180° (to cut SAR) cost signal: ``sin²(α/2)`` for a single spin echo,
about ``sin(α/2)`` along an echo train.

Fat saturation keeps 3 % of the fat signal (imperfect spectral saturation). STIR needs no
special case: fat has the short T1 that the TI nulls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from simulator.mr.protocol import MRProtocol
from simulator.mr.rules import FAT_SHIFT_PPM, GAMMA_MHZ_T, timing
from simulator.mr.tissues import tissue_table

__all__ = ["tissue_signal", "echo_of_line", "line_weights", "FAT_SAT_RESIDUAL"]

#: Fraction of the fat signal left after spectral fat saturation.
FAT_SAT_RESIDUAL = 0.03


def _params(p: MRProtocol, names: Sequence[str]) -> tuple[NDArray[np.float64], ...]:
    table = tissue_table(p.field_t)
    rows = [(table[n].pd, table[n].t1_ms, table[n].t2_ms, table[n].t2s_ms, table[n].fat_fraction)
            for n in names]
    a = np.array(rows, dtype=np.float64).reshape(-1, 5)
    return a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4]


def _turbo(p: MRProtocol) -> bool:
    return p.sequence == "tse" or (p.sequence == "ir" and p.etl > 1)


def tissue_signal(p: MRProtocol, names: Sequence[str]) -> tuple[NDArray[np.complex128],
                                                                NDArray[np.complex128],
                                                                NDArray[np.float64]]:
    """Water and fat signal of each tissue before transverse decay along the echo train.

    Parameters
    ----------
    p : MRProtocol
        The protocol.
    names : sequence of str
        Tissue names of the tissue table.

    Returns
    -------
    water, fat : ndarray of complex, shape (T,)
        Signal of the water and fat parts (SE/GRE/IR single echo: including the decay at TE;
        turbo readouts: the longitudinal part only, decay applied per line by
        :func:`line_weights`).
    t2_ms : ndarray of float, shape (T,)
        T2 used for the echo-train decay.
    """
    pd, t1, t2, t2s, ff = _params(p, names)
    t = timing(p)
    te = t.te_eff_ms
    tr = p.tr_ms
    with np.errstate(over="ignore", under="ignore"):
        if p.sequence == "gre":
            a = math.radians(p.flip_deg)
            e1 = np.exp(-tr / t1)
            mz = math.sin(a) * (1 - e1) / (1 - math.cos(a) * e1)
            decay = np.exp(-te / t2s)
        else:
            train = p.etl * t.echo_spacing_ms if _turbo(p) else te
            tr_eff = max(tr - train, 1.0)
            if p.sequence == "ir":
                mz = 1 - 2 * np.exp(-p.ti_ms / t1) + np.exp(-tr_eff / t1)
            elif _turbo(p):
                mz = 1 - np.exp(-tr_eff / t1)
            else:
                mz = 1 - 2 * np.exp(-(tr - te / 2) / t1) + np.exp(-tr / t1)
            # Refocusing below 180°: a single spin echo keeps sin²(α/2) of the signal; an
            # echo train, helped by stimulated echoes, about sin(α/2) (Hennig's pseudo
            # steady state, J Magn Reson 1988;78:397).
            half = math.sin(math.radians(p.refocus_deg) / 2)
            refocus = half if _turbo(p) else half * half
            mz = mz * math.sin(math.radians(p.flip_deg)) * refocus
            decay = np.ones_like(t2) if _turbo(p) else np.exp(-te / t2)
    base = pd * mz * decay
    water = (base * (1 - ff)).astype(np.complex128)
    fat = (base * ff).astype(np.complex128)
    if p.fat_sat:
        fat *= FAT_SAT_RESIDUAL
    if p.sequence == "gre":
        df_hz = -FAT_SHIFT_PPM * GAMMA_MHZ_T * p.field_t
        fat = fat * np.exp(2j * np.pi * df_hz * te / 1000.0)
    return water, fat, t2


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
    water, fat, t2 = tissue_signal(p, names)
    if not _turbo(p):
        return (water[None, :].astype(np.complex64), fat[None, :].astype(np.complex64))
    t = timing(p)
    n_eff = int(round(t.te_eff_ms / t.echo_spacing_ms))
    echo_acq = echo_of_line(k_acquired, p.etl, n_eff)
    srt = np.argsort(k_acquired)
    ks = k_acquired[srt]
    pos = np.clip(np.searchsorted(ks, k_lines), 1, len(ks) - 1)
    left, right = ks[pos - 1], ks[pos]
    nearest = np.where(np.abs(k_lines - left) <= np.abs(right - k_lines), pos - 1, pos)
    echo = echo_acq[srt][nearest]
    te_line = echo * t.echo_spacing_ms
    decay = np.exp(-te_line[:, None] / t2[None, :])
    return ((water[None, :] * decay).astype(np.complex64),
            (fat[None, :] * decay).astype(np.complex64))
