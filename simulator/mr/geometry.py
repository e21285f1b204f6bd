"""Slice planning: where each image lies in the patient, and the tissue maps on its grid.

A slice plane has two in-plane unit vectors (DICOM ImageOrientationPatient: ``row_dir`` along
which the column index grows, ``col_dir`` along which the row index grows) and a normal.
Internally the scanner works on arrays ``(phase, read)``; :class:`SlicePlan` says how they map
to the displayed ``(rows, cols)``.

:func:`object_kspace` resamples the fine 1 mm label volume onto a grid twice as fine as the
image (``OVERSAMPLE``), averages it through the slice thickness (partial volume), takes the
Fourier transform of each tissue's fraction map and keeps the k-space the scanner samples
(so that truncation rings like a real acquisition: Gibbs). Along the phase direction the grid
covers ``L`` times the phase FOV, enough to hold the whole body, so that folding it gives
wrap-around. The result depends on geometry only, never on TR/TE, and is cached: a contrast
change is a weighted sum of cached maps.

A new slice geometry (a matrix change, a moved slice) costs one pass over the fine grid and
one real FFT per tissue: the fraction maps are real, so the transform along read keeps the
non-negative frequencies and Hermitian symmetry gives the others. The majority tissue and
its purity on the image grid (:attr:`ObjectK.labels`, :attr:`ObjectK.purity`), which only the
truth of a series needs, are computed from the same fine samples on first use.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.mr._fft import rfft_fft
from simulator.mr._planes import PHASE_VECTORS, check_phase_dir
from simulator.mr.anatomy import Anatomy
from simulator.mr.protocol import Geometry, MRProtocol

# The stack's placement (plan_slices, plane_axes, default_geometry) is exported by
# simulator.mr.planning, the one home of the planning rules; this module is the physics under it.
__all__ = ["object_kspace", "ObjectK", "OVERSAMPLE", "clear_cache", "set_cache_budget_bytes"]

#: Fine-grid oversampling of the image pixel (each image pixel is OVERSAMPLE² fine samples).
OVERSAMPLE = 2
#: Largest extension of the simulated phase extent, in multiples of the phase FOV.
MAX_EXTENSION = 7

_BASE = {
    "axial": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "sagittal": ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),
    "coronal": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),
}


def _rotate(v: NDArray[np.float64], axis: NDArray[np.float64], deg: float) -> NDArray[np.float64]:
    a = math.radians(deg)
    axis = axis / np.linalg.norm(axis)
    out: NDArray[np.float64] = (v * math.cos(a) + np.cross(axis, v) * math.sin(a)
                                + axis * np.dot(axis, v) * (1 - math.cos(a)))
    return out


def plane_axes(geometry: Geometry) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                            NDArray[np.float64]]:
    """Return ``(row_dir, col_dir, normal)`` unit vectors (x, y, z) of the slice plane."""
    row, col = (np.array(v) for v in _BASE[geometry.orientation])
    a, b = geometry.angles
    col = _rotate(col, row, a)
    row = _rotate(row, col, b)
    normal = np.cross(row, col)
    return row, col, normal / np.linalg.norm(normal)


@dataclass(frozen=True, eq=False)
class SlicePlan:
    """Grid and position of every slice of a series.

    Parameters
    ----------
    rows, cols : int
        Displayed image size.
    pixel_spacing_mm : tuple of float
        (row spacing, column spacing), DICOM PixelSpacing.
    centers_mm : ndarray, shape (n, 3)
        Patient position of each slice centre.
    first_pixel_mm : ndarray, shape (n, 3)
        Patient position of pixel (0, 0) of each slice (ImagePositionPatient).
    orientation_cosines : ndarray, shape (6,)
        ImageOrientationPatient.
    phase_vertical : bool
        True when the phase direction runs along the rows (internal ``(phase, read)`` arrays
        are the image), False when they are its transpose.
    u_phase, u_read, normal : ndarray, shape (3,)
        Unit vectors of the phase, read and slice directions.
    n_phase, n_read : int
        Internal matrix: encoded phase lines (image lines plus phase oversampling) and read
        samples.
    d_phase_mm, d_read_mm : float
        Pixel size along phase and read.
    """

    rows: int
    cols: int
    pixel_spacing_mm: tuple[float, float]
    centers_mm: NDArray[np.float64]
    first_pixel_mm: NDArray[np.float64]
    orientation_cosines: NDArray[np.float64]
    phase_vertical: bool
    u_phase: NDArray[np.float64]
    u_read: NDArray[np.float64]
    normal: NDArray[np.float64]
    n_phase: int
    n_read: int
    d_phase_mm: float
    d_read_mm: float
    n_phase_image: int = 0

    def crop(self, stack: NDArray[Any]) -> NDArray[Any]:
        """Keep the central ``n_phase_image`` lines of (…, n_phase, n_read) arrays."""
        n_img = self.n_phase_image or self.n_phase
        off = (self.n_phase - n_img) // 2
        return stack[..., off:off + n_img, :] if off else stack


#: Landmarks a default slice stack is centred on, first found wins.
CENTRE_LANDMARKS = ("brain_centre", "joint_line_centre", "l3_centre")


def default_geometry(anatomy: Anatomy, protocol: MRProtocol) -> Geometry:
    """Slice stack in the protocol's orientation centred on the anatomy's planning landmark
    (brain centre, knee joint line, L3) or else on the middle of the body."""
    for name in CENTRE_LANDMARKS:
        if name in anatomy.landmarks:
            x, y, z = anatomy.landmarks[name]
            return Geometry(orientation=protocol.orientation, center_mm=(x, y, z))
    return Geometry(orientation=protocol.orientation, center_mm=_body_center(anatomy))


@functools.lru_cache(maxsize=16)
def _body_box(anatomy: Anatomy) -> tuple[tuple[float, float, float], ...]:
    idx = [np.flatnonzero(anatomy.labels.any(axis=ax)) for ax in ((1, 2), (0, 2), (0, 1))]
    lo = [int(i[0]) if len(i) else 0 for i in idx]
    hi = [int(i[-1]) if len(i) else 0 for i in idx]
    corners = []
    for k in (lo[0], hi[0]):
        for j in (lo[1], hi[1]):
            for i in (lo[2], hi[2]):
                corners.append(anatomy.index_to_mm((k, j, i)))
    return tuple(corners)


def _body_center(anatomy: Anatomy) -> tuple[float, float, float]:
    c = np.array(_body_box(anatomy))
    mid = (c.min(axis=0) + c.max(axis=0)) / 2
    return (float(mid[0]), float(mid[1]), float(mid[2]))


def plan_slices(protocol: MRProtocol, geometry: Geometry) -> SlicePlan:
    """Place the slices of ``protocol`` with ``geometry``.

    Raises
    ------
    ParameterError
        If the phase direction is not in the slice plane.
    """
    check_phase_dir(geometry.orientation, protocol.phase_dir)
    row, col, normal = plane_axes(geometry)
    base_row, base_col = _BASE[geometry.orientation]
    pv = np.array(PHASE_VECTORS[protocol.phase_dir])
    vertical = abs(np.dot(pv, base_col)) > abs(np.dot(pv, base_row))
    n_p, n_r = protocol.phase_lines, protocol.matrix_read
    n_enc = protocol.phase_lines_encoded
    d_p = protocol.fov_mm / protocol.matrix_phase
    d_r = protocol.fov_mm / protocol.matrix_read
    if vertical:
        rows, cols, spacing, u_p, u_r = n_p, n_r, (d_p, d_r), col, row
    else:
        rows, cols, spacing, u_p, u_r = n_r, n_p, (d_r, d_p), row, col
    step = protocol.slice_mm + protocol.gap_mm
    k = np.arange(protocol.slices) - (protocol.slices - 1) / 2
    centers = np.asarray(geometry.center_mm)[None, :] + k[:, None] * step * normal[None, :]
    first = (centers - (cols - 1) / 2 * spacing[1] * row[None, :]
             - (rows - 1) / 2 * spacing[0] * col[None, :])
    return SlicePlan(rows, cols, (float(spacing[0]), float(spacing[1])), centers, first,
                     np.concatenate([row, col]), bool(vertical), u_p, u_r, normal,
                     n_enc, n_r, float(d_p), float(d_r), n_p)


class _LazyTruth:
    """Labels and purity of a slice, computed once on first use (a preview never asks)."""

    def __init__(self, compute: Callable[[], tuple[NDArray[np.uint8], NDArray[np.float32]]]
                 ) -> None:
        self._compute: Callable[[], tuple[NDArray[np.uint8], NDArray[np.float32]]] | None = (
            compute)
        self._value: tuple[NDArray[np.uint8], NDArray[np.float32]] | None = None
        self._lock = threading.Lock()

    def get(self) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
        with self._lock:
            if self._value is None:
                assert self._compute is not None
                self._value = self._compute()
                self._compute = None
            return self._value


@dataclass(frozen=True, eq=False)
class ObjectK:
    """Cached k-space of each tissue of one slice (geometry-dependent only).

    Parameters
    ----------
    names : tuple of str
        Tissue of each map.
    half : ndarray of complex64, shape (T, L·n_phase (+1 if even), ⌊n_read/2⌋ + 1)
        What the cache stores: the non-negative read frequencies of :attr:`kspace`, on its
        phase rows (FFT order) and, when ``L·n_phase`` is even, the row of frequency
        ``+L·n_phase/2`` last, which the mirror of the row ``−L·n_phase/2`` needs. The maps
        are real, so Hermitian symmetry gives the rest: about half the bytes.
    n_rows, n_read : int
        Shape of one map of :attr:`kspace`: ``L·n_phase`` and ``n_read``.
    extension : int
        ``L``, odd: the grid spans L phase FOVs centred on the image.
    names_all : tuple of str
        The anatomy's label names.
    outside_share : float
        Share of the body (non-air volume) of this slice plane lying outside the phase FOV:
        above zero, it wraps.
    truth : _LazyTruth
        Computes :attr:`labels` and :attr:`purity` on first use.
    """

    names: tuple[str, ...]
    half: NDArray[np.complex64]
    n_rows: int
    n_read: int
    extension: int
    names_all: tuple[str, ...]
    outside_share: float
    truth: _LazyTruth = field(repr=False)

    @property
    def kspace(self) -> NDArray[np.complex64]:
        """Unitary (``norm="ortho"``) FFT of each tissue fraction map on the extended grid,
        FFT order, truncated to the acquired k-space: shape ``(T, L·n_phase, n_read)``,
        complex64, rebuilt from :attr:`half` at each access (``K[-p, -r] = conj(K[p, r])``)."""
        return _unfold(self.half, self.n_rows, self.n_read)

    @property
    def nbytes_full(self) -> int:
        """Bytes of :attr:`kspace`: what a slice counts against the cache budget (so that a
        budget holds as many slices as before the half storage, in about half the memory)."""
        return int(self.half.shape[0] * self.n_rows * self.n_read * self.half.itemsize)

    @property
    def labels(self) -> NDArray[np.uint8]:
        """Majority tissue of each image voxel (index into ``names_all``), shape
        ``(n_phase, n_read)``, uint8; computed on first use."""
        return self.truth.get()[0]

    @property
    def purity(self) -> NDArray[np.float32]:
        """Volume share of that majority tissue, shape ``(n_phase, n_read)``, float32;
        computed on first use."""
        return self.truth.get()[1]


def _extension(anatomy: Anatomy, center: NDArray[np.float64], u_p: NDArray[np.float64],
               fov_p: float) -> int:
    corners = np.array(_body_box(anatomy)) - center[None, :]
    half = float(np.max(np.abs(corners @ u_p))) + 2.0
    n = 2 * math.ceil(half / fov_p - 0.5) + 1
    return int(min(max(n, 1), MAX_EXTENSION))


def _crop_index(n_fine: int, n: int) -> NDArray[np.int64]:
    # FFT order of a size-n grid: frequencies 0 … ⌈n/2⌉−1, then −⌊n/2⌋ … −1.
    idx: NDArray[np.int64] = np.r_[0:(n + 1) // 2, n_fine - n // 2:n_fine]
    return idx


#: Memory budget of the per-slice k-space cache (least recently used entries leave first).
#: A series larger than the budget evicts its own first slices while it scans and then
#: misses on every slice of every rescan: 20 slices at 512² take about 320 MiB, so the
#: budget holds three such series.
CACHE_BUDGET_BYTES = 1024 * 2**20
_CACHE: OrderedDict[tuple[object, ...], ObjectK] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def clear_cache() -> None:
    """Empty the per-slice k-space cache."""
    with _CACHE_LOCK:
        _CACHE.clear()


def set_cache_budget_bytes(budget_bytes: int) -> None:
    """Set the memory budget of the per-slice k-space cache and evict down to it.

    A class server caps it per kernel (``$MERM_KSPACE_CACHE_MIB``, read by the console), so
    that many trainees fit in the server's memory; a laptop keeps the default.

    Parameters
    ----------
    budget_bytes : int
        New budget, 0 or more; 0 keeps only the newest slice.
    """
    global CACHE_BUDGET_BYTES
    if budget_bytes < 0:
        raise ValueError(f"cache budget must be 0 or more bytes, got {budget_bytes}")
    with _CACHE_LOCK:
        CACHE_BUDGET_BYTES = int(budget_bytes)
        _evict_locked()


def _evict_locked() -> None:
    # least recently used first, always keeping the newest entry
    total = sum(o.nbytes_full for o in _CACHE.values())
    while total > CACHE_BUDGET_BYTES and len(_CACHE) > 1:
        _, old = _CACHE.popitem(last=False)
        total -= old.nbytes_full


def object_kspace(anatomy: Anatomy, center: tuple[float, float, float],
                  u_p: tuple[float, float, float], u_r: tuple[float, float, float],
                  normal: tuple[float, float, float], d_p: float, d_r: float,
                  n_p: int, n_r: int, slice_mm: float) -> ObjectK:
    """Per-tissue k-space of one slice, cached on the geometry within
    :data:`CACHE_BUDGET_BYTES` (see :func:`_object_kspace` for the parameters)."""
    key = (anatomy, center, u_p, u_r, normal, d_p, d_r, n_p, n_r, slice_mm)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    obj = _object_kspace(*key)
    with _CACHE_LOCK:
        _CACHE[key] = obj
        _evict_locked()
    return obj


@functools.lru_cache(maxsize=16)
def _air_border(anatomy: Anatomy) -> bool:
    """True when every face of the label volume is air: an index clipped onto the volume
    then reads air, exactly as a point outside it does."""
    lab = anatomy.labels
    return not (lab[0].any() or lab[-1].any() or lab[:, 0].any() or lab[:, -1].any()
                or lab[:, :, 0].any() or lab[:, :, -1].any())


def _sample_labels(anatomy: Anatomy, c: NDArray[np.float64], up: NDArray[np.float64],
                   ur: NDArray[np.float64], nv: NDArray[np.float64], fp: NDArray[np.float64],
                   fr: NDArray[np.float64], ft: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Nearest label at every point ``c + t·nv + p·up + r·ur`` (air outside the volume),
    shape ``(len(ft), len(fp)·len(fr))``."""
    shape = anatomy.labels.shape
    flat = anatomy.labels.reshape(-1)
    dz, dy, dx = anatomy.voxel_mm
    ox, oy, oz = anatomy.origin_mm
    scale = np.array([1 / dx, 1 / dy, 1 / dz])
    orig = np.array([ox, oy, oz])
    npix = fp.size * fr.size
    border_air = _air_border(anatomy)
    strides = (1, shape[2], shape[1] * shape[2])      # x, y, z
    upper = (shape[2] - 1, shape[1] - 1, shape[0] - 1)
    lin_t = np.dtype(np.int64 if flat.size >= 2**31 else np.int32)
    labs = np.empty((ft.size, npix), dtype=np.uint8)
    plane = np.empty((fp.size, fr.size), dtype=np.float32)
    idx = np.empty((fp.size, fr.size), dtype=np.int32)
    lin = np.empty((fp.size, fr.size), dtype=lin_t)
    for ti, t in enumerate(ft):
        inside = None
        for axis in range(3):
            a0 = (c[axis] + t * nv[axis] - orig[axis]) * scale[axis]
            # same float32 arithmetic and rounding as an element-wise evaluation
            np.add(np.float32(a0) + fp[:, None].astype(np.float32)
                   * np.float32(up[axis] * scale[axis]),
                   fr[None, :].astype(np.float32) * np.float32(ur[axis] * scale[axis]),
                   out=plane)
            np.rint(plane, out=plane)
            idx[...] = plane
            if not border_air:
                ok = (idx >= 0) & (idx <= upper[axis])
                inside = ok if inside is None else inside & ok
            np.clip(idx, 0, upper[axis], out=idx)
            if axis == 0:
                lin[...] = idx
            else:
                lin += idx.astype(lin_t) * strides[axis]
        row = np.take(flat, lin.reshape(-1))
        labs[ti] = row if inside is None else np.where(inside.reshape(-1), row, 0)
    return labs


@dataclass(frozen=True, eq=False)
class _Grid:
    """Fine sampling of one slice: phase, read and through-slice positions (mm)."""

    fp: NDArray[np.float64]
    fr: NDArray[np.float64]
    ft: NDArray[np.float64]


def _fine_grid(anatomy: Anatomy, d_p: float, d_r: float, n_pe: int, n_r: int,
               slice_mm: float) -> _Grid:
    os_ = OVERSAMPLE
    fp = (np.arange(os_ * n_pe) / os_ - (n_pe - 1) / 2) * d_p
    fr = (np.arange(os_ * n_r) / os_ - (n_r - 1) / 2) * d_r
    n_thick = max(1, math.ceil(slice_mm / min(anatomy.voxel_mm)))
    ft = ((np.arange(n_thick) + 0.5) / n_thick - 0.5) * slice_mm
    return _Grid(fp, fr, ft)


def _fractions(labs: NDArray[np.uint8], nlab: int) -> tuple[list[int], NDArray[np.float32]]:
    """Tissues present (labels ≥ 1) and their share through the slice thickness per fine
    sample, shape ``(len(present), npix)``."""
    n_thick = labs.shape[0]
    hist = np.bincount(labs.reshape(-1), minlength=nlab)
    present = [i for i in range(1, nlab) if hist[i]]
    frac = np.empty((len(present), labs.shape[1]), dtype=np.float32)
    acc_t = np.uint8 if n_thick < 256 else np.uint16
    acc = np.empty(labs.shape[1], dtype=acc_t)
    for j, lab in enumerate(present):
        acc[...] = labs[0] == lab
        for t in range(1, n_thick):
            np.add(acc, labs[t] == lab, out=acc)
        frac[j] = acc
    frac /= n_thick
    return present, frac


def _truth_labels(anatomy: Anatomy, c: NDArray[np.float64], up: NDArray[np.float64],
                  ur: NDArray[np.float64], nv: NDArray[np.float64], grid: _Grid, ext: int,
                  n_p: int, n_r: int) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
    """Majority tissue and its purity on the image grid (central FOV block), from the same
    fine samples as the k-space."""
    os_ = OVERSAMPLE
    lo = (ext - 1) // 2 * n_p
    fp = grid.fp[os_ * lo:os_ * (lo + n_p)]
    labs = _sample_labels(anatomy, c, up, ur, nv, fp, grid.fr, grid.ft)
    present, frac = _fractions(labs, len(anatomy.names))
    blk = frac.reshape(len(present), n_p, os_, n_r, os_).mean(axis=(2, 4))
    body = frac.sum(axis=0).reshape(n_p, os_, n_r, os_)
    air = 1.0 - body.mean(axis=(1, 3))
    blk = np.concatenate([air[None], blk], axis=0)
    best = np.argmax(blk, axis=0)
    lut = np.array([0, *present], dtype=np.uint8)
    labels = lut[best]
    purity = np.max(blk, axis=0).astype(np.float32)
    for arr in (labels, purity):
        arr.flags.writeable = False
    return labels, purity


def _tissue_kspace(frac: NDArray[np.float32], n_fine_pe: int, n_fine_r: int, n_pe: int,
                   n_r: int) -> NDArray[np.complex64]:
    """Unitary FFT of real fraction maps on the fine grid, cut to ``n_pe`` phase rows in FFT
    order and the read frequencies ``0 … ⌊n_r/2⌋``, divided by :data:`OVERSAMPLE`: the
    :attr:`ObjectK.half` that :func:`_unfold` turns into the ``(n_pe, n_r)`` k-space.

    The maps are real, so a real FFT along read gives the non-negative read frequencies and
    Hermitian symmetry the others: ``K[-p, -r] = conj(K[p, r])``. For an even ``n_pe`` the
    row of frequency ``+n_pe/2`` (outside the cut) comes last: the mirror of ``−n_pe/2``.
    """
    t = frac.shape[0]
    maps = frac.reshape(t, n_fine_pe, n_fine_r)
    h = n_r // 2 + 1                         # read frequencies 0 … ⌊n_r/2⌋
    k = rfft_fft(maps, h)
    rows = _crop_index(n_fine_pe, n_pe)
    if n_pe % 2 == 0:
        rows = np.r_[rows, n_pe // 2]
    out = k[:, rows]
    out /= OVERSAMPLE
    return out


def _unfold(half: NDArray[np.complex64], n_pe: int, n_r: int) -> NDArray[np.complex64]:
    """The ``(T, n_pe, n_r)`` k-space from its non-negative read frequencies (Hermitian
    symmetry of real maps): the same numbers as a full FFT cut to the grid.

    Row ``f`` (FFT order) of the negative read frequencies is the conjugate of row ``−f``
    read backwards: row 0 for row 0, rows ``n_pe−1 … 1`` for rows ``1 … n_pe−1``, except
    that for an even ``n_pe`` row ``−n_pe/2`` takes the stored ``+n_pe/2`` (last row).
    Reversed slices, no gather: about 0.7 ms for 8 tissues at 256².
    """
    t = half.shape[0]
    out = np.empty((t, n_pe, n_r), dtype=np.complex64)
    pos = (n_r + 1) // 2                     # 0 … ⌈n_r/2⌉−1 kept as they are
    out[:, :, :pos] = half[:, :n_pe, :pos]
    neg = n_r // 2                           # −⌊n_r/2⌋ … −1 from +⌊n_r/2⌋ … +1
    if not neg:
        return out
    o = out[:, :, pos:]
    cols = slice(neg, 0, -1)
    np.conjugate(half[:, 0, cols], out=o[:, 0])
    if n_pe % 2 == 0:
        m = n_pe // 2
        np.conjugate(half[:, n_pe - 1:m:-1, cols], out=o[:, 1:m])
        np.conjugate(half[:, n_pe, cols], out=o[:, m])
        np.conjugate(half[:, m - 1:0:-1, cols], out=o[:, m + 1:])
    elif n_pe > 1:
        np.conjugate(half[:, n_pe - 1:0:-1, cols], out=o[:, 1:])
    return out


def _object_kspace(anatomy: Anatomy, center: tuple[float, float, float],
                   u_p: tuple[float, float, float], u_r: tuple[float, float, float],
                   normal: tuple[float, float, float], d_p: float, d_r: float,
                   n_p: int, n_r: int, slice_mm: float) -> ObjectK:
    """Per-tissue k-space of one slice.

    Parameters
    ----------
    anatomy : Anatomy
        Label volume (cached objects compare by identity).
    center, u_p, u_r, normal : tuple of float
        Slice centre (mm) and unit vectors of phase, read and slice directions.
    d_p, d_r : float
        Image pixel size along phase and read, mm.
    n_p, n_r : int
        Image matrix along phase and read.
    slice_mm : float
        Slice thickness (rectangular profile, sampled every ≤ 1 mm).
    """
    c = np.asarray(center, dtype=np.float64)
    up, ur, nv = (np.asarray(v, dtype=np.float64) for v in (u_p, u_r, normal))
    os_ = OVERSAMPLE
    ext = _extension(anatomy, c, up, n_p * d_p)
    n_pe = ext * n_p
    grid = _fine_grid(anatomy, d_p, d_r, n_pe, n_r, slice_mm)
    names_all = anatomy.names
    labs = _sample_labels(anatomy, c, up, ur, nv, grid.fp, grid.fr, grid.ft)
    lo = (ext - 1) // 2 * n_p
    total = np.count_nonzero(labs)
    inside = np.count_nonzero(
        labs.reshape(grid.ft.size, grid.fp.size, grid.fr.size)[:, os_ * lo:os_ * (lo + n_p)])
    outside = (total - inside) / total if total > 0 else 0.0
    present, frac = _fractions(labs, len(names_all))
    del labs
    k = _tissue_kspace(frac, grid.fp.size, grid.fr.size, n_pe, n_r)
    k.flags.writeable = False
    truth = _LazyTruth(functools.partial(_truth_labels, anatomy, c, up, ur, nv, grid, ext,
                                         n_p, n_r))
    return ObjectK(tuple(names_all[i] for i in present), k, n_pe, n_r, ext, names_all,
                   float(outside), truth)
