"""Benchmark: loading each MR anatomy (and painting a pathology) in a fresh cache.

Run as a script (prints a table; target ≤ 300 ms per volume so that the scanner's cold
start stays under 2 s)::

    python tests/benchmarks/bench_anatomy.py

or with pytest-benchmark: ``pytest tests/benchmarks/bench_anatomy.py --benchmark-only``.
"""

from __future__ import annotations

import statistics
import time

import pytest

from simulator.mr import anatomy
from simulator.mr.anatomy import ANATOMIES, PATHOLOGIES, load_anatomy

TARGET_MS = 300.0
CASES = [(a, None) for a in ANATOMIES] + [(a, p) for a in ANATOMIES for p in PATHOLOGIES[a]]


def _cold_load(name: str, pathology: str | None) -> None:
    load_anatomy.cache_clear()
    anatomy._load_base.cache_clear()
    load_anatomy(name, pathology)


@pytest.mark.parametrize(("name", "pathology"), CASES)
def test_cold_load(benchmark, name: str, pathology: str | None) -> None:  # type: ignore[no-untyped-def]
    benchmark(_cold_load, name, pathology)


def main() -> None:
    print(f"{'anatomy':8} {'pathology':20} {'median ms':>10} {'max ms':>8}  target {TARGET_MS:.0f} ms")
    for name, pathology in CASES:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            _cold_load(name, pathology)
            times.append(1000 * (time.perf_counter() - t0))
        print(f"{name:8} {pathology or '-':20} {statistics.median(times):10.0f} {max(times):8.0f}")


if __name__ == "__main__":
    main()
