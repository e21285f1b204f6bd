"""Held-out MR cases really differ from one another and from every training case (numpy only)."""

from __future__ import annotations

import dataclasses

import numpy as np

from simulator.ai_training.cases import describe_mr_case, mr_cases
from simulator.ai_training.cases_mr import (
    SPINE_REDUCTION,
    SPINE_REDUCTION_PF,
    mr_heldout_cases,
    mr_spine_cases,
)
from simulator.mr import derive, load_anatomy


def _key(case):
    """What makes two cases the same images: anatomy, protocol, placement, slices, offset."""
    return (
        case.anatomy,
        dataclasses.replace(case.full_protocol(), nex=1),
        case.pathology,
        case.placement_seed,
        case.shift_mm,
    )


def _training_cases(seed: int = 0):
    train, val = mr_cases(quick=False, seed=seed)
    return train + val


def test_no_heldout_case_is_a_training_case():
    train = _training_cases()
    seen = {(_key(c), s) for c in train for s in c.slices}
    noise_seeds = {c.seed for c in train}
    for case in mr_heldout_cases():
        assert case.seed not in noise_seeds
        assert case.placement_seed is None or case.placement_seed >= 5000
        assert not any((_key(case), s) in seen for s in case.slices), case
    assert all(c.placement_seed is None or c.placement_seed < 5000 for c in train)


def test_heldout_spine_cases_vary_in_herniation_slices_and_protocol():
    every = [c for c in mr_heldout_cases() if c.preset == "t2_tse_sag"]
    spine = [c for c in every if c.reduction == SPINE_REDUCTION]
    pf = [c for c in every if c.reduction == SPINE_REDUCTION_PF]
    assert len(spine) >= 4 and len(pf) == len(spine) and len(every) == 2 * len(spine)
    # the same cases at 6:39 by partial Fourier, with other noise
    assert [(c.placement_seed, c.changes, c.shift_mm) for c in pf] == [
        (c.placement_seed, c.changes, c.shift_mm) for c in spine
    ]
    assert not {c.seed for c in pf} & {c.seed for c in spine}
    # the headline (under 6:30): the first case is the preset itself
    assert spine[0].changes == () and spine[0].shift_mm == 0.0
    assert round(derive(spine[0].full_protocol()).scan_time_s) == 691
    assert round(derive(spine[0].reduced_protocol()).scan_time_s) == 346 < 6 * 60 + 30
    assert round(derive(pf[0].reduced_protocol()).scan_time_s) == 399
    # herniations at different discs and of different sizes: the painted volumes all differ
    healthy = load_anatomy("spine").labels
    painted = [load_anatomy("spine", "disc_herniation", c.placement_seed).labels for c in spine]
    changed = [np.argwhere(p != healthy) for p in painted]
    assert all(len(c) > 0 for c in changed)
    levels = {int(np.round(c[:, 0].mean() / 10)) for c in changed}  # z of the herniation, cm
    assert len(levels) >= 3
    sizes = [len(c) for c in changed]
    assert max(sizes) > 2 * min(sizes)
    # and at least two parameter sets besides the preset, and two slice positions
    assert len({c.changes for c in spine}) >= 3
    assert len({c.shift_mm for c in spine}) >= 2


def test_spine_training_cases_cover_the_partial_fourier_family():
    cases = mr_spine_cases(40, seed=0)
    assert sum(dict(c.reduction) == dict(SPINE_REDUCTION_PF) for c in cases) >= 10
    assert len({dict(c.changes)["matrix_phase"] for c in cases}) >= 3
    assert len({c.shift_mm for c in cases}) > 30
    assert mr_spine_cases(5, seed=0) == cases[:5]  # deterministic for a seed


def test_training_cases_are_those_the_shipped_weights_record():
    """The training command in ``weights/README.md`` draws exactly the cases the shipped MR
    network was trained on (a change to the case lists would need a retraining)."""
    import json

    from simulator.ai.model import WEIGHTS_DIR

    record = json.loads((WEIGHTS_DIR / "mr.json").read_text())
    train, _ = mr_cases(quick=False, seed=record["seed"])
    assert [describe_mr_case(c) for c in train] == record["data"]["cases"]
