"""Checks and normalisation around the network: image in, stack of even slices out, and back.

The network sees each 2-D slice divided by a robust scale (the 99.5th percentile of its
absolute values), so a trained denoiser works whatever the units (MR arbitrary units,
PET Bq/mL) and the scale comes back exactly on the way out. Training uses the very same
:func:`robust_scale` per slice (``simulator.ai_training.data``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulator.errors import ParameterError, UserError

__all__ = ["SCALE_PERCENTILE", "MIN_SIDE", "robust_scale", "prepare", "restore", "Context"]

#: Percentile of |image| that maps to 1.0 at the network input.
SCALE_PERCENTILE = 99.5

#: Smallest image side accepted (the network's 3×3 kernels at half resolution).
MIN_SIDE = 4


def robust_scale(image: npt.NDArray[np.floating]) -> float:
    """99.5th percentile of |image|, falling back to max |image|; 0 for an all-zero image."""
    a = np.abs(np.asarray(image, dtype=np.float32))
    s = float(np.percentile(a, SCALE_PERCENTILE))
    return s if s > 0 else float(a.max())


@dataclass(frozen=True)
class Context:
    """What :func:`restore` needs to undo :func:`prepare`."""

    shape: tuple[int, ...]
    dtype: np.dtype
    scale: npt.NDArray[np.float32]
    strength: float
    nonneg: bool
    identity: bool


def _check_strength(strength: float) -> float:
    try:
        s = float(strength)
    except (TypeError, ValueError):
        raise ParameterError("strength", strength, "0–1") from None
    if not 0.0 <= s <= 1.0:  # also refuses NaN
        raise ParameterError("strength", strength, "0–1")
    return s


def prepare(
    image: npt.ArrayLike, strength: float, modality: str
) -> tuple[npt.NDArray[np.float32], Context]:
    """Validate ``image`` and return a (n, even rows, even cols) float32 stack scaled to ~1.

    Raises
    ------
    ParameterError
        ``strength`` outside [0, 1].
    UserError
        Not a real 2-D/3-D array, NaN or infinite values, a side below ``MIN_SIDE``, or
        negative values in an MR magnitude image.
    """
    s = _check_strength(strength)
    arr = np.asarray(image)
    if arr.dtype.kind not in "biuf":
        raise UserError(
            f"AI denoising needs a real-valued image, got dtype {arr.dtype}",
            f"le débruitage IA demande une image réelle, reçu le type {arr.dtype}",
        )
    if arr.ndim not in (2, 3):
        raise UserError(
            f"AI denoising takes (rows, cols) or (slices, rows, cols), got shape {arr.shape}",
            f"le débruitage IA prend (lignes, colonnes) ou (coupes, lignes, colonnes), "
            f"reçu la forme {arr.shape}",
        )
    if min(arr.shape[-2:]) < MIN_SIDE:
        raise UserError(
            f"image too small for AI denoising: {arr.shape[-2:]}, at least {MIN_SIDE}×{MIN_SIDE}",
            f"image trop petite pour le débruitage IA : {arr.shape[-2:]}, "
            f"au moins {MIN_SIDE}×{MIN_SIDE}",
        )
    x = arr.astype(np.float32, copy=True).reshape((-1,) + arr.shape[-2:])
    if not np.all(np.isfinite(x)):
        raise UserError(
            "the image holds NaN or infinite values; AI denoising refuses it",
            "l'image contient des valeurs NaN ou infinies ; le débruitage IA la refuse",
        )
    nonneg = bool(x.min(initial=0.0) >= 0.0)
    if modality == "mr" and not nonneg:
        raise UserError(
            "an MR magnitude image cannot be negative; pass the magnitude (np.abs)",
            "une image MR de module ne peut pas être négative ; passer le module (np.abs)",
        )
    out_dtype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float32)
    scale = np.array([robust_scale(sl) for sl in x], dtype=np.float32)[:, None, None]
    identity = s == 0.0 or not np.any(scale > 0)
    ctx = Context(arr.shape, out_dtype, scale, s, nonneg, identity)
    if identity:
        return x, ctx
    x /= np.where(scale > 0, scale, 1.0)  # an all-zero slice stays zero
    rows, cols = x.shape[-2:]
    if rows % 2 or cols % 2:  # replicate the last row/column; cropped in restore
        x = np.pad(x, ((0, 0), (0, rows % 2), (0, cols % 2)), mode="edge")
    return np.ascontiguousarray(x), ctx


def restore(
    x: npt.NDArray[np.float32], y: npt.NDArray[np.float32], ctx: Context
) -> npt.NDArray[np.floating]:
    """Blend network output ``y`` with input ``x`` by the strength, undo scale and padding."""
    rows, cols = ctx.shape[-2:]
    if ctx.identity:
        out = x
    else:
        out = (1.0 - ctx.strength) * x[:, :rows, :cols] + ctx.strength * y[:, :rows, :cols]
        out *= ctx.scale
        if ctx.nonneg:
            np.maximum(out, 0.0, out=out)
    return out.reshape(ctx.shape).astype(ctx.dtype, copy=False)
