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

Products run on several threads (:func:`matmul`): scipy's sparse × dense kernels release the
GIL. A CSR product (back-projection, ``A_sᵀ y``) is split into blocks of rows of equal work,
each computed in place into its rows of the result; a CSC product (a subset's forward
projection, the CSC view of the stored ``A_sᵀ``: each subset is stored once) into a fixed
number of blocks of columns whose results are added, so no result depends on the number of
threads. ``MERM_PET_THREADS`` sets the number of threads (default: the CPUs, at most 4).

OSEM sees each subset as a :class:`SubsetOp` (forward, back, rows). TOF-binned data use
:class:`TOFProjector`: the non-TOF entries spread over a few nodes along each line of
response, and the TOF bins a small dense kernel (n_tof × nodes) applied to them, the same
for every line: no TOF matrix is built.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = [
    "SinogramGeometry",
    "Projector",
    "SubsetOp",
    "TOFProjector",
    "get_projector",
    "get_tof_projector",
    "matmul",
    "threads",
    "dot_1thread",
]

try:  # the kernels behind ``csr_matrix @ dense`` and ``csc_matrix @ dense``
    from scipy.sparse._sparsetools import csc_matvecs as _csc_matvecs
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:  # pragma: no cover - absent from some scipy: plain products
    _csr_matvecs = _csc_matvecs = None

FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))

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


#: A CSC product is split into this many blocks of the matrix's columns (pixels), whatever
#: the number of threads, so its result does not depend on the threads.
_CSC_BLOCKS = 2


def _csc_product(
    mat: sp.csc_matrix, cols: NDArray[np.float32], n: int, blocks: int = _CSC_BLOCKS
) -> NDArray[np.float32]:
    """``mat @ cols`` for CSC ``mat``: the columns of ``mat`` in :data:`_CSC_BLOCKS` blocks
    of equal stored entries, each scattered into its own zeroed result, the results added
    in block order (on up to ``n`` threads; the same sums for any ``n``). ``blocks=1``: one
    plain product (for results too large for the cache, where extra copies cost more)."""
    n_row, n_col = mat.shape
    k = cols.shape[1]
    cuts = np.searchsorted(mat.indptr, np.linspace(0, mat.nnz, blocks + 1)[1:-1])
    bounds = [0, *(int(c) for c in cuts), n_col]
    flat = cols.ravel()

    def part(c0: int, c1: int) -> NDArray[np.float32]:
        res = np.zeros((n_row, k), np.float32)
        if c1 > c0:
            _csc_matvecs(n_row, c1 - c0, k, mat.indptr[c0 : c1 + 1], mat.indices, mat.data,
                         flat[c0 * k :], res.ravel())
        return res

    spans = list(zip(bounds[:-1], bounds[1:], strict=True))
    if n > 1:
        futures = [_pool(min(n, len(spans))).submit(part, a, b) for a, b in spans]
        results = [f.result() for f in futures]
    else:
        results = [part(a, b) for a, b in spans]
    out = results[0]
    for r in results[1:]:
        out += r
    return out


def matmul(
    mat: sp.csr_matrix | sp.csc_matrix, x: NDArray[np.floating], n_threads: int | None = None
) -> NDArray[np.float32]:
    """``mat @ x`` for a float32 CSR or CSC matrix and (n, k) float32 columns, threaded.

    CSR: each thread computes a block of rows of equal stored entries straight into its rows
    of the (zeroed) result, so the sum is the same as scipy's, in the same order per row.
    CSC (a subset's forward projection, ``A_sᵀ`` stored by rows: about 1.4× faster than
    ``A_s`` by rows while the result fits in cache): see :func:`_csc_product`.
    ``n_threads`` defaults to :func:`threads`.
    """
    n = threads() if n_threads is None else max(1, int(n_threads))
    cols = np.ascontiguousarray(x, dtype=np.float32)
    small = cols.ndim != 2 or mat.nnz * (cols.shape[1] if cols.ndim == 2 else 1) < _MIN_WORK
    if mat.format == "csc" and cols.ndim == 2 and _csc_matvecs is not None and (
        mat.dtype == np.float32 and mat.indptr.dtype == mat.indices.dtype
    ):
        return _csc_product(mat, cols, 1 if small else n)
    if (
        n == 1
        or _csr_matvecs is None
        or mat.format != "csr"
        or small
        or mat.dtype != np.float32
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


class SubsetOp:
    """One OSEM subset as an operator: ``forward`` (A_s x), ``back`` (A_sᵀ y) and ``rows``
    (the subset's rows of the sinogram columns). Columns are slices; ``n_threads`` as in
    :func:`matmul`."""

    rows: NDArray[np.intp]

    def forward(self, x: NDArray[np.float32], n_threads: int | None = None) -> NDArray[np.float32]:
        raise NotImplementedError

    def back(self, y: NDArray[np.float32], n_threads: int | None = None) -> NDArray[np.float32]:
        raise NotImplementedError


class _MatrixSubset(SubsetOp):
    def __init__(self, a_s: sp.csc_matrix, t_s: sp.csr_matrix, rows: NDArray[np.intp]) -> None:
        self.a_s, self.t_s, self.rows = a_s, t_s, rows

    def forward(self, x: NDArray[np.float32], n_threads: int | None = None) -> NDArray[np.float32]:
        return matmul(self.a_s, x, n_threads)

    def back(self, y: NDArray[np.float32], n_threads: int | None = None) -> NDArray[np.float32]:
        return matmul(self.t_s, y, n_threads)


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

    @property
    def forward_matrix(self) -> sp.csc_matrix:
        """A as CSC: a view of :attr:`transpose` (no copy), the faster layout for ``A x``."""
        return self.transpose.T

    def subsets(
        self, n_subsets: int
    ) -> list[tuple[sp.csc_matrix, sp.csr_matrix, NDArray[np.intp]]]:
        """Interleaved angle subsets: (A_s, A_sᵀ, rows of A_s) for each subset s.

        Subset s holds the angles s, s + S, s + 2S, …, all radial bins of each. A_s is
        the CSC view of A_sᵀ (one stored copy per subset).
        """
        if n_subsets not in self._subsets:
            self._subsets.clear()  # keep one subset split: each is a copy of the matrix
            g = self.geometry
            out = []
            for s in range(n_subsets):
                ang = np.arange(s, g.n_angles, n_subsets)
                rows = (ang[:, None] * g.n_radial + np.arange(g.n_radial)[None, :]).ravel()
                t_s = self.transpose if n_subsets == 1 else self.matrix[rows].T.tocsr()
                out.append((t_s.T, t_s, rows))
            self._subsets[n_subsets] = out
        return self._subsets[n_subsets]

    def ensure_split(self, n_subsets: int) -> None:
        """Keep the cached subset split if there is one, else build ``n_subsets``'s (so that
        :meth:`forward` and the reconstruction that follows share it)."""
        if not self._subsets and n_subsets >= 4 and self.geometry.n_angles % n_subsets == 0:
            self.subsets(n_subsets)

    def subset_ops(self, n_subsets: int) -> list[SubsetOp]:
        """The subsets as operators (what OSEM uses; see :class:`SubsetOp`)."""
        return [_MatrixSubset(a_s, t_s, rows) for a_s, t_s, rows in self.subsets(n_subsets)]

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
        """Line integrals (value × mm) of (nz, n, n) images → (nz, n_angles, n_radial).

        With a split of at least 4 subsets at hand (:meth:`subsets`, kept for OSEM), the
        projection is computed subset by subset from their CSC views, each result small
        enough to stay in cache (2–4× faster than the whole matrix by rows)."""
        x = self.to_columns(images)
        split = next((v for k, v in self._subsets.items() if k >= 4), None)
        if split is None:
            return self.sino_from_columns(matmul(self.matrix, x))
        out = np.empty((self.geometry.n_lor, x.shape[1]), np.float32)
        for a_s, _, rows in split:
            out[rows] = matmul(a_s, x)
        return self.sino_from_columns(out)

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


def tof_kernel(
    n_nodes: int, fov_mm: float, n_tof: int, tof_fwhm_mm: float
) -> tuple[NDArray[np.float64], NDArray[np.float32]]:
    """TOF bin shares at ``n_nodes`` positions τ along a line of response.

    Returns the node positions (mm, from −fov/2 to +fov/2) and H (n_tof × n_nodes): the share
    of a Gaussian of FWHM ``tof_fwhm_mm`` centred on each node that falls in each of the
    ``n_tof`` bins of width :func:`tof_bin_mm`, the two end bins taking the tails, so each
    column of H adds up to 1 (Conti M., Phys Med 25, 2009).
    """
    from scipy.special import ndtr

    nodes = np.linspace(-fov_mm / 2.0, fov_mm / 2.0, n_nodes)
    w = fov_mm / n_tof
    sigma = tof_fwhm_mm / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    centre = (np.arange(n_tof) - (n_tof - 1) / 2.0) * w
    hi = ndtr((centre[:, None] + w / 2 - nodes[None, :]) / sigma)
    lo = ndtr((centre[:, None] - w / 2 - nodes[None, :]) / sigma)
    hi[-1], lo[0] = 1.0, 0.0
    return nodes, (hi - lo).astype(np.float32)


#: Spacing of the TOF nodes along a line of response, in σ of the TOF kernel.
TOF_NODE_SPACING_SIGMA = 0.7


def tof_nodes(fov_mm: float, n_tof: int, tof_fwhm_mm: float) -> int:
    """Nodes along a line of response for the TOF kernel: spaced at most
    :data:`TOF_NODE_SPACING_SIGMA` σ apart over the field of view (at least ``n_tof`` + 1)."""
    sigma = tof_fwhm_mm * FWHM_TO_SIGMA
    return max(n_tof + 1, int(np.ceil(fov_mm / (TOF_NODE_SPACING_SIGMA * sigma))) + 1)


def tof_kernel_fwhm_mm(tof_fwhm_mm: float, node_mm: float) -> float:
    """FWHM of the Gaussian put on the nodes so that, with the linear interpolation between
    nodes ``node_mm`` apart, a pixel's TOF profile has the scanner's variance on average.

    A pixel a fraction f of the way between two nodes is split (1 − f, f) between them: a
    mixture that adds f(1 − f)·Δ² to the variance of the kernel, Δ²/6 on average over f.
    The node kernel has σ² − Δ²/6, so the TOF resolution averaged over positions is the
    scanner's (within ±Δ²/12 at a node or midway between two).
    """
    sigma = tof_fwhm_mm * FWHM_TO_SIGMA
    var = sigma**2 - node_mm**2 / 6.0
    if var <= 0.25 * sigma**2:
        raise ValueError("TOF nodes too far apart for the kernel")
    return float(np.sqrt(var) / FWHM_TO_SIGMA)


#: OpenBLAS runs a product of m·n·k ≤ 65536 × 4 multiply-adds on one thread
#: (SMP_THRESHOLD_MIN × GEMM_MULTITHREAD_THRESHOLD in interface/gemm.c).
_BLAS_ONE_THREAD_MNK = 262_144


def dot_1thread(a: NDArray[np.float32], b: NDArray[np.float32], out: NDArray[np.float32]) -> None:
    """``out[:] = a @ b`` for a small ``a`` (TOF kernel, filter matrix) and a wide ``b``, in
    column blocks small enough that OpenBLAS keeps each on the calling thread: on shared
    cores its worker threads spin and cost several times the product's own CPU time."""
    m, kk = a.shape
    step = max(1, _BLAS_ONE_THREAD_MNK // max(1, m * kk))
    for c0 in range(0, b.shape[1], step):
        out[:, c0 : c0 + step] = a @ b[:, c0 : c0 + step]


class _TOFSubset(SubsetOp):
    """TOF subset: ``forward`` = H · (G_s x), ``back`` = G_sᵀ (Hᵀ y) (see
    :class:`TOFProjector`)."""

    def __init__(
        self, t_s: sp.csr_matrix, h: NDArray[np.float32], n_ang: int, n_nodes: int,
        n_radial: int, rows: NDArray[np.intp],
    ) -> None:
        self.t_s, self.h, self.rows = t_s, h, rows
        self.h_t = np.ascontiguousarray(h.T)
        self.n_ang, self.n_nodes, self.n_radial = n_ang, n_nodes, n_radial

    def forward(self, x: NDArray[np.float32], n_threads: int | None = None) -> NDArray[np.float32]:
        k = x.shape[1]
        cols = np.ascontiguousarray(x, np.float32)
        u = _csc_product(self.t_s.T, cols, 1, blocks=1)  # (angle, node, radial) × slices
        u3 = u.reshape(self.n_ang, self.n_nodes, self.n_radial * k)
        out = np.empty((self.n_ang, self.h.shape[0], self.n_radial * k), np.float32)
        for a in range(self.n_ang):
            dot_1thread(self.h, u3[a], out[a])
        return out.reshape(-1, k)

    def back(self, y: NDArray[np.float32], n_threads: int | None = None) -> NDArray[np.float32]:
        k = y.shape[1]
        yy = np.ascontiguousarray(y, np.float32).reshape(self.n_ang, -1, self.n_radial * k)
        v = np.empty((self.n_ang, self.n_nodes, self.n_radial * k), np.float32)
        for a in range(self.n_ang):
            dot_1thread(self.h_t, yy[a], v[a])
        return matmul(self.t_s, v.reshape(-1, k), n_threads)


class TOFProjector(Projector):
    """Projector onto TOF-binned sinograms, as a separable weighting of the non-TOF one.

    Each entry A[(θ, r), p] of the non-TOF matrix is split between the two nodes of a grid
    along the line of response (``n_nodes`` points from −fov/2 to +fov/2) nearest to the
    pixel's position τ = −x sinθ + y cosθ, by linear interpolation: G[(θ, t, r), p]. The TOF
    bins are then H · G along t, H (:func:`tof_kernel`) the same small dense matrix for
    every line, so the TOF matrix is never stored: its entry is A · (the TOF bin share at τ,
    interpolated between nodes). The nodes are at most 0.7 σ of the TOF kernel apart
    (:func:`tof_nodes`: 20 along the 448-mm field of view at 540 ps); the interpolation
    widens the kernel by Δ²/6 on average, which the Gaussian on the nodes gives back
    (:func:`tof_kernel_fwhm_mm`), so the TOF resolution is the scanner's within ±0.04 σ².
    Bins of a line add up to its non-TOF value; the back-projector is the exact adjoint.
    The bins are folded into the radial axis
    (index j·n_radial + r), so the sinogram is (z, n_angles, n_tof·n_radial) and the
    subsets (whole angles) stay as for non-TOF data.
    """

    def __init__(self, base: Projector, n_tof: int, tof_fwhm_mm: float) -> None:
        g = base.geometry
        self.n, self.pixel_mm, self.psf_fwhm_mm = base.n, base.pixel_mm, base.psf_fwhm_mm
        self.mask, self.pixels = base.mask, base.pixels
        self.geometry = SinogramGeometry(g.n_angles, n_tof * g.n_radial, g.bin_mm)
        self.base, self.n_tof, self.tof_fwhm_mm = base, n_tof, tof_fwhm_mm
        fov = base.n * base.pixel_mm
        self.n_nodes = tof_nodes(fov, n_tof, tof_fwhm_mm)
        self.nodes_mm, self.h = tof_kernel(
            self.n_nodes, fov, n_tof, tof_kernel_fwhm_mm(tof_fwhm_mm, fov / (self.n_nodes - 1))
        )
        m = base.matrix
        c = (np.arange(base.n) - (base.n - 1) / 2.0) * base.pixel_mm
        yy, xx = np.meshgrid(c, c, indexing="ij")
        px_x, px_y = xx.ravel()[base.pixels], yy.ravel()[base.pixels]
        row = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
        ang, rad = np.divmod(row, g.n_radial)
        theta = g.angles_rad[ang]
        tau = -px_x[m.indices] * np.sin(theta) + px_y[m.indices] * np.cos(theta)
        u = np.clip((tau + fov / 2.0) / (fov / (self.n_nodes - 1)), 0.0, self.n_nodes - 1.0)
        t0 = np.minimum(np.floor(u).astype(np.int64), self.n_nodes - 2)
        f = (u - t0).astype(np.float32)
        r0 = (ang * self.n_nodes + t0) * g.n_radial + rad
        self._g = sp.csr_matrix(
            (
                np.concatenate((m.data * (1.0 - f), m.data * f)),
                (np.concatenate((r0, r0 + g.n_radial)), np.concatenate((m.indices, m.indices))),
            ),
            shape=(g.n_angles * self.n_nodes * g.n_radial, base.pixels.size),
            dtype=np.float32,
        )
        self._transpose = None
        self._subsets = {}
        self._ops: dict[int, list[SubsetOp]] = {}

    @property
    def matrix(self) -> sp.csr_matrix:  # type: ignore[override]
        """The TOF system matrix, (n_angles·n_tof·n_radial) × pixels, assembled on demand
        (large: for tests and small grids only)."""
        g, r = self.base.geometry, self.base.geometry.n_radial
        blocks = []
        for a in range(g.n_angles):
            sub = self._g[a * self.n_nodes * r : (a + 1) * self.n_nodes * r]
            h = sp.csr_matrix(np.kron(self.h, np.eye(r, dtype=np.float32)))
            blocks.append(h @ sub)
        return sp.vstack(blocks).tocsr().astype(np.float32)

    @property
    def transpose(self) -> sp.csr_matrix:
        """Aᵀ of the TOF matrix (assembled; small grids only)."""
        return self.matrix.T.tocsr()

    def subsets(self, n_subsets: int) -> list[tuple[sp.csc_matrix, sp.csr_matrix, NDArray[np.intp]]]:
        """Not stored for TOF: use :meth:`subset_ops`."""
        raise NotImplementedError("TOF subsets are operators: use subset_ops()")

    def subset_ops(self, n_subsets: int) -> list[SubsetOp]:
        """Interleaved angle subsets (as :meth:`Projector.subsets`), as TOF operators; one
        split is kept."""
        if n_subsets not in self._ops:
            self._ops.clear()
            g, nn, r = self.base.geometry, self.n_nodes, self.base.geometry.n_radial
            out: list[SubsetOp] = []
            for s in range(n_subsets):
                ang = np.arange(s, g.n_angles, n_subsets)
                g_rows = ((ang[:, None] * nn + np.arange(nn))[:, :, None] * r
                          + np.arange(r)).ravel()
                rows = ((ang[:, None] * self.n_tof + np.arange(self.n_tof))[:, :, None] * r
                        + np.arange(r)).ravel()
                t_s = self._g[g_rows].T.tocsr()
                out.append(_TOFSubset(t_s, self.h, ang.size, nn, r, rows))
            self._ops[n_subsets] = out
        return self._ops[n_subsets]

    def _split(self) -> list[SubsetOp]:
        if self._ops:
            return next(iter(self._ops.values()))
        na = self.geometry.n_angles
        return self.subset_ops(21 if na % 21 == 0 else max(d for d in range(1, 25) if na % d == 0))

    def forward(self, images: NDArray[np.floating]) -> NDArray[np.float32]:
        """TOF line integrals of (nz, n, n) images → (nz, n_angles, n_tof·n_radial)."""
        x = self.to_columns(images)
        out = np.empty((self.geometry.n_lor, x.shape[1]), np.float32)
        for op in self._split():
            out[op.rows] = op.forward(x)
        return self.sino_from_columns(out)

    def back(self, sino: NDArray[np.floating]) -> NDArray[np.float32]:
        """Exact adjoint of :meth:`forward`."""
        y = self.sino_to_columns(sino)
        acc = np.zeros((self.pixels.size, y.shape[1]), np.float32)
        for op in self._split():
            acc += op.back(np.ascontiguousarray(y[op.rows]))
        return self.from_columns(acc)


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
) -> TOFProjector:
    """A projector onto TOF-binned sinograms (cached; see :class:`TOFProjector`).

    Each line of response is split into ``n_tof`` bins along it, of width
    :func:`tof_bin_mm`; a pixel at position τ along the line (τ = −x sinθ + y cosθ)
    contributes to bin j the share of a Gaussian of FWHM ``tof_fwhm_mm`` = c·Δt/2 centred on
    τ that falls in the bin (Conti M., Phys Med 25, 2009); the two end bins take the
    Gaussian's tails, so the bins of a line add up to its non-TOF value.
    """
    base = get_projector(n, pixel_mm, n_angles, n_radial, bin_mm, psf_fwhm_mm)
    return TOFProjector(base, n_tof, tof_fwhm_mm)
