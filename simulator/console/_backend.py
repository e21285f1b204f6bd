"""What differs between the MR and PET consoles, behind one small interface.

A backend turns a protocol into consequences (scan time, SNR, SAR…), checks it, and runs
the physics once for a scan. The :class:`~simulator.console.session.ConsoleSession` owns
the state and the clock; the backends own no state beyond caches of loaded volumes.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.console.ai_saving import mr_saving, pet_saving

log = logging.getLogger(__name__)

__all__ = ["MRBackend", "PETBackend", "ScanResult", "jsonable"]


def jsonable(value: Any) -> Any:
    """Plain JSON types from numpy scalars, tuples and dataclasses."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 64 else f"<array {value.shape}>"
    return value


#: Environment variable a class server sets to cap each kernel's MR k-space cache (MiB).
KSPACE_CACHE_ENV = "MERM_KSPACE_CACHE_MIB"


def apply_kspace_cache_env(environ: Mapping[str, str] | None = None) -> int | None:
    """Cap the MR k-space cache from ``$MERM_KSPACE_CACHE_MIB``, if it is set.

    Returns the budget applied in MiB, or None when the variable is unset or not a whole
    number of MiB (0 or more); a bad value is logged and the default budget kept, so a
    typo in a server's configuration never stops a console.
    """
    raw = (os.environ if environ is None else environ).get(KSPACE_CACHE_ENV, "").strip()
    if not raw:
        return None
    try:
        mib = int(raw)
        if mib < 0:
            raise ValueError(raw)
    except ValueError:
        log.warning("%s=%r is not a whole number of MiB (0 or more); the default k-space "
                    "cache budget is kept", KSPACE_CACHE_ENV, raw)
        return None
    from simulator.mr.geometry import set_cache_budget_bytes

    set_cache_budget_bytes(mib * 2**20)
    return mib


@dataclasses.dataclass(frozen=True, eq=False)
class ScanResult:
    """One acquired series as the console shows it."""

    name: str
    series: Any
    images: NDArray[np.float32]  # (n, rows, cols) display stack
    metrics: dict
    kind: str  # "mr" | "pet"
    aspect: float = 1.0  # row spacing / column spacing
    before_ai: NDArray[np.float32] | None = None  # the stack before AI denoising (None: no AI)
    protocol: Any = None  # the protocol it was acquired with (set by the session)
    geometry: Any = None  # the planned slice stack (MR; set by the session)
    number: int = 0  # 1, 2, … in the order of the exam (set by the session)
    patient: str = ""  # the patient it was acquired on (set by the session)
    unit: str = ""  # display unit of ``images``: "" (MR stored values 0–4095) or "SUV"


def _float32_or_none(images: Any) -> NDArray[np.float32] | None:
    """The images before AI as float32, or None when the series was not denoised."""
    return None if images is None else np.asarray(images, np.float32)


class MRBackend:
    """MR: ``simulator.mr`` protocol, derive, scan."""

    modality = "mr"

    def __init__(self) -> None:
        import simulator.mr as mr

        self.mr = mr
        apply_kspace_cache_env()

    def default_protocol(self, anatomy: str, name: str | None = None) -> Any:
        names = self.preset_names(anatomy)
        return self.mr.preset(anatomy, name or names[0])

    def preset_names(self, anatomy: str) -> list[str]:
        presets = self.mr.PRESETS
        if anatomy in presets and hasattr(presets[anatomy], "keys"):
            return list(presets[anatomy].keys())
        out = []
        for key in presets:
            if isinstance(key, tuple) and key[0] == anatomy:
                out.append(key[1])
            elif isinstance(key, str) and "/" in key and key.split("/")[0] == anatomy:
                out.append(key.split("/", 1)[1])
        return out

    def check(self, protocol: Any) -> tuple[str, ...]:
        return tuple(self.mr.check_protocol(protocol))

    def consequences(self, protocol: Any) -> dict:
        d = self.mr.derive(protocol)
        return {
            "scan_time_s": float(d.scan_time_s),
            "snr_rel": float(d.snr_rel),
            "sar_w_kg": float(d.sar_w_kg),
            "sar_limit_w_kg": float(d.sar_limit_w_kg),
            "fat_shift_px": float(d.fat_shift_px),
            "voxel_mm": [float(v) for v in d.voxel_mm],
        }

    def ai_saving(self, protocol: Any, standard: Any) -> dict | None:
        """Scan time saved against the standard protocol while AI is on (else None)."""
        return mr_saving(protocol, standard)

    def default_geometry(self, protocol: Any, anatomy: Any) -> Any:
        """The stack centred on the body (as ``scan`` does without a geometry)."""
        if anatomy is not None:
            from simulator.mr.planning import default_geometry

            return default_geometry(anatomy, protocol)
        return self.mr.Geometry(
            orientation=protocol.orientation, center_mm=(0.0, 0.0, 0.0), angle_deg=0.0
        )

    def load_anatomy(self, name: str, pathology: str | None) -> Any:
        return self.mr.load_anatomy(name, pathology=pathology)

    def localizer(self, anatomy: Any) -> Any:
        return self.mr.localizer(anatomy)

    def scan(
        self,
        protocol: Any,
        geometry: Any,
        anatomy: Any,
        rng: np.random.Generator,
        emit: Callable[[dict], None],
        name: str,
    ) -> ScanResult:
        s = self.mr.scan(anatomy, protocol, geometry, rng=rng)
        metrics = jsonable(dict(s.metrics))
        row_mm, col_mm = s.pixel_spacing_mm
        return ScanResult(
            name,
            s,
            np.asarray(s.images, np.float32),
            metrics,
            "mr",
            float(row_mm) / float(col_mm),
            _float32_or_none(s.images_before_ai),
        )

    def preview(
        self, protocol: Any, geometry: Any, anatomy: Any, rng: np.random.Generator
    ) -> tuple[Any, float]:
        """The middle slice alone (a fast first look): (image, aspect)."""
        s = self.mr.scan(anatomy, protocol, geometry, rng=rng, slices=[protocol.slices // 2])
        row_mm, col_mm = s.pixel_spacing_mm
        return np.asarray(s.images[0], np.float32), float(row_mm) / float(col_mm)


class PETBackend:
    """PET: ``simulator.pet`` protocol, acquisition then OSEM iteration by iteration."""

    modality = "pet"

    def __init__(self) -> None:
        import simulator.pet as pet

        self.pet = pet

    def default_protocol(self, anatomy: str, name: str | None = None) -> Any:
        return self.pet.PETProtocol()

    def preset_names(self, anatomy: str) -> list[str]:
        return []

    def check(self, protocol: Any) -> tuple[str, ...]:
        return tuple(self.pet.check_protocol(protocol))

    def consequences(self, protocol: Any) -> dict:
        d = self.pet.derive(protocol)
        return {
            "scan_time_s": float(d.scan_time_s),
            "activity_at_scan_mbq": float(d.activity_at_scan_mbq),
            "eanm_activity_mbq": float(d.eanm_activity_mbq),
            "effective_dose_msv": float(d.effective_dose_msv),
            "expected_nec": float(d.expected_nec),
        }

    def ai_saving(self, protocol: Any, standard: Any) -> dict | None:
        """Time and dose saved against the standard protocol while AI is on (else None)."""
        return pet_saving(protocol, standard)

    def default_geometry(self, protocol: Any, anatomy: Any) -> Any:
        return None

    def load_anatomy(self, name: str, pathology: str | None) -> Any:
        """``pathology`` carries the IEC sphere:background ratio ("4", "8") for PET."""
        if name == "nema-iec" and pathology not in (None, ""):
            return self.pet.make_phantom(name, ratio=float(pathology))  # type: ignore[arg-type]
        return self.pet.make_phantom(name)

    def localizer(self, anatomy: Any) -> Any:
        return None

    def scan(
        self,
        protocol: Any,
        geometry: Any,
        anatomy: Any,
        rng: np.random.Generator,
        emit: Callable[[dict], None],
        name: str,
    ) -> ScanResult:
        pet = self.pet
        s = pet.scan(anatomy, protocol, rng=rng, keep_sinogram=True)
        if s.sinogram is not None and protocol.recon != "fbp":
            # replay the iterations so the trainee watches OSEM converge (~0.1 s each)
            for it, image in pet.iter_reconstruct(s.sinogram, protocol):
                emit(
                    {
                        "type": "iteration",
                        "iteration": int(it),
                        "image": np.asarray(image, np.float32),
                    }
                )
        metrics = jsonable(dict(s.metrics))
        return ScanResult(
            name,
            s,
            np.asarray(s.images_bqml, np.float32),
            metrics,
            "pet",
            before_ai=_float32_or_none(s.images_before_ai_bqml),
        )
