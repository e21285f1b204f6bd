"""Benchmark: AI findings on a 20-slice brain MR series and a whole-body PET, one CPU core.

Run as a script (prints the times, target ≤ 200 ms each, issue 19)::

    python tests/benchmarks/bench_findings.py

or with pytest-benchmark: ``pytest tests/benchmarks/bench_findings.py --benchmark-only``.
BLAS is held to one thread with threadpoolctl so that the figure is "one core". Scanning
the series (not timed) takes a few seconds for the MR and some 20 s for the 7-bed PET.
"""

from __future__ import annotations

import functools
import time

from threadpoolctl import threadpool_limits

from simulator.findings import detect
from simulator.findings_training.cases import BrainCase, PETCase, scan_brain, scan_pet

TARGET_MS = 200.0


@functools.cache
def _mr():
    return scan_brain(BrainCase("flair", "ms_lesions", 5001, seed=1))


@functools.cache
def _pet():
    return scan_pet(PETCase("patient", seed=1))


def _extra():
    """Heavier inputs, printed for the record: the larger T2 grid, a noisy PET."""
    return (
        ("brain MR, T2 TSE, 20 slices", scan_brain(BrainCase("t2_tse", "ms_lesions", 5001, seed=1))),
        ("whole-body PET, 0.5 min per bed", scan_pet(PETCase("patient", seed=1, minutes_per_bed=0.5))),
    )


def _best_ms(fn, x, repeat: int = 5) -> float:
    fn(x)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    return 1000.0 * min(times)


def main() -> None:
    rows = []
    main_rows = (("brain MR, FLAIR, 20 slices", _mr()), ("whole-body PET, 7 beds", _pet()))
    for name, series in main_rows + _extra():
        shape = (series.images if hasattr(series, "images") else series.images_bqml).shape
        with threadpool_limits(limits=1):
            ms = _best_ms(detect, series)
        rows.append((name, shape, ms, len(detect(series))))
    print(f"detect(), one core (best of 5), target ≤ {TARGET_MS:.0f} ms")
    for name, shape, ms, n in rows:
        print(f"  {ms:8.1f} ms  {name} {shape}, {n} findings   {'PASS' if ms <= TARGET_MS else 'FAIL'}")


def test_bench_findings_mr(benchmark):
    s = _mr()
    with threadpool_limits(limits=1):
        out = benchmark(detect, s)
    assert isinstance(out, tuple)


def test_bench_findings_pet(benchmark):
    s = _pet()
    with threadpool_limits(limits=1):
        out = benchmark(detect, s)
    assert isinstance(out, tuple)


if __name__ == "__main__":
    main()
