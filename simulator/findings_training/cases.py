"""Cases the detectors learn from and are judged on, scanned by the simulator itself.

MR brain: the brain anatomy with MS-like lesions, a tumour or no pathology, at a placement
seed (training below 5000, held out from 5000 on, the convention of
:mod:`simulator.ai_training.cases_mr`), scanned with the FLAIR or T2 TSE preset — the only
sequences the detector sees in training. Training varies TE, TR, the number of averages and
the slice-stack offset; held-out cases use the plain presets.

PET: the whole-body patient (7 beds) with lesions of random diameter (6–30 mm) and SUV
(2.5–15) at its four sites (some left out), random weight and height, 1–4 min per bed; and
the NEMA IEC phantom at sphere-to-background ratios 2–10. Held out: the patient's default
lesions and other lesion draws, the IEC phantom at 4:1 and 8:1, noise seeds never used in
training.

Out of distribution (evaluation only): MR with motion, MR T1 SE (a sequence not seen in
training), MR at half the time (SENSE 2) with and without the AI denoiser; PET at a quarter
of the time per bed, with and without the AI denoiser.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.mr import MRSeries, load_anatomy, preset, scan
from simulator.mr.geometry import default_geometry, plan_slices
from simulator.mr.rules import timing
from simulator.pet import PETProtocol, PETSeries, make_phantom
from simulator.pet import scan as pet_scan

__all__ = [
    "BrainCase",
    "MR_TRAIN_SEQUENCES",
    "MR_VARIANTS",
    "mr_training_cases",
    "mr_heldout_cases",
    "PETCase",
    "scan_brain",
    "scan_pet",
    "brain_training_cases",
    "brain_heldout_cases",
    "pet_training_cases",
    "pet_heldout_cases",
    "PATIENT_BEDS",
    "TRAIN_SEQUENCES",
]

#: Sequences the MR brain detector is trained on.
TRAIN_SEQUENCES = ("flair", "t2_tse")
#: Sequences each MR detector is trained on (presets of the anatomy).
MR_TRAIN_SEQUENCES = {
    "brain": TRAIN_SEQUENCES,
    "knee": ("pd_fs", "t1"),  # sagittal PD fat-sat, coronal T1 SE
    "spine": ("t2_tse_sag", "t1_se_sag"),
}
#: Pathologies of the knee and spine training cases, in turn (None: healthy). The ACL tear
#: brings its pivot-shift bone bruise (marrow oedema); the vertebral fracture its oedema.
_MR_PATHS = {
    "knee": ("meniscal_tear", "bone_marrow_oedema", "acl_tear", "meniscal_tear",
             "bone_marrow_oedema", None),
    "spine": ("disc_herniation", "vertebral_fracture", "disc_herniation", "vertebral_fracture",
              None),
}
#: Beds of a whole-body PET.
PATIENT_BEDS = 7
_SITES = ("lung", "liver", "node", "bone")


@dataclass(frozen=True)
class BrainCase:
    """One MR series (the brain, or the ``anatomy`` named)."""

    preset: str
    pathology: str | None
    placement_seed: int | None
    seed: int
    changes: tuple[tuple[str, Any], ...] = ()
    shift_mm: float = 0.0
    tag: str = "heldout"
    anatomy: str = "brain"


def scan_brain(case: BrainCase) -> MRSeries:
    """Scan one MR case (deterministic in the case)."""
    anat = load_anatomy(case.anatomy, pathology=case.pathology, placement_seed=case.placement_seed)
    p = preset(case.anatomy, case.preset)
    if case.changes:
        p = dataclasses.replace(p, **dict(case.changes))
    geo = dataclasses.replace(default_geometry(anat, p), orientation=p.orientation)
    if case.shift_mm:
        c = np.asarray(geo.center_mm) + case.shift_mm * plan_slices(p, geo).normal
        geo = dataclasses.replace(geo, center_mm=(float(c[0]), float(c[1]), float(c[2])))
    return scan(anat, p, geo, rng=np.random.default_rng([case.seed, 19]))


def brain_training_cases(n: int = 48, seed: int = 0) -> list[BrainCase]:
    """``n`` training cases: FLAIR/T2, mostly with pathology, parameters jittered."""
    rng = np.random.default_rng([seed, 1919])
    paths = ("ms_lesions", "ms_lesions", "tumour", "ms_lesions", "tumour", None)
    out = []
    for i in range(n):
        seq = TRAIN_SEQUENCES[i % 2]
        base = preset("brain", seq)
        changes: dict[str, Any] = {
            "te_ms": float(round(base.te_ms * rng.uniform(0.8, 1.2), 1)),
            "nex": int(rng.choice([1, 1, 2])),
        }
        if seq == "t2_tse":
            changes["tr_ms"] = float(round(base.tr_ms * rng.uniform(0.8, 1.2)))
        out.append(
            BrainCase(
                seq,
                paths[i % len(paths)],
                int(rng.integers(0, 5000)),
                seed=1000 + i,
                changes=tuple(sorted(changes.items())),
                shift_mm=float(rng.uniform(-3.0, 3.0)),
                tag="train",
            )
        )
    return out


#: Held-out variants: name → (preset, protocol changes).
BRAIN_VARIANTS: dict[str, tuple[str | None, tuple[tuple[str, Any], ...]]] = {
    "heldout": (None, ()),
    "motion": (None, (("motion", "moderate"),)),
    "unseen_sequence_t1": ("t1_se", ()),
    "half_time": (None, (("parallel_r", 2),)),
    "half_time_ai_denoised": (None, (("parallel_r", 2), ("ai_denoise", True))),
}


def brain_heldout_cases(variant: str = "heldout", n: int = 12) -> list[BrainCase]:
    """``n`` held-out cases (placement seeds ≥ 5000) of a :data:`BRAIN_VARIANTS` variant."""
    seq_override, changes = BRAIN_VARIANTS[variant]
    paths = ("ms_lesions", "tumour", "ms_lesions", None)
    out = []
    for i in range(n):
        # every sequence meets every pathology: sequence by i, pathology by i // 2
        seq = seq_override or TRAIN_SEQUENCES[i % 2]
        out.append(
            BrainCase(
                seq, paths[(i // 2) % len(paths)], 5000 + i, seed=900_000 + i, changes=changes, tag=variant
            )
        )
    return out


def mr_training_cases(anatomy: str, n: int, seed: int = 0) -> list[BrainCase]:
    """``n`` training cases of the knee or spine detector: its two sequences in turn, the
    pathologies of ``_MR_PATHS`` in turn, TE (and TR of turbo spin echo) within ±20 % (TE no
    shorter than the readout allows), one or
    two averages, the stack shifted by up to ±3 mm."""
    if anatomy == "brain":
        return brain_training_cases(n, seed)
    rng = np.random.default_rng([seed, 1922, len(anatomy)])
    seqs, paths = MR_TRAIN_SEQUENCES[anatomy], _MR_PATHS[anatomy]
    out = []
    for i in range(n):
        seq = seqs[i % 2]
        base = preset(anatomy, seq)
        te = float(round(base.te_ms * rng.uniform(0.8, 1.2), 1))
        # never under the shortest TE the readout allows (a spin echo's preset is near it)
        changes: dict[str, Any] = {"te_ms": max(te, float(np.ceil(timing(base).min_te_ms * 10) / 10))}
        if base.sequence == "tse":
            changes["tr_ms"] = float(round(base.tr_ms * rng.uniform(0.8, 1.2)))
        if base.nex < 3:
            changes["nex"] = int(rng.choice([1, 2]))
        out.append(
            BrainCase(
                seq,
                paths[(i // 2) % len(paths)],
                int(rng.integers(0, 5000)),
                seed=1000 + i,
                changes=tuple(sorted(changes.items())),
                shift_mm=float(rng.uniform(-3.0, 3.0)),
                tag="train",
                anatomy=anatomy,
            )
        )
    return out


#: Held-out variants per MR detector: name → (preset, protocol changes); the unseen
#: sequence is one the detector never saw in training.
MR_VARIANTS: dict[str, dict[str, tuple[str | None, tuple[tuple[str, Any], ...]]]] = {
    "brain": BRAIN_VARIANTS,
    "knee": {
        "heldout": (None, ()),
        "motion": (None, (("motion", "moderate"),)),
        "unseen_sequence_t2_fs_axial": ("t2_fs", ()),
        "half_time": (None, (("parallel_r", 2),)),
        "half_time_ai_denoised": (None, (("parallel_r", 2), ("ai_denoise", True))),
    },
    "spine": {
        "heldout": (None, ()),
        "motion": (None, (("motion", "moderate"),)),
        "unseen_sequence_stir": ("stir_sag", ()),
        "half_time": (None, (("parallel_r", 2),)),
        "half_time_ai_denoised": (None, (("parallel_r", 2), ("ai_denoise", True))),
    },
}


def mr_heldout_cases(anatomy: str, variant: str = "heldout", n: int = 12) -> list[BrainCase]:
    """``n`` held-out cases (placement seeds ≥ 5000, noise seeds never trained on) of a
    :data:`MR_VARIANTS` variant: every sequence meets every pathology (the healthy one
    included)."""
    if anatomy == "brain":
        return brain_heldout_cases(variant, n)
    seq_override, changes = MR_VARIANTS[anatomy][variant]
    seqs = MR_TRAIN_SEQUENCES[anatomy]
    paths = {"knee": ("meniscal_tear", "bone_marrow_oedema", "acl_tear", None),
             "spine": ("disc_herniation", "vertebral_fracture", "disc_herniation", None)}[anatomy]
    return [
        BrainCase(seq_override or seqs[i % 2], paths[(i // 2) % len(paths)], 5000 + i,
                  seed=900_000 + i, changes=changes, tag=variant, anatomy=anatomy)
        for i in range(n)
    ]


@dataclass(frozen=True)
class PETCase:
    """One PET series: the whole-body patient or the IEC phantom."""

    phantom: str
    seed: int
    lesions: tuple[tuple[str, float, float], ...] | None = None
    ratio: float = 4.0
    weight_kg: float = 70.0
    height_cm: float = 175.0
    minutes_per_bed: float = 2.0
    ai_denoise: bool = False
    tag: str = "heldout"


def scan_pet(case: PETCase) -> PETSeries:
    """Scan one PET case (the patient over :data:`PATIENT_BEDS` beds, the IEC on one)."""
    if case.phantom == "patient":
        les = None if case.lesions is None else {s: (d, v) for s, d, v in case.lesions}
        ph = make_phantom(
            "patient", weight_kg=case.weight_kg, height_cm=case.height_cm, lesions=les
        )
        proto = PETProtocol(
            weight_kg=case.weight_kg,
            minutes_per_bed=case.minutes_per_bed,
            beds=PATIENT_BEDS,
            ai_denoise=case.ai_denoise,
        )
    else:
        ph = make_phantom("nema-iec", ratio=case.ratio)
        proto = dataclasses.replace(
            __import__("simulator.pet.protocol", fromlist=["x"]).nema_iq_protocol(),
            minutes_per_bed=case.minutes_per_bed,
            ai_denoise=case.ai_denoise,
        )
    return pet_scan(ph, proto, seed=case.seed)


def _random_lesions(rng: np.random.Generator) -> tuple[tuple[str, float, float], ...]:
    out = []
    for site in _SITES:
        if rng.random() < 0.8:
            out.append((site, float(round(rng.uniform(6.0, 30.0), 1)), float(round(rng.uniform(2.5, 15.0), 1))))
    return tuple(out)


def pet_training_cases(n_patient: int = 16, n_iec: int = 6, seed: int = 0) -> list[PETCase]:
    """Training PET cases (see the module docstring)."""
    rng = np.random.default_rng([seed, 1920])
    out = []
    for i in range(n_patient):
        out.append(
            PETCase(
                "patient",
                seed=2000 + i,
                lesions=_random_lesions(rng),
                weight_kg=float(round(rng.uniform(55.0, 100.0))),
                height_cm=float(round(rng.uniform(155.0, 195.0))),
                minutes_per_bed=float(rng.choice([1.0, 2.0, 3.0, 4.0])),
                tag="train",
            )
        )
    ratios = (2.0, 3.0, 5.0, 6.0, 10.0)
    for i in range(n_iec):
        out.append(
            PETCase(
                "nema-iec",
                seed=3000 + i,
                ratio=ratios[i % len(ratios)],
                minutes_per_bed=float(rng.choice([1.0, 2.0, 4.0])),
                tag="train",
            )
        )
    return out


#: Held-out PET variants: name → (minutes per bed, AI denoiser on).
PET_VARIANTS: dict[str, tuple[float, bool]] = {
    "heldout": (2.0, False),
    "low_count_quarter_time": (0.5, False),
    "low_count_quarter_time_ai_denoised": (0.5, True),
}


def pet_heldout_cases(variant: str = "heldout", n_patient: int = 6) -> list[PETCase]:
    """Held-out PET cases of a :data:`PET_VARIANTS` variant."""
    minutes, ai = PET_VARIANTS[variant]
    rng = np.random.default_rng(1921)
    out = [PETCase("patient", seed=800_000, lesions=None, minutes_per_bed=minutes, ai_denoise=ai, tag=variant)]
    for i in range(1, n_patient):
        out.append(
            PETCase(
                "patient",
                seed=800_000 + i,
                lesions=_random_lesions(rng),
                weight_kg=float(round(rng.uniform(55.0, 100.0))),
                minutes_per_bed=minutes,
                ai_denoise=ai,
                tag=variant,
            )
        )
    for j, ratio in enumerate((4.0, 8.0)):
        out.append(
            PETCase("nema-iec", seed=810_000 + j, ratio=ratio, minutes_per_bed=minutes, ai_denoise=ai, tag=variant)
        )
    return out
