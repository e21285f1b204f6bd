"""Tissue relaxation table at 1.5 T and 3 T.

Each tissue of the anatomy label volumes (:mod:`simulator.mr.anatomy`) has a relative proton
density, T1, T2, T2* and the share of its signal that comes from fat protons. The scanner shifts
the fat share by the fat–water chemical shift along the read direction, and fat saturation
suppresses it; STIR nulls it through its short T1.

Values are rounded means from the literature, chosen so that the textbook contrasts hold
(T1-weighted: fat > WM > GM > CSF; T2-weighted: CSF > GM > WM; FLAIR nulls CSF). Where no
single measurement exists (skin, ligament, tendon, pathology) the value is an estimate within
the published range and says so. Sources (keys used in the comments below):

* [Stanisz] Stanisz GJ et al. T1, T2 relaxation and magnetization transfer in tissue at 3T.
  Magn Reson Med 2005;54:507-512 (1.5 T and 3 T, brain, muscle, cartilage, blood).
* [Wansapura] Wansapura JP et al. NMR relaxation times in the human brain at 3.0 tesla.
  J Magn Reson Imaging 1999;9:531-538.
* [Gold] Gold GE et al. Musculoskeletal MRI at 3.0 T: relaxation times and image contrast.
  AJR 2004;183:343-351 (cartilage, muscle, synovial fluid, marrow, subcutaneous fat).
* [deBazelaire] de Bazelaire CM et al. MR imaging relaxation times of abdominal and pelvic
  tissues measured in vivo at 3.0 T: preliminary results. Radiology 2004;230:652-659.
* [Bojorquez] Bojorquez JZ et al. What are normal relaxation times of tissues at 3 T?
  Magn Reson Imaging 2017;35:69-80 (review).
* [Gelman] Gelman N et al. MR imaging of human brain at 3.0 T: preliminary report on
  transverse relaxation rates and relation to estimated iron content. Radiology
  1999;210:759-767 (T1 at 1.5 T and 3 T).
* [Whittall] Whittall KP et al. In vivo measurement of T2 distributions and water contents
  in normal human brain. Magn Reson Med 1997;37:34-43.
* [Peters] Peters AM et al. T2* measurements in human brain at 1.5, 3 and 7 T.
  Magn Reson Imaging 2007;25:748-753.
* [Smith] Smith SA et al. Measurement of T1 and T1rho in the cervical spinal cord at 3 T.
  Magn Reson Med 2008;60:213-219.
* [Du] Du J, Bydder GM. Qualitative and quantitative ultrashort-TE MRI of cortical bone.
  NMR Biomed 2013;26:489-506 (cortex, tendon, meniscus: T2* of a few ms or less).
* [Hamilton] Hamilton G et al. In vivo characterization of the liver fat 1H MR spectrum.
  NMR Biomed 2011;24:784-790 (multi-peak fat model).
* [Marinelli] Marinelli NL et al. T2 relaxation times of intervertebral disc tissue correlated
  with water content and proteoglycan content. Spine 2009;34:520-524.
* [Rooney] Rooney WD et al. Magnetic field and tissue dependencies of human brain
  longitudinal 1H2O relaxation in vivo. Magn Reson Med 2007;57:308-318.
* [Delfaut] Delfaut EM et al. Fat suppression in MR imaging: techniques and pitfalls.
  RadioGraphics 1999;19:373-382 (STIR TI ~150–170 ms at 1.5 T).
* [DelGrande] Del Grande F et al. Fat-suppression techniques for 3-T MR imaging of the
  musculoskeletal system. RadioGraphics 2014;34:217-233 (STIR TI ~210–230 ms at 3 T).
* [Henkelman] Henkelman RM et al. Why fat is bright in RARE and fast spin-echo imaging.
  J Magn Reson Imaging 1992;2:533-540 (J-coupling broken by closely spaced refocusing).
* [Pai] Pai A et al. A comparative study at 3 Tesla of sequence dependence of T2
  quantitation in the knee. Magn Reson Imaging 2008;26:1215-1220 (fat T2 41–143 ms and
  marrow 42–160 ms by sequence, longest with fast spin echo).

Every T1 and T2 of the table has a cited range in ``data/tissue_references.csv``
(:func:`tissue_references`); estimates say so there.
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

from simulator.errors import ParameterError

__all__ = [
    "Tissue",
    "FatProtons",
    "FAT_PROTONS",
    "TissueReference",
    "tissue_references",
    "FAT_WATER_SHIFT_PPM",
    "FAT_PEAKS",
    "FIELDS_T",
    "tissue_table",
]

#: Chemical shift of the main fat peak (methylene, 1.3 ppm) from water (4.7 ppm), in ppm.
FAT_WATER_SHIFT_PPM: float = 3.4

#: Six-peak fat spectrum [Hamilton]: (shift from water in ppm, relative amplitude); the
#: amplitudes sum to 1. The main methylene peak is the one at -3.4 ppm.
FAT_PEAKS: tuple[tuple[float, float], ...] = (
    (-3.80, 0.087),
    (-3.40, 0.693),
    (-2.60, 0.128),
    (-1.94, 0.004),
    (-0.39, 0.039),
    (0.60, 0.049),
)

#: Field strengths with a measured table, in tesla.
FIELDS_T: tuple[float, ...] = (1.5, 3.0)


@dataclass(frozen=True)
class FatProtons:
    """Relaxation of the fat protons of every tissue (adipose tissue, marrow) at one field.

    Parameters
    ----------
    t1_ms : float
        In-vivo T1 of fat, the one the STIR inversion time nulls ([Delfaut], [DelGrande]).
    t2_ms : float
        Apparent T2 of a conventional spin echo, shortened by J-coupling of the lipid
        protons ([deBazelaire]).
    t2_decoupled_ms : float
        Effective T2 under closely spaced refocusing pulses (fast spin echo), which break
        the J-coupling: why fat is bright on T2 TSE ([Henkelman], [Pai]).
    t2s_ms : float
        T2* of fat.
    """

    t1_ms: float
    t2_ms: float
    t2_decoupled_ms: float
    t2s_ms: float


#: Fat-proton relaxation per field (tesla).
FAT_PROTONS: Mapping[float, FatProtons] = MappingProxyType({
    1.5: FatProtons(t1_ms=235.0, t2_ms=58.0, t2_decoupled_ms=130.0, t2s_ms=40.0),
    3.0: FatProtons(t1_ms=320.0, t2_ms=68.0, t2_decoupled_ms=120.0, t2s_ms=35.0),
})


@dataclass(frozen=True)
class TissueReference:
    """Cited range of one value of the table.

    Parameters
    ----------
    tissue : str
        Tissue name (``"fat_protons"`` for :data:`FAT_PROTONS`).
    field_t : float
        Field in tesla.
    quantity : str
        ``"t1_ms"``, ``"t2_ms"`` or ``"t2_decoupled_ms"``.
    low_ms, high_ms : float
        The range the source supports (a measured mean ± about 2 SD, or the spread of the
        sources named).
    source : str
        Short key of the module docstring's reference list, or ``"estimate: …"``.
    """

    tissue: str
    field_t: float
    quantity: str
    low_ms: float
    high_ms: float
    source: str


@functools.lru_cache(maxsize=1)
def tissue_references() -> tuple[TissueReference, ...]:
    """Return the cited range of every T1 and T2 of the table (``data/tissue_references.csv``)."""
    ref = resources.files("simulator.mr").joinpath("data", "tissue_references.csv")
    with ref.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(line for line in fh if not line.startswith("#"))]
    return tuple(TissueReference(r["tissue"], float(r["field_t"]), r["quantity"],
                                 float(r["low_ms"]), float(r["high_ms"]), r["source"])
                 for r in rows)


@dataclass(frozen=True)
class Tissue:
    """MR properties of one tissue at one field strength.

    Parameters
    ----------
    name : str
        Tissue name shared with the anatomy labels (``"white_matter"``…).
    pd : float
        Relative proton density, pure water = 1.
    t1_ms, t2_ms, t2s_ms : float
        Longitudinal, transverse and effective transverse relaxation times in ms
        (``t2s_ms <= t2_ms``).
    fat_fraction : float
        Share (0–1) of the proton density carried by fat protons; 0 for water tissues.
    """

    name: str
    pd: float
    t1_ms: float
    t2_ms: float
    t2s_ms: float
    fat_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.pd <= 1.0:
            raise ValueError(f"{self.name}: pd {self.pd} outside 0–1")
        if min(self.t1_ms, self.t2_ms, self.t2s_ms) <= 0.0:
            raise ValueError(f"{self.name}: relaxation times must be > 0 ms")
        if self.t2s_ms > self.t2_ms or self.t2_ms > self.t1_ms:
            raise ValueError(f"{self.name}: need T2* <= T2 <= T1")
        if not 0.0 <= self.fat_fraction <= 1.0:
            raise ValueError(f"{self.name}: fat_fraction {self.fat_fraction} outside 0–1")


# name: (pd, fat_fraction, (T1, T2, T2*) at 1.5 T, (T1, T2, T2*) at 3 T), times in ms.
# Every T1 and T2 has its cited range in data/tissue_references.csv (checked by the tests).
# For a tissue with fat, the times are those of the tissue as measured; the signal model
# gives them to its water part, while its fat protons relax like fat (:data:`FAT_PROTONS`).
_TABLE: dict[str, tuple[float, float, tuple[float, float, float], tuple[float, float, float]]] = {
    # Air: no protons. Times are placeholders that keep the formulas finite.
    "air": (0.0, 0.0, (1000.0, 1.0, 1.0), (1000.0, 1.0, 1.0)),
    # Brain [Stanisz] (WM 884/72 and 1084/69, GM 1124/95 and 1820/99); the WM T1 at 1.5 T
    # and the GM T1 at 3 T sit at the short end of the Stanisz range, toward [Gelman] and
    # [Wansapura]; T2* [Peters]; water content WM 0.70, GM 0.82 [Whittall].
    "white_matter": (0.70, 0.0, (790.0, 72.0, 62.0), (1084.0, 69.0, 53.0)),
    "gray_matter": (0.82, 0.0, (1124.0, 95.0, 84.0), (1700.0, 99.0, 66.0)),
    # CSF: T1 ~4 s at both fields [Rooney; Wansapura 4163 ms at 3 T], T2 ~2 s; T2* limited
    # by flow and susceptibility.
    "csf": (1.00, 0.0, (4000.0, 2000.0, 1000.0), (4160.0, 1800.0, 800.0)),
    # Vitreous humour: CSF-like water, slightly shorter T1/T2 (estimate).
    "vitreous": (0.98, 0.0, (3400.0, 1200.0, 600.0), (4000.0, 1100.0, 500.0)),
    # Adipose tissue (fat_fraction ~0.9: septa and water): T1 the in-vivo value at which
    # scanners null fat by STIR [Delfaut; DelGrande] (inversion-recovery spin-echo fits give
    # longer values, 343/382 ms [deBazelaire]); T2 of a conventional spin echo, shortened by
    # J-coupling (58/68 ms [deBazelaire]); under an echo train see FAT_PROTONS.
    "fat": (0.95, 0.90, (235.0, 58.0, 40.0), (320.0, 68.0, 35.0)),
    # Skeletal muscle: T1 [Gold; Stanisz] (1130/1008 ms at 1.5 T, 1420/1412 ms at 3 T), T2
    # between [Gold] (35/32 ms) and [Stanisz] (44/50 ms); T2* estimate.
    "muscle": (0.80, 0.0, (1100.0, 40.0, 28.0), (1410.0, 42.0, 22.0)),
    # Skin (dermis): estimate, short T2, moderate T1 (ranges in [Bojorquez]).
    "skin": (0.70, 0.05, (700.0, 40.0, 30.0), (850.0, 38.0, 25.0)),
    # Cortical bone: tiny visible PD, T2* ~0.4–0.5 ms [Du]: dark on every sequence.
    "bone_cortex": (0.05, 0.0, (250.0, 1.0, 0.5), (300.0, 1.0, 0.4)),
    # Yellow (fatty) marrow of long bones: T1 ~290 ms at 1.5 T, ~370 ms at 3 T [Gold]; T2 of
    # its water part at the spin-echo end of the range of [Pai] (42–160 ms by sequence).
    "bone_marrow": (0.90, 0.85, (290.0, 55.0, 30.0), (370.0, 50.0, 20.0)),
    # Red (haematopoietic) vertebral marrow, ~40 % fat in adults [deBazelaire: 549/49, 586/49].
    "red_marrow": (0.80, 0.40, (549.0, 49.0, 25.0), (586.0, 49.0, 15.0)),
    # Hyaline cartilage: T1 [Stanisz] 1024 ms at 1.5 T, [Gold] 1240 ms at 3 T; T2 30 ms
    # [Stanisz] at 1.5 T, between [Stanisz] 27 and [Gold] 37 ms at 3 T.
    "cartilage": (0.70, 0.0, (1024.0, 30.0, 20.0), (1240.0, 32.0, 16.0)),
    # Meniscus (fibrocartilage): T2 ~10 ms, T2* ~5 ms [Du]: dark on all sequences.
    "meniscus": (0.40, 0.0, (900.0, 10.0, 6.0), (1050.0, 9.0, 5.0)),
    # Ligaments (ACL, PCL, collaterals): T2 ~10–15 ms (estimate, [Du]).
    "ligament": (0.40, 0.0, (800.0, 12.0, 7.0), (950.0, 11.0, 6.0)),
    # Tendon: T2 ~2–5 ms [Du]: signal void on conventional sequences.
    "tendon": (0.30, 0.0, (600.0, 4.0, 2.0), (720.0, 4.0, 1.5)),
    # Synovial fluid [Gold]: 1.5 T 2850/1210 ms, 3 T 3620/767 ms.
    "synovial_fluid": (0.97, 0.0, (2850.0, 1210.0, 400.0), (3620.0, 767.0, 300.0)),
    # Joint effusion: joint fluid (estimate between the [Gold] synovial-fluid values).
    "effusion": (1.00, 0.0, (3000.0, 1000.0, 400.0), (3800.0, 820.0, 300.0)),
    # Intervertebral disc, annulus fibrosus: T2 ~40–60 ms [Marinelli]; dark on T2w.
    "disc": (0.65, 0.0, (800.0, 45.0, 25.0), (950.0, 42.0, 20.0)),
    # Nucleus pulposus (healthy): T2 ~110–130 ms [Marinelli]; bright on T2w.
    "nucleus": (0.90, 0.0, (1150.0, 120.0, 70.0), (1350.0, 110.0, 55.0)),
    # Spinal cord [Stanisz] 1.5 T 745/74, 3 T 993/78 ms ([Smith] 3 T T1 ~870 ms).
    "spinal_cord": (0.72, 0.0, (745.0, 74.0, 60.0), (993.0, 78.0, 45.0)),
    # Nerve roots of the cauda equina: like peripheral nerve (estimate).
    "nerve": (0.72, 0.0, (800.0, 70.0, 50.0), (950.0, 68.0, 40.0)),
    # Blood (static, no flow effects) [Stanisz] 1.5 T 1441/290, 3 T 1932/275.
    "blood": (0.90, 0.0, (1441.0, 290.0, 150.0), (1932.0, 275.0, 80.0)),
    # Abdomen [deBazelaire] (1.5 T / 3 T): liver 586/46, 809/34; kidney cortex 966/87,
    # 1142/76; spleen 1057/79, 1328/61. Bowel: mixed wall and content (estimate).
    "liver": (0.75, 0.02, (586.0, 46.0, 30.0), (809.0, 34.0, 20.0)),
    "kidney": (0.85, 0.0, (966.0, 87.0, 60.0), (1142.0, 76.0, 45.0)),
    "spleen": (0.85, 0.0, (1057.0, 79.0, 55.0), (1328.0, 61.0, 40.0)),
    "bowel": (0.80, 0.05, (900.0, 60.0, 25.0), (1100.0, 55.0, 15.0)),
    # Pathology (estimates within published ranges): water gain lengthens T1 and T2.
    # MS plaque: T1 ~1.3–1.6x WM, T2 ~1.5–2x WM; bright on T2w/FLAIR, dark on T1w.
    "lesion_ms": (0.80, 0.0, (1250.0, 130.0, 100.0), (1600.0, 125.0, 80.0)),
    # Glioma-like tumour: long T1, long T2.
    "tumour": (0.85, 0.0, (1400.0, 130.0, 100.0), (2000.0, 125.0, 80.0)),
    # Vasogenic oedema: more water than tumour, brighter on T2w and FLAIR.
    "oedema": (0.90, 0.0, (1350.0, 170.0, 120.0), (1900.0, 160.0, 100.0)),
    # Bone-marrow oedema: fatty marrow partly replaced by water (fat ~30 %): dark on T1w,
    # bright on STIR and fat-saturated T2w.
    "marrow_oedema": (0.92, 0.30, (900.0, 90.0, 40.0), (1150.0, 85.0, 30.0)),
    # Oedema of an acute vertebral fracture: red marrow (~40 % fat, 549/49 ms [deBazelaire])
    # flooded by water and haemorrhage, fat ~10 %: darker than red marrow on T1w,
    # bright on STIR (the band under a fresh endplate fracture).
    "fracture_oedema": (0.93, 0.10, (1250.0, 90.0, 40.0), (1500.0, 85.0, 30.0)),
    # Herniated disc material (annulus and nucleus pushed into the canal), and the fluid in a
    # meniscal tear: the same tissue as the disc, the nucleus and synovial fluid, named apart
    # so that the ground truth of the detection AI finds exactly what was painted.
    "herniation": (0.65, 0.0, (800.0, 45.0, 25.0), (950.0, 42.0, 20.0)),
    "herniated_nucleus": (0.90, 0.0, (1150.0, 120.0, 70.0), (1350.0, 110.0, 55.0)),
    "tear_fluid": (0.97, 0.0, (2850.0, 1210.0, 400.0), (3620.0, 767.0, 300.0)),
}

_BUILT: dict[float, Mapping[str, Tissue]] = {}


def _build(index: int) -> Mapping[str, Tissue]:
    table = {}
    for name, (pd, ff, at15, at30) in _TABLE.items():
        t1, t2, t2s = (at15, at30)[index]
        table[name] = Tissue(name, pd, t1, t2, t2s, ff)
    return MappingProxyType(table)


def tissue_table(field_t: float) -> Mapping[str, Tissue]:
    """Return the tissue properties at one field strength.

    Parameters
    ----------
    field_t : float
        Main field in tesla: 1.5 or 3.0.

    Returns
    -------
    Mapping[str, Tissue]
        Read-only mapping from tissue name to :class:`Tissue`.

    Raises
    ------
    ParameterError
        If ``field_t`` is not one of :data:`FIELDS_T`.

    Examples
    --------
    >>> t = tissue_table(3.0)
    >>> t["csf"].t1_ms > t["gray_matter"].t1_ms > t["white_matter"].t1_ms
    True
    """
    try:
        value = float(field_t)
    except (TypeError, ValueError):
        value = math.nan
    for index, field in enumerate(FIELDS_T):
        if abs(value - field) < 1e-6:
            if field not in _BUILT:
                _BUILT[field] = _build(index)
            return _BUILT[field]
    raise ParameterError(
        "field_t",
        field_t,
        "1.5, 3.0 T",
        "tissue relaxation is tabulated at 1.5 T and 3 T only",
        "les temps de relaxation ne sont tabulés qu'à 1,5 T et 3 T",
    )
