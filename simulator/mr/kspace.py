"""Raw data for lessons: the multi-coil k-space of a series and its reconstruction.

:func:`acquire_kspace` runs the same acquisition as :func:`simulator.mr.scan` and returns the
sampled k-space itself (what a k-space lesson shows: the bright centre that sets contrast, the
edges that set detail, the skipped lines of SENSE and partial Fourier);
:meth:`KSpace.reconstruct` turns it into images.

Examples
--------
>>> import numpy as np                                                    # doctest: +SKIP
>>> ks = acquire_kspace(load_anatomy("brain"), preset("brain", "t1_se"),
...                     rng=np.random.default_rng(1), slices=[10])        # doctest: +SKIP
>>> ks.centered()[0, 0].shape                                             # doctest: +SKIP
(192, 256)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simulator.mr._pipeline import acquire_slice, effective_protocol, orient, setup, slice_list
from simulator.mr.acquisition import noise_sd
from simulator.mr.anatomy import Anatomy
from simulator.mr.coils import noise_covariance
from simulator.mr.geometry import SlicePlan
from simulator.mr.protocol import Geometry, MRProtocol
from simulator.mr.recon import reconstruct
from simulator.mr.rules import check_protocol

__all__ = ["KSpace", "acquire_kspace"]


@dataclass(frozen=True, eq=False)
class KSpace:
    """Sampled multi-coil k-space of some slices of a series.

    Parameters
    ----------
    data : ndarray of complex64, shape (n, coils, n_phase, n_read)
        FFT order (DC at index 0), zeros on the lines not acquired, with noise (a fully
        sampled acquisition's is the transform of the noisy coil images that ``scan``
        combines: the same noise, white in k-space as in image space).
    noiseless : ndarray of complex64, same shape
        The same without noise.
    mask : ndarray of bool, shape (n_phase,)
        Acquired phase lines (FFT order).
    sensitivities : ndarray of complex64, shape (coils, n_phase, n_read)
        Coil maps used by the reconstruction (pre-scan).
    noise_sd : float
        SD of the noise per real channel and sample.
    noise_covariance : ndarray of complex128, shape (coils, coils)
        Receiver noise covariance Ψ (unit diagonal; neighbouring channels correlated).
    protocol : MRProtocol
    plan : SlicePlan
    slice_indices : tuple of int
    """

    data: NDArray[np.complex64]
    noiseless: NDArray[np.complex64]
    mask: NDArray[np.bool_]
    sensitivities: NDArray[np.complex64]
    noise_sd: float
    protocol: MRProtocol
    plan: SlicePlan
    slice_indices: tuple[int, ...]
    n_sym: int | None = None
    noise_covariance: NDArray[np.complex128] | None = None

    def __post_init__(self) -> None:
        for name in ("data", "noiseless"):
            arr = getattr(self, name)
            if arr.flags.writeable:
                view = arr.view()
                view.flags.writeable = False
                object.__setattr__(self, name, view)

    def centered(self, noiseless: bool = False) -> NDArray[np.complex64]:
        """k-space with the centre in the middle (for display), same shape as ``data``."""
        k = self.noiseless if noiseless else self.data
        return np.fft.fftshift(k, axes=(-2, -1))

    def reconstruct(self, noiseless: bool = False) -> NDArray[np.float32]:
        """Magnitude images (n, rows, cols) as :func:`~simulator.mr.scan` shows them."""
        k = self.noiseless if noiseless else self.data
        imgs = [np.abs(reconstruct(s, self.sensitivities, self.protocol.parallel_r,
                                   self.n_sym, self.noise_covariance)).astype(np.float32)
                for s in k]
        return orient(np.stack(imgs), self.plan)


def acquire_kspace(anatomy: Anatomy, protocol: MRProtocol, geometry: Geometry | None = None,
                   *, rng: np.random.Generator | int | None,
                   slices: Sequence[int] | None = None) -> KSpace:
    """Acquire the multi-coil k-space of a series (same physics as ``scan``).

    Parameters
    ----------
    anatomy, protocol, geometry, rng, slices
        As for :func:`simulator.mr.scan`.

    Returns
    -------
    KSpace

    Raises
    ------
    ParameterError
        As :func:`simulator.mr.scan`.
    """
    protocol = effective_protocol(protocol, geometry)
    check_protocol(protocol)
    st = setup(anatomy, protocol, geometry, rng)
    idx = slice_list(slices, protocol.slices)
    noisy, clean = [], []
    for i in idx:
        sd = acquire_slice(anatomy, st, i)
        noisy.append(sd.kspace())
        clean.append(sd.clean_kspace())
    return KSpace(np.stack(noisy), np.stack(clean), st.samp.mask, st.maps,
                  noise_sd(protocol) if st.rng is not None else 0.0, protocol, st.plan,
                  tuple(idx), st.n_sym, noise_covariance(protocol.coils))
