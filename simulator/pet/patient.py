"""Whole-body FDG patient, skull vertex to mid-thigh, for multi-bed exams.

The head is the MNI ICBM152 head of :func:`simulator.mr.load_anatomy` (skin, fat, muscle,
skull, marrow, CSF, grey and white matter) resampled onto the body grid; the trunk and
thighs are modelled with smooth anatomical shapes (elliptic body sections interpolated
between landmarks, ellipsoid organs), all from one label map: activity and attenuation
both follow the labels. The arms are raised above the head, out of the trunk's field of
view, as in a whole-body exam.

Uptake 60 min after [18F]FDG (SUVbw of a 70-kg, 175-cm adult, fasting), typical values of
the normal-organ studies: Paquet N. et al., J Nucl Med 45:784 (2004); Zincirkeser S. et
al., Mol Imaging Radionucl Ther 16:5 (2007); the EANM guideline's liver and blood-pool
references (Boellaard R. et al., EJNMMI 42:328, 2015: liver SUVmean ≈ 2–2.5):
brain grey matter 8, white 2 (:mod:`simulator.pet._brain`); liver 2.3; spleen 1.9;
kidneys 2.6 (parenchyma with some urine); bladder (urine) 25; myocardium variable
(fasting: 1–15, here 4 by default); blood pool 1.7; bowel 1.4; muscle 0.7; red marrow
(vertebrae, pelvis) 1.5; lungs 0.5; fat 0.35; cortical bone 0.5.

Weight and height: the body's girth scales with √(BMI/22.9) (22.9 = the reference 70 kg,
175 cm) and its length with height, which changes the attenuation; lean tissues keep
their SUL (SUV normalised by lean body mass, Janmahasatian S. et al., Clin Pharmacokinet
44:1051, 2005), so their SUVbw rises with W/LBM as in heavy patients (Sugawara Y. et al.,
Radiology 213:521, 1999), while fat keeps its SUVbw.

Attenuation at 511 keV (1/cm): soft tissue 0.096 (muscle 0.099), fat 0.090, lung 0.027,
cortical bone 0.17, marrow-filled bone 0.11 (Bailey D.L., *Positron Emission Tomography*,
2005).

Lesions (spheres) of chosen diameter and SUV at four sites: ``lung`` (right upper lobe),
``liver``, ``node`` (left axilla) and ``bone`` (a lumbar vertebra).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from simulator.errors import ParameterError
from simulator.pet._raster import Painter, shape2d_fraction
from simulator.pet.phantoms import MU_WATER, Feature, Phantom

__all__ = [
    "PATIENT_UPTAKE",
    "DEFAULT_LESIONS",
    "LESION_SITES",
    "patient_phantom",
    "lean_body_mass_kg",
]

REF_WEIGHT_KG, REF_HEIGHT_CM = 70.0, 175.0
_REF_BMI = REF_WEIGHT_KG / (REF_HEIGHT_CM / 100.0) ** 2
MU_FAT, MU_MUSCLE, MU_LUNG_WB, MU_CORTEX, MU_MARROW_BONE = 0.090, 0.099, 0.027, 0.17, 0.11

#: region → (SUVbw of the reference adult, μ in 1/cm); sources in the module docstring.
PATIENT_UPTAKE: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "fat": (0.35, MU_FAT),
        "muscle": (0.7, MU_MUSCLE),
        "lung": (0.5, MU_LUNG_WB),
        "liver": (2.3, MU_WATER),
        "spleen": (1.9, MU_WATER),
        "kidney": (2.6, MU_WATER),
        "bladder": (25.0, MU_WATER),
        "myocardium": (4.0, MU_WATER),
        "blood_pool": (1.7, MU_WATER),
        "bowel": (1.4, MU_WATER),
        "bone": (0.5, MU_CORTEX),
        "marrow": (1.5, MU_MARROW_BONE),
    }
)
#: MNI head tissues → (SUVbw, μ): the brain phantom's table with marrow as the trunk's.
_HEAD = {
    "air": (0.0, 0.0),
    "skin": (0.8, MU_WATER),
    "fat": (0.35, MU_FAT),
    "muscle": (0.7, MU_MUSCLE),
    "bone_cortex": (0.5, MU_CORTEX),
    "bone_marrow": (1.5, MU_MARROW_BONE),
    "red_marrow": (1.5, MU_MARROW_BONE),
    "nerve": (2.0, MU_WATER),
    "vitreous": (0.1, MU_WATER),
    "csf": (0.05, MU_WATER),
    "spinal_cord": (2.0, MU_WATER),
    "gray_matter": (8.0, MU_WATER),
    "white_matter": (2.0, MU_WATER),
}
#: MNI tissue → the patient's label (the rest of the head: "head").
_HEAD_LABEL = {
    "gray_matter": "brain_gray",
    "white_matter": "brain_white",
    "bone_cortex": "bone",
    "bone_marrow": "marrow",
    "red_marrow": "marrow",
    "fat": "fat",
    "muscle": "muscle",
}
#: Fat is not lean: its SUVbw does not follow W/LBM.
_NOT_LEAN = frozenset({"air", "fat", "bladder"})
LESION_SITES: tuple[str, ...] = ("lung", "liver", "node", "bone")
#: site → (diameter mm, SUVbw): the default lesions.
DEFAULT_LESIONS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {"lung": (12.0, 6.0), "liver": (15.0, 6.0), "node": (12.0, 5.0), "bone": (14.0, 5.0)}
)
#: site → centre (distance from vertex mm, AP mm, lateral mm) for the reference body;
#: AP + posterior, lateral + patient's left (DICOM LPS).
_LESION_AT = {
    "lung": (380.0, 0.0, -80.0),
    "liver": (610.0, -10.0, -95.0),
    "node": (360.0, 10.0, 120.0),
    "bone": (700.0, 95.0, 0.0),
}
#: Body sections: distance from vertex (mm) → semi-axes (lateral, AP) mm, reference adult.
_SECTIONS = (
    (195.0, 55.0, 60.0),  # neck (under the MNI head, which ends at the neck)
    (280.0, 60.0, 65.0),
    (320.0, 150.0, 95.0),  # shoulders (arms up)
    (380.0, 160.0, 105.0),  # chest
    (560.0, 155.0, 110.0),
    (700.0, 150.0, 112.0),  # abdomen
    (820.0, 165.0, 110.0),  # pelvis
    (880.0, 170.0, 105.0),
)
_CROTCH_MM = 890.0
_THIGH = (72.0, 78.0, 88.0)  # lateral semi, AP semi, centre offset from the midline
_FAT_MM = 12.0


def lean_body_mass_kg(weight_kg: float, height_cm: float) -> float:
    """Janmahasatian lean body mass (male): 9270·W / (6680 + 216·BMI)."""
    bmi = weight_kg / (height_cm / 100.0) ** 2
    return 9270.0 * weight_kg / (6680.0 + 216.0 * bmi)


@functools.cache
def _head_volumes() -> tuple[NDArray[np.uint8], tuple[str, ...]]:
    from simulator.mr.anatomy import load_anatomy

    a = load_anatomy("brain")
    return np.asarray(a.labels, np.uint8), tuple(a.names)


def _check(weight_kg: float, height_cm: float, lesions: Mapping[str, tuple[float, float]]) -> None:
    if not 30.0 <= weight_kg <= 150.0:
        raise ParameterError("weight_kg", weight_kg, "30–150 kg (whole-body patient)")
    if not 140.0 <= height_cm <= 210.0:
        raise ParameterError("height_cm", height_cm, "140–210 cm")
    for site, (d, suv) in lesions.items():
        if site not in LESION_SITES:
            raise ParameterError("lesion", site, ", ".join(LESION_SITES))
        if not 4.0 <= d <= 40.0:
            raise ParameterError(f"lesion_{site}_mm", d, "4–40 mm")
        if not 0.0 <= suv <= 50.0:
            raise ParameterError(f"lesion_{site}_suv", suv, "0–50")


def patient_phantom(
    activity_mbq: float = 250.0,
    weight_kg: float = REF_WEIGHT_KG,
    height_cm: float = REF_HEIGHT_CM,
    lesions: Mapping[str, tuple[float, float]] | None = None,
    myocardium_suv: float = 4.0,
) -> Phantom:
    """The whole-body patient (see the module docstring); cached per arguments.

    Parameters
    ----------
    activity_mbq, weight_kg : float
        Injected activity and weight: concentration = SUVbw × dose / weight.
    height_cm : float
    lesions : mapping site → (diameter_mm, suv), optional
        Sites of :data:`LESION_SITES`; default :data:`DEFAULT_LESIONS`; {} for none.
    myocardium_suv : float
        Myocardial FDG uptake, which varies widely with fasting (1–15).
    """
    les = dict(DEFAULT_LESIONS if lesions is None else lesions)
    _check(weight_kg, height_cm, les)
    key = tuple(sorted((k, float(d), float(s)) for k, (d, s) in les.items()))
    return _patient(
        float(activity_mbq), float(weight_kg), float(height_cm), key, float(myocardium_suv)
    )


@functools.lru_cache(maxsize=2)
def _patient(
    activity_mbq: float,
    weight_kg: float,
    height_cm: float,
    lesions: tuple[tuple[str, float, float], ...],
    myocardium_suv: float,
) -> Phantom:
    sh = height_cm / REF_HEIGHT_CM
    bmi = weight_kg / (height_cm / 100.0) ** 2
    girth = float(np.sqrt(bmi / _REF_BMI))
    fat_mm = _FAT_MM * (bmi / _REF_BMI) ** 2
    lean = (weight_kg / lean_body_mass_kg(weight_kg, height_cm)) / (
        REF_WEIGHT_KG / lean_body_mass_kg(REF_WEIGHT_KG, REF_HEIGHT_CM)
    )
    bq_per_suv = activity_mbq * 1e6 / (weight_kg * 1000.0)

    def suv_of(name: str, suv: float) -> float:
        return suv if name in _NOT_LEAN else suv * lean

    n, dz = 128, 4.0
    px = 3.5 * max(1.0, girth / 1.15)  # wide patients: a larger transaxial field of view
    length = 5.7 * height_cm  # vertex to mid-thigh ≈ 0.57 × height
    nz = int(np.ceil(length / dz))
    p = Painter((nz, n, n), (dz, px, px))
    c0 = (n - 1) / 2 * px
    top = (nz - 1) * dz

    def zmm(d_ref: float) -> float:  # distance from vertex (reference body) → z mm
        return top - d_ref * sh

    def at(d: float, y: float, x: float) -> tuple[float, float, float]:
        return (zmm(d), c0 + y * girth, c0 + x * girth)

    def region(name: str) -> tuple[float, float]:
        suv, mu = PATIENT_UPTAKE[name]
        if name == "myocardium":
            suv = myocardium_suv
        return suv_of(name, suv) * bq_per_suv, mu

    # body sections below the head, slice by slice: fat outline, then muscle inside it
    ds = np.array([s[0] for s in _SECTIONS])
    lat = np.array([s[1] for s in _SECTIONS])
    ap = np.array([s[2] for s in _SECTIONS])
    centres: tuple[tuple[float, float, float], ...]
    for k in range(nz):
        d = (top - k * dz) / sh
        if d < ds[0]:
            continue
        if d < _CROTCH_MM:
            a, b = float(np.interp(d, ds, lat)) * girth, float(np.interp(d, ds, ap)) * girth
            centres = ((0.0, a, b),)
        else:
            a, b = _THIGH[0] * girth, _THIGH[1] * girth
            centres = ((-_THIGH[2] * girth, a, b), (_THIGH[2] * girth, a, b))
        for name, grow in (("fat", 0.0), ("muscle", -fat_mm)):

            def inside(
                y: NDArray[np.float64],
                x: NDArray[np.float64],
                grow: float = grow,
                centres: tuple[tuple[float, float, float], ...] = centres,
            ) -> NDArray[np.bool_]:
                out = np.zeros(np.broadcast(y, x).shape, bool)
                for cx, a_, b_ in centres:
                    aa, bb = a_ + grow, b_ + grow
                    out |= ((x - c0 - cx) / aa) ** 2 + ((y - c0 + 10.0 * girth) / bb) ** 2 <= 1
                return out

            frac = shape2d_fraction((n, n), px, inside, ss=2)
            p.paint((slice(k, k + 1), slice(None), slice(None)), frac[None], name, *region(name))

    # head: the MNI head, resampled (vertex at the top of the grid, centred in-plane)
    lab1, names1 = _head_volumes()
    suv1 = np.array([suv_of(nm, _HEAD.get(nm, (1.0, MU_WATER))[0]) for nm in names1], np.float32)
    mu1 = np.array([_HEAD.get(nm, (1.0, MU_WATER))[1] for nm in names1], np.float32)
    zoom = (1.0 / dz, 1.0 / px, 1.0 / px)
    act_h = ndimage.zoom(suv1[lab1] * np.float32(bq_per_suv), zoom, order=1, grid_mode=True, mode="grid-constant")
    mu_h = ndimage.zoom(mu1[lab1], zoom, order=1, grid_mode=True, mode="grid-constant")
    lab_h = ndimage.zoom(lab1, zoom, order=0, grid_mode=True, mode="grid-constant")
    hz, hy, hx = act_h.shape
    z1 = nz - int(round(5.0 / dz))  # 5 mm of air above the vertex
    z0 = max(0, z1 - hz)
    y0, x0 = (n - hy) // 2 + int(round(5.0 / px)), (n - hx) // 2
    box = (slice(z0, z1), slice(y0, y0 + hy), slice(x0, x0 + hx))
    sub = (slice(hz - (z1 - z0), hz), slice(None), slice(None))
    head = lab_h[sub] > 0
    for arr, src in ((p.activity, act_h), (p.mu, mu_h)):
        view = arr[box]
        view[head] = src[sub][head]
    for k, nm in enumerate(names1):
        m = (lab_h[sub] == k) & head
        if k and m.any():
            p.labels[box][m] = p._label(_HEAD_LABEL.get(nm, "head"))

    # thorax and abdomen (painted in order: later solids replace earlier ones)
    for side in (-1, 1):
        p.ellipsoid(at(450, 5, side * 80), (125 * sh, 80, 62), "lung", *region("lung"))
    p.ellipsoid(at(760, -25, 0), (95 * sh, 60, 105), "bowel", *region("bowel"))
    p.ellipsoid(at(610, 0, -70), (90 * sh, 85, 95), "liver", *region("liver"))
    p.ellipsoid(at(595, 45, 100), (55 * sh, 40, 30), "spleen", *region("spleen"))
    for side in (-1, 1):
        p.ellipsoid(at(690, 60, side * 75), (55 * sh, 25, 30), "kidney", *region("kidney"))
    p.ellipsoid(at(480, -25, 30), (55 * sh, 48, 55), "myocardium", *region("myocardium"))
    p.ellipsoid(at(480, -25, 30), (36 * sh, 30, 36), "blood_pool", *region("blood_pool"))
    p.ellipsoid(at(560, 55, 20), (180 * sh, 12, 12), "blood_pool", *region("blood_pool"))
    p.ellipsoid(at(870, -25, 0), (35 * sh, 35, 45), "bladder", *region("bladder"))
    # skeleton: spine (cortex with marrow), iliac wings, femora
    for name, r in (("bone", 18.0), ("marrow", 12.0)):
        p.ellipsoid(at(560, 95, 0), (320 * sh, r, r), name, *region(name))
    for side in (-1, 1):
        for name, r in (("bone", 1.0), ("marrow", 0.6)):
            p.ellipsoid(at(830, 45, side * 105), (65 * sh * r, 45 * r, 18 * r), name, *region(name))
            p.ellipsoid(
                at(990, 0, side * _THIGH[2]), (140 * sh, 14 * r, 14 * r), name, *region(name)
            )
    feats: dict[str, Feature] = {
        "liver": Feature(at(610, 20, -60), 30.0, suv_of("liver", 2.3), "region"),
    }
    for site, d, suv in lesions:
        c = at(*_LESION_AT[site])
        tissue = {"lung": "lung", "liver": "liver", "node": "muscle", "bone": "marrow"}[site]
        name = f"lesion_{site}_{d:g}"
        p.ellipsoid(c, (d / 2,) * 3, name, suv * bq_per_suv, PATIENT_UPTAKE[tissue][1])
        feats[name] = Feature(c, d, suv, "lesion")
    return Phantom(
        name="patient",
        activity_bqml=p.activity,
        mu_per_cm=p.mu,
        labels=p.labels,
        names=tuple(p.names),
        voxel_mm=(dz, px, px),
        activity_mbq=activity_mbq,
        weight_kg=weight_kg,
        features=MappingProxyType(feats),
    )
