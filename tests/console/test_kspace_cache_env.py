"""``$MERM_KSPACE_CACHE_MIB`` caps a kernel's MR k-space cache; a bad value never stops it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from simulator.console._backend import KSPACE_CACHE_ENV, MRBackend, apply_kspace_cache_env
from simulator.mr import geometry


@pytest.fixture(autouse=True)
def _restore_budget() -> Iterator[None]:
    before = geometry.CACHE_BUDGET_BYTES
    yield
    geometry.set_cache_budget_bytes(before)


def test_env_sets_the_budget_in_mib() -> None:
    assert apply_kspace_cache_env({KSPACE_CACHE_ENV: " 256 "}) == 256
    assert geometry.CACHE_BUDGET_BYTES == 256 * 2**20


def test_unset_keeps_the_default() -> None:
    before = geometry.CACHE_BUDGET_BYTES
    assert apply_kspace_cache_env({}) is None
    assert geometry.CACHE_BUDGET_BYTES == before


@pytest.mark.parametrize("raw", ["lots", "-5", "1.5"])
def test_bad_value_is_logged_and_the_default_kept(raw: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    before = geometry.CACHE_BUDGET_BYTES
    with caplog.at_level(logging.WARNING):
        assert apply_kspace_cache_env({KSPACE_CACHE_ENV: raw}) is None
    assert geometry.CACHE_BUDGET_BYTES == before
    assert KSPACE_CACHE_ENV in caplog.text and "0 or more" in caplog.text


def test_the_mr_console_backend_applies_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KSPACE_CACHE_ENV, "64")
    MRBackend()
    assert geometry.CACHE_BUDGET_BYTES == 64 * 2**20
