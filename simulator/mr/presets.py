"""Clinical starting protocols per anatomy, as a technologist finds them on the console.

Each preset passes :func:`simulator.mr.rules.check_protocol`. Inversion times of FLAIR and
STIR are computed from the tissue table (:func:`simulator.mr.signal.inversion_null_ms`, the image's
own signal model) so that CSF (FLAIR) or fat (STIR) is nulled at the chosen TR, echo train,
refocusing angle and field. With the in-vivo fat T1 that scanners use, the STIR TI lands at
the clinical values: about 160 ms at 1.5 T and 220 ms at 3 T. ``PRESETS["spine"]["t2_tse_sag"]`` is the reference lumbar T2 TSE
sagittal of about 11 min 30 s (NEX 3, two concatenations) against which AI-accelerated
protocols are compared.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from types import MappingProxyType

from simulator.errors import ParameterError
from simulator.mr.protocol import MRProtocol
from simulator.mr.rules import timing
from simulator.mr.signal import inversion_null_ms

__all__ = ["PRESETS", "preset", "null_ti_ms"]


def null_ti_ms(t1_ms: float, tr_ms: float) -> float:
    """Textbook inversion time that nulls a tissue of longitudinal relaxation ``t1_ms``.

    Solves ``1 − 2·exp(−TI/T1) + exp(−TR/T1) = 0`` (180° refocusing, Mz zero after the
    readout). The presets use :func:`simulator.mr.signal.inversion_null_ms`, the same null
    on the image's signal model (echo train, refocusing angle).
    """
    return -t1_ms * math.log((1.0 + math.exp(-tr_ms / t1_ms)) / 2.0)


def _ir(base: MRProtocol, tissue: str) -> MRProtocol:
    return dataclasses.replace(base, ti_ms=round(inversion_null_ms(base, tissue), 0))


def _brain() -> dict[str, MRProtocol]:
    t1 = MRProtocol()
    t2 = MRProtocol(
        sequence="tse",
        tr_ms=4000.0,
        te_ms=100.0,
        etl=16,
        matrix_phase=224,
        bandwidth_hz_px=200.0,
        nex=2,
    )
    flair = _ir(
        MRProtocol(
            sequence="ir",
            tr_ms=9000.0,
            te_ms=110.0,
            etl=16,
            matrix_phase=192,
            bandwidth_hz_px=200.0,
        ),
        "csf",
    )
    pd = MRProtocol(
        sequence="tse", tr_ms=3000.0, te_ms=28.0, etl=8, matrix_phase=224, bandwidth_hz_px=200.0
    )
    t1_gre = MRProtocol(
        sequence="gre",
        tr_ms=250.0,
        te_ms=4.6,
        flip_deg=70.0,
        bandwidth_hz_px=260.0,
        matrix_phase=224,
    )
    stir = _ir(
        MRProtocol(
            sequence="ir",
            tr_ms=4000.0,
            te_ms=60.0,
            etl=12,
            bandwidth_hz_px=200.0,
            orientation="coronal",
            phase_dir="RL",
        ),
        "fat",
    )
    return {"t1_se": t1, "t2_tse": t2, "flair": flair, "pd": pd, "t1_gre": t1_gre, "stir": stir}


def _knee() -> dict[str, MRProtocol]:
    common = MRProtocol(fov_mm=160.0, matrix_read=320, matrix_phase=256, slice_mm=3.0,
                        gap_mm=0.3, slices=24, body_part="knee", bandwidth_hz_px=250.0)
    rep = dataclasses.replace
    pd_fs = rep(common, sequence="tse", tr_ms=3000.0, te_ms=33.0, etl=8, fat_sat=True,
                orientation="sagittal", phase_dir="AP")
    t1 = rep(common, sequence="se", tr_ms=550.0, te_ms=12.0, orientation="coronal",
             phase_dir="RL")
    t2_fs = rep(common, sequence="tse", tr_ms=4000.0, te_ms=70.0, etl=12, fat_sat=True,
                orientation="axial", phase_dir="RL")
    return {"pd_fs": pd_fs, "t1": t1, "t2_fs": t2_fs}


def _spine() -> dict[str, MRProtocol]:
    sag = MRProtocol(orientation="sagittal", phase_dir="AP", fov_mm=300.0, matrix_read=384,
                     matrix_phase=288, slice_mm=4.0, gap_mm=0.4, slices=15, body_part="spine",
                     bandwidth_hz_px=200.0)
    rep = dataclasses.replace
    # Reference lumbar T2 TSE sagittal: NEX 3, two concatenations, 384 phase lines: 11:31.
    t2_sag = rep(sag, sequence="tse", tr_ms=3840.0, te_ms=100.0, etl=13, nex=3,
                 concatenations=2, matrix_phase=384)
    t1_sag = rep(sag, sequence="se", tr_ms=500.0, te_ms=10.0, nex=2)
    stir_sag = _ir(rep(sag, sequence="ir", tr_ms=4000.0, te_ms=60.0, etl=12, nex=2), "fat")
    t2_ax = MRProtocol(sequence="tse", tr_ms=4000.0, te_ms=100.0, etl=16, orientation="axial",
                       phase_dir="AP", fov_mm=260.0, matrix_read=320, matrix_phase=256,
                       slice_mm=4.0, gap_mm=0.4, slices=15, body_part="spine",
                       bandwidth_hz_px=200.0, nex=2)
    return {"t2_tse_sag": t2_sag, "t1_se_sag": t1_sag, "stir_sag": stir_sag, "t2_ax": t2_ax}


def _snap(table: dict[str, MRProtocol]) -> dict[str, MRProtocol]:
    """Set the TE of turbo presets to the effective TE the console would use."""
    out = {}
    for name, p in table.items():
        t = timing(p)
        out[name] = dataclasses.replace(p, te_ms=round(t.te_eff_ms, 1)) if t.echo_spacing_ms else p
    return out


#: Presets per anatomy: ``PRESETS["brain"]["t1_se"]`` is an :class:`MRProtocol`.
PRESETS: Mapping[str, Mapping[str, MRProtocol]] = MappingProxyType(
    {
        "brain": MappingProxyType(_snap(_brain())),
        "knee": MappingProxyType(_snap(_knee())),
        "spine": MappingProxyType(_snap(_spine())),
    }
)


def preset(anatomy: object, name: str, field_t: float | None = None) -> MRProtocol:
    """Return a clinical starting protocol.

    Parameters
    ----------
    anatomy : str or Anatomy
        ``"brain"``, ``"knee"``, ``"spine"`` (or an :class:`~simulator.mr.anatomy.Anatomy`).
    name : str
        A key of ``PRESETS[anatomy]``.
    field_t : float, optional
        Field strength to use instead of 1.5 T; inversion times are recomputed for it.

    Raises
    ------
    ParameterError
        For an unknown anatomy or preset name.

    Examples
    --------
    >>> preset("brain", "flair").sequence
    'ir'
    """
    key = str(getattr(anatomy, "name", anatomy))
    if key not in PRESETS:
        raise ParameterError("anatomy", key, ", ".join(PRESETS))
    table = PRESETS[key]
    if name not in table:
        raise ParameterError(
            "preset",
            name,
            ", ".join(table),
            f"protocols available for the {key}",
            f"protocoles disponibles pour : {key}",
        )
    p = table[name]
    if field_t is not None and float(field_t) != p.field_t:
        p = dataclasses.replace(p, field_t=float(field_t))
        if p.field_t > 2.0 and p.sequence != "gre":
            # 3 T: four times the RF power; lower refocusing angles keep SAR in normal mode.
            p = dataclasses.replace(p, refocus_deg=min(p.refocus_deg, 120.0))
        if p.sequence == "ir":
            p = _ir(p, "csf" if p.ti_ms > 1000 else "fat")
    return p
