"""PET phantoms: activity (Bq/mL) and 511-keV attenuation (1/cm) volumes with labels.

Every phantom's uptake is stored as an SUV map scaled by a dose and a weight, so the same
phantom serves any injected activity: concentration = SUV × dose / weight (1 g = 1 mL).

- ``"nema-iec"``: the IEC 61675-1 body phantom used by NEMA NU 2 (image quality). Inner
  body 294 × 224 mm (a half-disc of radius 147 mm over a 77-mm-high base with rounded
  corners), six spheres of inner diameter 10, 13, 17, 22, 28 and 37 mm centred on a
  57.2-mm ring in one transverse plane, a 51-mm lung insert (μ ≈ 0.03/cm, no activity).
  The NEMA background 5.3 kBq/mL is "370 MBq in 70 kg": background SUV 1. Glass walls are
  not modelled; the 3-mm PMMA shell is. The 100 mm around the sphere plane are modelled.
- ``"torso"``: a procedural trunk (pelvis to lung apices, 400 mm) with liver, lungs,
  myocardium and blood pool, kidneys, bladder, spine, and lesions of 6–20 mm in the liver
  and the lungs (SUVs typical of FDG 60 min p.i., EANM/EARL ranges).
- ``"patient"``: a whole-body FDG patient, skull to mid-thigh, for multi-bed exams
  (:mod:`simulator.pet.patient`); its size follows the weight and height asked for.
- ``"brain"``: the MR brain anatomy (:func:`simulator.mr.load_anatomy`) with FDG uptake,
  grey:white 4:1 (see :mod:`simulator.pet._brain`).

The builders live here and in :mod:`simulator.pet._brain` and :mod:`simulator.pet.patient`;
:func:`simulator.pet.catalogue.make_phantom` picks one by name.

Attenuation coefficients at 511 keV: water/soft tissue 0.096, bone 0.13–0.17, lung 0.03,
PMMA 0.11 per cm (e.g. Bailey D.L., *Positron Emission Tomography*, Springer 2005).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from simulator.errors import ParameterError
from simulator.pet._raster import Inside, Painter, shape2d_fraction

__all__ = ["Phantom", "Feature", "IEC_SPHERES_MM"]
IEC_SPHERES_MM: tuple[float, ...] = (10.0, 13.0, 17.0, 22.0, 28.0, 37.0)
IEC_RING_MM = 57.2
IEC_LUNG_MM = 51.0
MU_WATER = 0.096
MU_LUNG = 0.03
MU_PMMA = 0.11
MU_BONE = 0.13


@dataclass(frozen=True)
class Feature:
    """A named spherical or cylindrical structure the analysis measures.

    ``centre_mm`` is (z, y, x) in mm from the centre of voxel (0, 0, 0); ``diameter_mm``
    its diameter; ``suv`` its true uptake (SUV) and ``kind`` "sphere", "lesion",
    "cylinder" (along z) or "region".
    """

    centre_mm: tuple[float, float, float]
    diameter_mm: float
    suv: float
    kind: str = "sphere"


@dataclass(frozen=True, eq=False)
class Phantom:
    """Activity and attenuation volumes of a phantom or a patient model.

    Parameters
    ----------
    name : str
        One of :data:`PHANTOMS`.
    activity_bqml : ndarray of float32, shape (z, y, x)
        Activity concentration at injection (reference) time, Bq/mL.
    mu_per_cm : ndarray of float32, shape (z, y, x)
        Linear attenuation coefficient at 511 keV, 1/cm.
    labels : ndarray of uint8, shape (z, y, x)
        Region per voxel; ``names[labels]`` its name, 0 = ``"air"``.
    names : tuple of str
    voxel_mm : tuple of float
        (dz, dy, dx); dy == dx, and the grid is square in-plane.
    activity_mbq, weight_kg : float
        Injected activity and weight the concentrations refer to.
    features : Mapping[str, Feature]
        Spheres, lesions, inserts the analysis measures.
    """

    name: str
    activity_bqml: NDArray[np.float32]
    mu_per_cm: NDArray[np.float32]
    labels: NDArray[np.uint8]
    names: tuple[str, ...]
    voxel_mm: tuple[float, float, float]
    activity_mbq: float
    weight_kg: float
    features: Mapping[str, Feature] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        shape = self.activity_bqml.shape
        if len(shape) != 3 or shape[1] != shape[2]:
            raise ValueError("volumes must be (z, n, n)")
        if self.mu_per_cm.shape != shape or self.labels.shape != shape:
            raise ValueError("activity, mu and labels must have the same shape")
        for name in ("activity_bqml", "mu_per_cm", "labels"):
            arr = getattr(self, name)
            if arr.flags.writeable:
                arr = arr.view()
                arr.flags.writeable = False
                object.__setattr__(self, name, arr)

    @property
    def shape(self) -> tuple[int, int, int]:
        """Grid shape (z, y, x)."""
        return tuple(int(n) for n in self.activity_bqml.shape)  # type: ignore[return-value]

    @property
    def fov_mm(self) -> float:
        """Transaxial field of view (mm) covered by the grid."""
        return self.shape[2] * self.voxel_mm[2]

    @property
    def bqml_per_suv(self) -> float:
        """Concentration of SUV 1 at injection time: dose / weight."""
        return self.activity_mbq * 1e6 / (self.weight_kg * 1000.0)

    def with_dose(self, activity_mbq: float, weight_kg: float) -> Phantom:
        """The same uptake (SUV) for another injected activity and weight."""
        if activity_mbq == self.activity_mbq and weight_kg == self.weight_kg:
            return self
        scale = (activity_mbq / self.activity_mbq) * (self.weight_kg / weight_kg)
        act = np.asarray(self.activity_bqml * np.float32(scale), dtype=np.float32)
        return replace(self, activity_bqml=act, activity_mbq=activity_mbq, weight_kg=weight_kg)

    def mask(self, name: str) -> NDArray[np.bool_]:
        """Boolean mask of region ``name`` (raises ParameterError when absent)."""
        if name not in self.names:
            raise ParameterError("region", name, ", ".join(self.names[1:]))
        return self.labels == self.names.index(name)


def _iec_body(margin_mm: float) -> Inside:
    """Inside test of the IEC body section grown by ``margin_mm`` (origin: lung axis)."""
    r_top, h_base, r_corner, half_w = 147.0, 77.0, 77.0, 147.0

    def inside(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        top = (y <= 0) & (x * x + y * y <= (r_top + margin_mm) ** 2)
        core = (y > 0) & (y <= h_base + margin_mm) & (np.abs(x) <= half_w - r_corner)
        cx = np.abs(x) - (half_w - r_corner)
        corner = (y > 0) & (cx > 0) & (cx * cx + y * y <= (r_corner + margin_mm) ** 2)
        return top | core | corner

    return inside


def _iec(ratio: float, cold_spheres: bool, activity_mbq: float, weight_kg: float) -> Phantom:
    n, px, nz, dz = 160, 2.0, 50, 2.0
    shape, voxel = (nz, n, n), (dz, px, px)
    bg = activity_mbq * 1e6 / (weight_kg * 1000.0)
    # lung axis placed so that the body's bounding box is centred in the field of view
    cy, cx = (n - 1) / 2 * px + 35.0, (n - 1) / 2 * px
    zc = 25 * dz
    p = Painter(shape, voxel)

    def shifted(fn: Inside) -> Inside:
        return lambda y, x: fn(y - cy, x - cx)

    p.prism(
        (0, nz * dz), shape2d_fraction((n, n), px, shifted(_iec_body(3.0))), "wall", 0.0, MU_PMMA
    )
    p.prism(
        (0, nz * dz),
        shape2d_fraction((n, n), px, shifted(_iec_body(0.0))),
        "background",
        bg,
        MU_WATER,
    )
    lung_r = IEC_LUNG_MM / 2
    lung = shape2d_fraction((n, n), px, lambda y, x: (y - cy) ** 2 + (x - cx) ** 2 <= lung_r**2)
    p.prism((0, nz * dz), lung, "lung", 0.0, MU_LUNG)
    feats: dict[str, Feature] = {
        "lung": Feature((zc, cy, cx), IEC_LUNG_MM, 0.0, "cylinder"),
    }
    for k, d in enumerate(IEC_SPHERES_MM):
        ang = np.deg2rad(60.0 * k)
        c = (
            float(zc),
            float(cy + IEC_RING_MM * np.sin(ang)),
            float(cx + IEC_RING_MM * np.cos(ang)),
        )
        cold = cold_spheres and d >= 28.0
        suv = 0.0 if cold else ratio
        p.ellipsoid(c, (d / 2,) * 3, f"sphere_{d:.0f}", suv * bg, MU_WATER)
        feats[f"sphere_{d:.0f}"] = Feature(c, d, suv, "sphere")
    feats["background"] = Feature((zc, cy, cx), 0.0, 1.0, "region")
    return Phantom(
        name="nema-iec",
        activity_bqml=p.activity,
        mu_per_cm=p.mu,
        labels=p.labels,
        names=tuple(p.names),
        voxel_mm=voxel,
        activity_mbq=activity_mbq,
        weight_kg=weight_kg,
        features=MappingProxyType(feats),
    )


#: Torso uptake (SUV, FDG 60 min p.i.) and μ (1/cm) per region.
TORSO_REGIONS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "soft_tissue": (0.7, MU_WATER),
        "lung": (0.4, MU_LUNG),
        "liver": (2.3, MU_WATER),
        "myocardium": (6.0, MU_WATER),
        "blood_pool": (1.8, MU_WATER),
        "kidney": (2.5, MU_WATER),
        "bladder": (20.0, MU_WATER),
        "spine": (0.9, MU_BONE),
    }
)
#: Lesions: name → (region, centre offset (z, y, x) mm from the region centre, diameter, SUV).
TORSO_LESIONS: Mapping[str, tuple[tuple[float, float, float], float, float]] = MappingProxyType(
    {
        "lesion_liver_20": ((235.0, -10.0, -95.0), 20.0, 8.0),
        "lesion_liver_12": ((215.0, 20.0, -40.0), 12.0, 8.0),
        "lesion_lung_14": ((330.0, 10.0, -85.0), 14.0, 6.0),
        "lesion_lung_10": ((345.0, -20.0, 100.0), 10.0, 6.0),
        "lesion_lung_6": ((305.0, 30.0, 95.0), 6.0, 6.0),
    }
)


def _torso(activity_mbq: float, weight_kg: float) -> Phantom:
    n, px, nz, dz = 144, 3.0, 100, 4.0
    shape, voxel = (nz, n, n), (dz, px, px)
    s = activity_mbq * 1e6 / (weight_kg * 1000.0)
    c0 = (n - 1) / 2 * px
    p = Painter(shape, voxel)

    def region(name: str) -> tuple[float, float]:
        suv, mu = TORSO_REGIONS[name]
        return suv * s, mu

    for (z0, z1), (ax, ay) in (
        ((0, 120), (170.0, 115.0)),
        ((120, 250), (160.0, 110.0)),
        ((250, 400), (170.0, 118.0)),
    ):

        def ellipse(y: np.ndarray, x: np.ndarray, ax: float = ax, ay: float = ay) -> np.ndarray:
            return np.asarray(((x - c0) / ax) ** 2 + ((y - c0) / ay) ** 2 <= 1)

        body = shape2d_fraction((n, n), px, ellipse)
        p.prism((z0, z1), body, "soft_tissue", *region("soft_tissue"))

    def at(z: float, y: float, x: float) -> tuple[float, float, float]:
        return (z, c0 + y, c0 + x)

    p.ellipsoid(at(235, 0, -60), (65, 75, 85), "liver", *region("liver"))
    for side in (-1, 1):
        p.ellipsoid(at(325, 5, side * 85), (80, 70, 55), "lung", *region("lung"))
        p.ellipsoid(at(180, 55, side * 70), (55, 25, 30), "kidney", *region("kidney"))
    p.ellipsoid(at(285, -25, 25), (50, 45, 50), "myocardium", *region("myocardium"))
    p.ellipsoid(at(285, -25, 25), (35, 30, 35), "blood_pool", *region("blood_pool"))
    p.ellipsoid(at(50, -20, 0), (35, 35, 45), "bladder", *region("bladder"))
    spine = shape2d_fraction((n, n), px, lambda y, x: (x - c0) ** 2 + (y - c0 - 85) ** 2 <= 15**2)
    p.prism((0, nz * dz), spine, "spine", *region("spine"))
    feats: dict[str, Feature] = {
        "liver": Feature(at(235, 0, -60), 30.0, TORSO_REGIONS["liver"][0], "region"),
    }
    for name, ((z, y, x), d, suv) in TORSO_LESIONS.items():
        tissue = "lung" if "lung" in name else "liver"
        p.ellipsoid(at(z, y, x), (d / 2,) * 3, name, suv * s, TORSO_REGIONS[tissue][1])
        feats[name] = Feature(at(z, y, x), d, suv, "lesion")
    return Phantom(
        name="torso",
        activity_bqml=p.activity,
        mu_per_cm=p.mu,
        labels=p.labels,
        names=tuple(p.names),
        voxel_mm=voxel,
        activity_mbq=activity_mbq,
        weight_kg=weight_kg,
        features=MappingProxyType(feats),
    )
