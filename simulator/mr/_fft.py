"""Unitary FFTs of the MR pipeline (numpy.fft, complex64 kept, one thread).

k-space arrays are in FFT order (DC at index 0); images have their centre pixel where the
grid puts it. ``norm="ortho"`` makes the transforms unitary, so white noise keeps its
standard deviation between k-space and image.

numpy ≥ 2 transforms float32/complex64 in single precision, and importing it costs
nothing: scipy.fft would bring scipy.special, numpy.f2py and numpy.testing into every
console kernel (about 20 MB of each trainee's memory on a class server, ``docs/deploy.md``).
With ``norm="ortho"`` it runs at scipy.fft's speed on one worker (8 × 256² complex64: 4.2
against 4.1 ms). Everything runs on the calling thread: on the shared cores of a class
server a second worker mostly waits, and worker threads' own malloc arenas kept about 28 MB
more per kernel after a 20-slice series (PSS, measured 2026-12-02).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["fft2", "ifft2", "rfft_fft"]


def fft2(x: NDArray[np.complexfloating]) -> NDArray[np.complexfloating]:
    """Unitary forward FFT over the last two axes."""
    return np.fft.fft2(x, axes=(-2, -1), norm="ortho")


def ifft2(k: NDArray[np.complexfloating]) -> NDArray[np.complexfloating]:
    """Unitary inverse FFT over the last two axes."""
    return np.fft.ifft2(k, axes=(-2, -1), norm="ortho")


def rfft_fft(maps: NDArray[np.floating], keep: int) -> NDArray[np.complexfloating]:
    """Unitary 2-D FFT of real maps ``(T, P, R)``: a real FFT along the last axis, cut to its
    first ``keep`` frequencies, then a complex FFT along axis 1."""
    k = np.fft.rfft(maps, axis=2, norm="ortho")[:, :, :keep]
    return np.fft.fft(k, axis=1, norm="ortho")
