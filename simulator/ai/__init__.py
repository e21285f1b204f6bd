"""Learned denoisers for MR and PET images: numpy inference, weights shipped in the package.

Small residual CNNs (:mod:`simulator.ai.cnn`) trained on the simulator's own images — noisy
reduced-time scans against the noise-free truth — by :mod:`simulator.ai_training` (torch,
optional extra ``train``). Inference needs numpy only.

>>> from simulator.ai import denoise_mr                              # doctest: +SKIP
>>> clean = denoise_mr(series.images, strength=0.7)                   # doctest: +SKIP

What the networks gain and what they cost (small-lesion contrast) is measured by
``python -m simulator.ai_training.evaluate`` and written to ``simulator/ai/weights/evaluation.md``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from simulator.ai.model import Denoiser, DenoiserInfo, load_model

__all__ = ["denoise_mr", "denoise_pet", "load_model", "DenoiserInfo", "Denoiser"]


def denoise_mr(image: npt.ArrayLike, strength: float = 1.0) -> np.ndarray:
    """Denoise an MR magnitude image with the shipped network.

    Parameters
    ----------
    image : array_like of shape (rows, cols) or (slices, rows, cols)
        Magnitude image, any units, non-negative and finite.
    strength : float
        0 returns the input unchanged, 1 the network's output; in between a blend.

    Returns
    -------
    ndarray
        Same shape; same dtype for floating input, float32 otherwise.

    Raises
    ------
    ParameterError
        ``strength`` outside [0, 1].
    UserError
        NaN/inf or negative values, wrong number of dimensions, image smaller than 4×4.
    """
    return load_model("mr")(image, strength)


def denoise_pet(image_bqml: npt.ArrayLike, strength: float = 1.0) -> np.ndarray:
    """Denoise a PET activity image (Bq/mL), slice by slice, with the shipped network.

    Parameters
    ----------
    image_bqml : array_like of shape (rows, cols) or (slices, rows, cols)
        Reconstructed activity concentration, finite.
    strength : float
        0 returns the input unchanged, 1 the network's output; in between a blend.

    Returns
    -------
    ndarray
        Same shape and units; same dtype for floating input, float32 otherwise.
    """
    return load_model("pet")(image_bqml, strength)
