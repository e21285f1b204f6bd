"""Shared per-series setup and per-slice acquisition used by :func:`scan` and
:func:`acquire_kspace`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.errors import ParameterError
from simulator.mr.acquisition import Sampling, sampling, slice_kspace
from simulator.mr.anatomy import Anatomy
from simulator.mr.coils import COIL_RADIUS_MM, coil_maps
from simulator.mr.geometry import ObjectK, SlicePlan, default_geometry, object_kspace, plan_slices
from simulator.mr.motion import motion_phase
from simulator.mr.protocol import Geometry, MRProtocol
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
    """One acquired slice."""

    obj: ObjectK
    noisy: NDArray[np.complex64]
    clean: NDArray[np.complex64]
    clean_images: NDArray[np.complex64]


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
        gen = rng  # type: ignore[assignment]
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


def acquire_slice(anatomy: Anatomy, st: Setup, i: int) -> SliceData:
    """Acquire slice ``i`` of the plan (noise and motion drawn from ``st.rng``)."""
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
    noisy, clean, clean_images = slice_kspace(p, plan, obj, maps_ext, st.samp, motion, st.rng)
    return SliceData(obj, noisy, clean, clean_images)


def orient(stack: NDArray[Any], plan: SlicePlan) -> NDArray[Any]:
    """Internal (n, encoded phase, read) → displayed (n, rows, cols): drop the phase
    oversampling, transpose when phase runs along the columns."""
    stack = plan.crop(stack)
    return np.ascontiguousarray(stack if plan.phase_vertical else np.swapaxes(stack, 1, 2))
