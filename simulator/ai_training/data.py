"""Training pairs: (noisy reduced-time image, noise-free truth, loss weight), normalised.

Every pair is divided by :func:`simulator.ai._prepare.robust_scale` of its *noisy* image —
exactly what inference does — so the network learns in the units it will meet. The
scanner-driven generators live in :mod:`simulator.ai_training.cases`; this module holds the
pair type and a tiny synthetic generator used to test the training loop on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from simulator.ai._prepare import robust_scale

__all__ = ["Pair", "make_pair", "lesion_weight", "synthetic_pairs"]

Array32 = npt.NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class Pair:
    """One 2-D training example, already scaled.

    Attributes
    ----------
    noisy, clean, weight : ndarray of shape (rows, cols), float32
        Network input, target, and per-pixel loss weight (1 outside lesions).
    meta : dict
        Where it came from (anatomy, protocol, seed, slice).
    """

    noisy: Array32
    clean: Array32
    weight: Array32
    meta: dict = field(default_factory=dict)


def lesion_weight(lesion_mask: npt.NDArray[np.bool_] | None, shape, boost: float) -> Array32:
    """1 everywhere, ``1 + boost`` on lesions dilated by 2 pixels (their edges matter too)."""
    w = np.ones(shape, np.float32)
    if lesion_mask is not None and boost > 0 and lesion_mask.any():
        w[ndimage.binary_dilation(lesion_mask, iterations=2)] += boost
    return w


def make_pair(
    noisy: npt.ArrayLike,
    clean: npt.ArrayLike,
    lesion_mask: npt.NDArray[np.bool_] | None = None,
    boost: float = 0.0,
    meta: dict | None = None,
) -> Pair | None:
    """Scale a (noisy, clean) slice pair by the noisy image's robust scale.

    Returns ``None`` for an empty slice (scale 0), which carries nothing to learn.
    """
    x = np.asarray(noisy, dtype=np.float32)
    y = np.asarray(clean, dtype=np.float32)
    s = robust_scale(x)
    if s <= 0:
        return None
    return Pair(x / s, y / s, lesion_weight(lesion_mask, x.shape, boost), dict(meta or {}))


def synthetic_pairs(
    n: int, rng: np.random.Generator, size: int = 64, sigma: float = 0.1
) -> list[Pair]:
    """Random ellipses plus Gaussian noise: a scanner-free problem for testing the loop."""
    yy, xx = np.mgrid[:size, :size].astype(np.float32) / size
    out = []
    for _ in range(n):
        img = np.zeros((size, size), np.float32)
        for _ in range(int(rng.integers(2, 6))):
            cy, cx = rng.uniform(0.2, 0.8, 2)
            ry, rx = rng.uniform(0.05, 0.3, 2)
            img[((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1] += rng.uniform(0.2, 1.0)
        noisy = img + rng.normal(0, sigma, img.shape).astype(np.float32)
        pair = make_pair(np.abs(noisy), img, meta={"kind": "synthetic"})
        if pair is not None:
            out.append(pair)
    return out
