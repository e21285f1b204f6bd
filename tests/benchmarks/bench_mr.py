"""Benchmark: MR rescan after a parameter change, a 20-slice series, first image cold.

Targets (issue 3): rescan of one 256×256 slice with 8 coils after a parameter change
median ≤ 20 ms; a 20-slice series ≤ 0.5 s; first image in a fresh process ≤ 2 s. A matrix
change (new slice geometry, nothing cached) is compared with SpinSight's ~110 ms. Each is
also reported as a ratio to a bare ``numpy.fft.fft2`` of the same k-space (8×256×256
complex64), the floor of any simulator that transforms every coil once.

Run as a script (prints a table)::

    python tests/benchmarks/bench_mr.py

or with pytest-benchmark: ``pytest tests/benchmarks/bench_mr.py --benchmark-only``.
"""

from __future__ import annotations

import dataclasses
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import pytest

from simulator.mr import MRProtocol, load_anatomy, preset, scan
from simulator.mr.geometry import clear_cache

#: Brain T1 SE with a square 256×256 matrix and 8 coils.
SE_256 = dataclasses.replace(MRProtocol(), matrix_phase=256, coils=8)
TSE_256 = dataclasses.replace(preset("brain", "t2_tse"), matrix_phase=256, coils=8)

COLD_SCRIPT = """
import time
t0 = time.perf_counter()
import numpy as np
from simulator.mr import load_anatomy, preset, scan
s = scan(load_anatomy("brain"), preset("brain", "t1_se"), rng=np.random.default_rng(1),
         slices=[10])
assert s.images.shape[0] == 1
print(time.perf_counter() - t0)
"""


def _median_ms(fn: Callable[[], object], n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


class _Rescan:
    """Rescan after a TR change (the geometry caches stay warm, the contrast is new)."""

    def __init__(self, protocol: MRProtocol, slices: list[int] | None) -> None:
        self.anat = load_anatomy("brain")
        self.p = protocol
        self.slices = slices
        self.i = 0
        scan(self.anat, protocol, rng=np.random.default_rng(0), slices=slices)  # warm caches

    def __call__(self) -> object:
        self.i += 1
        q = dataclasses.replace(self.p, tr_ms=self.p.tr_ms + (self.i % 50))
        return scan(self.anat, q, rng=np.random.default_rng(self.i), slices=self.slices)


class _MatrixChange:
    """Rescan after a matrix change: the slice geometry is new, nothing cached for it."""

    def __init__(self) -> None:
        self.anat = load_anatomy("brain")
        self.i = 0
        scan(self.anat, SE_256, rng=np.random.default_rng(0), slices=[10])

    def __call__(self) -> object:
        self.i += 1
        clear_cache()
        q = dataclasses.replace(SE_256, matrix_phase=256 - 32 * (self.i % 2))
        return scan(self.anat, q, rng=np.random.default_rng(self.i), slices=[10])


def _numpy_fft() -> Callable[[], object]:
    k = (np.random.default_rng(0).standard_normal((8, 256, 256, 2), dtype=np.float32)
         .view(np.complex64)[..., 0])
    return lambda: np.fft.fft2(k)


def cold_first_image_s() -> float:
    """Wall time from the first import to the first image, in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", COLD_SCRIPT], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def test_rescan_one_slice_se(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark(_Rescan(SE_256, [10]))


def test_rescan_one_slice_tse(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark(_Rescan(TSE_256, [10]))


def test_rescan_20_slices(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark(_Rescan(SE_256, None))


def test_rescan_after_matrix_change(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark(_MatrixChange())


def test_numpy_fft_reference(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark(_numpy_fft())


@pytest.mark.parametrize("run", [0])
def test_cold_first_image(benchmark, run: int) -> None:  # type: ignore[no-untyped-def]
    benchmark.pedantic(cold_first_image_s, rounds=3, iterations=1)


def main() -> None:
    fft_ms = _median_ms(_numpy_fft(), 30)
    rows = [
        ("rescan 1 slice 256² 8 coils, SE", _median_ms(_Rescan(SE_256, [10]), 40), 20.0),
        ("rescan 1 slice 256² 8 coils, TSE", _median_ms(_Rescan(TSE_256, [10]), 40), 20.0),
        ("1 slice after a matrix change (cold)", _median_ms(_MatrixChange(), 10), 110.0),
        ("rescan 20 slices 256² 8 coils, SE", _median_ms(_Rescan(SE_256, None), 7), 500.0),
        ("first image, fresh process",
         1000 * statistics.median(cold_first_image_s() for _ in range(3)), 2000.0),
    ]
    print(f"numpy.fft.fft2 of 8×256×256 complex64: {fft_ms:.1f} ms (reference)")
    print(f"{'case':36} {'median ms':>10} {'target ms':>10} {'× numpy FFT':>12}")
    for name, ms, target in rows:
        print(f"{name:36} {ms:10.1f} {target:10.0f} {ms / fft_ms:12.2f}")


if __name__ == "__main__":
    main()
