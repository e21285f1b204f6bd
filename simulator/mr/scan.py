"""One call from protocol to images: :func:`scan` returns an :class:`MRSeries`.

The pipeline per slice: cached tissue k-space for the slice geometry
(:func:`~simulator.mr.geometry.object_kspace`), contrast weights, coils, fold, noise and
undersampling (:class:`~simulator.mr.operators.EncodingOperator`), then SENSE or coil combination
and partial Fourier (:func:`~simulator.mr.recon.reconstruct`) and magnitude. Geometry-only
steps are cached, so a rescan after a TR/TE change costs a weighted sum, one small inverse FFT
per slice, the coils, their noise and one coil combination (a fully sampled acquisition
draws its noise on the coil images: :func:`~simulator.mr.acquisition.image_space_noise`).

What a preview does not show is computed on first use, from the same acquisition: the
noiseless images (the same acquisition and reconstruction without noise), the labels and
the measured SNR (``metrics["snr"]``, ``metrics["snr_tissue"]``). Lazy values are the ones an
eager computation gives, bit for bit.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.errors import ParameterError, UserError
from simulator.mr._pipeline import (
    SliceData,
    acquire_slice,
    effective_protocol,
    orient,
    setup,
    slice_list,
)
from simulator.mr.acquisition import noise_sd
from simulator.mr.anatomy import Anatomy
from simulator.mr.coils import noise_covariance
from simulator.mr.geometry import SlicePlan
from simulator.mr.planning import WRAP_WARN_SHARE
from simulator.mr.protocol import Geometry, MRProtocol
from simulator.mr.recon import combine_acquired, g_factor, reconstruct
from simulator.mr.rules import MRDerived, check_protocol

__all__ = ["MRSeries", "SeriesMetrics", "scan"]

#: Pure voxels of a tissue needed to measure SNR in it.
_MIN_ROI_PIXELS = 100


class _Truth:
    """Noiseless images, labels and purity of a series, computed once on first use."""

    def __init__(self, slices: list[SliceData], maps: NDArray[np.complex64], r: int,
                 n_sym: int | None, psi: NDArray[np.complex128], plan: SlicePlan,
                 same_as: NDArray[np.float32] | None) -> None:
        self._slices = slices
        self._recon = (maps, r, n_sym, psi)
        self._plan = plan
        self._same_as = same_as
        self._lock = threading.Lock()
        self._noiseless: NDArray[np.float32] | None = None
        self._labels: NDArray[np.uint8] | None = None
        self._purity: NDArray[np.bool_] | None = None

    @staticmethod
    def _frozen(arr: NDArray[Any]) -> NDArray[Any]:
        arr.flags.writeable = False
        return arr

    def noiseless(self) -> NDArray[np.float32]:
        with self._lock:
            if self._noiseless is None:
                if self._same_as is not None:       # no noise: the images themselves
                    self._noiseless = self._same_as
                else:
                    maps, r, n_sym, psi = self._recon
                    ref = []
                    for sd in self._slices:
                        c: NDArray[Any]
                        if sd.image_noise:
                            c = combine_acquired(sd.image, sd.maps_ext, maps, None, psi)
                        else:
                            c = reconstruct(sd.clean_kspace(), maps, r, n_sym, psi)
                        ref.append(np.abs(c).astype(np.float32))
                    self._noiseless = self._frozen(orient(np.stack(ref), self._plan))
            return self._noiseless

    def labels(self) -> NDArray[np.uint8]:
        with self._lock:
            if self._labels is None:
                labs = np.stack([sd.obj.labels for sd in self._slices])
                self._labels = self._frozen(orient(labs, self._plan))
            return self._labels

    def purity(self) -> NDArray[np.bool_]:
        with self._lock:
            if self._purity is None:
                pure = np.stack([sd.obj.purity >= 0.95 for sd in self._slices])
                self._purity = self._frozen(orient(pure, self._plan))
            return self._purity


class SeriesMetrics(Mapping[str, Any]):
    """The metrics of a series: a read-only mapping whose measured entries (``snr``,
    ``snr_tissue``) are computed on first access; ``in``, ``len`` and the key order never
    compute them.

    Parameters
    ----------
    values : dict
        Every key in display order; the lazy ones hold a placeholder.
    lazy : tuple of str
        Keys filled by ``compute``.
    compute : callable
        Returns the values of the lazy keys.
    """

    def __init__(self, values: dict[str, Any], lazy: tuple[str, ...],
                 compute: Callable[[], dict[str, Any]]) -> None:
        self._values = dict(values)
        self._pending: tuple[str, ...] = lazy
        self._compute: Callable[[], dict[str, Any]] | None = compute
        self._lock = threading.Lock()

    def _resolve(self) -> None:
        with self._lock:
            if self._compute is not None:
                self._values.update(self._compute())
                self._compute = None
                self._pending = ()

    def __getitem__(self, key: str) -> Any:
        if key in self._pending:
            self._resolve()
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __repr__(self) -> str:
        return repr(dict(self))


@dataclass(frozen=True, eq=False)
class MRSeries:
    """A reconstructed MR series.

    Parameters
    ----------
    images : ndarray of float32, shape (n, rows, cols)
        Magnitude images (after AI denoising when the protocol asks for it).
    names : tuple of str
        Tissue names of the label values.
    protocol : MRProtocol
    geometry : Geometry
    derived : MRDerived
    pixel_spacing_mm : tuple of float
        (row spacing, column spacing).
    slice_positions_mm : ndarray of float64, shape (n, 3)
        Patient position of the first pixel of each image (ImagePositionPatient).
    orientation_cosines : ndarray of float64, shape (6,)
        ImageOrientationPatient.
    metrics : Mapping
        ``scan_time_s``, ``snr`` (measured), ``sar_w_kg``, ``warnings`` and more
        (:class:`SeriesMetrics`: the measured SNR is computed on first access).
    warnings : tuple of str
        Console warnings.
    seed : int or None
        The integer seed when ``scan`` was given one.
    slice_indices : tuple of int
        Index of each image in the planned stack.
    images_before_ai : ndarray of float32, shape (n, rows, cols), or None
        The magnitude images as reconstructed, before AI denoising; None when the
        protocol did not ask for it. ``images - images_before_ai`` is what the AI changed.

    Attributes
    ----------
    noiseless : ndarray of float32, shape (n, rows, cols)
        The same acquisition and reconstruction without noise (computed on first use).
    labels : ndarray of uint8, shape (n, rows, cols)
        Majority tissue of each voxel; ``names[label]`` is its name (computed on first use).
    """

    images: NDArray[np.float32]
    names: tuple[str, ...]
    protocol: MRProtocol
    geometry: Geometry
    derived: MRDerived
    pixel_spacing_mm: tuple[float, float]
    slice_positions_mm: NDArray[np.float64]
    orientation_cosines: NDArray[np.float64]
    metrics: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    seed: int | None = None
    slice_indices: tuple[int, ...] = ()
    images_before_ai: NDArray[np.float32] | None = field(default=None, repr=False)
    _truth: _Truth | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in (
            "images",
            "slice_positions_mm",
            "orientation_cosines",
            "images_before_ai",
        ):
            arr = getattr(self, name)
            if arr is not None and arr.flags.writeable:
                view = arr.view()
                view.flags.writeable = False
                object.__setattr__(self, name, view)

    @property
    def noiseless(self) -> NDArray[np.float32]:
        """The same acquisition and reconstruction without noise."""
        assert self._truth is not None
        return self._truth.noiseless()

    @property
    def labels(self) -> NDArray[np.uint8]:
        """Majority tissue of each voxel (``names[label]``)."""
        assert self._truth is not None
        return self._truth.labels()


def _measure_snr(
    images: NDArray[np.float32],
    noiseless: NDArray[np.float32],
    labels: NDArray[np.uint8],
    pure: NDArray[np.bool_],
) -> tuple[float | None, str | None]:
    """SNR in the brightest tissue with at least ``_MIN_ROI_PIXELS`` pure voxels: its mean
    noiseless signal over the SD of (image − noiseless) there."""
    lab_pure = labels[pure]
    counts = np.bincount(lab_pure, minlength=256)
    sums = np.bincount(lab_pure, weights=noiseless[pure].astype(np.float64), minlength=256)
    ok = counts >= _MIN_ROI_PIXELS
    ok[0] = False
    if not ok.any():
        return None, None
    means = np.where(ok, sums / np.maximum(counts, 1), -np.inf)
    best = int(np.argmax(means))
    roi = pure & (labels == best)
    sd = float(np.std((images[roi] - noiseless[roi]).astype(np.float64)))
    return (float(means[best]) / sd if sd > 0 else None), str(best)


def _denoise(images: NDArray[np.float32], strength: float) -> NDArray[np.float32]:
    try:
        from simulator.ai import denoise_mr
    except ImportError:
        raise ParameterError("ai_denoise", True, "False", "AI denoising is not available",
                             "le débruitage par IA n'est pas disponible") from None
    try:
        out = denoise_mr(images, strength)
    except ParameterError:
        raise
    except UserError as err:
        raise ParameterError("ai_denoise", True, "False",
                             f"AI denoising is not available: {err.en}",
                             f"le débruitage par IA n'est pas disponible : {err.fr}") from err
    return np.asarray(out, dtype=np.float32)


def scan(
    anatomy: Anatomy,
    protocol: MRProtocol,
    geometry: Geometry | None = None,
    *,
    rng: np.random.Generator | int | None,
    slices: Sequence[int] | None = None,
) -> MRSeries:
    """Acquire and reconstruct a series.

    Parameters
    ----------
    anatomy : Anatomy
        The patient (label volume).
    protocol : MRProtocol
        The protocol; the console rules are applied first.
    geometry : Geometry, optional
        Slice stack placement; default: the protocol's orientation centred on the body.
        Its orientation wins over ``protocol.orientation`` (the series records it).
    rng : numpy.random.Generator or int
        Noise and motion source (an int is a seed). None gives no noise.
    slices : sequence of int, optional
        Indices of the planned slices to acquire (fast preview); default all.

    Returns
    -------
    MRSeries

    Raises
    ------
    ParameterError
        When a console rule is broken, the phase direction is not in the slice plane, a
        slice index does not exist, or AI denoising is asked for and not available.
    """
    protocol = effective_protocol(protocol, geometry)
    warnings = list(check_protocol(protocol))
    st = setup(anatomy, protocol, geometry, rng)
    plan, d, r, n_sym, fov_maps = st.plan, st.derived, protocol.parallel_r, st.n_sym, st.maps
    idx = slice_list(slices, protocol.slices)
    psi = noise_covariance(protocol.coils)
    imgs, acquired = [], []
    outside = 0.0
    names: tuple[str, ...] = ()
    for i in idx:
        sd = acquire_slice(anatomy, st, i, combine_with=(fov_maps, psi))
        outside = max(outside, sd.obj.outside_share)
        c: NDArray[Any]
        if sd.combined is not None:     # fully sampled: one coil combination, noise included
            c = sd.combined
        else:
            c = reconstruct(sd.kspace(), fov_maps, r, n_sym, psi)
        imgs.append(np.abs(c).astype(np.float32))
        acquired.append(sd.noiseless_part())
        names = sd.obj.names_all
    images = orient(np.stack(imgs), plan)
    truth = _Truth(acquired, fov_maps, r, n_sym, psi, plan,
                   images if st.rng is None else None)
    if outside > WRAP_WARN_SHARE:
        warnings.append(
            "phase FOV smaller than the body: wrap expected "
            f"({100 * outside:.0f} % of the body outside the phase FOV)"
        )
    before_ai = None
    if protocol.ai_denoise:
        before_ai, images = images, _denoise(images, protocol.ai_strength)
    g = g_factor(fov_maps, r, psi)
    shown = images

    def measured() -> dict[str, Any]:
        snr, roi_label = _measure_snr(shown, truth.noiseless(), truth.labels(), truth.purity())
        if snr is not None and not math.isfinite(snr):
            snr = None
        return {"snr": snr,
                "snr_tissue": names[int(roi_label)] if roi_label is not None else None}

    values: dict[str, Any] = {
        "scan_time_s": d.scan_time_s,
        "snr": None,
        "snr_tissue": None,
        "snr_rel": d.snr_rel,
        "sar_w_kg": d.sar_w_kg,
        "sar_limit_w_kg": d.sar_limit_w_kg,
        "fat_shift_px": d.fat_shift_px,
        "voxel_mm": list(d.voxel_mm),
        "noise_sd": noise_sd(protocol) if st.rng is not None else 0.0,
        "g_factor_mean": float(g.mean()),
        "g_factor_max": float(g.max()),
        "concatenations": d.concatenations,
        "wrap_share": outside,
        "te_eff_ms": d.te_eff_ms,
        "warnings": list(warnings),
    }
    metrics = SeriesMetrics(values, ("snr", "snr_tissue"), measured)
    return MRSeries(
        images=images,
        names=tuple(names),
        protocol=protocol,
        geometry=st.geometry,
        derived=d,
        pixel_spacing_mm=plan.pixel_spacing_mm,
        slice_positions_mm=plan.first_pixel_mm[idx].copy(),
        orientation_cosines=plan.orientation_cosines.copy(),
        metrics=metrics,
        warnings=tuple(warnings),
        seed=st.seed,
        slice_indices=tuple(idx),
        images_before_ai=before_ai,
        _truth=truth,
    )
