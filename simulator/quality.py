"""Image-quality metrics shared by the MR and PET scanners.

Plain ndarrays in, floats out; inputs are never modified. References:

- NEMA MS 1-2008, *Determination of Signal-to-Noise Ratio (SNR) in Diagnostic MR
  Images*: method 1 (difference of two identical acquisitions).
- Wang Z. et al., *Image quality assessment: from error visibility to structural
  similarity*, IEEE TIP 13(4), 2004 (SSIM, Gaussian window σ = 1.5, K1 = 0.01, K2 = 0.03).
- NEMA NU 2-2018 section 7 (image quality: contrast recovery, background variability).
- SUV body-weight definition, e.g. Boellaard R. et al., EANM guideline 2.0, EJNMMI 2015.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

__all__ = [
    "snr_difference",
    "snr_single",
    "cnr",
    "ssim",
    "nrmse",
    "crc_hot",
    "crc_cold",
    "background_variability",
    "suv",
]

ArrayF = npt.NDArray[np.floating]
Mask = npt.NDArray[np.bool_]

#: Mean of a Rayleigh-distributed background relative to σ of each complex channel
#: (sqrt(pi/2)·σ) gives SD_magnitude = 0.655·σ; used by the single-image method.
RAYLEIGH_SD_FACTOR = 0.655


def snr_difference(image_a: ArrayF, image_b: ArrayF, roi: Mask) -> float:
    """SNR by the NEMA MS 1 difference method.

    Parameters
    ----------
    image_a, image_b : ndarray
        Two acquisitions with identical parameters and independent noise.
    roi : ndarray of bool
        Signal region (uniform tissue), same shape as the images.

    Returns
    -------
    float
        mean(a+b)/2 over the ROI divided by SD(a−b)/√2 over the ROI.
    """
    a = np.asarray(image_a, dtype=np.float64)[roi]
    b = np.asarray(image_b, dtype=np.float64)[roi]
    signal = 0.5 * float(np.mean(a + b))
    noise = float(np.std(a - b, ddof=1)) / np.sqrt(2.0)
    return signal / noise if noise > 0 else float("inf")


def snr_single(image: ArrayF, signal_roi: Mask, background_roi: Mask) -> float:
    """SNR from one magnitude image: mean signal / (SD of air background / 0.655)."""
    img = np.asarray(image, dtype=np.float64)
    noise = float(np.std(img[background_roi], ddof=1)) / RAYLEIGH_SD_FACTOR
    signal = float(np.mean(img[signal_roi]))
    return signal / noise if noise > 0 else float("inf")


def cnr(image: ArrayF, roi_a: Mask, roi_b: Mask, noise_sd: float) -> float:
    """Contrast-to-noise ratio |mean(a) − mean(b)| / noise_sd."""
    img = np.asarray(image, dtype=np.float64)
    return abs(float(np.mean(img[roi_a]) - np.mean(img[roi_b]))) / noise_sd


def ssim(
    image: ArrayF, reference: ArrayF, data_range: float | None = None, sigma: float = 1.5
) -> float:
    """Mean structural similarity of a 2-D or 3-D image against a reference.

    Parameters
    ----------
    image, reference : ndarray
        Same shape; compared slice-free (the Gaussian window acts in every axis
        except that 3-D volumes are filtered in-plane only).
    data_range : float, optional
        Dynamic range of the reference; defaults to its max − min.
    sigma : float
        Gaussian window width in pixels (Wang et al.: 1.5).
    """
    x = np.asarray(image, dtype=np.float64)
    y = np.asarray(reference, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"shapes differ: {x.shape} vs {y.shape}")
    if data_range is None:
        data_range = float(y.max() - y.min()) or 1.0
    sig = (0.0,) * (x.ndim - 2) + (sigma, sigma)

    def blur(v: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter(v, sig, truncate=3.5)

    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cxy = blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(np.mean(s))


def nrmse(image: ArrayF, reference: ArrayF, mask: Mask | None = None) -> float:
    """Root-mean-square error normalised by the reference's RMS (inside ``mask``)."""
    x = np.asarray(image, dtype=np.float64)
    y = np.asarray(reference, dtype=np.float64)
    if mask is not None:
        x, y = x[mask], y[mask]
    denom = float(np.sqrt(np.mean(y * y)))
    return float(np.sqrt(np.mean((x - y) ** 2))) / denom if denom > 0 else float("inf")


def crc_hot(mean_hot: float, mean_background: float, true_ratio: float) -> float:
    """NEMA NU 2 hot-sphere contrast recovery (C_H/C_B − 1)/(a_H/a_B − 1)."""
    return (mean_hot / mean_background - 1.0) / (true_ratio - 1.0)


def crc_cold(mean_cold: float, mean_background: float) -> float:
    """NEMA NU 2 cold-sphere contrast 1 − C_C/C_B."""
    return 1.0 - mean_cold / mean_background


def background_variability(background_roi_means: npt.ArrayLike) -> float:
    """NEMA NU 2 background variability SD(ROI means)/mean(ROI means)."""
    m = np.asarray(background_roi_means, dtype=np.float64)
    return float(np.std(m, ddof=1) / np.mean(m))


def suv(
    concentration_bqml: ArrayF | float, dose_bq_at_scan: float, weight_kg: float
) -> npt.NDArray[np.float64]:
    """Body-weight SUV: C [Bq/mL] / (dose [Bq] / weight [g]), tissue density 1 g/mL.

    ``dose_bq_at_scan`` is the injected activity decayed to the time the
    concentration refers to (DICOM DecayCorrection START: the series start).
    """
    return np.asarray(concentration_bqml, dtype=np.float64) / (dose_bq_at_scan / (weight_kg * 1000.0))
