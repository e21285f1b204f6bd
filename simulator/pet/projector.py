"""2-D parallel-beam projector as a sparse system matrix, applied to all slices at once.

The system matrix ``A`` (lines of response × pixels) holds, for each pixel and angle, the
length (mm) of the line integral through the pixel that each radial bin receives: the
pixel's footprint is a strip as wide as the pixel, spread over the bins it overlaps. Hence
Σ_bins A = pixel area / bin width at every angle, so an unattenuated object has the same
projection sum at every angle, and the back-projector is the exact transpose. Only pixels
whose footprint stays inside the detector (a circle one pixel inside the field of view)
are modelled. Slices are columns of one dense matrix, so a projection of a whole volume is
one sparse × dense product (scipy.sparse, ``float32``).

With ``psf_fwhm_mm > 0`` the matrix is A·B, B a Gaussian blur of the image (symmetric,
truncated at 2.5 σ): resolution modelling as in vendors' "PSF" reconstructions. The product
is formed once, so the adjoint stays exact.

Products run on several threads (:func:`matmul`): scipy's sparse × dense kernel releases the
GIL, so the rows of the matrix are split into blocks of equal work, each computed in place
into its rows of the result (no copy of the matrix or the data). ``MERM_PET_THREADS`` sets
the number of threads (default: the CPUs, at most 4); 1 is the plain scipy product.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = ["SinogramGeometry", "Projector", "get_projector", "matmul", "threads"]

try:  # the kernel behind ``csr_matrix @ dense``; absent from some scipy: plain products
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:  # pragma: no cover
    _csr_matvecs = None

#: Below this many stored entries × columns a product is not worth splitting.
_MIN_WORK = 2_000_000


@functools.cache
def threads() -> int:
    """Threads for sparse products: ``MERM_PET_THREADS`` or the CPUs (at most 4)."""
    env = os.environ.get("MERM_PET_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else (os.cpu_count() or 1)))


@functools.cache
def _pool(n: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=n, thread_name_prefix="pet-proj")


def matmul(mat: sp.csr_matrix, x: NDArray[np.floating]) -> NDArray[np.float32]:
    """``mat @ x`` for a float32 CSR matrix and (n, k) float32 columns, threaded by rows.

    Each thread computes a block of rows of equal stored entries straight into its rows of
    the (zeroed) result, so the sum is the same as scipy's, in the same order per row.
    """
    n = threads()
    cols = np.ascontiguousarray(x, dtype=np.float32)
    if (
        n == 1
        or _csr_matvecs is None
        or cols.ndim != 2
        or mat.dtype != np.float32
        or mat.nnz * cols.shape[1] < _MIN_WORK
        or mat.indptr.dtype != mat.indices.dtype
    ):
        return np.asarray(mat @ cols, dtype=np.float32)
    n_row, n_col = mat.shape
    k = cols.shape[1]
    out = np.zeros((n_row, k), np.float32)
    cuts = np.searchsorted(mat.indptr, np.linspace(0, mat.nnz, n + 1)[1:-1])
    bounds = [0, *(int(c) for c in cuts), n_row]
    flat_x = cols.ravel()

    def part(r0: int, r1: int) -> None:
        if r1 > r0:
            _csr_matvecs(
                r1 - r0, n_col, k, mat.indptr[r0 : r1 + 1], mat.indices, mat.data, flat_x,
                out[r0:r1].ravel(),
            )

    futures = [_pool(n).submit(part, a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    for f in futures:
        f.result()
    return out


@dataclass(frozen=True)
class SinogramGeometry:
    """Sinogram sampling: ``n_angles`` over 180°, ``n_radial`` bins of ``bin_mm``."""

    n_angles: int
    n_radial: int
    bin_mm: float

    @property
    def angles_rad(self) -> NDArray[np.float64]:
        """Projection angles θ_k = kπ/n_angles."""
        return np.arange(self.n_angles) * np.pi / self.n_angles

    @property
    def n_lor(self) -> int:
        """Lines of response per slice."""
        return self.n_angles * self.n_radial


class Projector:
    """Forward and back projector for an ``n × n`` image of ``pixel_mm`` pixels.

    Use :func:`get_projector` (cached) rather than this constructor.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix, shape (n_lor, n_pixels_in_fov)
    mask : ndarray of bool, shape (n, n)
        Pixels that are modelled (inside the field of view).
    """

    def __init__(
        self, n: int, pixel_mm: float, geometry: SinogramGeometry, psf_fwhm_mm: float = 0.0
    ) -> None:
        self.n = n
        self.pixel_mm = pixel_mm
        self.geometry = geometry
        c = (np.arange(n) - (n - 1) / 2.0) * pixel_mm
        yy, xx = np.meshgrid(c, c, indexing="ij")
        radius = geometry.n_radial * geometry.bin_mm / 2.0 - pixel_mm
        self.mask = np.hypot(yy, xx) <= radius
        self.pixels = np.flatnonzero(self.mask)
        self.psf_fwhm_mm = psf_fwhm_mm
        self.matrix = self._build(xx.ravel()[self.pixels], yy.ravel()[self.pixels])
        if psf_fwhm_mm > 0:
            self.matrix = (self.matrix @ self._blur(psf_fwhm_mm)).tocsr().astype(np.float32)
        self._transpose: sp.csr_matrix | None = None
        self._subsets: dict[int, list[tuple[sp.csr_matrix, sp.csr_matrix, NDArray[np.intp]]]] = {}

    def _build(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> sp.csr_matrix:
        g, p = self.geometry, self.pixel_mm
        half = 0.5 * p / g.bin_mm  # half footprint, in bins
        k_max = int(np.ceil(2 * half)) + 1
        scale = p * p / g.bin_mm
        rows, cols, vals = [], [], []
        cols_all = np.arange(x.size, dtype=np.int32)
        for a, th in enumerate(g.angles_rad):
            u = (x * np.cos(th) + y * np.sin(th)) / g.bin_mm + (g.n_radial - 1) / 2.0
            lo = u - half
            b0 = np.floor(lo + 0.5).astype(np.int64)
            for k in range(k_max):
                b = b0 + k
                ov = np.minimum(u + half, b + 0.5) - np.maximum(lo, b - 0.5)
                keep = ov > 1e-9
                rows.append((a * g.n_radial + b[keep]).astype(np.int32))
                cols.append(cols_all[keep])
                vals.append((scale * ov[keep] / (2 * half)).astype(np.float32))
        r, cidx, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        return sp.csr_matrix((v, (r, cidx)), shape=(g.n_lor, x.size), dtype=np.float32)

    def _blur(self, fwhm_mm: float) -> sp.csr_matrix:
        """Symmetric Gaussian blur between the modelled pixels (sparse, n_in × n_in)."""
        sigma = fwhm_mm / (2.0 * np.sqrt(2.0 * np.log(2.0))) / self.pixel_mm
        half = int(np.ceil(2.5 * sigma))
        offs = np.arange(-half, half + 1)
        k1 = np.exp(-0.5 * (offs / sigma) ** 2)
        k1 /= k1.sum()
        index = np.full(self.n * self.n, -1, np.int64)
        index[self.pixels] = np.arange(self.pixels.size)
        py, px = np.divmod(self.pixels, self.n)
        rows, cols, vals = [], [], []
        for dy, ky in zip(offs, k1, strict=True):
            for dx, kx in zip(offs, k1, strict=True):
                qy, qx = py + dy, px + dx
                ok = (qy >= 0) & (qy < self.n) & (qx >= 0) & (qx < self.n)
                j = np.full(py.size, -1, np.int64)
                j[ok] = index[qy[ok] * self.n + qx[ok]]
                keep = j >= 0
                rows.append(np.flatnonzero(keep))
                cols.append(j[keep])
                vals.append(np.full(int(keep.sum()), ky * kx, np.float32))
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        return sp.csr_matrix((v, (r, c)), shape=(self.pixels.size,) * 2)

    @property
    def transpose(self) -> sp.csr_matrix:
        """Aᵀ as a CSR matrix (computed once)."""
        if self._transpose is None:
            self._transpose = self.matrix.T.tocsr()
        return self._transpose

    def subsets(
        self, n_subsets: int
    ) -> list[tuple[sp.csr_matrix, sp.csr_matrix, NDArray[np.intp]]]:
        """Interleaved angle subsets: (A_s, A_sᵀ, rows of A_s) for each subset s.

        Subset s holds the angles s, s + S, s + 2S, …, all radial bins of each.
        """
        if n_subsets not in self._subsets:
            self._subsets.clear()  # keep one subset split: each is a copy of the matrix
            g = self.geometry
            out = []
            for s in range(n_subsets):
                ang = np.arange(s, g.n_angles, n_subsets)
                rows = (ang[:, None] * g.n_radial + np.arange(g.n_radial)[None, :]).ravel()
                a_s = self.matrix if n_subsets == 1 else self.matrix[rows]
                t_s = self.transpose if n_subsets == 1 else a_s.T.tocsr()
                out.append((a_s, t_s, rows))
            self._subsets[n_subsets] = out
        return self._subsets[n_subsets]

    # --- column layout: images (n_pixels_in_fov, n_slices), sinograms (n_lor, n_slices)
    def to_columns(self, images: NDArray[np.floating]) -> NDArray[np.float32]:
        """(nz, n, n) images → (n_pixels_in_fov, nz) float32 columns."""
        flat = np.asarray(images, dtype=np.float32).reshape(images.shape[0], -1)
        return np.ascontiguousarray(flat[:, self.pixels].T)

    def from_columns(self, cols: NDArray[np.floating]) -> NDArray[np.float32]:
        """(n_pixels_in_fov, nz) columns → (nz, n, n) images, zero outside the FOV."""
        nz = cols.shape[1]
        out = np.zeros((nz, self.n * self.n), np.float32)
        out[:, self.pixels] = cols.T
        return out.reshape(nz, self.n, self.n)

    def sino_to_columns(self, sino: NDArray[np.floating]) -> NDArray[np.float32]:
        """(nz, n_angles, n_radial) → (n_lor, nz)."""
        return np.ascontiguousarray(np.asarray(sino, np.float32).reshape(sino.shape[0], -1).T)

    def sino_from_columns(self, cols: NDArray[np.floating]) -> NDArray[np.float32]:
        """(n_lor, nz) → (nz, n_angles, n_radial)."""
        g = self.geometry
        return np.ascontiguousarray(cols.T).reshape(cols.shape[1], g.n_angles, g.n_radial)

    def forward(self, images: NDArray[np.floating]) -> NDArray[np.float32]:
        """Line integrals (value × mm) of (nz, n, n) images → (nz, n_angles, n_radial)."""
        return self.sino_from_columns(matmul(self.matrix, self.to_columns(images)))

    def back(self, sino: NDArray[np.floating]) -> NDArray[np.float32]:
        """Exact adjoint of :meth:`forward`: (nz, n_angles, n_radial) → (nz, n, n)."""
        return self.from_columns(matmul(self.transpose, self.sino_to_columns(sino)))


@functools.lru_cache(maxsize=3)
def get_projector(
    n: int, pixel_mm: float, n_angles: int, n_radial: int, bin_mm: float, psf_fwhm_mm: float = 0.0
) -> Projector:
    """A cached :class:`Projector` for an ``n × n`` grid of ``pixel_mm`` pixels."""
    return Projector(n, pixel_mm, SinogramGeometry(n_angles, n_radial, bin_mm), psf_fwhm_mm)


def tof_bin_mm(n: int, pixel_mm: float, n_tof: int) -> float:
    """Width of each of ``n_tof`` time-of-flight bins spanning the field of view."""
    return n * pixel_mm / n_tof


def tof_fold(arr: NDArray[np.floating], n_tof: int) -> NDArray[np.float32]:
    """(…, n_angles, n_radial) → (…, n_angles, n_tof·n_radial): the same value in every
    TOF bin of a line of response (attenuation, normalisation)."""
    a = np.asarray(arr, np.float32)
    out = np.broadcast_to(a[..., None, :], (*a.shape[:-1], n_tof, a.shape[-1]))
    return np.ascontiguousarray(out).reshape(*a.shape[:-1], n_tof * a.shape[-1])


def tof_unfold_sum(arr: NDArray[np.floating], n_tof: int) -> NDArray[np.float32]:
    """Sum over the TOF bins: (…, n_angles, n_tof·n_radial) → (…, n_angles, n_radial)."""
    a = np.asarray(arr, np.float32)
    r = a.shape[-1] // n_tof
    return a.reshape(*a.shape[:-1], n_tof, r).sum(axis=-2)


@functools.lru_cache(maxsize=2)
def get_tof_projector(
    n: int,
    pixel_mm: float,
    n_angles: int,
    n_radial: int,
    bin_mm: float,
    psf_fwhm_mm: float,
    n_tof: int,
    tof_fwhm_mm: float,
) -> Projector:
    """A projector onto TOF-binned sinograms (cached).

    Each line of response is split into ``n_tof`` bins along it, of width
    :func:`tof_bin_mm`; a pixel at position τ along the line (τ = −x sinθ + y cosθ)
    contributes to bin j the share of a Gaussian of FWHM ``tof_fwhm_mm`` = c·Δt/2 centred on
    τ that falls in the bin (Conti M., Phys Med 25, 2009); the two end bins take the
    Gaussian's tails, so the bins of a line add up to its non-TOF value. The bins are folded into the
    radial axis of the geometry (index j·n_radial + r), so the sinogram is (z, n_angles,
    n_tof·n_radial) and the subsets (whole angles) stay as for non-TOF data.
    """
    from scipy.special import ndtr

    base = get_projector(n, pixel_mm, n_angles, n_radial, bin_mm, psf_fwhm_mm)
    m = base.matrix
    c = (np.arange(n) - (n - 1) / 2.0) * pixel_mm
    yy, xx = np.meshgrid(c, c, indexing="ij")
    px_x, px_y = xx.ravel()[base.pixels], yy.ravel()[base.pixels]
    w = tof_bin_mm(n, pixel_mm, n_tof)
    sigma = tof_fwhm_mm / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    row_of = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
    rows, cols, vals = [], [], []
    # angle by angle, bin by bin: the entries come out sorted by TOF row (a, j, r), so the
    # CSR arrays are assembled directly, without a sort
    for a, theta in enumerate(base.geometry.angles_rad):
        e0, e1 = m.indptr[a * n_radial], m.indptr[(a + 1) * n_radial]
        col = m.indices[e0:e1]
        tau = -px_x[col] * np.sin(theta) + px_y[col] * np.cos(theta)
        rad = row_of[e0:e1] - a * n_radial
        for j in range(n_tof):
            t = (j - (n_tof - 1) / 2.0) * w
            edge = j in (0, n_tof - 1)  # the end bins take the tails: Σ_j share = 1
            near = (np.abs(tau - t) < w / 2 + 3.5 * sigma) | edge
            hi = 1.0 if j == n_tof - 1 else ndtr((t + w / 2 - tau[near]) / sigma)
            lo = 0.0 if j == 0 else ndtr((t - w / 2 - tau[near]) / sigma)
            share = np.asarray(hi - lo, np.float64)
            keep = share > 1e-3
            rows.append((a * n_tof + j) * n_radial + rad[near][keep])
            cols.append(col[near][keep])
            vals.append((m.data[e0:e1][near][keep] * share[keep]).astype(np.float32))
    geom = SinogramGeometry(n_angles, n_tof * n_radial, bin_mm)
    tof = Projector.__new__(Projector)
    tof.n, tof.pixel_mm, tof.geometry = n, pixel_mm, geom
    tof.mask, tof.pixels, tof.psf_fwhm_mm = base.mask, base.pixels, psf_fwhm_mm
    r = np.concatenate(rows)
    indptr = np.concatenate(([0], np.cumsum(np.bincount(r, minlength=geom.n_lor))))
    tof.matrix = sp.csr_matrix(
        (np.concatenate(vals), np.concatenate(cols).astype(np.int32), indptr.astype(np.int32)),
        shape=(geom.n_lor, base.pixels.size),
    )
    tof._transpose = None
    tof._subsets = {}
    return tof
