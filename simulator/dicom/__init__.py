"""DICOM export and import for the virtual scanners (pydicom).

Writers give standard MR Image Storage and PET Image Storage files, one per slice, with every
acquisition parameter in its standard attribute and a fictitious patient; the reader gives
the datasets, the volume in real units and (PET) the SUV computed from the header alone.

>>> from simulator.dicom import write_mr_series, read_series, volume_from_series

The writers and the reader (and pydicom with them) are imported on first use, so that a
console that never writes DICOM does not load pydicom (``import simulator.dicom`` costs
nothing; ``simulator.dicom.write_mr_series`` imports :mod:`simulator.dicom.mr`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from simulator.dicom.patient import DEFAULT_PATIENT, FictitiousPatient

if TYPE_CHECKING:
    from simulator.dicom.mr import write_mr_images, write_mr_series
    from simulator.dicom.pet import TRACERS, write_pet_series
    from simulator.dicom.read import read_series, suv_from_pet_series, volume_from_series

#: Where each lazily imported name lives.
_LAZY = {
    "write_mr_series": "simulator.dicom.mr",
    "write_mr_images": "simulator.dicom.mr",
    "TRACERS": "simulator.dicom.pet",
    "write_pet_series": "simulator.dicom.pet",
    "read_series": "simulator.dicom.read",
    "volume_from_series": "simulator.dicom.read",
    "suv_from_pet_series": "simulator.dicom.read",
}

__all__ = [
    "FictitiousPatient",
    "DEFAULT_PATIENT",
    "TRACERS",
    "write_mr_series",
    "write_mr_images",
    "write_pet_series",
    "read_series",
    "volume_from_series",
    "suv_from_pet_series",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
