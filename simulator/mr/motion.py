"""Patient motion during the acquisition: ghosts along the phase direction.

Each excitation (a TR for SE/GRE, a shot of the echo train for TSE) sees the patient at a
slightly different position. A shift ``d`` along phase multiplies its k-space lines by
``exp(−2πi·k·d/FOV)`` and a bulk phase error adds ``exp(iφ)``; line-to-line inconsistency
puts ghosts of the object along the phase direction. The restlessness level sets the RMS
displacement, and the longer the patient must lie still the further he drifts (RMS grows as
the square root of the time, like a random walk), plus a breathing-like periodic part.

Motion is drawn per average: each of the NEX averages is one pass through k-space of
``scan time / NEX``, with its own trajectory about the patient's mean position. Averaging
the lines of independent passes keeps the consistent part of the signal and averages the
inconsistent part down, so ghost energy falls about as 1/NEX (ghost amplitude as 1/√NEX)
while the exam gets NEX times longer — what averaging is taught to do.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = ["MOTION_RMS_MM", "motion_rms_mm", "motion_phase"]

#: RMS displacement (mm) of a 2-minute scan per restlessness level.
MOTION_RMS_MM = {"none": 0.0, "low": 0.15, "moderate": 0.5, "severe": 1.5}
_REFERENCE_S = 120.0


def motion_rms_mm(level: str, scan_time_s: float) -> float:
    """RMS displacement for a restlessness level and scan duration."""
    return MOTION_RMS_MM[level] * math.sqrt(max(scan_time_s, 1.0) / _REFERENCE_S)


def motion_phase(level: str, scan_time_s: float, shot_of_line: NDArray[np.int64],
                 k_acquired: NDArray[np.int64], k_lines: NDArray[np.float64],
                 fov_phase_mm: float, rng: np.random.Generator,
                 nex: int = 1) -> NDArray[np.complex64] | None:
    """Phase factor of each k-space line caused by motion.

    Parameters
    ----------
    level : {"none", "low", "moderate", "severe"}
        How restless the patient is.
    scan_time_s : float
        Duration of the series, all averages together; each average lasts
        ``scan_time_s / nex`` and drifts over that time.
    shot_of_line : ndarray of int, shape (M,)
        Excitation (time order) in which each acquired line is read.
    k_acquired : ndarray of int, shape (M,)
        Phase index of each acquired line.
    k_lines : ndarray of float, shape (N,)
        Phase index of each simulated line (acquired-grid units); each takes the motion state
        of the nearest acquired line.
    fov_phase_mm : float
        Phase field of view.
    rng : numpy.random.Generator
        Source of the motion trajectory.
    nex : int
        Averages: each is read at its own time (its own trajectory) and the lines are
        averaged, which lowers the ghosts' energy about as 1/NEX.

    Returns
    -------
    ndarray of complex64, shape (N,), or None when ``level == "none"``
    """
    per_average_s = scan_time_s / max(nex, 1)
    rms = motion_rms_mm(level, per_average_s)
    if rms == 0.0:
        return None
    n_shots = int(shot_of_line.max()) + 1
    walk = np.cumsum(rng.standard_normal((nex, n_shots)), axis=1)
    walk -= walk.mean(axis=1, keepdims=True)
    walk /= np.maximum(np.std(walk, axis=1, keepdims=True), 1e-9)
    period = max(2.0, n_shots / max(1.0, per_average_s / 4.0))  # ~4 s breathing cycle
    breath = math.sqrt(2) * np.sin(2 * np.pi * np.arange(n_shots)[None, :] / period
                                   + rng.uniform(0, 6.3, size=(nex, 1)))
    jitter = rng.standard_normal((nex, n_shots))
    disp = rms * (0.7 * walk + 0.5 * breath + 0.3 * jitter)
    bulk = 0.05 * (rms / MOTION_RMS_MM["moderate"]) * rng.standard_normal((nex, n_shots))
    srt = np.argsort(k_acquired)
    ks = k_acquired[srt]
    pos = np.clip(np.searchsorted(ks, k_lines), 1, max(len(ks) - 1, 1))
    left, right = ks[pos - 1], ks[np.minimum(pos, len(ks) - 1)]
    nearest = np.where(np.abs(k_lines - left) <= np.abs(right - k_lines), pos - 1, pos)
    shot = shot_of_line[srt][np.minimum(nearest, len(ks) - 1)]
    phase = -2 * np.pi * k_lines[None, :] * disp[:, shot] / fov_phase_mm + bulk[:, shot]
    return np.exp(1j * phase).mean(axis=0).astype(np.complex64)
