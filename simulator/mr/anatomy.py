"""Anatomy as 3D tissue-label volumes: brain, knee and lumbar spine.

The volumes are precomputed by ``scripts/build_anatomy.py`` (the brain from the MNI ICBM152
2009 template, see ``simulator/mr/data/MNI_ICBM152_LICENSE.txt``; the knee and the spine
modelled procedurally), then warped and textured (``_anatomy_texture``: no straight
boundaries, left–right asymmetry, trabecular marrow, muscle fascicles, fibrous septa of
fat), and shipped as compressed label arrays, so loading one takes a few tens of
milliseconds. Pathology is painted on a copy at load time (:mod:`simulator.mr._pathology`).

Coordinates follow DICOM LPS with z toward the head: array axis 2 runs toward the patient's
left (+x), axis 1 toward posterior (+y), axis 0 toward the head (+z). ``origin_mm`` is the
patient position of the centre of voxel ``[0, 0, 0]``.

Volumes (shape z, y, x; voxel; landmarks in ``Anatomy.landmarks``):

* ``brain``: 205 x 212 x 171, 1 mm; head and upper neck from the MNI ICBM152 2009 template
  scaled to adult native size; landmarks ``ac``, ``pc``, ``brain_centre``.
* ``knee``: 276 x 201 x 201, 0.8 mm; right knee in extension (+x medial); landmarks
  ``joint_line_centre``, ``patella_centre``, ``medial_meniscus_posterior_horn``,
  ``medial_femoral_condyle``, ``lateral_femoral_condyle``, ``medial_tibial_plateau``,
  ``lateral_tibial_plateau``, ``suprapatellar_recess``.
* ``spine``: 301 x 256 x 301, 1 mm; T12 to the sacrum in the abdomen; landmarks
  ``l1_centre``, ``l3_centre``, ``l3_l4_disc``, ``l4_l5_disc``, ``l5_s1_disc``, ``conus``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from simulator.errors import ParameterError

__all__ = ["Anatomy", "ANATOMIES", "PATHOLOGIES", "load_anatomy"]

#: Anatomies the scanner can image.
ANATOMIES: tuple[str, ...] = ("brain", "knee", "spine")

#: Pathologies available for each anatomy.
PATHOLOGIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "brain": ("ms_lesions", "tumour"),
        "knee": ("bone_marrow_oedema", "meniscal_tear", "acl_tear"),
        "spine": ("disc_herniation", "vertebral_fracture"),
    }
)


@dataclass(frozen=True, eq=False)
class Anatomy:
    """A tissue-label volume in patient coordinates.

    Parameters
    ----------
    name : str
        One of :data:`ANATOMIES`.
    labels : ndarray of uint8, shape (z, y, x)
        Tissue label per voxel, read-only; ``names[labels]`` is the tissue name.
    voxel_mm : tuple of float
        Voxel size (dz, dy, dx) in mm.
    names : tuple of str
        Tissue name of each label index; ``names[0] == "air"``.
    origin_mm : tuple of float
        Patient coordinates (x, y, z) in mm of the centre of voxel ``[0, 0, 0]``.
    pathology : str or None
        The pathology painted into the volume, if any.
    landmarks : Mapping[str, tuple of float]
        Named planning landmarks in patient mm (x, y, z).
    """

    name: str
    labels: NDArray[np.uint8]
    voxel_mm: tuple[float, float, float]
    names: tuple[str, ...]
    origin_mm: tuple[float, float, float]
    pathology: str | None = None
    landmarks: Mapping[str, tuple[float, float, float]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        if self.labels.ndim != 3 or self.labels.dtype != np.uint8:
            raise ValueError("labels must be a 3D uint8 array")
        if not self.names or self.names[0] != "air":
            raise ValueError("names[0] must be 'air'")
        if int(self.labels.max()) >= len(self.names):
            raise ValueError("a label index has no tissue name")
        if self.labels.flags.writeable:
            labels = self.labels.view()
            labels.flags.writeable = False
            object.__setattr__(self, "labels", labels)

    @property
    def shape(self) -> tuple[int, int, int]:
        """Array shape (z, y, x)."""
        return tuple(int(n) for n in self.labels.shape)  # type: ignore[return-value]

    def extent_mm(self) -> tuple[float, float, float]:
        """Return the size of the volume (x, y, z) in mm."""
        nz, ny, nx = self.labels.shape
        dz, dy, dx = self.voxel_mm
        return (nx * dx, ny * dy, nz * dz)

    def center_mm(self) -> tuple[float, float, float]:
        """Return the patient position (x, y, z) in mm of the centre of the volume."""
        nz, ny, nx = self.labels.shape
        return self.index_to_mm(((nz - 1) / 2.0, (ny - 1) / 2.0, (nx - 1) / 2.0))

    def index_to_mm(self, index: tuple[float, float, float]) -> tuple[float, float, float]:
        """Convert an array index (k, j, i) = (z, y, x) to patient mm (x, y, z)."""
        k, j, i = index
        dz, dy, dx = self.voxel_mm
        ox, oy, oz = self.origin_mm
        return (ox + i * dx, oy + j * dy, oz + k * dz)

    def mm_to_index(self, point_mm: tuple[float, float, float]) -> tuple[float, float, float]:
        """Convert patient mm (x, y, z) to a fractional array index (z, y, x)."""
        x, y, z = point_mm
        dz, dy, dx = self.voxel_mm
        ox, oy, oz = self.origin_mm
        return ((z - oz) / dz, (y - oy) / dy, (x - ox) / dx)

    def label(self, name: str) -> int:
        """Return the label index of tissue ``name``.

        Raises
        ------
        ParameterError
            If the tissue is not in this anatomy.
        """
        if name not in self.names:
            raise ParameterError("tissue", name, ", ".join(self.names))
        return self.names.index(name)

    def mask(self, name: str) -> NDArray[np.bool_]:
        """Return a boolean (z, y, x) mask of tissue ``name`` (all False if absent).

        Raises
        ------
        ParameterError
            If ``name`` is not a tissue of the table.
        """
        if name not in self.names:
            from simulator.mr.tissues import tissue_table

            allowed = tissue_table(1.5)
            if name not in allowed:
                raise ParameterError("tissue", name, ", ".join(allowed))
            return np.zeros(self.labels.shape, dtype=bool)
        return self.labels == self.names.index(name)

    def volume_ml(self, name: str) -> float:
        """Return the volume of tissue ``name`` in millilitres."""
        return float(np.count_nonzero(self.mask(name))) * float(np.prod(self.voxel_mm)) / 1000.0


def _check(name: object, pathology: object) -> None:
    if name not in ANATOMIES:
        raise ParameterError(
            "anatomy",
            name,
            ", ".join(ANATOMIES),
            "unknown anatomy",
            "anatomie inconnue",
        )
    if pathology is not None and pathology not in PATHOLOGIES[str(name)]:
        allowed = ", ".join(("none",) + PATHOLOGIES[str(name)])
        raise ParameterError(
            "pathology",
            pathology,
            allowed,
            f"pathologies available for the {name}",
            f"pathologies disponibles pour : {name}",
        )


@functools.lru_cache(maxsize=8)
def _load_base(name: str) -> Anatomy:
    ref = resources.files("simulator.mr").joinpath("data", f"{name}_labels.npz")
    with resources.as_file(ref) as path, np.load(path, allow_pickle=False) as data:
        labels = np.ascontiguousarray(data["labels"], dtype=np.uint8)
        names = tuple(str(n) for n in data["names"])
        voxel = tuple(float(v) for v in data["voxel_mm"])
        origin = tuple(float(v) for v in data["origin_mm"])
        marks = {
            str(k): tuple(float(c) for c in xyz)
            for k, xyz in zip(data["landmark_names"], data["landmark_mm"], strict=True)
        }
    return Anatomy(
        name=name,
        labels=labels,
        voxel_mm=voxel,  # type: ignore[arg-type]
        names=names,
        origin_mm=origin,  # type: ignore[arg-type]
        pathology=None,
        landmarks=MappingProxyType(marks),  # type: ignore[arg-type]
    )


@functools.lru_cache(maxsize=16)
def load_anatomy(
    name: str, pathology: str | None = None, placement_seed: int | None = None
) -> Anatomy:
    """Load an anatomy, optionally with a pathology painted in.

    Parameters
    ----------
    name : str
        One of :data:`ANATOMIES`: ``"brain"``, ``"knee"``, ``"spine"``.
    pathology : str or None
        One of ``PATHOLOGIES[name]``, or None (or ``"none"``) for a healthy volume.
    placement_seed : int or None
        None places the lesions canonically (always the same); an integer draws another
        plausible placement, reproducibly for the same integer.

    Returns
    -------
    Anatomy
        Cached and read-only: the same call returns the same object.

    Raises
    ------
    ParameterError
        For an unknown anatomy or a pathology not available for it.

    Examples
    --------
    >>> a = load_anatomy("knee", pathology="meniscal_tear")
    >>> a.names[0], a.labels.dtype.name
    ('air', 'uint8')
    """
    if pathology == "none":
        pathology = None
    _check(name, pathology)
    if placement_seed is not None and (
        isinstance(placement_seed, bool)
        or not isinstance(placement_seed, (int, np.integer))
        or placement_seed < 0
    ):
        raise ParameterError(
            "placement_seed",
            placement_seed,
            "none or an integer >= 0",
            "seed of the lesion placement",
            "graine du placement des lésions",
        )
    base = _load_base(name)
    if pathology is None:
        return base
    from simulator.mr._pathology import apply_pathology

    labels, names = apply_pathology(base, pathology, placement_seed)
    return Anatomy(
        name=name,
        labels=labels,
        voxel_mm=base.voxel_mm,
        names=names,
        origin_mm=base.origin_mm,
        pathology=pathology,
        landmarks=base.landmarks,
    )
