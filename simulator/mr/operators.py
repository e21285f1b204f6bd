"""The MR encoding operator: image → sampled multi-coil k-space, and its adjoint.

One operator, one set of laws (sigpy's ``Linop`` discipline): the production forward model
(:func:`simulator.mr._pipeline.acquire_slice`, behind :func:`simulator.mr.scan` and
:func:`simulator.mr.acquire_kspace`) encodes every undersampled slice with
:meth:`EncodingOperator.forward` and every noiseless k-space with it, so that the
dot-product test ``⟨E x, y⟩ = ⟨x, Eᴴ y⟩`` of ``tests/mr/test_operators.py`` guards the code
that makes the images, not a twin of it.

``E = M · F · W · C``: coil sensitivities ``C`` on the extended phase grid (``L`` phase FOVs,
enough to hold the body), the fold ``W`` of that grid onto the phase FOV (wrap-around: each
pixel of the FOV sums the ``L`` points one FOV apart), the unitary 2-D FFT ``F`` of each coil
image and the mask ``M`` of the acquired phase lines. Its adjoint is
``Eᴴ = Cᴴ · Wᵀ · F⁻¹ · M``, with ``Wᵀ`` repeating the FOV ``L`` times along phase.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from simulator.mr._fft import fft2, ifft2

__all__ = ["EncodingOperator", "fold_coil_images"]


def fold_coil_images(m: NDArray[np.complex64], maps_ext: NDArray[np.complex64],
                     n_phase: int) -> NDArray[np.complex64]:
    """``W · C · m``: coil images of the object ``m`` folded onto the phase FOV (wrap).

    Parameters
    ----------
    m : ndarray of complex, shape (L·n_phase, n_read)
        Object on the extended phase grid.
    maps_ext : ndarray of complex, shape (coils, L·n_phase, n_read)
        Coil sensitivities on that grid.
    n_phase : int
        Phase lines of the FOV.

    Returns
    -------
    ndarray of complex, shape (coils, n_phase, n_read)
    """
    nc = maps_ext.shape[0]
    ext = m.shape[0] // n_phase
    coil_img = maps_ext * m[None]
    if ext > 1:
        coil_img = coil_img.reshape(nc, ext, n_phase, m.shape[1]).sum(axis=1)
    return coil_img


class EncodingOperator:
    """MR encoding ``E = M · F · W · C`` and its adjoint (see the module docstring).

    Parameters
    ----------
    maps : ndarray of complex, shape (coils, L·n_phase, n_read)
        Coil sensitivities on the image grid, extended ``L`` times along phase when the
        object is (``L = 1``: no fold).
    mask : ndarray of bool, shape (n_phase,)
        Acquired phase lines of the FOV (FFT order).
    n_phase : int, optional
        Phase lines of the FOV (default: ``maps.shape[1]``, no fold). Must divide
        ``maps.shape[1]``.
    """

    def __init__(self, maps: NDArray[np.complexfloating], mask: NDArray[np.bool_],
                 n_phase: int | None = None) -> None:
        n_ext = maps.shape[1]
        self.n_phase = n_ext if n_phase is None else int(n_phase)
        if self.n_phase <= 0 or n_ext % self.n_phase:
            raise ValueError(f"the extended grid ({n_ext} lines) must hold a whole number of "
                             f"phase FOVs of {self.n_phase} lines")
        if mask.shape != (self.n_phase,):
            raise ValueError(f"mask of shape {mask.shape}, expected ({self.n_phase},)")
        self.maps = maps
        self.full = bool(mask.all())
        self.mask = mask[None, :, None]

    @property
    def extension(self) -> int:
        """``L``: phase FOVs on the extended grid."""
        return int(self.maps.shape[1] // self.n_phase)

    @property
    def ishape(self) -> tuple[int, int]:
        """Image shape (L·n_phase, n_read)."""
        return int(self.maps.shape[1]), int(self.maps.shape[2])

    @property
    def oshape(self) -> tuple[int, int, int]:
        """k-space shape (coils, n_phase, n_read)."""
        return int(self.maps.shape[0]), self.n_phase, int(self.maps.shape[2])

    def coil_images(self, x: NDArray[np.complexfloating]) -> NDArray[np.complexfloating]:
        """``W · C · x``: the folded coil images (what a fully sampled acquisition without
        noise reconstructs to, coil by coil)."""
        return fold_coil_images(x, self.maps, self.n_phase)

    def forward(self, x: NDArray[np.complexfloating]) -> NDArray[np.complexfloating]:
        """Apply ``E``: zeros on the lines not acquired."""
        k: NDArray[np.complexfloating] = fft2(self.coil_images(x))
        return k if self.full else k * self.mask

    def adjoint(self, k: NDArray[np.complexfloating]) -> NDArray[np.complexfloating]:
        """Apply ``Eᴴ``."""
        img = ifft2(k if self.full else k * self.mask)
        if self.extension > 1:
            img = np.tile(img, (1, self.extension, 1))
        out: NDArray[np.complexfloating] = np.sum(np.conj(self.maps) * img, axis=0)
        return out
