"""DICOM export and import for the virtual scanners (pydicom).

Writers give standard MR Image Storage and PET Image Storage files, one per slice, with every
acquisition parameter in its standard attribute and a fictitious patient; the reader gives
the datasets, the volume in real units and (PET) the SUV computed from the header alone.

>>> from simulator.dicom import write_mr_series, read_series, volume_from_series
"""

from simulator.dicom.mr import write_mr_images, write_mr_series
from simulator.dicom.patient import DEFAULT_PATIENT, FictitiousPatient
from simulator.dicom.pet import TRACERS, write_pet_series
from simulator.dicom.read import read_series, suv_from_pet_series, volume_from_series

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
