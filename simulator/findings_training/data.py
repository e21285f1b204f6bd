"""Training arrays from scanned cases (numpy only; the torch step is in :mod:`.train`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from simulator.findings._pet import candidates, features
from simulator.findings._series import read_series
from simulator.findings.detect import MR_CLASSES, mr_input
from simulator.findings.net import SEG_UNSHUFFLE
from simulator.findings.truth import MR_TRUTH_TISSUES
from simulator.findings_training.cases import BrainCase, PETCase, scan_brain, scan_pet

__all__ = ["SegData", "PETData", "mr_targets", "brain_data", "mr_data", "pet_candidates", "pet_data"]




@dataclass(frozen=True, eq=False)
class SegData:
    """Inputs (N, H, W) and block targets (N, K, H/4, W/4), all slices padded alike."""

    x: NDArray[np.float32]
    y: NDArray[np.float32]


def mr_targets(series, classes: tuple[str, ...]) -> NDArray[np.float32]:  # noqa: ANN001
    """Share of each class's pixels in every 4×4 block: (n, K, ⌈H/4⌉, ⌈W/4⌉)."""
    labels = np.asarray(series.labels)
    n, h, w = labels.shape
    r = SEG_UNSHUFFLE
    ph, pw = (-h) % r, (-w) % r
    out = np.zeros((n, len(classes), (h + ph) // r, (w + pw) // r), np.float32)
    for c, label in enumerate(classes):
        ids = [series.names.index(name) for name, lab in MR_TRUTH_TISSUES.items()
               if lab == label and name in series.names]
        if not ids:
            continue
        m = np.pad(np.isin(labels, ids), ((0, 0), (0, ph), (0, pw)))
        out[:, c] = m.reshape(n, (h + ph) // r, r, (w + pw) // r, r).mean(axis=(2, 4))
    return out


def _pad_to(a: NDArray[np.float32], h: int, w: int) -> NDArray[np.float32]:
    return np.pad(a, [(0, 0)] * (a.ndim - 2) + [(0, h - a.shape[-2]), (0, w - a.shape[-1])])


def brain_data(cases: list[BrainCase], log=print) -> SegData:  # noqa: ANN001
    """Scan ``cases`` (of one MR detector's anatomy) and stack their slices (zero-padded to
    the largest grid), with the block targets of that detector's classes."""
    xs, ys = [], []
    for i, c in enumerate(cases):
        s = scan_brain(c)
        xs.append(mr_input(read_series(s).images))
        ys.append(mr_targets(s, MR_CLASSES[c.anatomy]))
        if log and (i + 1) % 8 == 0:
            log(f"  scanned {i + 1}/{len(cases)} {c.anatomy} cases")
    h = max(x.shape[1] for x in xs)
    w = max(x.shape[2] for x in xs)
    r = SEG_UNSHUFFLE
    x = np.concatenate([_pad_to(a, h, w) for a in xs])
    y = np.concatenate([_pad_to(a, h // r, w // r) for a in ys])
    return SegData(x.astype(np.float32), y.astype(np.float32))


#: The same for any MR detector (the cases name their anatomy).
mr_data = brain_data


@dataclass(frozen=True, eq=False)
class PETData:
    """Candidate features (N, F) and whether each lies in a hot lesion (N,)."""

    x: NDArray[np.float32]
    y: NDArray[np.float32]


def pet_candidates(series) -> tuple[NDArray[np.float32], NDArray[np.float32]]:  # noqa: ANN001
    """Features of a series' candidates and their truth (1 inside a hot sphere/lesion,
    grown by one voxel)."""
    vol = read_series(series)
    idx = candidates(vol.images, (vol.slice_mm, *vol.pixel_mm))
    f = features(vol.images, idx, (vol.slice_mm, *vol.pixel_mm))
    labels = np.asarray(series.labels)
    act = np.asarray(series.activity_truth_bqml) if series.activity_truth_bqml is not None else None
    hot = np.zeros(labels.shape, bool)
    bg = float(np.median(act[labels > 0])) if act is not None else 0.0
    for i, n in enumerate(series.names):
        if n.startswith(("sphere", "lesion")):
            m = labels == i
            if m.any() and (act is None or act[m].mean() > 1.2 * bg):
                hot |= m
    hot = ndimage.binary_dilation(hot, iterations=1)
    y = hot[idx[:, 0], idx[:, 1], idx[:, 2]].astype(np.float32) if len(idx) else np.zeros(0, np.float32)
    return f, y


def pet_data(cases: list[PETCase], log=print) -> PETData:  # noqa: ANN001
    """Scan ``cases`` and collect every candidate."""
    fs, ys = [], []
    for i, c in enumerate(cases):
        f, y = pet_candidates(scan_pet(c))
        fs.append(f)
        ys.append(y)
        if log:
            log(f"  scanned PET case {i + 1}/{len(cases)}: {len(y)} candidates, {int(y.sum())} in lesions")
    return PETData(np.concatenate(fs), np.concatenate(ys))
