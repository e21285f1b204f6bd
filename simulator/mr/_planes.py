"""Phase-encoding directions of the slice planes (private; exported by
:mod:`simulator.mr.planning`).

The rule that the console, the command line and the physics share: phase encoding must lie
in the slice plane, and a new orientation brings the plane's usual phase direction, as on a
scanner's console (the first of :data:`IN_PLANE_PHASE_DIRS`). It lives apart from
:mod:`simulator.mr.planning` because the slice placement (:mod:`simulator.mr.geometry`) and
the console rules (:mod:`simulator.mr.rules`) check it, and the planning module is built on
the slice placement.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from simulator.errors import ParameterError

__all__ = ["IN_PLANE_PHASE_DIRS", "PHASE_VECTORS", "check_phase_dir", "phase_dir_for"]

#: Orientation → the phase directions in its plane, the console's default first.
IN_PLANE_PHASE_DIRS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "axial": ("RL", "AP"),
    "sagittal": ("AP", "HF"),
    "coronal": ("RL", "HF"),
})

#: Phase direction → its unit vector (x, y, z) in patient coordinates (LPS, z toward the head).
PHASE_VECTORS: Mapping[str, tuple[float, float, float]] = MappingProxyType({
    "RL": (1.0, 0.0, 0.0),
    "AP": (0.0, 1.0, 0.0),
    "HF": (0.0, 0.0, 1.0),
})


def check_phase_dir(orientation: str, phase_dir: str) -> None:
    """Raise :class:`~simulator.errors.ParameterError` if ``phase_dir`` is not in the plane
    of ``orientation`` (the message lists the allowed directions)."""
    allowed = IN_PLANE_PHASE_DIRS[orientation]
    if phase_dir not in allowed:
        raise ParameterError(
            "phase_dir", phase_dir, ", ".join(allowed),
            f"phase encoding must lie in the {orientation} plane",
            f"le codage de phase doit être dans le plan {orientation}",
        )


def phase_dir_for(orientation: str, phase_dir: str) -> str:
    """The phase direction after a change of orientation: kept if it lies in the new plane,
    else the plane's default. An unknown orientation keeps it (its own check refuses it).

    Examples
    --------
    >>> phase_dir_for("sagittal", "RL")
    'AP'
    >>> phase_dir_for("axial", "AP")
    'AP'
    """
    allowed = IN_PLANE_PHASE_DIRS.get(orientation)
    if allowed is None or phase_dir in allowed:
        return phase_dir
    return allowed[0]
