"""MR cases: what the virtual scanner acquires to train and to evaluate the MR denoiser.

Each case is an anatomy (with or without pathology, at a placement seed), a clinical
preset, an orientation and a *reduction* — the change that shortens the scan (fewer
averages, parallel imaging, partial Fourier). The network's input is the reduced scan;
its target is the noise-free image of the **full** protocol (``MRSeries.noiseless``), so
whatever the reduction costs beyond noise (partial-Fourier blur, g-factor) stays visible.

The headline case is the lumbar spine sagittal T2 TSE: the clinical preset takes 11:31;
NEX 3 → 2 with 7/8 partial Fourier takes 6:39 — the "11 min 30 → 6 min 30" of AI-accelerated
spine MRI. Held-out cases use pathology placement seeds ≥ 5000 and noise seeds never drawn
in training.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from simulator.ai.training.data import Pair, make_pair
from simulator.mr import MRProtocol, derive, load_anatomy, preset
from simulator.mr.geometry import default_geometry

__all__ = [
    "SPINE_REDUCTION",
    "MRCase",
    "MRScan",
    "LESION_TISSUES",
    "mr_training_cases",
    "mr_heldout_cases",
    "scan_mr_case",
    "mr_pairs",
]

#: The 6:39 version of the 11:31 spine T2 TSE preset.
SPINE_REDUCTION: tuple[tuple[str, object], ...] = (("nex", 2), ("partial_fourier", 0.875))

#: Tissue names that mark pathology on the image grid (small-lesion contrast, loss weight).
LESION_TISSUES = ("lesion_ms", "tumour", "oedema", "marrow_oedema")

_PRESETS = {
    "brain": ("t1_se", "t2_tse", "flair", "pd", "t1_gre", "stir"),
    "knee": ("pd_fs", "t1", "t2_fs"),
    "spine": ("t2_tse_sag", "t1_se_sag", "stir_sag", "t2_ax"),
}
_PATHOLOGIES = {
    "brain": (None, "ms_lesions", "ms_lesions", "tumour"),
    "knee": (None, "bone_marrow_oedema", "meniscal_tear"),
    "spine": (None, "disc_herniation"),
}
_ORIENTATIONS = ("axial", "sagittal", "coronal")
_PHASE_DIR = {"axial": "AP", "sagittal": "AP", "coronal": "RL"}


@dataclass(frozen=True)
class MRCase:
    """One anatomy, one protocol, one reduction, a few slices."""

    anatomy: str
    preset: str
    pathology: str | None = None
    placement_seed: int | None = None
    orientation: str | None = None
    reduction: tuple[tuple[str, object], ...] = ()
    slices: tuple[int, ...] = ()
    seed: int = 0
    changes: tuple[tuple[str, object], ...] = field(default=())

    def full_protocol(self) -> MRProtocol:
        """The preset with this case's orientation and other changes (no reduction)."""
        p = preset(self.anatomy, self.preset)
        changes = dict(self.changes)
        if self.orientation is not None and self.orientation != p.orientation:
            changes.update(orientation=self.orientation, phase_dir=_PHASE_DIR[self.orientation])
        return dataclasses.replace(p, **changes) if changes else p

    def reduced_protocol(self) -> MRProtocol:
        """The shortened protocol the AI is meant to rescue."""
        return dataclasses.replace(self.full_protocol(), **dict(self.reduction))


@dataclass(frozen=True, eq=False)
class MRScan:
    """Images of one case (slices, rows, cols), magnitude, same grid."""

    case: MRCase
    reduced: npt.NDArray[np.float32]
    full: npt.NDArray[np.float32] | None
    truth: npt.NDArray[np.float32]
    lesions: npt.NDArray[np.bool_]
    labels: npt.NDArray[np.uint8]
    names: tuple[str, ...]
    time_full_s: float
    time_reduced_s: float
    pixel_mm: float


def _scan(anat, proto: MRProtocol, rng: np.random.Generator, slices: tuple[int, ...]):
    from simulator.mr import scan  # lands with the MR scanner

    geo = dataclasses.replace(default_geometry(anat, proto), orientation=proto.orientation)
    return scan(anat, proto, geo, rng=rng, slices=list(slices) or None)


def scan_mr_case(case: MRCase, with_full: bool = False) -> MRScan:
    """Scan the reduced protocol (noisy) and the full one (noise-free truth, noisy if asked)."""
    anat = load_anatomy(case.anatomy, pathology=case.pathology, placement_seed=case.placement_seed)
    rng = np.random.default_rng([case.seed, 11])
    full_p, red_p = case.full_protocol(), case.reduced_protocol()
    full = _scan(anat, full_p, rng, case.slices)
    red = _scan(anat, red_p, rng, case.slices)
    ids = [i for i, n in enumerate(full.names) if n in LESION_TISSUES]
    lesions = np.isin(full.labels, ids)
    return MRScan(
        case,
        np.asarray(red.images, np.float32),
        np.asarray(full.images, np.float32) if with_full else None,
        np.asarray(full.noiseless, np.float32),
        lesions,
        np.asarray(full.labels),
        tuple(full.names),
        float(derive(full_p).scan_time_s),
        float(derive(red_p).scan_time_s),
        float(np.mean(full.pixel_spacing_mm)),
    )


_REDUCTIONS: tuple[tuple[tuple[str, object], ...], ...] = (
    (),  # full time: the network must also leave a good image alone
    (("nex", 1),),
    (("parallel_r", 2),),
    (("partial_fourier", 0.75),),
    (("nex", 1), ("parallel_r", 2)),
    SPINE_REDUCTION,
)


def _valid_reduction(full: MRProtocol, red: tuple[tuple[str, object], ...]) -> bool:
    from simulator.errors import UserError
    from simulator.mr import check_protocol

    d = dict(red)
    if "nex" in d and int(d["nex"]) >= full.nex:  # type: ignore[call-overload]
        return False
    try:
        check_protocol(dataclasses.replace(full, **d))
    except UserError:
        return False
    return True


def mr_training_cases(n: int, seed: int, slices_per_case: int = 2) -> list[MRCase]:
    """``n`` varied training cases (anatomy, preset, pathology, orientation, reduction)."""
    rng = np.random.default_rng([seed, 2002])
    cases: list[MRCase] = []
    anatomies = ("spine", "brain", "knee")
    while len(cases) < n:
        anat = anatomies[len(cases) % 3]
        name = str(rng.choice(_PRESETS[anat]))
        path = _PATHOLOGIES[anat][int(rng.integers(len(_PATHOLOGIES[anat])))]
        orient = str(rng.choice(_ORIENTATIONS)) if rng.random() < 0.35 else None
        red = _REDUCTIONS[int(rng.integers(len(_REDUCTIONS)))]
        case = MRCase(
            anat,
            name,
            path,
            int(rng.integers(0, 5000)) if path else None,
            orient,
            red,
            seed=100_000 * (seed + 1) + len(cases),
        )
        full = case.full_protocol()
        if not _valid_reduction(full, red):
            continue
        picks = rng.choice(full.slices, size=min(slices_per_case, full.slices), replace=False)
        # favour the central slices, where anatomy (and pathology) is
        mid = full.slices // 2
        picks = np.clip(np.round(mid + (picks - mid) * 0.6).astype(int), 0, full.slices - 1)
        cases.append(dataclasses.replace(case, slices=tuple(sorted({int(k) for k in picks}))))
    return cases


def mr_heldout_cases(seed: int = 0) -> list[MRCase]:
    """Evaluation: spine T2 TSE 11:31 → 6:39 (herniation at two unseen placements, healthy),
    brain T2 TSE and FLAIR with MS lesions at unseen placements, knee PD FS with oedema."""
    base = 900_000 + 1000 * seed
    mid = (5, 6, 7, 8, 9)
    return [
        MRCase(
            "spine", "t2_tse_sag", "disc_herniation", 5001, None, SPINE_REDUCTION, mid, base + 1
        ),
        MRCase(
            "spine", "t2_tse_sag", "disc_herniation", 5002, None, SPINE_REDUCTION, mid, base + 2
        ),
        MRCase("spine", "t2_tse_sag", None, None, None, SPINE_REDUCTION, mid, base + 3),
        MRCase("brain", "t2_tse", "ms_lesions", 5003, None, (("nex", 1),), (8, 10, 12), base + 4),
        MRCase(
            "brain", "flair", "ms_lesions", 5004, None, (("parallel_r", 2),), (8, 10, 12), base + 5
        ),
        MRCase(
            "knee",
            "pd_fs",
            "bone_marrow_oedema",
            5005,
            None,
            (("parallel_r", 2),),
            (10, 12),
            base + 6,
        ),
    ]


def mr_pairs(cases: list[MRCase], lesion_boost: float, log=print) -> list[Pair]:
    """Every scanned slice of every case as a normalised (reduced, full-time truth) pair."""
    pairs: list[Pair] = []
    for case in cases:
        s = scan_mr_case(case)
        for k in range(s.truth.shape[0]):
            pr = make_pair(
                s.reduced[k],
                s.truth[k],
                s.lesions[k],
                lesion_boost,
                meta={"case": f"{case.anatomy}/{case.preset}", "seed": case.seed},
            )
            if pr is not None:
                pairs.append(pr)
        log(f"  MR {case.anatomy}/{case.preset} {dict(case.reduction)}: {len(pairs)} slices")
    return pairs
