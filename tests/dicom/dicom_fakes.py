"""Series-like objects with the contract's fields, for writer tests that need no scanner."""

from __future__ import annotations

import dataclasses as dc
import subprocess
from pathlib import Path

import numpy as np

F18_HALF_LIFE_S = 6586.2


@dc.dataclass(frozen=True)
class FakeMRProtocol:
    sequence: str = "tse"
    field_t: float = 1.5
    tr_ms: float = 4000.0
    te_ms: float = 100.0
    ti_ms: float = 0.0
    flip_deg: float = 90.0
    etl: int = 12
    fov_mm: float = 200.0
    phase_fov_pct: float = 100.0
    matrix_read: int = 40
    matrix_phase: int = 32
    slice_mm: float = 4.0
    gap_mm: float = 1.0
    slices: int = 5
    nex: float = 2.0
    bandwidth_hz_px: float = 200.0
    phase_dir: str = "AP"
    parallel_r: int = 1
    partial_fourier: float = 1.0
    fat_sat: bool = False
    orientation: str = "axial"
    motion: str = "none"
    ai_denoise: bool = False


@dc.dataclass(frozen=True)
class FakeDerived:
    scan_time_s: float = 120.0
    sar_w_kg: float = 1.1


@dc.dataclass(frozen=True, eq=False)
class FakeMRSeries:
    images: np.ndarray
    noiseless: np.ndarray
    labels: np.ndarray
    names: tuple[str, ...]
    protocol: FakeMRProtocol
    geometry: object
    derived: FakeDerived
    pixel_spacing_mm: tuple[float, float]
    slice_positions_mm: np.ndarray
    orientation_cosines: tuple[float, ...]
    metrics: dict
    warnings: tuple[str, ...]
    seed: int


def plane_cosines(orientation: str, angle_deg: float = 0.0) -> np.ndarray:
    """ImageOrientationPatient of a plane, tilted by ``angle_deg`` about the first row axis."""
    row, col = {
        "axial": ((1, 0, 0), (0, 1, 0)),
        "sagittal": ((0, 1, 0), (0, 0, -1)),
        "coronal": ((1, 0, 0), (0, 0, -1)),
    }[orientation]
    row, col = np.array(row, float), np.array(col, float)
    a = np.deg2rad(angle_deg)
    col = np.cos(a) * col + np.sin(a) * np.cross(row, col)
    return np.concatenate([row, col])


def fake_mr_series(
    seed: int = 1, orientation: str = "axial", angle_deg: float = 0.0, **proto: object
) -> FakeMRSeries:
    p = FakeMRProtocol(orientation=orientation, **proto)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    rows, cols = p.matrix_phase, p.matrix_read
    labels = np.zeros((p.slices, rows, cols), np.uint8)
    labels[:, rows // 4 : 3 * rows // 4, cols // 4 : 3 * cols // 4] = 1
    noiseless = np.where(labels == 1, 800.0, 50.0).astype(np.float32)
    images = np.abs(noiseless + rng.normal(0, 20, noiseless.shape)).astype(np.float32)
    iop = plane_cosines(orientation, angle_deg)
    normal = np.cross(iop[:3], iop[3:])
    spacing = (p.fov_mm * p.phase_fov_pct / 100 / rows, p.fov_mm / cols)
    corner = -(cols - 1) / 2 * spacing[1] * iop[:3] - (rows - 1) / 2 * spacing[0] * iop[3:]
    step = p.slice_mm + p.gap_mm
    pos = np.array([corner + (k - (p.slices - 1) / 2) * step * normal for k in range(p.slices)])
    return FakeMRSeries(
        images,
        noiseless,
        labels,
        ("air", "white_matter"),
        p,
        (orientation, angle_deg),
        FakeDerived(),
        spacing,
        pos,
        tuple(iop),
        {},
        (),
        seed,
    )


@dc.dataclass(frozen=True)
class FakePETProtocol:
    tracer: str = "FDG"
    activity_mbq: float = 250.0
    weight_kg: float = 80.0
    uptake_min: float = 60.0
    minutes_per_bed: float = 2.0
    beds: int = 1
    tof_ps: float | None = None
    attenuation_correction: bool = True
    scatter_correction: bool = True
    recon: str = "osem"
    iterations: int = 3
    subsets: int = 21
    postfilter_mm: float = 5.0
    matrix: int = 32
    ai_denoise: bool = False


@dc.dataclass(frozen=True, eq=False)
class FakePETSeries:
    images_bqml: np.ndarray
    labels: np.ndarray
    names: tuple[str, ...]
    voxel_mm: tuple[float, float, float]
    protocol: FakePETProtocol
    counts: dict
    metrics: dict
    dose_at_scan_bq: float
    scan_start_offset_s: float
    warnings: tuple[str, ...]
    seed: int = 1
    phantom_name: str = ""
    #: Each slice's bed start after the series start (a stitched whole-body series).
    slice_start_offsets_s: tuple[float, ...] = ()


def fake_pet_series(
    images_bqml: np.ndarray | None = None, seed: int = 1, phantom_name: str = "", **proto: object
) -> FakePETSeries:
    """A PET series; by default uniform activity (SUV 1) plus noise from ``seed``."""
    p = FakePETProtocol(**proto)  # type: ignore[arg-type]
    offset_s = p.uptake_min * 60
    dose = p.activity_mbq * 1e6 * 2 ** (-offset_s / F18_HALF_LIFE_S)
    if images_bqml is None:
        rng = np.random.default_rng(seed)
        images_bqml = dose / (p.weight_kg * 1000) * (1 + 0.05 * rng.standard_normal((6, 16, 16)))
    labels = np.ones(images_bqml.shape, np.uint8)
    return FakePETSeries(
        np.asarray(images_bqml, np.float32),
        labels,
        ("air", "background"),
        (3.0, 4.0, 4.0),
        p,
        {},
        {},
        dose,
        offset_s,
        (),
        seed,
        phantom_name,
    )


def dciodvfy_errors(path: Path, warnings: bool = False) -> list[str]:
    """Lines starting with "Error" (and "Warning" when ``warnings``) that dciodvfy prints."""
    out = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    kinds = ("Error", "Warning") if warnings else ("Error",)
    return [line for line in (out.stdout + out.stderr).splitlines() if line.startswith(kinds)]
