"""Acquisition: from a phantom and a protocol to measured sinograms (2-D, slice by slice).

Expected counts in line of response i of slice z:

    trues_i   = κ · n_i · a_i · (A · PSF(x))_i          x: activity at scan start, Bq/mL
    scatter_i = smooth (Gaussian-blurred) trues, scaled to a scatter-to-trues ratio that
                grows with the attenuating path (calibrated to the mCT's NEMA 33.5 %)
    randoms_i = uniform, total rate 2τ_w·singles² (singles ∝ the activity in the axial FOV)

trues and scatter are multiplied by the dead-time survival L² of the scanner's count-rate
model (:func:`simulator.pet.countrate.bed_losses`, Biograph mCT class, calibrated on the
NEMA NU 2 NECR peak); ``count_losses=False`` gives the ideal linear scanner.

with κ = S · T · D_frame · β/β_F18 · d · dz / (1000 · n_angles), S the scanner's mean
sensitivity for activity in the FOV (from NEMA 9.6 kcps/MBq), T the frame length, D_frame
the decay during the frame, d the bin width and dz the slice thickness: the sum of the
unattenuated trues over a slice equals S · T · D_frame × its activity. ``a`` are the
attenuation factors exp(−∫μ) and ``n`` the detector efficiencies (fixed per scanner).

With ``tof_bins > 0`` the sinograms are TOF-binned (the trues through a Gaussian TOF kernel
of FWHM Δx = c·Δt/2 along each line) and the reconstruction uses the same kernel, so TOF
speeds convergence and raises contrast as on real scanners. With ``tof_bins = 0``, time
of flight is modelled as its effective sensitivity gain G = D/Δx (see
:func:`simulator.pet._scanner.tof_gain`): each component is drawn as Poisson(G · mean) / G,
which has the mean of a non-TOF scan and the variance of one G times longer. The TOF kernel
itself is not simulated. The prompts are drawn once, Poisson of the sum of the three means.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from simulator.errors import ParameterError
from simulator.pet import _scanner as scanner
from simulator.pet.countrate import bed_losses
from simulator.pet.phantoms import Phantom
from simulator.pet.projector import (
    SinogramGeometry,
    dot_1thread,
    get_projector,
    get_tof_projector,
    tof_fold,
)
from simulator.pet.protocol import PETProtocol
from simulator.pet.tracers import TRACERS, decay_factor, frame_decay_factor

__all__ = ["Sinogram", "acquire", "normalisation"]

FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))
_F18_POSITRON_FRACTION = 0.9686
#: Scatter kernel (FWHM): broad along the detector and between slices.
_SCATTER_RADIAL_FWHM_MM = 150.0
_SCATTER_AXIAL_FWHM_MM = 60.0


@dataclass(frozen=True, eq=False)
class Sinogram:
    """Measured sinograms of one bed and everything the reconstruction needs.

    Arrays have shape (z, n_angles, n_radial) unless said otherwise, float32, read-only.

    Attributes
    ----------
    prompts : ndarray
        Measured prompt coincidences (counts; ÷ TOF gain when TOF is on).
    attenuation : ndarray
        Attenuation factors exp(−∫μ) per line of response (from the CT μ-map).
    normalisation : ndarray, shape (n_angles, n_radial)
        Detector efficiencies (mean 1).
    scatter, randoms : ndarray
        Expected scatter and randoms (what scatter and randoms estimation give).
    calibration : float
        κ: expected trues = κ · n · a · (A·x) for x in Bq/mL at the frame start, A in mm.
    geometry : SinogramGeometry
    fov_mm, slice_mm : float
        Transaxial field of view and slice spacing.
    frame_s, start_offset_s : float
        Frame length and its start after injection.
    decay_at_start : float
        A(start)/A(injection).
    tof_gain : float
        Effective TOF sensitivity gain used (1 = TOF off).
    counts : Mapping[str, float]
        Realised counts: trues, scatter, randoms, total, prompts, nec.
    slice_indices : tuple of int
        Phantom slices these sinograms belong to.
    protocol : PETProtocol
    noiseless : bool
        True when ``prompts`` are the expected values (no Poisson noise).
    live_fraction : float
        Share of the coincidences that survived dead time (1 = no losses).
    singles_cps : float
        Singles rate (after losses) at the frame start.
    axial_sensitivity : ndarray of float32, shape (z,), or None
        Relative sensitivity of each slice within the bed (None: uniform, 1).
    tof_bins : int
        0: non-TOF sinograms; else the number of TOF bins, folded into the radial axis
        (shape (z, n_angles, tof_bins · n_radial), see
        :func:`simulator.pet.projector.get_tof_projector`).
    tof_fwhm_mm : float
        TOF kernel FWHM along the line of response (c·Δt/2).
    """

    prompts: NDArray[np.float32]
    attenuation: NDArray[np.float32]
    normalisation: NDArray[np.float32]
    scatter: NDArray[np.float32]
    randoms: NDArray[np.float32]
    calibration: float
    geometry: SinogramGeometry
    fov_mm: float
    slice_mm: float
    frame_s: float
    start_offset_s: float
    decay_at_start: float
    tof_gain: float
    slice_indices: tuple[int, ...]
    protocol: PETProtocol
    counts: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    noiseless: bool = False
    live_fraction: float = 1.0
    singles_cps: float = 0.0
    axial_sensitivity: NDArray[np.float32] | None = None
    tof_bins: int = 0
    tof_fwhm_mm: float = 0.0

    def __post_init__(self) -> None:
        for name in ("prompts", "attenuation", "normalisation", "scatter", "randoms"):
            arr = getattr(self, name)
            if arr.flags.writeable:
                arr = arr.view()
                arr.flags.writeable = False
                object.__setattr__(self, name, arr)

    @property
    def n_slices(self) -> int:
        """Number of slices."""
        return int(self.prompts.shape[0])


def normalisation(geometry: SinogramGeometry) -> NDArray[np.float32]:
    """Fixed detector efficiencies of the virtual scanner, (n_angles, n_radial), mean 1.

    A smooth radial (geometric) profile times ±4 % per-line variations from a fixed
    generator: the same scanner every time, independent of the user's seed.
    """
    g = geometry
    r = (np.arange(g.n_radial) - (g.n_radial - 1) / 2) / (g.n_radial / 2)
    profile = 1.0 - 0.15 * r**2
    crystal = np.random.default_rng(20110416).normal(1.0, 0.04, (g.n_angles, g.n_radial))
    n = profile[None, :] * np.clip(crystal, 0.85, 1.15)
    return (n / n.mean()).astype(np.float32)


def contiguous_runs(indices: Sequence[int]) -> list[slice]:
    """Array ranges of the runs of consecutive slice indices (filters along z stay in a run)."""
    runs, start = [], 0
    for i in range(1, len(indices) + 1):
        if i == len(indices) or indices[i] != indices[i - 1] + 1:
            runs.append(slice(start, i))
            start = i
    return runs


def filter_runs(
    volume: NDArray[np.float32],
    sigma: tuple[float, float, float],
    indices: Sequence[int],
    **kw: Any,
) -> NDArray[np.float32]:
    """``ndimage.gaussian_filter`` of (z, …) data, blurring along z only within runs of
    consecutive slices (a sparse selection such as the NEMA planes is not blurred together)."""
    out = np.empty_like(volume)
    for run in contiguous_runs(indices):
        part = volume[run]
        sig = (sigma[0] if part.shape[0] > 1 else 0.0, sigma[1], sigma[2])
        out[run] = ndimage.gaussian_filter(part, sig, **kw)
    return out


@functools.lru_cache(maxsize=8)
def gaussian_matrix(n: int, sigma: float, mode: str, truncate: float) -> NDArray[np.float32]:
    """The n × n matrix M of ``ndimage.gaussian_filter1d`` along an axis of length ``n``:
    M @ v filters v. Built by filtering the identity, so it has ndimage's weights and
    boundary rule (``mode``) exactly."""
    m = ndimage.gaussian_filter1d(np.eye(n), sigma, axis=0, mode=mode, truncate=truncate)
    out = np.ascontiguousarray(m, dtype=np.float32)
    out.flags.writeable = False
    return out


def scatter_filter(
    trues: NDArray[np.float32], sigma: tuple[float, float, float], indices: Sequence[int]
) -> NDArray[np.float32]:
    """The scatter kernel: ``filter_runs(trues, sigma, indices, mode=("nearest", "wrap",
    "constant"), truncate=2.0)`` of (z, angles, radial) sinograms, with the z and radial
    passes as products by :func:`gaussian_matrix` (BLAS on one thread: 3–5× faster than
    ndimage's 27- and 73-tap loops here); the angular pass (17 taps) stays ndimage's. The
    same operator; float32 sums in another order."""
    nz, na, nr = trues.shape
    out = np.empty_like(trues)
    m_r = gaussian_matrix(nr, float(sigma[2]), "constant", 2.0)
    for run in contiguous_runs(indices):
        part = trues[run]
        k = part.shape[0]
        if k > 1 and sigma[0] > 0:
            m_z = gaussian_matrix(k, float(sigma[0]), "nearest", 2.0)
            flat = np.empty((k, na * nr), np.float32)
            dot_1thread(m_z, np.ascontiguousarray(part).reshape(k, -1), flat)
            part = flat.reshape(k, na, nr)
        part = ndimage.gaussian_filter1d(part, sigma[1], axis=1, mode="wrap", truncate=2.0)
        res = np.empty((k * na, nr), np.float32)
        dot_1thread(m_r, part.reshape(-1, nr).T, res.T)
        out[run] = res.reshape(k, na, nr)
    return out


def acquire(
    phantom: Phantom,
    protocol: PETProtocol,
    rng: np.random.Generator | None = None,
    slices: Sequence[int] | None = None,
    noiseless: bool = False,
    *,
    start_s: float | None = None,
    axial_weights: Sequence[float] | NDArray[np.floating] | None = None,
) -> Sinogram:
    """Simulate one bed of ``phantom`` with ``protocol``.

    Parameters
    ----------
    phantom : Phantom
        Its activity is rescaled to the protocol's dose and weight (same SUVs).
    protocol : PETProtocol
        Assumed valid (see :func:`check_protocol`).
    rng : numpy.random.Generator
        Source of the Poisson noise; required unless ``noiseless``.
    slices : sequence of int, optional
        Phantom slice indices to simulate (default all): one slice for a quick preview.
    noiseless : bool
        Return the expected counts instead of a Poisson draw.
    start_s : float, optional
        Start of this bed's frame after injection (default: the uptake time).
    axial_weights : sequence of float, optional
        Relative axial sensitivity of each selected slice within the bed (a bed of a
        multi-bed exam: :func:`simulator.pet.wholebody.axial_profile`). With it, the
        activity in the field of view (dead time, randoms) is that of the selected slices,
        and trues, scatter and randoms of each slice are scaled by its weight.

    Returns
    -------
    Sinogram
    """
    if rng is None and not noiseless:
        raise ValueError("rng is required for a noisy acquisition")
    tracer = TRACERS[protocol.tracer]
    ph = phantom.with_dose(protocol.activity_mbq, protocol.weight_kg)
    dz, px, _ = ph.voxel_mm
    nz, n, _ = ph.shape
    start_s = 60.0 * protocol.uptake_min if start_s is None else float(start_s)
    frame_s = 60.0 * protocol.minutes_per_bed
    dk = decay_factor(tracer, start_s)
    fdf = frame_decay_factor(tracer, frame_s)
    geom = SinogramGeometry(scanner.N_ANGLES, n, px)
    proj = get_projector(n, px, geom.n_angles, geom.n_radial, geom.bin_mm)
    proj.ensure_split(protocol.subsets)
    idx = tuple(range(nz)) if slices is None else tuple(int(k) for k in slices)
    if not idx or min(idx) < 0 or max(idx) >= nz:
        raise ParameterError("slices", list(idx), f"0–{nz - 1}")

    sig = (
        scanner.AXIAL_FWHM_MM * FWHM_TO_SIGMA / dz,
        scanner.PSF_FWHM_MM * FWHM_TO_SIGMA / px,
        scanner.PSF_FWHM_MM * FWHM_TO_SIGMA / px,
    )
    # blur only the slab the selected slices need: exact, the kernel (truncated at 3σ) of
    # a selected slice stays inside it
    margin = int(3.0 * sig[0] + 0.5) + 1
    lo, hi = max(0, min(idx) - margin), min(nz, max(idx) + margin + 1)
    x = ph.activity_bqml[lo:hi].astype(np.float32) * np.float32(dk)
    slab = ndimage.gaussian_filter(x, sig, mode="constant", truncate=3.0)
    blurred = slab[[k - lo for k in idx]]
    # the μ-map and the activity in one product (two stacks of the same slices)
    both = proj.forward(np.concatenate((ph.mu_per_cm[list(idx)].astype(np.float32), blurred)))
    mu_line = both[: len(idx)] * np.float32(0.1)  # mm × 1/cm → ∫μ
    att = np.exp(-mu_line).astype(np.float32)
    norm = normalisation(geom)
    kappa = (
        scanner.SENSITIVITY_CPS_PER_BQ
        * frame_s
        * fdf
        * (tracer.positron_fraction / _F18_POSITRON_FRACTION)
        * px
        * dz
        / (1000.0 * geom.n_angles)
    )
    unatt = both[len(idx) :] * np.float32(kappa)
    if axial_weights is not None:
        wz = np.asarray(axial_weights, np.float32).reshape(-1)
        if wz.size != len(idx) or np.any(wz < 0):
            raise ValueError("axial_weights: one non-negative weight per selected slice")
        unatt *= wz[:, None, None]
    trues = unatt * att * norm[None]

    # scatter: smooth, with a per-slice scatter-to-trues ratio from the mean transmission
    t_sum = trues.sum(axis=(1, 2), dtype=np.float64)
    u_sum = (unatt * norm[None]).sum(axis=(1, 2), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_t = np.where(
            u_sum > 0, -np.log(np.maximum(t_sum, 1e-30) / np.maximum(u_sum, 1e-30)), 0.0
        )
    ratio = np.array([scanner.scatter_to_trues(v) for v in log_t])
    shape = scatter_filter(
        trues,
        (
            _SCATTER_AXIAL_FWHM_MM * FWHM_TO_SIGMA / dz,
            4.0,
            _SCATTER_RADIAL_FWHM_MM * FWHM_TO_SIGMA / px,
        ),
        idx,
    )
    s_sum = shape.sum(axis=(1, 2), dtype=np.float64)
    scale = np.where(s_sum > 0, ratio * t_sum / np.maximum(s_sum, 1e-30), 0.0)
    scatter = (shape * scale[:, None, None].astype(np.float32)).astype(np.float32)

    # dead time and randoms (∝ singles²) from the activity in the axial field of view
    length_mm = nz * dz
    if axial_weights is None:
        a_fov_mbq = float(ph.activity_bqml.sum(dtype=np.float64)) * px * px * dz * 1e-9 * dk
        a_fov_mbq *= scanner.axial_fraction(length_mm)
    else:  # the bed's own slices
        a_bed = ph.activity_bqml[list(idx)].sum(dtype=np.float64)
        a_fov_mbq = float(a_bed) * px * px * dz * 1e-9 * dk
    losses = bed_losses(a_fov_mbq, dead_time=protocol.count_losses)
    live = np.float32(losses.live_fraction)
    trues *= live
    scatter *= live
    r_total = losses.randoms_cps * frame_s * frame_decay_factor(tracer, frame_s, power=2)
    # every simulated slice is seen for a whole frame, as in a bed of AXIAL_FOV_MM
    per_slice = r_total * dz / scanner.AXIAL_FOV_MM
    randoms = np.full(trues.shape, per_slice / geom.n_lor, np.float32)
    if axial_weights is not None:  # randoms follow the same geometric acceptance
        randoms *= (wz * (len(idx) / max(float(wz.sum()), 1e-30)))[:, None, None]

    body = (ph.mu_per_cm[list(idx)] > 0.05).sum(axis=(1, 2)) * px * px
    diameter = float(2.0 * np.sqrt(np.mean(body) / np.pi)) if body.size else 0.0
    gain = scanner.tof_gain(protocol.tof_ps, diameter)
    n_tof = protocol.tof_bins if protocol.tof_ps > 0 else 0
    tof_fwhm_mm = scanner.SPEED_OF_LIGHT_MM_PER_PS * protocol.tof_ps / 2.0 if n_tof else 0.0
    if n_tof:
        # TOF-binned sinograms: the trues through the TOF kernel, scatter and randoms spread
        # evenly over the bins (randoms are uniform in time; scatter is broad); the noise
        # gain of TOF then comes from the reconstruction, not from a variance factor
        tproj = get_tof_projector(
            n, px, geom.n_angles, geom.n_radial, geom.bin_mm, 0.0, n_tof, tof_fwhm_mm
        )
        unatt_t = tproj.forward(blurred) * np.float32(kappa) * live
        if axial_weights is not None:
            unatt_t *= wz[:, None, None]
        att, norm = tof_fold(att, n_tof), tof_fold(norm, n_tof)
        trues = unatt_t * att * norm[None]
        scatter = tof_fold(scatter / np.float32(n_tof), n_tof)
        randoms = tof_fold(randoms / np.float32(n_tof), n_tof)
        geom, gain = tproj.geometry, 1.0
    means = [float(v.sum(dtype=np.float64)) for v in (trues, scatter, randoms)]
    if noiseless:
        prompts = (trues + scatter + randoms).astype(np.float32)
        tc, sc, rc = means
    else:
        # One Poisson draw of the prompts (a sum of independent Poisson variables is
        # Poisson); the realised trues/scatter/randoms totals are its multinomial split,
        # which is their exact joint law given the prompts' total.
        assert rng is not None
        drawn = rng.poisson((trues + scatter + randoms) * np.float32(gain))
        n_drawn = int(drawn.sum(dtype=np.int64))
        prompts = (drawn if gain == 1.0 else drawn / gain).astype(np.float32)
        m_sum = sum(means)
        split = rng.multinomial(n_drawn, [v / m_sum for v in means]) if m_sum > 0 else [0, 0, 0]
        tc, sc, rc = (float(v) / gain for v in split)
    total = tc + sc + rc
    counts = {
        "trues": tc,
        "scatter": sc,
        "randoms": rc,
        "total": total,
        "prompts": total,
        "nec": tc * tc / total if total > 0 else 0.0,
        "scatter_fraction": sc / (tc + sc) if tc + sc > 0 else 0.0,
        "randoms_fraction": rc / total if total > 0 else 0.0,
    }
    return Sinogram(
        prompts=prompts,
        attenuation=att,
        normalisation=norm,
        scatter=scatter,
        randoms=randoms,
        calibration=float(kappa),
        geometry=geom,
        fov_mm=n * px,
        slice_mm=dz,
        frame_s=frame_s,
        start_offset_s=start_s,
        decay_at_start=dk,
        tof_gain=gain,
        slice_indices=idx,
        protocol=protocol,
        counts=MappingProxyType(counts),
        noiseless=noiseless,
        live_fraction=losses.live_fraction,
        singles_cps=losses.singles_cps,
        tof_bins=n_tof,
        tof_fwhm_mm=tof_fwhm_mm,
        axial_sensitivity=None if axial_weights is None else wz,
    )
