"""The detectors: :func:`detect` turns an MR or PET series into findings.

MR (brain, knee, spine: one net each, :data:`MR_CLASSES`): the images are scaled by the
series' 99th intensity percentile, padded to a
multiple of 4 and passed through :class:`simulator.findings.net.SegNet`, which gives, for
each 4×4 block, the probability of MS-like lesion and of tumour. Blocks above
:data:`MR_THRESHOLD` are grouped in 3-D (8-connected in-plane, joined across adjacent
slices); each group is one finding, centred on its slice of highest probability, with the
size from the summed probability on that slice (an area estimate; groups under
:data:`MR_MIN_DIAMETER_MM` are dropped). Confidence is the group's highest probability; a group is reported when it reaches
:data:`MR_REPORT_THRESHOLD`.

PET: the SUVbw volume's local maxima above SUV 2 are scored by a small perceptron on
ring/axial profile features (:mod:`simulator.findings._pet`); from the best down, a maximum
above :data:`PET_THRESHOLD` is reported unless it lies inside a finding already reported or
within 15 mm (or ¾ of that finding's diameter, if larger) of its maximum; the extent is the region above half-way between the local background and
SUVmax.

Both are deterministic: no random number is drawn (``rng`` is accepted for a stable
signature and ignored).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.findings._pet import candidates, features, lesion_extent
from simulator.findings._place import mr_place
from simulator.findings._series import Volume, read_series
from simulator.findings._texts import FindingsError, finding_text
from simulator.findings.finding import Finding
from simulator.findings.net import MLP, SEG_UNSHUFFLE, SegNet
from simulator.findings.truth import side_of

__all__ = [
    "WEIGHTS_DIR",
    "MR_CLASSES",
    "MR_THRESHOLD",
    "PET_THRESHOLD",
    "Detector",
    "load_detector",
    "detect",
    "detector_name",
    "mr_scale",
    "mr_input",
]

#: Folder of the shipped weights and their training records.
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

#: Output channels of each MR detector, in order.
MR_CLASSES: dict[str, tuple[str, ...]] = {
    "brain": ("ms_lesion", "tumour"),
    "knee": ("meniscal_tear", "bone_marrow_oedema"),
    "spine": ("disc_herniation", "bone_marrow_oedema"),
}

#: Probability a block needs to be part of an MR finding.
MR_THRESHOLD = 0.5
#: Highest block probability a group needs to be reported, per type: the operating point,
#: chosen on training cases (T2 TSE gave 22 false MS marks per case at 0.5, 3.8 at 0.8;
#: FLAIR 1.9 and 0.0), never on the held-out ones.
MR_REPORT_THRESHOLD = {
    "ms_lesion": 0.8,
    "tumour": 0.5,
    "meniscal_tear": 0.5,
    "disc_herniation": 0.5,
    "bone_marrow_oedema": 0.5,
}
#: Score a PET maximum needs to be reported.
PET_THRESHOLD = 0.5
#: PET non-maximum suppression radius (mm).
PET_NMS_MM = 15.0
#: Smallest MR finding reported, per type (diameter from the summed probability, mm): a
#: "tumour" of 5 mm is a bright vessel or sulcus, not the 18–34 mm masses of the simulator.
MR_MIN_DIAMETER_MM = {
    "ms_lesion": 3.0,
    "tumour": 10.0,
    "meniscal_tear": 3.0,
    "disc_herniation": 4.0,
    "bone_marrow_oedema": 5.0,
}


@dataclass(frozen=True, eq=False)
class Detector:
    """Loaded weights of one detector and their training record."""

    name: str
    net: SegNet | MLP
    feature_mean: NDArray[np.float32] | None = None
    feature_std: NDArray[np.float32] | None = None
    record: dict[str, Any] = field(default_factory=dict)


def _weights_path(name: str, folder: Path) -> Path:
    return folder / (f"mr_{name}.npz" if name != "pet" else "pet.npz")


@lru_cache(maxsize=8)
def _load(path: str, name: str) -> Detector:
    p = Path(path)
    try:
        with np.load(p) as data:
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise FindingsError(
            f"no detector weights at {p}: train them with `python -m simulator.findings_training`",
            f"pas de poids de détecteur dans {p} : les entraîner avec "
            "`python -m simulator.findings_training`",
            f"keine Detektorgewichte in {p}: mit `python -m simulator.findings_training` trainieren",
        ) from None
    rec_path = p.with_suffix(".json")
    record = json.loads(rec_path.read_text()) if rec_path.exists() else {}
    if name == "pet":
        return Detector(
            name, MLP.from_arrays(arrays), arrays["feature_mean"], arrays["feature_std"], record
        )
    return Detector(name, SegNet.from_arrays(arrays), record=record)


def load_detector(name: str, weights_dir: str | Path | None = None) -> Detector:
    """Load (once) the detector ``name`` (``"brain"``, ``"knee"``, ``"spine"``, ``"pet"``) from
    the shipped weights or from the folder ``weights_dir`` (``mr_<name>.npz``, ``pet.npz``)."""
    p = _weights_path(name, Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR)
    return _load(str(p.resolve()), name)


def detector_name(series: Any) -> str | None:
    """Which detector reads ``series`` (``"brain"``, ``"pet"``), None when there is none."""
    return read_series(series).detector


# ---------------------------------------------------------------------------- MR


def mr_scale(images: NDArray[np.float32]) -> float:
    """Intensity the MR images are divided by: the 99th percentile of the series' non-zero
    pixels, read on every 2nd row and column (1 for an all-zero series)."""
    sub = images[:, ::2, ::2]
    nz = sub[sub > 0]
    return float(np.percentile(nz, 99.0)) if nz.size else 1.0


def mr_input(images: NDArray[np.float32], scale: float | None = None) -> NDArray[np.float32]:
    """Scaled images zero-padded to a multiple of 4 (rows and columns, at the end)."""
    scale = mr_scale(images) if scale is None else scale
    x = images * np.float32(1.0 / max(scale, 1e-12))
    r = SEG_UNSHUFFLE
    n, h, w = x.shape
    ph, pw = (-h) % r, (-w) % r
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, ph), (0, pw)))
    return np.ascontiguousarray(x, dtype=np.float32)


#: Rows/columns whose brightest pixel stays under this share of the scale are air: the net
#: skips them (cropped in steps of 4 pixels, so the block grid does not move).
MR_AIR_SHARE = 0.08


def mr_probabilities(vol: Volume, det: Detector) -> NDArray[np.float32]:
    """Per-block probabilities (n, ⌈H/4⌉, ⌈W/4⌉, K); blocks in the air margin get 0."""
    assert isinstance(det.net, SegNet)
    scale = mr_scale(vol.images)
    x = mr_input(vol.images, scale)
    r = SEG_UNSHUFFLE
    n, hp, wp = x.shape
    prob = np.zeros((n, hp // r, wp // r, det.net.n_classes), np.float32)
    proj = x.max(axis=0)
    rows = np.nonzero(proj.max(axis=1) > MR_AIR_SHARE)[0]
    cols = np.nonzero(proj.max(axis=0) > MR_AIR_SHARE)[0]
    if rows.size == 0 or cols.size == 0:
        return prob
    # keep a 2-block margin of air so the borders look as in training
    r0, r1 = max(rows[0] // r - 2, 0), min(rows[-1] // r + 3, hp // r)
    c0, c1 = max(cols[0] // r - 2, 0), min(cols[-1] // r + 3, wp // r)
    prob[:, r0:r1, c0:c1] = det.net(np.ascontiguousarray(x[:, r0 * r : r1 * r, c0 * r : c1 * r]))
    return prob


_STRUCT = np.ones((3, 3, 3), dtype=bool)


def _mr_findings(vol: Volume, det: Detector) -> list[Finding]:
    from scipy import ndimage  # on first use: the console imports this package at start

    prob = mr_probabilities(vol, det)
    r = SEG_UNSHUFFLE
    n, h, w = vol.images.shape
    out: list[Finding] = []
    area_mm2 = r * r * vol.pixel_mm[0] * vol.pixel_mm[1]
    for k, label in enumerate(MR_CLASSES[det.name]):
        p = prob[..., k]
        comp, _ = ndimage.label(p >= MR_THRESHOLD, structure=_STRUCT)
        for i, sl in enumerate(ndimage.find_objects(comp), start=1):
            if sl is None:
                continue
            m = comp[sl] == i
            pm = np.where(m, p[sl], 0.0)
            if pm.max() < MR_REPORT_THRESHOLD[label]:
                continue
            z_off = int(np.argmax(pm.max(axis=(1, 2))))
            z = sl[0].start + z_off
            plane = pm[z_off]
            rr, cc = np.nonzero(plane > 0)
            wts = plane[rr, cc]
            cy = (float(np.average(rr, weights=wts)) + sl[1].start + 0.5) * r - 0.5
            cx = (float(np.average(cc, weights=wts)) + sl[2].start + 0.5) * r - 0.5
            ext = ((rr.max() - rr.min() + 1) * r / 2.0, (cc.max() - cc.min() + 1) * r / 2.0)
            diam = 2.0 * np.sqrt(plane.sum() * area_mm2 / np.pi)
            if diam < MR_MIN_DIAMETER_MM[label]:
                continue
            zs = np.nonzero(m.any(axis=(1, 2)))[0]
            centre = (round(min(cy, h - 1.0), 2), round(min(cx, w - 1.0), 2))
            side, level = mr_place(vol.positions_mm, vol.cosines, vol.pixel_mm, vol.detector,
                                   label, z, centre)
            out.append(
                Finding(
                    label=label,
                    slice_index=z,
                    centre_rc=centre,
                    extent_px=(float(ext[0]), float(ext[1])),
                    confidence=round(float(np.clip(pm.max(), 0.0, 1.0)), 4),
                    text=finding_text(label, z, diam, side=side, level=level),
                    id="F0",
                    n_slices=int(zs.max() - zs.min() + 1),
                    measure={"diameter_mm": round(float(diam), 1)},
                )
            )
    return out


# ---------------------------------------------------------------------------- PET


def pet_scores(
    vol: Volume, det: Detector
) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
    """Candidate maxima (n, 3) and their scores."""
    assert isinstance(det.net, MLP) and det.feature_mean is not None and det.feature_std is not None
    voxel = (vol.slice_mm, vol.pixel_mm[0], vol.pixel_mm[1])
    idx = candidates(vol.images, (vol.slice_mm, *vol.pixel_mm))
    if len(idx) == 0:
        return idx, np.zeros(0, np.float32)
    f = (features(vol.images, idx, voxel) - det.feature_mean) / det.feature_std
    return idx, det.net(f)


def _pet_findings(vol: Volume, det: Detector) -> list[Finding]:
    idx, score = pet_scores(vol, det)
    voxel = np.array([vol.slice_mm, vol.pixel_mm[0], vol.pixel_mm[1]])
    s = vol.images
    taken = np.zeros(s.shape, dtype=bool)  # voxels of the findings already reported
    kept: list[tuple[NDArray[np.float64], float]] = []  # (position mm, suppression radius mm)
    out: list[Finding] = []
    for i in np.argsort(-score, kind="stable"):
        if score[i] < PET_THRESHOLD:
            break
        z, y, x = (int(v) for v in idx[i])
        pos = idx[i] * voxel
        if taken[z, y, x] or any(np.linalg.norm(pos - q) <= rad for q, rad in kept):
            continue  # another maximum of a lesion already reported
        mask, box, bg = lesion_extent(s, z, y, x, (vol.slice_mm, *vol.pixel_mm))
        taken[box] |= mask
        plane = mask[z - box[0].start]
        rr, cc = np.nonzero(plane)
        ext = ((rr.max() - rr.min() + 1) / 2.0, (cc.max() - cc.min() + 1) / 2.0)
        diam = float(max(2 * ext[0] * vol.pixel_mm[0], 2 * ext[1] * vol.pixel_mm[1]))
        kept.append((pos, max(PET_NMS_MM, 0.75 * diam)))
        zs = np.nonzero(mask.any(axis=(1, 2)))[0]
        suv_max = float(s[z, y, x])
        side = side_of(float(x), s.shape[2])
        out.append(
            Finding(
                label="pet_hot_lesion",
                slice_index=z,
                centre_rc=(float(y), float(x)),
                extent_px=(float(ext[0]), float(ext[1])),
                confidence=round(float(np.clip(score[i], 0.0, 1.0)), 4),
                text=finding_text("pet_hot_lesion", z, diam, suv_max=suv_max, side=side),
                id="F0",
                n_slices=int(zs.max() - zs.min() + 1),
                measure={
                    "suv_max": round(suv_max, 2),
                    "suv_background": round(bg, 2),
                    "diameter_mm": round(diam, 1),
                },
            )
        )
    return out


# ---------------------------------------------------------------------------- API


def detect(
    series: Any,
    *,
    rng: np.random.Generator | None = None,
    weights_dir: str | Path | None = None,
) -> tuple[Finding, ...]:
    """What the detection AI reports on an MR or PET series.

    Parameters
    ----------
    series : MRSeries or PETSeries
        An MR series of the brain (trained on FLAIR and T2), the knee (PD-FS and T1) or the
        lumbar spine (T2 and T1 sagittal), or a PET series (IEC phantom, whole-body
        patient).
    rng : numpy.random.Generator, optional
        Ignored: detection is deterministic (same series → same findings).
    weights_dir : str or Path, optional
        A folder of other weights than the shipped ones (a fresh training's ``--out``).

    Returns
    -------
    tuple of Finding
        Ids ``F1``, ``F2``… in slice order, then row, then column.

    Raises
    ------
    FindingsError
        Empty series, NaN/inf, images under 8×8, PET without dose/weight, or an MR body part
        with no detector.
    """
    del rng
    vol = read_series(series)
    if vol.detector is None:
        part = str(getattr(series.protocol, "body_part", "?"))
        raise FindingsError(
            f"AI findings: no detector for {part} MR (available: brain, knee and spine MR, PET)",
            f"Résultats IA : pas de détecteur pour l'IRM {part} (disponibles : IRM du cerveau, "
            "du genou et du rachis, TEP)",
            f"KI-Befunde: kein Detektor für {part}-MR (verfügbar: Gehirn-, Knie- und "
            "Wirbelsäulen-MR, PET)",
        )
    det = load_detector(vol.detector, weights_dir)
    found = _pet_findings(vol, det) if vol.modality == "pet" else _mr_findings(vol, det)
    found.sort(key=lambda f: (f.slice_index, f.centre_rc, f.label))
    return tuple(replace(f, id=f"F{i + 1}") for i, f in enumerate(found))
