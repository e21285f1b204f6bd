"""Unitary 2-D FFTs on the last two axes (scipy.fft, complex64 kept).

k-space arrays are in FFT order (DC at index 0); images have their centre pixel where the
grid puts it. ``norm="ortho"`` makes the transforms unitary, so white noise keeps its
standard deviation between k-space and image.

A single image runs on one thread: at 256² a second worker costs more in hand-over than it
saves, and on shared cores it waits for them (``tests/benchmarks/bench_mr.py`` prints both).
Stacks of at least :data:`THREADED_MIN` samples (8 coils × 256²) use :data:`WORKERS`.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
from numpy.typing import NDArray

__all__ = ["fft2", "ifft2", "WORKERS", "THREADED_MIN", "workers_for"]

WORKERS = 2
THREADED_MIN = 1 << 19


def workers_for(size: int) -> int:
    """Threads for a transform of ``size`` samples."""
    return WORKERS if size >= THREADED_MIN else 1


def fft2(x: NDArray[np.complexfloating]) -> NDArray[np.complexfloating]:
    """Unitary forward FFT over the last two axes."""
    return scipy.fft.fft2(x, axes=(-2, -1), norm="ortho", workers=workers_for(x.size))


def ifft2(k: NDArray[np.complexfloating]) -> NDArray[np.complexfloating]:
    """Unitary inverse FFT over the last two axes."""
    return scipy.fft.ifft2(k, axes=(-2, -1), norm="ortho", workers=workers_for(k.size))
