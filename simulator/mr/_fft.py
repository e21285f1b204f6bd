"""Unitary 2-D FFTs on the last two axes (scipy.fft, complex64 kept, two workers).

k-space arrays are in FFT order (DC at index 0); images have their centre pixel where the
grid puts it. ``norm="ortho"`` makes the transforms unitary, so white noise keeps its
standard deviation between k-space and image.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
from numpy.typing import NDArray

__all__ = ["fft2", "ifft2", "WORKERS"]

WORKERS = 2


def fft2(x: NDArray[np.complexfloating]) -> NDArray[np.complexfloating]:
    """Unitary forward FFT over the last two axes."""
    return scipy.fft.fft2(x, axes=(-2, -1), norm="ortho", workers=WORKERS)


def ifft2(k: NDArray[np.complexfloating]) -> NDArray[np.complexfloating]:
    """Unitary inverse FFT over the last two axes."""
    return scipy.fft.ifft2(k, axes=(-2, -1), norm="ortho", workers=WORKERS)
