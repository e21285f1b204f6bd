"""MR acquisition protocol and slice geometry: what the technologist sets on the console.

:class:`MRProtocol` carries the public contract names (``tr_ms``, ``te_ms``…) and checks each
value against the range the virtual scanner accepts; rules that tie several parameters
together (minimum TE, minimum TR, SAR) live in :mod:`simulator.mr.rules`. :class:`Geometry`
places the slice stack in patient coordinates (DICOM LPS, z toward the head).

Examples
--------
>>> import dataclasses
>>> p = MRProtocol()                      # brain T1 SE at 1.5 T
>>> p2 = dataclasses.replace(p, tr_ms=600.0)
>>> p2.tr_ms
600.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from simulator.errors import ParameterError

__all__ = [
    "MRProtocol",
    "Geometry",
    "SEQUENCES",
    "ORIENTATIONS",
    "PHASE_DIRS",
    "MOTION_LEVELS",
    "BODY_PARTS",
    "RANGES",
]

SEQUENCES: tuple[str, ...] = ("se", "tse", "gre", "ir")
ORIENTATIONS: tuple[str, ...] = ("axial", "sagittal", "coronal")
#: Phase-encoding directions: anterior–posterior, right–left, head–feet.
PHASE_DIRS: tuple[str, ...] = ("AP", "RL", "HF")
MOTION_LEVELS: tuple[str, ...] = ("none", "low", "moderate", "severe")
#: Body part under the transmit coil: sets the IEC normal-mode SAR limit (head 3.2 W/kg,
#: otherwise whole body 2 W/kg).
BODY_PARTS: tuple[str, ...] = ("head", "knee", "spine")
FIELDS_T: tuple[float, ...] = (1.5, 3.0)

#: Allowed range (min, max) of each numeric field, console units.
RANGES: dict[str, tuple[float, float]] = {
    "tr_ms": (5.0, 15000.0),
    "te_ms": (1.0, 400.0),
    "ti_ms": (0.0, 4000.0),
    "flip_deg": (1.0, 90.0),
    "refocus_deg": (90.0, 180.0),
    "etl": (1, 64),
    "fov_mm": (80.0, 500.0),
    "phase_fov_pct": (50.0, 100.0),
    "matrix_read": (64, 512),
    "matrix_phase": (32, 512),
    "slice_mm": (1.0, 10.0),
    "gap_mm": (0.0, 20.0),
    "slices": (1, 60),
    "nex": (1, 8),
    "bandwidth_hz_px": (50.0, 1000.0),
    "parallel_r": (1, 4),
    "partial_fourier": (0.5, 1.0),
    "concatenations": (1, 4),
    "phase_oversampling_pct": (0.0, 100.0),
    "coils": (8, 16),
    "ai_strength": (0.0, 1.0),
}

_INTS = {"etl", "matrix_read", "matrix_phase", "slices", "nex", "parallel_r",
         "concatenations", "coils"}


def _fmt(lo: float, hi: float, unit: str) -> str:
    def f(v: float) -> str:
        return str(int(v)) if float(v).is_integer() else f"{v:g}"

    return f"{f(lo)}–{f(hi)}{(' ' + unit) if unit else ''}"


def _unit(name: str) -> str:
    for suffix, unit in (("_ms", "ms"), ("_deg", "°"), ("_mm", "mm"), ("_pct", "%"),
                         ("_hz_px", "Hz/px")):
        if name.endswith(suffix):
            return unit
    return ""


def _check_choice(name: str, value: object, allowed: tuple[object, ...]) -> None:
    if value not in allowed:
        raise ParameterError(name, value, ", ".join(str(a) for a in allowed))


def _check_number(name: str, value: object) -> None:
    lo, hi = RANGES[name]
    allowed = _fmt(lo, hi, _unit(name))
    number = ("a number is expected", "un nombre est attendu", "eine Zahl wird erwartet")
    if isinstance(value, bool):
        raise ParameterError(name, value, allowed, *number)
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(name, value, allowed, *number) from None
    if not math.isfinite(v) or v < lo or v > hi:
        raise ParameterError(name, value, allowed)
    if name in _INTS and not float(v).is_integer():
        raise ParameterError(name, value, allowed, "a whole number is expected",
                             "un nombre entier est attendu", "eine ganze Zahl wird erwartet")


@dataclass(frozen=True)
class MRProtocol:
    """An MR acquisition protocol (one series).

    The defaults form a valid brain T1-weighted spin echo at 1.5 T. Each field is checked on
    its own when the protocol is built (a :class:`~simulator.errors.ParameterError` says the
    allowed range); :func:`simulator.mr.rules.check_protocol` checks the rules that tie fields
    together.

    Parameters
    ----------
    sequence : {"se", "tse", "gre", "ir"}
        Spin echo, turbo/fast spin echo, spoiled gradient echo, inversion recovery (STIR with a
        short TI, FLAIR with a long TI; ``etl > 1`` gives a turbo readout).
    field_t : {1.5, 3.0}
        Main field in tesla.
    tr_ms, te_ms, ti_ms : float
        Repetition, (effective) echo and inversion times in ms; ``ti_ms`` is used by "ir" only.
    flip_deg : float
        Excitation flip angle (1–90°); spin-echo sequences use 90°.
    etl : int
        Echo-train length (turbo factor); 1 for SE and GRE.
    fov_mm : float
        Field of view along read (and along phase before ``phase_fov_pct``), mm.
    phase_fov_pct : float
        Phase FOV as a percentage of ``fov_mm`` (rectangular FOV, saves phase lines).
    matrix_read, matrix_phase : int
        Acquisition matrix for the full square FOV; the phase lines actually acquired are
        ``matrix_phase · phase_fov_pct/100 · partial_fourier / parallel_r``.
    slice_mm, gap_mm : float
        Slice thickness and gap between slices.
    slices : int
        Number of slices.
    nex : int
        Number of excitations (averages).
    bandwidth_hz_px : float
        Receiver bandwidth per pixel.
    phase_dir : {"AP", "RL", "HF"}
        Phase-encoding direction; must lie in the slice plane.
    parallel_r : int
        Parallel-imaging (SENSE) acceleration factor.
    partial_fourier : float
        Fraction of phase lines acquired (1.0 … 0.5).
    fat_sat : bool
        Spectral fat saturation.
    orientation : {"axial", "sagittal", "coronal"}
        Slice orientation when no explicit :class:`Geometry` is given.
    motion : {"none", "low", "moderate", "severe"}
        How restless the patient is.
    ai_denoise : bool
        Apply the learned denoiser to the images.
    ai_strength : float
        How much of the denoiser's output the image takes when ``ai_denoise`` is on (0–1):
        ``(1 − s)·image + s·network(image)``; 0 gives the reconstruction unchanged, 1 the
        network's output (see :func:`simulator.ai.denoise_mr`). Ignored while AI is off.
    refocus_deg : float
        Refocusing flip angle of spin-echo sequences (lower it to cut SAR).
    concatenations : int
        Minimum number of concatenations (the console adds more if the slices do not fit
        one TR).
    coils : int
        Receive channels of the coil array (8–16).
    body_part : {"head", "knee", "spine"}
        Region under the transmit coil, for the SAR limit.
    phase_oversampling_pct : float
        Extra phase FOV encoded and discarded ("no phase wrap", 0–100 %): prevents wrap at
        the cost of more phase lines (time) — and gains their SNR.
    """

    sequence: str = "se"
    field_t: float = 1.5
    tr_ms: float = 500.0
    te_ms: float = 15.0
    ti_ms: float = 0.0
    flip_deg: float = 90.0
    etl: int = 1
    fov_mm: float = 230.0
    phase_fov_pct: float = 100.0
    matrix_read: int = 256
    matrix_phase: int = 192
    slice_mm: float = 5.0
    gap_mm: float = 1.0
    slices: int = 20
    nex: int = 1
    bandwidth_hz_px: float = 130.0
    phase_dir: str = "RL"
    parallel_r: int = 1
    partial_fourier: float = 1.0
    fat_sat: bool = False
    orientation: str = "axial"
    motion: str = "none"
    ai_denoise: bool = False
    refocus_deg: float = 180.0
    concatenations: int = 1
    coils: int = 8
    body_part: str = "head"
    phase_oversampling_pct: float = 0.0
    ai_strength: float = 1.0

    def __post_init__(self) -> None:
        _check_choice("sequence", self.sequence, SEQUENCES)
        try:
            field_ok = any(abs(float(self.field_t) - f) < 1e-6 for f in FIELDS_T)
        except (TypeError, ValueError):
            field_ok = False
        if not field_ok:
            raise ParameterError("field_t", self.field_t, "1.5, 3.0 T")
        _check_choice("phase_dir", self.phase_dir, PHASE_DIRS)
        _check_choice("orientation", self.orientation, ORIENTATIONS)
        _check_choice("motion", self.motion, MOTION_LEVELS)
        _check_choice("body_part", self.body_part, BODY_PARTS)
        for name in ("fat_sat", "ai_denoise"):
            if not isinstance(getattr(self, name), bool):
                raise ParameterError(name, getattr(self, name), "True, False")
        for name in RANGES:
            _check_number(name, getattr(self, name))
        # Normalise numeric types so that equal protocols hash equal (cache keys).
        for f in fields(self):
            if f.name in _INTS:
                object.__setattr__(self, f.name, int(getattr(self, f.name)))
            elif f.name in RANGES or f.name == "field_t":
                object.__setattr__(self, f.name, float(getattr(self, f.name)))
        if self.sequence in ("se", "gre") and self.etl != 1:
            raise ParameterError(
                "etl", self.etl, "1",
                f"{self.sequence.upper()} reads one echo per excitation; use TSE for a train",
                f"le {self.sequence.upper()} lit un écho par excitation ; utiliser le TSE",
            )

    @property
    def phase_lines(self) -> int:
        """Phase-encoding lines of the reconstructed image (rectangular FOV applied)."""
        step = 2 * self.parallel_r
        n = self.matrix_phase * self.phase_fov_pct / 100.0
        return max(step, int(round(n / step)) * step)

    @property
    def phase_lines_encoded(self) -> int:
        """Phase lines of the encoded FOV (image lines plus phase oversampling)."""
        step = 2 * self.parallel_r
        n = self.phase_lines * (1.0 + self.phase_oversampling_pct / 100.0)
        return max(self.phase_lines, int(round(n / step)) * step)

    @property
    def phase_fov_mm(self) -> float:
        """Field of view along the phase direction in mm."""
        return self.phase_lines * self.fov_mm / self.matrix_phase


@dataclass(frozen=True)
class Geometry:
    """Where the slice stack sits in the patient.

    Parameters
    ----------
    orientation : {"axial", "sagittal", "coronal"}
        Base orientation of the slices.
    center_mm : tuple of float
        Patient position (x, y, z) in mm of the centre of the stack (LPS, z toward the head).
    angle_deg : float or tuple of two floats
        Oblique rotation: a single angle turns the slices about their row (in-plane
        horizontal) axis — e.g. an axial brain stack tilted along AC–PC; a pair
        ``(a, b)`` turns by ``a`` about the row axis then ``b`` about the column axis.
    """

    orientation: str = "axial"
    center_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    angle_deg: float | tuple[float, float] = 0.0

    def __post_init__(self) -> None:
        _check_choice("orientation", self.orientation, ORIENTATIONS)
        try:
            center = tuple(float(c) for c in self.center_mm)
        except (TypeError, ValueError):
            center = ()
        if len(center) != 3 or not all(math.isfinite(c) and abs(c) <= 1000 for c in center):
            raise ParameterError("center_mm", self.center_mm, "(x, y, z) within ±1000 mm")
        object.__setattr__(self, "center_mm", center)
        angles = self.angles
        if not all(math.isfinite(a) and -45.0 <= a <= 45.0 for a in angles):
            raise ParameterError("angle_deg", self.angle_deg, "−45–45°",
                                 "oblique rotation about an in-plane axis",
                                 "rotation oblique autour d'un axe du plan")
        if isinstance(self.angle_deg, (tuple, list)):
            object.__setattr__(self, "angle_deg", angles)
        else:
            object.__setattr__(self, "angle_deg", float(self.angle_deg))

    @property
    def angles(self) -> tuple[float, float]:
        """Rotation (about row axis, about column axis) in degrees."""
        a = self.angle_deg
        try:
            if isinstance(a, (tuple, list)):
                if len(a) != 2:
                    raise ValueError
                return (float(a[0]), float(a[1]))
            return (float(a), 0.0)
        except (TypeError, ValueError):
            raise ParameterError("angle_deg", a, "an angle or a pair of angles, −45–45°") from None
