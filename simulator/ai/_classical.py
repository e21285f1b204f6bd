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


def nlm(image: npt.ArrayLike, h_factor: float = 0.8) -> np.ndarray:
    """Non-local means (5×5 patches, 13×13 search), h = ``h_factor`` · estimated SD, per slice."""
    from skimage.restoration import denoise_nl_means

    x = np.asarray(image, dtype=np.float64)
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape[:-2]):
        s = estimate_noise_sd(x[idx])
        out[idx] = denoise_nl_means(
            x[idx], h=h_factor * s, sigma=s, patch_size=5, patch_distance=6, fast_mode=True
        )
    return out


def tv(image: npt.ArrayLike, weight_factor: float = 1.0) -> np.ndarray:
    """Chambolle total variation, weight = ``weight_factor`` · estimated SD, per slice."""
    from skimage.restoration import denoise_tv_chambolle

    x = np.asarray(image, dtype=np.float64)
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape[:-2]):
        out[idx] = denoise_tv_chambolle(x[idx], weight=weight_factor * estimate_noise_sd(x[idx]))
    return out
