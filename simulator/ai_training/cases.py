"""Training and validation sets per modality (numpy only: the simulator scans them).

The validation set is drawn like the training set with another seed; the held-out
*evaluation* cases (:func:`~.cases_mr.mr_heldout_cases`, :func:`~.cases_pet.pet_heldout_cases`)
are never seen during training, not even for early stopping.
"""

from __future__ import annotations

from simulator.ai_training.data import Pair

__all__ = ["SIZES", "MR_SPINE_SIZES", "describe_mr_case", "mr_cases", "training_pairs"]

#: (training cases, validation cases) per modality, full and --quick.
SIZES = {
    ("mr", False): (150, 8),
    ("mr", True): (1, 1),
    ("pet", False): (45, 3),
    ("pet", True): (1, 1),
}

#: Extra spine sagittal T2 TSE cases (training, validation) for MR, full and --quick: the
#: headline protocol families, 11:31 → 5:46 and 6:39 (:func:`~.cases_mr.mr_spine_cases`).
MR_SPINE_SIZES = {False: (90, 4), True: (0, 0)}

#: Default extra loss weight on (dilated) lesions: a plain loss smooths them away.
LESION_BOOST = 4.0


def describe_mr_case(c) -> str:
    """One line per MR training case, as the weights' record lists them."""
    return (
        f"{c.anatomy}/{c.preset} {c.pathology or 'healthy'} {c.orientation or ''} "
        f"{dict(c.reduction)} slices {list(c.slices)}"
        + (f" {dict(c.changes)}" if c.changes else "")
        + (f" shift {c.shift_mm:g} mm" if c.shift_mm else "")
    )


def mr_cases(quick: bool = False, seed: int = 0) -> tuple[list, list]:
    """The MR (training, validation) cases of a run: mixed presets, then spine T2 TSE."""
    from simulator.ai_training.cases_mr import mr_spine_cases, mr_training_cases

    n_train, n_val = SIZES[("mr", quick)]
    slices = 1 if quick else 2
    n_spine, n_spine_val = MR_SPINE_SIZES[quick]
    train = mr_training_cases(n_train, seed, slices) + mr_spine_cases(n_spine, seed, slices)
    val = mr_training_cases(n_val, seed + 7919, 1) + mr_spine_cases(n_spine_val, seed + 7919, 1)
    return train, val


def training_pairs(
    modality: str, quick: bool = False, seed: int = 0, lesion_boost: float = LESION_BOOST, log=print
) -> tuple[list[Pair], list[Pair], dict]:
    """Scan the training and validation cases; return their pairs and a JSON-safe record."""
    n_train, n_val = SIZES[(modality, quick)]
    if modality == "mr":
        from simulator.ai_training.cases_mr import mr_pairs

        tr_cases, va_cases = mr_cases(quick, seed)
        train = mr_pairs(tr_cases, lesion_boost, log)
        val = mr_pairs(va_cases, lesion_boost, log)
        describe = [describe_mr_case(c) for c in tr_cases]
    elif modality == "pet":
        from simulator.ai_training.cases_pet import pet_pairs, pet_training_cases

        per_case = 4 if quick else 24
        slab = 6 if quick else 0
        tr_cases = pet_training_cases(n_train, seed, slab)
        va_cases = pet_training_cases(n_val, seed + 7919, slab)
        train = pet_pairs(tr_cases, lesion_boost, per_case, log)
        val = pet_pairs(va_cases, lesion_boost, 8 if not quick else 2, log)
        describe = [
            f"{c.phantom} ratio {c.ratio:g} shift {c.shift_px} flip {c.flip} "
            f"+{c.extra_lesions} lesions x{c.activity_scale:.2f} {c.minutes_per_bed:.2f} min/bed "
            f"{c.iterations}it/{c.subsets}s filter {c.postfilter_mm:g} mm"
            for c in tr_cases
        ]
    else:
        raise ValueError(modality)
    record = {
        "train_cases": len(tr_cases),
        "train_slices": len(train),
        "val_cases": len(va_cases),
        "val_slices": len(val),
        "lesion_boost": lesion_boost,
        "cases": describe,
    }
    return train, val, record
