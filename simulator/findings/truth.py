"""Ground truth of a series as findings: what a perfect detector would report.

MR: the pathology labels of :attr:`simulator.mr.MRSeries.labels` (:data:`MR_TRUTH_TISSUES`:
``lesion_ms`` → ms_lesion, ``tumour`` → tumour, ``marrow_oedema`` and ``fracture_oedema`` →
bone_marrow_oedema, ``herniation`` and ``herniated_nucleus`` → disc_herniation,
``tear_fluid`` → meniscal_tear; the painters of :mod:`simulator.mr._pathology` name what
they paint apart from the healthy tissue of the same signal), one finding per 3-D connected
component of each finding type (8-connected in-plane, joined across adjacent slices where
they overlap) whose largest cut is at least :data:`MIN_VISIBLE_MM` across. A spine finding
names its level, a disc herniation its side (:func:`simulator.findings._place.mr_place`,
the detector's rule). PET: each hot sphere or lesion of
the phantom (``sphere_*``, ``lesion_*`` regions of :attr:`PETSeries.labels` whose true
activity is above the background), with its true SUV.

Every truth finding has confidence 1.0 and ids ``T1``, ``T2``… in slice order.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.findings._place import mr_place
from simulator.findings._series import Volume, read_series
from simulator.findings._texts import FindingsError, finding_text
from simulator.findings.finding import Finding

__all__ = ["truth", "MR_TRUTH_TISSUES", "MIN_VISIBLE_MM", "region_finding"]

#: MR label name → finding label.
MR_TRUTH_TISSUES = {
    "lesion_ms": "ms_lesion",
    "tumour": "tumour",
    "marrow_oedema": "bone_marrow_oedema",
    "fracture_oedema": "bone_marrow_oedema",
    "herniation": "disc_herniation",
    "herniated_nucleus": "disc_herniation",
    "tear_fluid": "meniscal_tear",
}

#: A lesion whose largest cut is narrower than this (equivalent-area diameter) is not
#: counted: a partial-volume sliver at the edge of a slice is no finding.
MIN_VISIBLE_MM = 3.0

#: Finding types whose cuts are joined across slices within this in-plane distance (mm),
#: not only where they overlap: the meniscal tear is a 1.6 mm oblique cleft.
JOIN_IN_PLANE_MM = {"meniscal_tear": 2.0}

#: 8-connected in-plane; across slices only through the face (a cut overlapping the next).
_STRUCT = np.zeros((3, 3, 3), dtype=bool)
_STRUCT[1] = True
_STRUCT[0, 1, 1] = _STRUCT[2, 1, 1] = True


def region_finding(
    mask: NDArray[np.bool_],
    label: str,
    pixel_mm: tuple[float, float],
    fid: str,
    confidence: float = 1.0,
    weight: NDArray[np.floating[Any]] | None = None,
    measure: dict[str, float] | None = None,
    side: str | None = None,
    level: str | None = None,
) -> Finding:
    """A :class:`Finding` for one 3-D region: centred on its largest cut, its box covering
    every cut (so that a mark on any slice of the lesion lies inside it).

    Parameters
    ----------
    mask : ndarray of bool, shape (slices, rows, cols)
    weight : ndarray, optional
        Same shape; the in-plane centre is the ``weight``-weighted centroid (default: area).
    measure : dict, optional
        Extra figures; ``diameter_mm`` (longest in-plane extent) is added when absent.
    """
    areas = mask.sum(axis=(1, 2))
    zs = np.nonzero(areas)[0]
    k = int(np.argmax(areas))
    rr, cc = np.nonzero(mask[k])
    w = np.ones(rr.size) if weight is None else np.asarray(weight[k][rr, cc], dtype=np.float64)
    w = w if w.sum() > 0 else np.ones(rr.size)
    centre = (float(np.average(rr, weights=w)), float(np.average(cc, weights=w)))
    _, ar, ac = np.nonzero(mask)
    ext = (
        float(max(centre[0] - ar.min(), ar.max() - centre[0]) + 0.5),
        float(max(centre[1] - ac.min(), ac.max() - centre[1]) + 0.5),
    )
    big = ((rr.max() - rr.min() + 1) * pixel_mm[0], (cc.max() - cc.min() + 1) * pixel_mm[1])
    m = dict(measure or {})
    m.setdefault("diameter_mm", float(max(big)))  # longest extent of the largest cut
    return Finding(
        label=label,
        slice_index=k,
        centre_rc=centre,
        extent_px=(float(ext[0]), float(ext[1])),
        confidence=float(np.clip(confidence, 0.0, 1.0)),
        text=finding_text(label, k, m["diameter_mm"], m.get("suv_max"), side, level),
        id=fid,
        n_slices=int(zs.max() - zs.min() + 1),
        measure={key: round(float(v), 3) for key, v in m.items()},
    )


def side_of(col: float, n_cols: int) -> str:
    """Patient side of a column on an axial image (DICOM LPS: columns run to the left)."""
    off = col - (n_cols - 1) / 2.0
    if abs(off) < 0.04 * n_cols:
        return "midline"
    return "left" if off > 0 else "right"


def _renumber(items: list[Finding]) -> tuple[Finding, ...]:
    from dataclasses import replace

    items.sort(key=lambda f: (f.slice_index, f.centre_rc, f.label))
    return tuple(replace(f, id=f"T{i + 1}") for i, f in enumerate(items))


def _mr_truth(series: Any, vol: Volume) -> tuple[Finding, ...]:
    from scipy import ndimage  # on first use: the console imports this package at start

    labels = np.asarray(series.labels)
    pixel_mm = vol.pixel_mm
    out: list[Finding] = []
    min_area = np.pi * (MIN_VISIBLE_MM / 2.0) ** 2 / (pixel_mm[0] * pixel_mm[1])
    for label in dict.fromkeys(MR_TRUTH_TISSUES.values()):
        ids = [series.names.index(n) for n, lab in MR_TRUTH_TISSUES.items()
               if lab == label and n in series.names]
        if not ids:
            continue
        mask = np.isin(labels, ids)
        if label in JOIN_IN_PLANE_MM:
            # a thin oblique cleft steps sideways from one thick slice to the next: its cuts
            # are joined across slices when they come within JOIN_IN_PLANE_MM in-plane
            r = max(1, int(round(JOIN_IN_PLANE_MM[label] / min(pixel_mm))))
            grown = ndimage.binary_dilation(mask, structure=np.ones((1, 3, 3), bool),
                                            iterations=r)
            comp, n = ndimage.label(grown, structure=_STRUCT)
            comp = np.where(mask, comp, 0)
        else:
            comp, n = ndimage.label(mask, structure=_STRUCT)
        for i, sl in enumerate(ndimage.find_objects(comp), start=1):
            if sl is None:
                continue
            m = np.zeros(labels.shape, dtype=bool)
            m[sl] = comp[sl] == i
            if m.sum(axis=(1, 2)).max() < min_area:
                continue
            f = region_finding(m, label, pixel_mm, "T0")
            side, level = mr_place(vol.positions_mm, vol.cosines, pixel_mm, vol.detector,
                                   label, f.slice_index, f.centre_rc)
            if side is not None or level is not None:
                f = region_finding(m, label, pixel_mm, "T0", side=side, level=level)
            out.append(f)
    return _renumber(out)


_DIAM = re.compile(r"_(\d+(?:\.\d+)?)$")


def _pet_truth(series: Any, suv: NDArray[np.float32], pixel_mm: tuple[float, float]) -> tuple[Finding, ...]:
    labels = np.asarray(series.labels)
    names = tuple(series.names)
    truth_act = getattr(series, "activity_truth_bqml", None)
    ref = np.asarray(truth_act if truth_act is not None else suv, dtype=np.float64)
    body = labels > 0
    bg = float(np.median(ref[body])) if body.any() else 0.0
    to_suv = float(suv.max() / ref.max()) if truth_act is None and ref.max() > 0 else None
    out: list[Finding] = []
    for i, name in enumerate(names):
        if not name.startswith(("sphere", "lesion")):
            continue
        m = labels == i
        if not m.any() or float(ref[m].mean()) <= 1.2 * bg:
            continue  # absent from these slices, or a cold sphere
        measure: dict[str, float] = {}
        d = _DIAM.search(name)
        if d:
            measure["diameter_mm"] = float(d.group(1))
        injected_bq = float(getattr(series.protocol, "activity_mbq", 0.0)) * 1e6
        if truth_act is not None and injected_bq > 0:
            # the true concentration is at injection time: SUV against the injected dose
            w_g = float(series.protocol.weight_kg) * 1000.0
            measure["suv_max"] = float(ref[m].max()) * w_g / injected_bq
        elif to_suv is not None:
            measure["suv_max"] = float(suv[m].max())
        rr = np.nonzero(m)[2]
        side = side_of(float(rr.mean()), labels.shape[2])
        out.append(
            region_finding(m, "pet_hot_lesion", pixel_mm, "T0", measure=measure, side=side)
        )
    return _renumber(out)


def truth(series: Any) -> tuple[Finding, ...]:
    """Ground-truth findings of an MR or PET series (confidence 1.0, ids ``T1``…).

    Parameters
    ----------
    series : MRSeries or PETSeries
        Needs ``labels`` and ``names`` on the image grid.

    Raises
    ------
    FindingsError
        What :func:`simulator.findings.detect` refuses, or a series without labels.
    """
    vol = read_series(series)
    labels = getattr(series, "labels", None)
    if labels is None or np.shape(labels) != vol.images.shape:
        raise FindingsError(
            "AI findings: the series carries no tissue labels on its image grid; no ground truth",
            "Résultats IA : la série ne porte pas les tissus sur sa grille ; pas de vérité terrain",
            "KI-Befunde: die Serie trägt keine Gewebelabels auf ihrem Raster; keine Grundwahrheit",
        )
    if vol.modality == "pet":
        return _pet_truth(series, vol.images, vol.pixel_mm)
    return _mr_truth(series, vol)
