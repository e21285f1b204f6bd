"""PET acquisition and reconstruction protocol, its checks and what follows from it.

References
----------
- Boellaard R. et al., *FDG PET/CT: EANM procedure guidelines for tumour imaging: version
  2.0*, EJNMMI 42, 2015: activity ≈ 7 MBq·min·bed⁻¹·kg⁻¹ × weight / (min per bed)
  (bed overlap ≤ 30 %), uptake 60 min (55–75 min).
- ICRP Publication 128: effective dose 0.019 mSv/MBq for [18F]FDG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from simulator.errors import ParameterError
from simulator.pet import _scanner as scanner
from simulator.pet.countrate import bed_losses
from simulator.pet.tracers import TRACERS, decay_factor, frame_decay_factor

__all__ = [
    "PETProtocol",
    "PETDerived",
    "check_protocol",
    "derive",
    "necr_against_activity",
    "nema_iq_protocol",
    "NEMA_BACKGROUND_BQML",
    "RECONS",
    "EANM_MBQ_MIN_PER_KG",
]

RECONS: tuple[str, ...] = ("fbp", "mlem", "osem")
FBP_WINDOWS: tuple[str, ...] = ("ramp", "hann")
EANM_MBQ_MIN_PER_KG = 7.0

#: Rough patient figures used by :func:`derive` when no phantom is given: share of the
#: body's activity in one bed and trues-weighted mean transmission of a trunk.
_PATIENT_FRACTION_IN_BED = 0.2
_PATIENT_TRANSMISSION = 0.17


@dataclass(frozen=True)
class PETProtocol:
    """A PET acquisition and reconstruction protocol (contract names, units in names).

    Parameters
    ----------
    tracer : str
        Key of :data:`simulator.pet.TRACERS` (``"F18-FDG"``).
    activity_mbq : float
        Injected activity at injection time, 0 < A ≤ 800 MBq.
    weight_kg : float
        Patient weight (2–250 kg); the phantoms' uptake is SUV × dose/weight.
    uptake_min : float
        Time from injection to the start of the scan (0–300 min).
    minutes_per_bed : float
        Acquisition time per bed position (0.1–30 min).
    beds : int
        Number of bed positions (1–12). A phantom shorter than the axial field of view
        lies in the first bed; the whole-body patient (and any phantom longer than one
        field of view when ``beds > 1``) is scanned bed by bed and stitched
        (:mod:`simulator.pet.wholebody`).
    bed_overlap_pct : float
        Axial overlap of consecutive beds, % of the field of view (0–50).
    range_top_mm : float
        Where the range starts, in mm below the top of the phantom (0–1500).
    tof_ps : float
        Coincidence timing resolution in ps; 0 switches time of flight off (else 150–1000).
    tof_bins : int
        0: TOF as its noise-variance gain only (fast); 3–25: TOF-binned sinograms and a
        TOF kernel in the projector (needs ``tof_ps`` > 0; slower, about 3× the CPU of non-TOF for a 6-bed exam, see docs/benchmarks.md).
    attenuation_correction, scatter_correction : bool
        Corrections in the reconstruction model (randoms and normalisation always are).
    recon : str
        ``"fbp"``, ``"mlem"`` or ``"osem"``.
    iterations : int
        Iterations of MLEM/OSEM (1–100).
    subsets : int
        OSEM subsets; must divide the 168 angles (1, 2, 3, 4, 6, 7, 8, 12, 14, 21, 24, 28…).
    postfilter_mm : float
        FWHM of the 3-D Gaussian post-filter, 0 = none (0–20 mm).
    matrix : int
        Reconstructed matrix (64–256) over the phantom's transaxial field of view.
    ai_denoise : bool
        Apply :func:`simulator.ai.denoise_pet` to the reconstruction.
    ai_strength : float
        How much of the denoiser's output the image takes when ``ai_denoise`` is on (0–1):
        ``(1 − s)·image + s·network(image)``; 0 gives the reconstruction unchanged, 1 the
        network's output. Ignored while AI is off.
    fbp_window : str
        FBP apodisation: ``"ramp"`` (none) or ``"hann"``.
    psf_modelling : bool
        Model the scanner's transaxial resolution in MLEM/OSEM (vendors' "PSF"
        reconstruction): higher contrast recovery, edge overshoot, slower convergence.
    count_losses : bool
        Dead time and randoms of the scanner's count-rate model
        (:mod:`simulator.pet.countrate`); False: the ideal linear scanner of the textbook
        (trues ∝ activity at any rate).
    """

    tracer: str = "F18-FDG"
    activity_mbq: float = 250.0
    weight_kg: float = 70.0
    uptake_min: float = 60.0
    minutes_per_bed: float = 2.0
    beds: int = 1
    bed_overlap_pct: float = 25.0
    range_top_mm: float = 0.0
    tof_ps: float = 0.0
    tof_bins: int = 0
    attenuation_correction: bool = True
    scatter_correction: bool = True
    recon: str = "osem"
    iterations: int = 3
    subsets: int = 21
    postfilter_mm: float = 5.0
    matrix: int = 128
    ai_denoise: bool = False
    fbp_window: str = "hann"
    psf_modelling: bool = False
    count_losses: bool = True
    ai_strength: float = 1.0


@dataclass(frozen=True)
class PETDerived:
    """What follows from a protocol (see :func:`derive`)."""

    half_life_s: float
    activity_at_scan_mbq: float
    decay_to_scan: float
    frame_s: float
    scan_time_s: float
    frame_decay_factor: float
    effective_dose_msv: float
    eanm_activity_mbq: float
    expected_trues: float
    expected_prompts: float
    expected_nec: float
    tof_gain: float


def _range(
    name: str, value: object, lo: float, hi: float, unit: str, lo_open: bool = False
) -> None:
    ok = False
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        ok = (value > lo if lo_open else value >= lo) and value <= hi
    if not ok:
        left = f"{lo:g} < x" if lo_open else f"{lo:g}–"
        allowed = f"{left} ≤ {hi:g} {unit}" if lo_open else f"{lo:g}–{hi:g} {unit}"
        raise ParameterError(name, value, allowed.strip())


def _int_range(name: str, value: object, lo: int, hi: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ParameterError(name, value, f"integer {lo}–{hi}")


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ParameterError(name, value, ", ".join(allowed))


def check_protocol(p: PETProtocol) -> tuple[str, ...]:
    """Validate a protocol; return warnings (English), raise on values the scanner refuses.

    Raises
    ------
    ParameterError
        With the allowed range, for the first invalid parameter.

    Examples
    --------
    >>> check_protocol(PETProtocol())
    ()
    """
    _choice("tracer", p.tracer, tuple(TRACERS))
    _range("activity_mbq", p.activity_mbq, 0.0, 800.0, "MBq", lo_open=True)
    _range("weight_kg", p.weight_kg, 2.0, 250.0, "kg")
    _range("uptake_min", p.uptake_min, 0.0, 300.0, "min")
    _range("minutes_per_bed", p.minutes_per_bed, 0.1, 30.0, "min")
    _int_range("beds", p.beds, 1, 12)
    _range("bed_overlap_pct", p.bed_overlap_pct, 0.0, 50.0, "%")
    _range("range_top_mm", p.range_top_mm, 0.0, 1500.0, "mm")
    if p.tof_ps != 0:
        _range("tof_ps", p.tof_ps, 150.0, 1000.0, "ps (or 0 = off)")
    for name in ("attenuation_correction", "scatter_correction", "ai_denoise", "psf_modelling",
                 "count_losses"):
        if not isinstance(getattr(p, name), bool):
            raise ParameterError(name, getattr(p, name), "true, false")
    _range("ai_strength", p.ai_strength, 0.0, 1.0, "")
    if p.tof_bins != 0:
        _int_range("tof_bins", p.tof_bins, 3, 25)
    _choice("recon", p.recon, RECONS)
    _choice("fbp_window", p.fbp_window, FBP_WINDOWS)
    _int_range("iterations", p.iterations, 1, 100)
    subsets = scanner.allowed_subsets()
    if p.subsets not in subsets or isinstance(p.subsets, bool):
        raise ParameterError(
            "subsets",
            p.subsets,
            ", ".join(str(s) for s in subsets),
            f"must divide the {scanner.N_ANGLES} projection angles",
            f"doit diviser les {scanner.N_ANGLES} angles de projection",
        )
    _range("postfilter_mm", p.postfilter_mm, 0.0, 20.0, "mm")
    _int_range("matrix", p.matrix, 64, 256)

    warnings: list[str] = []
    d = derive(p)
    if p.activity_mbq < 0.9 * d.eanm_activity_mbq:
        warnings.append(
            f"activity {p.activity_mbq:g} MBq is below the EANM recommendation "
            f"({d.eanm_activity_mbq:.0f} MBq for {p.weight_kg:g} kg at "
            f"{p.minutes_per_bed:g} min per bed): expect a noisy image"
        )
    if p.activity_mbq > 2.0 * d.eanm_activity_mbq:
        warnings.append(
            f"activity {p.activity_mbq:g} MBq is more than twice the EANM recommendation "
            f"({d.eanm_activity_mbq:.0f} MBq): {d.effective_dose_msv:.1f} mSv to the patient "
            "for little image gain (ALARA)"
        )
    if d.scan_time_s > 30 * 60:
        warnings.append(
            f"exam of {d.scan_time_s / 60:.0f} min: patients rarely stay still that long"
        )
    if p.tracer == "F18-FDG" and not 55.0 <= p.uptake_min <= 75.0:
        warnings.append(
            f"uptake {p.uptake_min:g} min is outside the EANM 55–75 min window: SUVs are not "
            "comparable with reference values"
        )
    if p.recon == "mlem" and p.subsets != 1:
        warnings.append("MLEM uses all angles at each iteration: subsets is ignored")
    if p.recon == "osem" and p.iterations * p.subsets > 200:
        warnings.append(
            f"{p.iterations}×{p.subsets} = {p.iterations * p.subsets} sub-iterations: the image "
            "will be very noisy unless post-filtered"
        )
    if p.psf_modelling and p.recon == "fbp":
        warnings.append("PSF modelling applies to MLEM/OSEM only: FBP ignores it")
    if not p.attenuation_correction:
        warnings.append("no attenuation correction: the image is not quantitative (no SUV)")
    if not p.scatter_correction:
        warnings.append("no scatter correction: background and cold regions are overestimated")
    return tuple(warnings)


def derive(
    p: PETProtocol,
    activity_in_bed_mbq: float | None = None,
    transmission: float | None = None,
    diameter_mm: float = 300.0,
) -> PETDerived:
    """Decay, timing, dose and expected counts of one bed (no validation).

    Parameters
    ----------
    p : PETProtocol
    activity_in_bed_mbq : float, optional
        Activity (MBq, at injection time) inside the bed's field of view; defaults to a
        patient figure (20 % of the injected activity).
    transmission : float, optional
        Trues-weighted mean attenuation factor; defaults to a trunk (0.17).
    diameter_mm : float
        Object diameter for the time-of-flight gain.
    """
    tracer = TRACERS[p.tracer]
    frame_s = 60.0 * p.minutes_per_bed
    dk = decay_factor(tracer, 60.0 * p.uptake_min)
    fdf = frame_decay_factor(tracer, frame_s)
    a_bed = (
        activity_in_bed_mbq
        if activity_in_bed_mbq is not None
        else (_PATIENT_FRACTION_IN_BED * p.activity_mbq)
    )
    t = transmission if transmission is not None else _PATIENT_TRANSMISSION
    a_scan_bq = a_bed * 1e6 * dk
    losses = bed_losses(a_scan_bq / 1e6, dead_time=p.count_losses)
    trues = scanner.SENSITIVITY_CPS_PER_BQ * a_scan_bq * t * frame_s * fdf * losses.live_fraction
    scatter = trues * scanner.scatter_to_trues(-math.log(max(t, 1e-6)))
    randoms = losses.randoms_cps * frame_s * frame_decay_factor(tracer, frame_s, power=2)
    prompts = trues + scatter + randoms
    return PETDerived(
        half_life_s=tracer.half_life_s,
        activity_at_scan_mbq=p.activity_mbq * dk,
        decay_to_scan=dk,
        frame_s=frame_s,
        scan_time_s=frame_s * p.beds,
        frame_decay_factor=fdf,
        effective_dose_msv=tracer.dose_msv_per_mbq * p.activity_mbq,
        eanm_activity_mbq=EANM_MBQ_MIN_PER_KG * p.weight_kg / p.minutes_per_bed,
        expected_trues=trues,
        expected_prompts=prompts,
        expected_nec=trues**2 / prompts if prompts > 0 else 0.0,
        tof_gain=scanner.tof_gain(p.tof_ps, diameter_mm),
    )


def necr_against_activity(
    p: PETProtocol, activities_mbq: list[float] | None = None
) -> list[tuple[float, float]]:
    """(injected MBq, NECR kcps of one bed) of this patient and protocol over activities.

    The same count-rate model as :func:`derive` (dead time, randoms ∝ singles²): NECR
    rises about linearly at low activity, then less and less, and falls past its peak.
    Default activities: 25–2400 MBq in 25-MBq steps (past the peak of a 70-kg patient).
    """
    grid = activities_mbq or [25.0 * k for k in range(1, 97)]
    out = []
    for a in grid:
        d = derive(replace(p, activity_mbq=float(a)))
        out.append((float(a), d.expected_nec / d.frame_s / 1e3))
    return out


#: NEMA NU 2-2018 §7 (image quality): background 5.3 kBq/mL (±5 %) at the start of the scan.
NEMA_BACKGROUND_BQML = 5300.0
#: ... and an emission time that simulates a whole-body scan of 100 cm in 30 min.
_NEMA_WB_CM, _NEMA_WB_MIN = 100.0, 30.0


def nema_iq_protocol(weight_kg: float = 70.0, **overrides: object) -> PETProtocol:
    """The NU 2 image-quality acquisition: 5.3 kBq/mL at the scan start, standard time.

    The IEC phantom's background is SUV 1, i.e. activity/weight: scanning at injection
    (uptake 0) with activity = 5.3 kBq/mL × weight gives the NEMA background at the start
    of the scan. The time per bed is 30 min × (axial step / 100 cm), the axial step being
    the field of view less the bed overlap (216 mm × 0.75 = 162 mm: 4.86 min).
    ``overrides`` replace any other field (reconstruction settings…).
    """
    base = PETProtocol()
    step_cm = scanner.AXIAL_FOV_MM * (1.0 - base.bed_overlap_pct / 100.0) / 10.0
    minutes = round(_NEMA_WB_MIN * step_cm / _NEMA_WB_CM, 2)
    p = replace(
        base,
        activity_mbq=round(NEMA_BACKGROUND_BQML * weight_kg * 1e-3, 2),
        weight_kg=weight_kg,
        uptake_min=0.0,
        minutes_per_bed=minutes,
    )
    return replace(p, **overrides)  # type: ignore[arg-type]


PROTOCOL_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PETProtocol))
