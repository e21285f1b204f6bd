"""PET cases: what the virtual scanner acquires to train and to evaluate the PET denoiser.

An exam of ``BEDS`` beds lasting 17 min in full (3.4 min per bed) or 9 min reduced
(1.8 min per bed) — the "15–20 min to 9 min" of AI-accelerated PET; one bed is simulated.
The truth is the same reconstruction (OSEM, same iterations, subsets and post-filter) of
the noise-free sinogram, so the network learns to remove noise, not to change resolution.

Training draws varied phantoms: the three PET phantoms shifted and flipped in-plane, NEMA
sphere ratios other than the NEMA 4:1 and 8:1, extra hot lesions of 6–20 mm placed at
random, acquisition times of 1–4 min per bed and post-filters of 0–7 mm. The held-out
cases are the NEMA IEC phantom at 4:1 and 8:1, the torso and the brain, unshifted, with
the clinical reconstruction and noise seeds never used in training.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from simulator.ai_training.data import Pair, make_pair
from simulator.pet import PETProtocol, acquire, make_phantom
from simulator.pet.phantoms import Phantom
from simulator.pet.recon import reconstruct

__all__ = [
    "BEDS",
    "FULL_MIN_PER_BED",
    "REDUCED_MIN_PER_BED",
    "PETCase",
    "PETScan",
    "pet_training_cases",
    "pet_heldout_cases",
    "scan_pet_case",
    "pet_pairs",
]

BEDS = 5
FULL_MIN_PER_BED = 17.0 / BEDS
REDUCED_MIN_PER_BED = 9.0 / BEDS
_TRAIN_RATIOS = (2.0, 3.0, 5.0, 6.0, 10.0)


@dataclass(frozen=True)
class PETCase:
    """One phantom, one reconstruction, two acquisition times."""

    phantom: str
    ratio: float = 4.0
    shift_px: tuple[int, int] = (0, 0)
    flip: bool = False
    extra_lesions: int = 0
    activity_scale: float = 1.0
    minutes_per_bed: float = REDUCED_MIN_PER_BED
    iterations: int = 3
    subsets: int = 21
    postfilter_mm: float = 5.0
    seed: int = 0
    slab: int = 0


@dataclass(frozen=True, eq=False)
class PETScan:
    """Images of one case (z, rows, cols) in Bq/mL and what evaluation needs."""

    case: PETCase
    phantom: Phantom
    reduced: npt.NDArray[np.float32]
    full: npt.NDArray[np.float32] | None
    truth: npt.NDArray[np.float32]
    lesions: npt.NDArray[np.bool_]
    pixel_mm: float


def _lesion_labels(ph: Phantom) -> npt.NDArray[np.bool_]:
    ids = [i for i, n in enumerate(ph.names) if n.startswith(("sphere", "lesion"))]
    return np.isin(ph.labels, ids)


def _variant(case: PETCase, rng: np.random.Generator) -> tuple[Phantom, npt.NDArray[np.bool_]]:
    """The case's phantom, shifted, flipped, with extra random hot spheres."""
    ph: Phantom = (
        make_phantom(case.phantom, ratio=case.ratio)
        if case.phantom == "nema-iec"
        else (make_phantom(case.phantom))
    )
    act = np.array(ph.activity_bqml, dtype=np.float32)
    mu = np.array(ph.mu_per_cm, dtype=np.float32)
    lab = np.array(ph.labels)
    lesions = _lesion_labels(ph)
    if case.extra_lesions:
        dz, dy, _ = ph.voxel_mm
        nz, ny, nx = act.shape
        zz = np.arange(nz)[:, None, None]
        yy = np.arange(ny)[None, :, None]
        xx = np.arange(nx)[None, None, :]
        body = np.argwhere((mu > 0.02) & (act > 0))
        for _ in range(case.extra_lesions):
            cz, cy, cx = body[rng.integers(len(body))]
            r_mm = rng.uniform(3.0, 10.0)
            ball = ((zz - cz) * dz) ** 2 + ((yy - cy) * dy) ** 2 + ((xx - cx) * dy) ** 2 <= r_mm**2
            ball &= mu > 0.02
            local = float(
                np.mean(
                    act[max(cz - 3, 0) : cz + 4, max(cy - 5, 0) : cy + 6, max(cx - 5, 0) : cx + 6]
                )
            )
            act[ball] = max(local, 1e-3 * float(act.max())) * rng.uniform(1.5, 8.0)
            lesions |= ball
    arrays: list[np.ndarray] = [act, mu, lab, lesions]
    if case.flip:
        arrays = [a[:, :, ::-1] for a in arrays]
    arrays = [np.ascontiguousarray(np.roll(a, case.shift_px, axis=(1, 2))) for a in arrays]
    act, mu, lab, lesions = arrays
    return replace(ph, activity_bqml=act, mu_per_cm=mu, labels=lab.astype(np.uint8)), lesions


def _protocol(case: PETCase, ph: Phantom, minutes: float) -> PETProtocol:
    return PETProtocol(
        activity_mbq=ph.activity_mbq * case.activity_scale,
        weight_kg=ph.weight_kg,
        minutes_per_bed=minutes,
        beds=BEDS,
        iterations=case.iterations,
        subsets=case.subsets,
        postfilter_mm=case.postfilter_mm,
    )


def scan_pet_case(case: PETCase, with_full: bool = False) -> PETScan:
    """Acquire and reconstruct the case: reduced time, optionally full time, and noise-free."""
    rng = np.random.default_rng([case.seed, 7])
    ph, lesions = _variant(case, rng)
    p_red = _protocol(case, ph, case.minutes_per_bed)
    nz = ph.shape[0]
    sl = None
    if case.slab:  # a central slab only (quick runs)
        first = max(0, nz // 2 - case.slab // 2)
        sl = list(range(first, min(nz, first + case.slab)))
        lesions = lesions[sl]
    reduced = reconstruct(acquire(ph, p_red, rng=rng, slices=sl))
    truth = reconstruct(acquire(ph, p_red, noiseless=True, slices=sl))
    full = None
    if with_full:
        p_full = _protocol(case, ph, FULL_MIN_PER_BED)
        full = reconstruct(acquire(ph, p_full, rng=rng, slices=sl))
        # noise-free images of both times agree (decay-corrected, same recon)
    n = truth.shape[-1]
    pixel_mm = ph.fov_mm / n
    # lesion mask on the reconstruction grid (nearest neighbour)
    idx = (np.arange(n) + 0.5) * ph.shape[2] / n
    idx = np.clip(idx.astype(int), 0, ph.shape[2] - 1)
    les = lesions[:, idx][:, :, idx]
    return PETScan(case, ph, reduced, full, truth, les, pixel_mm)


def pet_training_cases(n: int, seed: int, slab: int = 0) -> list[PETCase]:
    """``n`` varied training cases, reproducible from ``seed`` (``slab`` > 0: central slices)."""
    rng = np.random.default_rng([seed, 1001])
    kinds = ("nema-iec", "torso", "brain")
    cases = []
    for i in range(n):
        kind = kinds[i % 3]
        cases.append(
            PETCase(
                phantom=kind,
                ratio=float(rng.choice(_TRAIN_RATIOS)),
                shift_px=(int(rng.integers(-12, 13)), int(rng.integers(-12, 13))),
                flip=bool(rng.random() < 0.5),
                extra_lesions=int(rng.integers(0, 7)),
                activity_scale=float(rng.uniform(0.6, 1.3)),
                minutes_per_bed=float(rng.uniform(1.0, 4.0)),
                iterations=int(rng.choice([2, 3, 4])),
                subsets=int(rng.choice([14, 21, 28])),
                postfilter_mm=float(rng.choice([0.0, 3.0, 5.0, 5.0, 7.0])),
                seed=10_000 * (seed + 1) + i,
                slab=slab,
            )
        )
    return cases


def pet_heldout_cases(seed: int = 0) -> list[PETCase]:
    """The evaluation set: NEMA 4:1 and 8:1 (two noise draws each), torso, brain."""
    base = 900_000 + 1000 * seed
    return [
        PETCase("nema-iec", ratio=4.0, seed=base + 1),
        PETCase("nema-iec", ratio=4.0, seed=base + 2),
        PETCase("nema-iec", ratio=8.0, seed=base + 3),
        PETCase("nema-iec", ratio=8.0, seed=base + 4),
        PETCase("torso", seed=base + 5),
        PETCase("brain", seed=base + 6),
    ]


def pet_pairs(
    cases: list[PETCase], lesion_boost: float, max_slices: int = 24, log=print
) -> list[Pair]:
    """Slices with activity from each case (all lesion slices first), as normalised pairs."""
    pairs: list[Pair] = []
    for case in cases:
        s = scan_pet_case(case)
        rng = np.random.default_rng([case.seed, 3])
        level = s.truth.max(axis=(1, 2))
        live = np.flatnonzero(level > 0.05 * level.max())
        with_lesion = [k for k in live if s.lesions[k].any()]
        others = [k for k in live if k not in with_lesion]
        rng.shuffle(with_lesion)
        rng.shuffle(others)
        for k in (with_lesion[: max_slices // 2] + others)[:max_slices]:
            pr = make_pair(
                s.reduced[k],
                s.truth[k],
                s.lesions[k],
                lesion_boost,
                meta={"case": case.phantom, "slice": int(k), "seed": case.seed},
            )
            if pr is not None:
                pairs.append(pr)
        log(f"  PET {case.phantom} seed {case.seed}: {len(pairs)} slices so far")
    return pairs
