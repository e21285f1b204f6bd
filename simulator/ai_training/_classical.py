"""Classical denoisers the AI is compared with: non-local means and total variation.

They come from scikit-image (imported when called: it belongs to the ``test`` and ``train``
extras, not to inference). Their one parameter, the noise level, is estimated from the image
itself, so they are as "blind" as the network.

References
----------
Immerkær J., *Fast noise variance estimation*, CVIU 64(2), 1996.
Buades A., Coll B., Morel J.-M., *A non-local algorithm for image denoising*, CVPR 2005.
Chambolle A., *An algorithm for total variation minimization*, JMIV 20, 2004.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

__all__ = ["estimate_noise_sd", "nlm", "tv"]

_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float64)


def estimate_noise_sd(image: npt.ArrayLike) -> float:
    """Gaussian noise SD of a 2-D image from its Laplacian-difference residual (Immerkær).

    Only pixels whose 3×3 neighbourhood is non-zero count, so air outside an MR or PET
    field of view does not pull the estimate to zero.
    """
    x = np.asarray(image, dtype=np.float64)
    r = ndimage.convolve(x, _IMMERKAER, mode="reflect")
    inside = ndimage.minimum_filter(np.abs(x), size=3) > 0
    vals = r[inside] if inside.sum() > 100 else r.ravel()
    return float(np.sqrt(np.pi / 2.0) * np.mean(np.abs(vals)) / 6.0)


def _sigmas(x: np.ndarray, sigma: npt.ArrayLike | None) -> np.ndarray:
    """Per-slice noise SD: given (scalar or one per slice), else estimated."""
    lead = x.shape[:-2]
    if sigma is None:
        return np.array([estimate_noise_sd(x[i]) for i in np.ndindex(lead)]).reshape(lead)
    return np.broadcast_to(np.asarray(sigma, dtype=np.float64), lead)


def nlm(
    image: npt.ArrayLike, h_factor: float = 0.8, sigma: npt.ArrayLike | None = None
) -> np.ndarray:
    """Non-local means (5×5 patches, 13×13 search), h = ``h_factor`` · noise SD, per slice.

    ``sigma`` (scalar or one per slice) gives the noise SD; by default it is estimated
    (:func:`estimate_noise_sd`, which underestimates spatially correlated noise such as a
    post-filtered PET image's).
    """
    from skimage.restoration import denoise_nl_means

    x = np.asarray(image, dtype=np.float64)
    sig = _sigmas(x, sigma)
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape[:-2]):
        s = float(sig[idx])
        out[idx] = denoise_nl_means(
            x[idx], h=h_factor * s, sigma=s, patch_size=5, patch_distance=6, fast_mode=True
        )
    return out


def tv(
    image: npt.ArrayLike, weight_factor: float = 1.0, sigma: npt.ArrayLike | None = None
) -> np.ndarray:
    """Chambolle total variation, weight = ``weight_factor`` · noise SD, per slice."""
    from skimage.restoration import denoise_tv_chambolle

    x = np.asarray(image, dtype=np.float64)
    sig = _sigmas(x, sigma)
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape[:-2]):
        out[idx] = denoise_tv_chambolle(x[idx], weight=weight_factor * float(sig[idx]))
    return out
