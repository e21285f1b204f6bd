"""The per-slice k-space cache keeps within its budget, newest slices first."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pytest

from simulator.mr import MRProtocol, geometry
from simulator.mr.anatomy import Anatomy
from simulator.mr.scan import scan


@pytest.fixture
def default_budget() -> Iterator[int]:
    before = geometry.CACHE_BUDGET_BYTES
    geometry.clear_cache()
    yield before
    geometry.set_cache_budget_bytes(before)
    geometry.clear_cache()


def _cached_bytes() -> int:
    return sum(o.kspace.nbytes for o in geometry._CACHE.values())


def test_budget_caps_the_cache_and_keeps_the_newest(head: Anatomy, default_budget: int) -> None:
    p = dataclasses.replace(MRProtocol(), slices=4, matrix_read=128, matrix_phase=128)
    scan(head, p, rng=np.random.default_rng(0), slices=[0, 1, 2, 3])
    assert len(geometry._CACHE) == 4  # the default budget holds the whole series
    one = _cached_bytes() // 4
    geometry.set_cache_budget_bytes(2 * one)  # lowering the budget evicts at once
    assert len(geometry._CACHE) == 2 and _cached_bytes() <= 2 * one
    kept = list(geometry._CACHE)  # slices 2 and 3, oldest first
    scan(head, p, rng=np.random.default_rng(0), slices=[2])  # a hit moves slice 2 last
    assert list(geometry._CACHE) == [kept[1], kept[0]]
    scan(head, p, rng=np.random.default_rng(0), slices=[0])  # a miss evicts slice 3
    assert len(geometry._CACHE) == 2 and list(geometry._CACHE)[0] == kept[0]
    geometry.set_cache_budget_bytes(0)  # 0 keeps only the newest slice
    assert len(geometry._CACHE) == 1


def test_same_images_whatever_the_budget(head: Anatomy, default_budget: int) -> None:
    p = dataclasses.replace(MRProtocol(), slices=2, matrix_read=96, matrix_phase=96)
    big = scan(head, p, rng=np.random.default_rng(3), slices=[0, 1]).images
    geometry.clear_cache()
    geometry.set_cache_budget_bytes(0)
    small = scan(head, p, rng=np.random.default_rng(3), slices=[0, 1]).images
    np.testing.assert_array_equal(big, small)


def test_negative_budget_is_refused(default_budget: int) -> None:
    with pytest.raises(ValueError, match="0 or more"):
        geometry.set_cache_budget_bytes(-1)
    assert geometry.CACHE_BUDGET_BYTES == default_budget
