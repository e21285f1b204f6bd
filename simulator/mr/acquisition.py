"""k-space acquisition: contrast, coils, fat shift, wrap, undersampling, motion, noise.

For one slice the object k-space is the sum over tissues of their cached fraction-map
k-space (:func:`simulator.mr.geometry.object_kspace`) weighted by the tissue signal
(:mod:`simulator.mr.signal`) — per phase line for a turbo echo train — with the fat part
displaced along read by the chemical shift (a linear phase in k-space). Motion multiplies
each line by its phase error. Back in image space on the extended phase grid, the encoding
operator (:class:`simulator.mr.operators.EncodingOperator`) multiplies the object by each
coil sensitivity, folds the extended grid onto the phase FOV (wrap), Fourier transforms each
coil image and zeroes the lines the protocol skips (SENSE ``parallel_r``, partial Fourier);
complex Gaussian noise is added to the sampled lines only. A fully sampled acquisition has the same law with its noise drawn on the coil images
(:func:`image_space_noise`): the preview and the series then need no coil FFT at all.

Noise calibration: with unitary FFTs, white k-space noise of SD σ per real channel gives
image noise σ; σ ∝ √(BW / (N_phase · NEX)) and the signal ∝ voxel volume · B0, so the image
SNR follows ``voxel · √(N_phase · NEX / BW)``; acceleration and partial Fourier lose their
share of it in the reconstruction, as on a scanner.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simulator.mr._fft import ifft2
from simulator.mr.coils import noise_mixing
from simulator.mr.geometry import ObjectK, SlicePlan
from simulator.mr.protocol import MRProtocol
from simulator.mr.rules import COIL_SNR_GAIN, derive, timing
from simulator.mr.signal import echo_of_line, line_weights

__all__ = ["Sampling", "sampling", "noise_sd", "signal_scale", "object_image",
           "image_space_noise", "complex_normal", "normal_blocks", "coil_noise", "add_coil_noise", "add_mixed_noise",
           "add_kspace_noise", "SNR_WATER_REF", "REFERENCE_VOXEL_MM3"]

#: SNR of pure water (PD 1, full signal) in the reference voxel at 1.5 T, 256 lines,
#: 130 Hz/px, NEX 1, head coil.
SNR_WATER_REF = 150.0
REFERENCE_VOXEL_MM3 = 5.0
_REF_LINES = 256
_REF_BW = 130.0


@dataclass(frozen=True, eq=False)
class Sampling:
    """Which phase lines are read and when.

    Parameters
    ----------
    mask : ndarray of bool, shape (n_phase,)
        Sampled lines in FFT order.
    k_acquired : ndarray of int, shape (M,)
        Phase index (−n/2 … n/2−1) of each acquired line.
    shot_of_line : ndarray of int, shape (M,)
        Excitation (time order) that reads each acquired line.
    n_partial : int
        Lines kept by partial Fourier before acceleration (``n_phase`` when off).
    """

    mask: NDArray[np.bool_]
    k_acquired: NDArray[np.int64]
    shot_of_line: NDArray[np.int64]
    n_partial: int


def _turbo(p: MRProtocol) -> bool:
    return p.sequence == "tse" or (p.sequence == "ir" and p.etl > 1)


def sampling(p: MRProtocol) -> Sampling:
    """Sampling pattern of a protocol: SENSE every ``parallel_r`` lines, partial Fourier."""
    n = p.phase_lines_encoded
    k = np.rint(np.fft.fftfreq(n) * n).astype(np.int64)
    keep = np.ones(n, dtype=bool)
    n_pf = n
    if p.partial_fourier < 1.0:
        n_pf = max(int(round(n * p.partial_fourier)), n // 2 + 8)
        keep &= k >= n // 2 - n_pf
    keep &= (k % p.parallel_r) == 0
    ka = k[keep]
    if _turbo(p):
        order = np.lexsort((ka, np.abs(ka)))
        per = math.ceil(len(ka) / p.etl)
        shot = np.empty(len(ka), dtype=np.int64)
        shot[order] = np.arange(len(ka)) % per
    else:
        shot = np.argsort(np.argsort(ka)).astype(np.int64)
    mask = keep.copy()
    for a in (mask, ka, shot):
        a.flags.writeable = False
    return Sampling(mask, ka, shot, n_pf)


def signal_scale(p: MRProtocol, plan: SlicePlan) -> float:
    """Image amplitude of pure water per unit signal: voxel volume and field."""
    vox = plan.d_phase_mm * plan.d_read_mm * p.slice_mm
    return vox / REFERENCE_VOXEL_MM3 * p.field_t / 1.5


def noise_sd(p: MRProtocol) -> float:
    """SD of the complex noise per real channel, per k-space sample and coil."""
    gain = COIL_SNR_GAIN[p.body_part]
    return math.sqrt((p.bandwidth_hz_px / _REF_BW) * (_REF_LINES / p.phase_lines_encoded) / p.nex) / (
        SNR_WATER_REF * gain)


def object_image(p: MRProtocol, plan: SlicePlan, obj: ObjectK, samp: Sampling,
                 motion: NDArray[np.complex64] | None) -> NDArray[np.complex64]:
    """The noiseless object on the extended phase grid, before the coils.

    Contrast-weighted sum of the cached tissue k-spaces (per phase line for an echo train),
    fat displaced along read, scaled to the voxel, motion applied per line, then one inverse
    FFT of shape ``(L·n_phase, n_read)``.
    """
    n_p, n_r = plan.n_phase, plan.n_read
    n_pe = obj.extension * n_p
    if not obj.names:
        return np.zeros((n_pe, n_r), dtype=np.complex64)
    k_lines = np.fft.fftfreq(n_pe) * n_pe / obj.extension
    ww, wf = line_weights(p, obj.names, k_lines, samp.k_acquired)
    kw = weighted_kspace(ww, obj.half, n_pe, n_r)
    fat_idx = np.flatnonzero(np.abs(wf).max(axis=0) > 0)
    if fat_idx.size:
        shift = -derive(p).fat_shift_px
        ramp = np.exp(-2j * np.pi * np.fft.fftfreq(n_r) * shift).astype(np.complex64)
        kf = weighted_kspace(wf[:, fat_idx], obj.half[fat_idx], n_pe, n_r)
        kf *= ramp[None, :]
        kw += kf
    kw *= np.complex64(signal_scale(p, plan))
    if motion is not None:
        kw *= motion[:, None]
    return ifft2(kw.astype(np.complex64, copy=False))


def image_space_noise(p: MRProtocol, samp: Sampling) -> bool:
    """True when the receiver noise can be drawn on the coil images directly.

    A fully sampled acquisition reads every line of the coil k-space; its reconstruction is
    the unitary inverse FFT of (signal + white noise), and a unitary transform maps white
    circular Gaussian noise with coil covariance Ψ onto white circular Gaussian noise with the
    same Ψ. Drawing that noise on the coil images is therefore the same law and saves the
    forward and the inverse coil FFT. Undersampled acquisitions (SENSE, partial Fourier)
    keep their noise on the sampled k-space lines.
    """
    return bool(samp.mask.all()) and p.parallel_r == 1 and p.partial_fourier >= 1.0


def _weighted_sum(w: NDArray[np.complex64], f: NDArray[np.complex64]) -> NDArray[np.complex64]:
    """``Σ_t w[y, t] · f[t, y, x]`` (w of shape (1, T) or (N, T)).

    A plain accumulation over tissues: single-threaded and predictable (a BLAS call is no
    faster at this size and stalls when the cores are shared).
    """
    out = np.zeros(f.shape[1:], dtype=np.complex64)
    tmp = np.empty_like(out)
    for t in range(f.shape[0]):
        col = w[:, t]
        weight = col[0] if w.shape[0] == 1 else col[:, None]
        np.multiply(f[t], weight, out=tmp)
        out += tmp
    return out


def weighted_kspace(w: NDArray[np.complex64], half: NDArray[np.complex64], n_pe: int,
                    n_r: int) -> NDArray[np.complex64]:
    """``Σ_t w[y, t] · K_t[y, x]`` from the stored non-negative read frequencies of the
    tissue k-spaces (:attr:`simulator.mr.geometry.ObjectK.half`), without rebuilding the
    ``T`` full maps: the same sum as :func:`_weighted_sum` over ``ObjectK.kspace``.

    The non-negative columns are the plain weighted sum. A negative column of row ``f`` is
    ``Σ_t w[f, t] · conj(H_t[g, −x])`` with ``g`` the stored row of frequency ``−f`` (see
    :func:`simulator.mr.geometry._unfold`), that is ``conj(Σ_t conj(w[f(g), t]) · H_t[g, −x])``:
    one weighted sum over the stored rows with the weights moved to them, then a single map
    gathered and conjugated.
    """
    pos, neg = (n_r + 1) // 2, n_r // 2
    out = np.empty((n_pe, n_r), dtype=np.complex64)
    out[:, :pos] = _weighted_sum(w, half[:, :n_pe, :pos])
    if not neg:
        return out
    mirror = np.zeros(n_pe, dtype=np.intp)                  # stored row of frequency −f
    mirror[1:] = n_pe - np.arange(1, n_pe)
    if n_pe % 2 == 0:
        mirror[n_pe // 2] = n_pe                             # +n_pe/2: the extra last row
    if w.shape[0] == 1:
        w_rows = np.conj(w)
    else:  # the weight of output row f moves to its stored row mirror[f]; no map is copied
        inverse = np.zeros(half.shape[1], dtype=np.intp)
        inverse[mirror] = np.arange(n_pe)
        w_rows = np.conj(w[inverse])                     # a stored row no f reads: unused
    acc = _weighted_sum(w_rows.astype(np.complex64, copy=False), half[:, :, neg:0:-1])
    np.conjugate(acc[mirror], out=out[:, pos:])
    return out


#: Samples per Box–Muller block: its working set (three float32 rows and the output) stays
#: in the core's cache.
_NOISE_BLOCK = 1 << 16


def raw_draws_per_sample(bits: np.random.BitGenerator) -> int:
    """Raw outputs of ``bits`` that one complex sample of :func:`complex_normal` reads: one
    64-bit word (two 32-bit halves), or two outputs of a 32-bit generator (MT19937, whose
    ``random_raw`` gives 32 random bits in a 64-bit slot)."""
    return 2 if isinstance(bits, np.random.MT19937) else 1


def raw_words(bits: np.random.BitGenerator, m: int) -> NDArray[np.uint32]:
    """``2·m`` random 32-bit words from ``bits`` (see :func:`raw_draws_per_sample`)."""
    if raw_draws_per_sample(bits) == 2:
        return bits.random_raw(2 * m).astype(np.uint32)
    words: NDArray[np.uint32] = bits.random_raw(m).view(np.uint32)
    return words


def normal_blocks(rng: np.random.Generator, n: int,
                  sd: float) -> Iterator[tuple[int, NDArray[np.complex64]]]:
    """The stream of :func:`complex_normal` block by block: ``(start, block)`` pairs over
    ``n`` samples, the same numbers in the same order.

    Each ``block`` is a buffer that the next step overwrites: use it before asking for the
    next one (a consumer that combines the noise as it comes never holds all of it).
    """
    block = min(n, _NOISE_BLOCK)
    buf = np.empty(block, dtype=np.complex64)
    radius = np.empty(block, dtype=np.float32)
    theta = np.empty(block, dtype=np.float32)
    cos = np.empty(block, dtype=np.float32)
    bits = rng.bit_generator
    scale = np.float32(-2.0 * sd * sd)
    angle = np.float32(2 * np.pi / 2.0**32)
    for start in range(0, n, block):
        m = min(block, n - start)
        if m != block:
            buf, radius, theta, cos = buf[:m], radius[:m], theta[:m], cos[:m]
        words = raw_words(bits, m)
        w1, w2 = words[:m], words[m:]
        np.right_shift(w1, np.uint32(8), out=w1)
        np.subtract(np.uint32(1 << 24), w1, out=w1)          # 1 … 2²⁴
        np.copyto(radius, w1, casting="unsafe")
        radius *= np.float32(2.0**-24)                       # u₁ in (0, 1]
        np.log(radius, out=radius)
        radius *= scale
        np.sqrt(radius, out=radius)
        np.copyto(theta, w2, casting="unsafe")
        theta *= angle
        np.cos(theta, out=cos)
        np.sin(theta, out=theta)
        part = buf.view(np.float32).reshape(m, 2)
        np.multiply(cos, radius, out=part[:, 0])
        np.multiply(theta, radius, out=part[:, 1])
        yield start, buf


def complex_normal(rng: np.random.Generator, shape: tuple[int, ...],
                   sd: float) -> NDArray[np.complex64]:
    """Complex Gaussian noise, SD ``sd`` on each of the real and imaginary channels.

    Box–Muller (exact Gaussian): ``sd · √(−2 ln u₁) · e^(2πi u₂)``. Each 64-bit output of
    the generator's bit generator gives two 32-bit words: the top 24 bits of the first make
    ``u₁ = (2²⁴ − w) / 2²⁴`` in (0, 1] (exact in float32, never 0), the second the angle.
    Raw words cost half of what ``Generator.random(dtype=float32)`` does per sample, and
    the block-by-block transform keeps the working set in cache. ``log``, ``cos`` and
    ``sin`` are numpy's SIMD float32 loops on AVX2 and AVX-512 alike (``log1p`` is
    vectorised on AVX-512 only); ``tests/benchmarks/bench_mr.py`` times the generator
    against ``standard_normal(dtype=float32)``. The same generator state gives the same
    noise.
    """
    n = int(np.prod(shape))
    out = np.empty(n, dtype=np.complex64)
    for start, blk in normal_blocks(rng, n, sd):
        out[start:start + blk.size] = blk
    return out.reshape(shape)


def add_mixed_noise(target: NDArray[np.complex64], z: NDArray[np.complex64]) -> None:
    """Add the ring-correlated receiver noise made from white noise ``z`` (coil axis 0) to
    ``target`` in place: ``n_c = a·z_c + b·(z_(c−1) + z_(c+1))``
    (:func:`~simulator.mr.coils.noise_mixing`)."""
    nc = target.shape[0]
    a, b = noise_mixing()
    tmp = np.empty(target.shape[1:], dtype=np.complex64)
    ca, cb = np.float32(a), np.float32(b)
    for c in range(nc):
        np.add(z[c - 1], z[(c + 1) % nc], out=tmp)
        tmp *= cb
        target[c] += tmp
        np.multiply(z[c], ca, out=tmp)
        target[c] += tmp


def add_coil_noise(target: NDArray[np.complex64], rng: np.random.Generator,
                   sd: float) -> None:
    """Add correlated receiver noise (coil axis 0, covariance ``sd² · noise_covariance``)
    to ``target`` in place."""
    add_mixed_noise(target, complex_normal(rng, target.shape, sd))


def coil_noise(rng: np.random.Generator, shape: tuple[int, ...],
               sd: float) -> NDArray[np.complex64]:
    """Correlated receiver noise (coil axis 0) with covariance ``sd² · noise_covariance``."""
    out = np.zeros(shape, dtype=np.complex64)
    add_coil_noise(out, rng, sd)
    return out


def add_kspace_noise(k: NDArray[np.complex64], mask: NDArray[np.bool_], sd: float,
               rng: np.random.Generator) -> NDArray[np.complex64]:
    nc, n_p, n_r = k.shape
    out = np.array(k, dtype=np.complex64, copy=True)
    if mask.all():
        add_coil_noise(out, rng, sd)
        return out
    rows = np.flatnonzero(mask)
    sub = out[:, rows, :]
    add_coil_noise(sub, rng, sd)
    out[:, rows, :] = sub
    return out


def n_eff(p: MRProtocol) -> int:
    """Echo number at the effective TE of a turbo readout (1 otherwise)."""
    t = timing(p)
    return int(round(t.te_eff_ms / t.echo_spacing_ms)) if t.echo_spacing_ms else 1


def echoes(p: MRProtocol, samp: Sampling) -> NDArray[np.int64]:
    """Echo number that reads each acquired line (all 1 without a turbo train)."""
    if not _turbo(p):
        return np.ones(len(samp.k_acquired), dtype=np.int64)
    return echo_of_line(samp.k_acquired, p.etl, n_eff(p))
