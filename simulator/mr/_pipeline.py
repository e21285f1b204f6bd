"""Shared per-series setup and per-slice acquisition used by :func:`scan` and
:func:`acquire_kspace`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.errors import ParameterError
from simulator.mr._fft import fft2
from simulator.mr.acquisition import (
    Sampling,
    add_kspace_noise,
    add_mixed_noise,
    complex_normal,
    image_space_noise,
    noise_sd,
    object_image,
    raw_draws_per_sample,
    sampling,
)
from simulator.mr.anatomy import Anatomy
from simulator.mr.coils import COIL_RADIUS_MM, coil_maps, noise_covariance
from simulator.mr.geometry import ObjectK, SlicePlan, default_geometry, object_kspace, plan_slices
from simulator.mr.motion import motion_phase
from simulator.mr.operators import EncodingOperator
from simulator.mr.protocol import Geometry, MRProtocol
from simulator.mr.recon import combine_acquired, combined_noise_weights
from simulator.mr.rules import MRDerived, derive


@dataclass(frozen=True, eq=False)
class Setup:
    """Everything a series needs before its first slice."""

    protocol: MRProtocol
    geometry: Geometry
    plan: SlicePlan
    derived: MRDerived
    samp: Sampling
    maps: NDArray[np.complex64]
    radius_mm: float
    n_sym: int | None
    seed: int | None
    rng: np.random.Generator | None


@dataclass(frozen=True, eq=False)
class SliceData:
    """One acquired slice.

    Parameters
    ----------
    obj : ObjectK
        Cached tissue k-space, labels and purity of the slice geometry.
    image : ndarray of complex64, shape (L·n_phase, n_read)
        The noiseless object on the extended phase grid, before the coils.
    maps_ext : ndarray of complex64, shape (coils, L·n_phase, n_read)
        Coil sensitivities on that grid.
    n_phase : int
        Encoded phase lines of the FOV.
    mask : ndarray of bool, shape (n_phase,)
        Acquired lines.
    image_noise : bool
        True when the acquisition is fully sampled and its noise was drawn on the coil
        images (:func:`~simulator.mr.acquisition.image_space_noise`).
    white_noise : ndarray of complex64, shape (coils, n_phase, n_read), or None
        Fully sampled acquisition with noise: the white noise ``z`` whose ring mixing
        (:func:`~simulator.mr.acquisition.add_mixed_noise`) is the receiver noise of the
        coil images (:func:`~simulator.mr.acquisition.image_space_noise`).
    noisy_kspace : ndarray of complex64, shape (coils, n_phase, n_read), or None
        Undersampled acquisition: the sampled k-space with its noise.
    combined : ndarray of complex64, shape (n_phase, n_read), or None
        Fully sampled acquisition asked for its combination
        (:func:`~simulator.mr.recon.combine_acquired`): the noisy combined image, its noise
        drawn as one field of the combination's law (``white_noise`` is then None).
    """

    obj: ObjectK
    image: NDArray[np.complex64]
    maps_ext: NDArray[np.complex64]
    n_phase: int
    mask: NDArray[np.bool_]
    image_noise: bool
    white_noise: NDArray[np.complex64] | None
    noisy_kspace: NDArray[np.complex64] | None
    combined: NDArray[np.complex64] | None = None

    def noiseless_part(self) -> SliceData:
        """The same slice without its noise (what the noiseless images need)."""
        return dataclasses.replace(self, white_noise=None, noisy_kspace=None, combined=None)

    def noisy_images(self) -> NDArray[np.complex64]:
        """Fully sampled acquisition: the coil images with their receiver noise."""
        out = self.clean_images()
        if self.white_noise is not None:
            add_mixed_noise(out, self.white_noise)
        return out

    @property
    def encoding(self) -> EncodingOperator:
        """The slice's encoding operator: coils, fold and FFT, the acquired lines."""
        return EncodingOperator(self.maps_ext, self.mask, self.n_phase)

    def clean_images(self) -> NDArray[np.complex64]:
        """Noiseless folded coil images."""
        return self.encoding.coil_images(self.image)

    def clean_kspace(self) -> NDArray[np.complex64]:
        """Noiseless sampled k-space (zeros on the skipped lines): ``E · image``."""
        return self.encoding.forward(self.image)

    def kspace(self) -> NDArray[np.complex64]:
        """Sampled k-space with noise (the transform of the noisy coil images when the
        noise was drawn on them)."""
        if self.noisy_kspace is not None:
            return self.noisy_kspace
        if not self.image_noise or self.combined is not None:
            raise ValueError("the noisy coil data of this slice were not kept")
        return fft2(self.noisy_images())


def effective_protocol(protocol: MRProtocol, geometry: Geometry | None) -> MRProtocol:
    """The protocol as acquired: an explicit geometry's orientation wins."""
    if geometry is not None and geometry.orientation != protocol.orientation:
        return dataclasses.replace(protocol, orientation=geometry.orientation)
    return protocol


def _key(v: NDArray[np.float64]) -> tuple[float, float, float]:
    return (round(float(v[0]), 6), round(float(v[1]), 6), round(float(v[2]), 6))


def setup(anatomy: Anatomy, protocol: MRProtocol, geometry: Geometry | None,
          rng: object) -> Setup:
    """Validate the rng, place the slices and prepare sampling and coil maps."""
    if geometry is None:
        geometry = default_geometry(anatomy, protocol)
    if isinstance(rng, bool) or not (
        rng is None or isinstance(rng, (int, np.integer, np.random.Generator))
    ):
        raise ParameterError("rng", rng, "a numpy Generator, an integer seed or None")
    seed = None
    gen: np.random.Generator | None
    if isinstance(rng, (int, np.integer)):
        seed = int(rng)
        gen = np.random.default_rng(seed)
    else:
        gen = rng
    plan = plan_slices(protocol, geometry)
    samp = sampling(protocol)
    radius = COIL_RADIUS_MM[protocol.body_part]
    maps = coil_maps(protocol.coils, plan.n_phase, plan.n_read, plan.d_phase_mm,
                     plan.d_read_mm, radius)
    n_sym = samp.n_partial - plan.n_phase // 2 if protocol.partial_fourier < 1.0 else None
    return Setup(protocol, geometry, plan, derive(protocol), samp, maps, radius, n_sym, seed,
                 gen)


def slice_list(slices: object, n: int) -> list[int]:
    """Validate slice indices (None: all)."""
    if slices is None:
        return list(range(n))
    out = []
    for s in slices:  # type: ignore[attr-defined]
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s < n:
            raise ParameterError("slices", s, f"0–{n - 1}", "index of a planned slice",
                                 "indice d'une coupe planifiée")
        out.append(int(s))
    return out


def acquire_slice(anatomy: Anatomy, st: Setup, i: int,
                  combine_with: tuple[NDArray[np.complex64], NDArray[np.complex128]] | None = None,
                  ) -> SliceData:
    """Acquire slice ``i`` of the plan (noise and motion drawn from ``st.rng``).

    ``combine_with=(maps, psi)``: a fully sampled slice comes back combined
    (``SliceData.combined``), with the same noise as without it.

    A fully sampled slice draws the noise of its coil combination ``Σ_c V_c·z_c`` directly,
    as one white field times ``r = √(Σ_c|V_c|²)``
    (:func:`~simulator.mr.recon.combined_noise_weights`: the same law, one draw per pixel
    instead of one per coil and pixel). The raw coil data (``acquire_kspace``) draw free
    white coil noise before it in the stream (a scan skips those draws:
    :func:`skip_normals`) and make their coil noise ``z`` from both
    (:func:`white_given_combination`): their reconstruction is the scan's image, and ``z``
    keeps the law of white receiver noise.
    """
    p, plan = st.protocol, st.plan
    obj = object_kspace(anatomy, _key(plan.centers_mm[i]), _key(plan.u_phase),
                        _key(plan.u_read), _key(plan.normal), plan.d_phase_mm, plan.d_read_mm,
                        plan.n_phase, plan.n_read, p.slice_mm)
    ext = obj.extension
    maps_ext = st.maps if ext == 1 else coil_maps(
        p.coils, ext * plan.n_phase, plan.n_read, plan.d_phase_mm, plan.d_read_mm,
        st.radius_mm)
    motion = None
    if p.motion != "none" and st.rng is not None:
        n_pe = ext * plan.n_phase
        k_lines = np.fft.fftfreq(n_pe) * n_pe / ext
        motion = motion_phase(p.motion, st.derived.scan_time_s, st.samp.shot_of_line,
                              st.samp.k_acquired, k_lines, plan.n_phase * plan.d_phase_mm,
                              st.rng, p.nex)
    m = object_image(p, plan, obj, st.samp, motion)
    if image_space_noise(p, st.samp):
        maps, psi = combine_with if combine_with is not None else (
            st.maps, noise_covariance(p.coils))
        # Per slice the stream holds the free coil noise (raw data only), then the noise of
        # the combination as one field of its own law; a scan skips the former.
        n_free = p.coils * plan.n_phase * plan.n_read
        sd_noise = noise_sd(p)
        comb_noise = free = None
        if st.rng is not None:
            weights, gain = combined_noise_weights(maps_ext, maps, psi, plan.n_phase)
            if combine_with is None:
                free = complex_normal(st.rng, (p.coils, plan.n_phase, plan.n_read), sd_noise)
            else:
                skip_normals(st.rng, n_free)
            comb_noise = complex_normal(st.rng, (plan.n_phase, plan.n_read), sd_noise)
            comb_noise *= gain
        if combine_with is not None:
            combined = combine_acquired(m, maps_ext, maps, None, psi)
            if comb_noise is not None:
                combined += comb_noise
            return SliceData(obj, m, maps_ext, plan.n_phase, st.samp.mask, True, None, None,
                             combined)
        white = None
        if free is not None and comb_noise is not None:
            white = white_given_combination(free, weights, gain, comb_noise)
        return SliceData(obj, m, maps_ext, plan.n_phase, st.samp.mask, True, white, None)
    k = EncodingOperator(maps_ext, st.samp.mask, plan.n_phase).forward(m)
    if st.rng is not None:
        k = add_kspace_noise(k, st.samp.mask, noise_sd(p), st.rng)
    return SliceData(obj, m, maps_ext, plan.n_phase, st.samp.mask, False, None, k)


def skip_normals(rng: np.random.Generator, n: int) -> None:
    """Move ``rng`` past ``n`` samples of :func:`~simulator.mr.acquisition.complex_normal`,
    which reads one raw 64-bit word per complex sample: at once for PCG64 (numpy's default
    generator), by drawing the raw words otherwise."""
    bits = rng.bit_generator
    if isinstance(bits, (np.random.PCG64, np.random.PCG64DXSM)):
        kept = bits.state               # advance() drops a buffered 32-bit half: keep it,
        bits.advance(n)                 # as drawing raw words would
        state = bits.state
        state["has_uint32"], state["uinteger"] = kept["has_uint32"], kept["uinteger"]
        bits.state = state
    else:
        bits.random_raw(n * raw_draws_per_sample(bits), output=False)


def white_given_combination(free: NDArray[np.complex64], weights: NDArray[np.complex64],
                            gain: NDArray[np.float32], combined: NDArray[np.complex64]
                            ) -> NDArray[np.complex64]:
    """White coil noise ``z`` whose combination ``Σ_c V_c·z_c`` is ``combined``.

    With ``u = conj(V)/r`` (a unit vector over the coils at each pixel) and ``combined =
    r·ζ``: ``z = (I − u·uᴴ)·w + u·ζ = w + conj(V)·(combined − Σ_c V_c·w_c)/r²``. When ``w``
    (``free``) and ``ζ`` are independent white circular Gaussians of the same SD, ``z`` is
    too: its covariance is ``σ²·((I − u·uᴴ) + u·uᴴ) = σ²·I``. Where ``r = 0`` it is ``w``.

    Parameters
    ----------
    free : ndarray of complex64, shape (coils, n_phase, n_read)
        White noise ``w`` independent of ``combined`` (overwritten).
    weights, gain : ndarray, shapes (coils, n_phase, n_read) and (n_phase, n_read)
        ``V`` and ``r`` of :func:`~simulator.mr.recon.combined_noise_weights`.
    combined : ndarray of complex64, shape (n_phase, n_read)
        The combination's noise ``r·ζ``.
    """
    resid = np.array(combined, dtype=np.complex64, copy=True)
    tmp = np.empty_like(resid)
    for c in range(free.shape[0]):
        np.multiply(weights[c], free[c], out=tmp)
        resid -= tmp
    r2 = gain.astype(np.float32) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        resid *= np.where(r2 > 0, np.float32(1.0) / r2, np.float32(0.0))
    for c in range(free.shape[0]):
        np.multiply(np.conj(weights[c]), resid, out=tmp)
        free[c] += tmp
    return free


def orient(stack: NDArray[Any], plan: SlicePlan) -> NDArray[Any]:
    """Internal (n, encoded phase, read) → displayed (n, rows, cols): drop the phase
    oversampling, transpose when phase runs along the columns."""
    stack = plan.crop(stack)
    return np.ascontiguousarray(stack if plan.phase_vertical else np.swapaxes(stack, 1, 2))
