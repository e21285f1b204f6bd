"""The shipped knee and spine read as anatomy: named structures of plausible size, textured
tissues, no long straight axis-aligned boundaries (issue 15)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import ndimage

from simulator.mr import Geometry, load_anatomy, preset
from simulator.mr.anatomy import Anatomy
from simulator.mr.scan import scan

#: Longest straight run of a label boundary along a row or column, mm. Some boundaries do
#: run nearly straight for a few cm in a body (the lateral abdominal wall on a coronal, a
#: paraspinal muscle on a sagittal); the rectangles and cylinders of the volumes before
#: issue 15 had runs of 107–301 mm.
MAX_STRAIGHT_MM = 50.0


def _longest_straight_run(lab: np.ndarray) -> int:
    best = 0
    for edges in (lab[1:, :] != lab[:-1, :], (lab[:, 1:] != lab[:, :-1]).T):
        for row in edges:
            if row.any():
                d = np.diff(np.concatenate([[0], row.astype(np.int8), [0]]))
                best = max(best, int((np.flatnonzero(d == -1) - np.flatnonzero(d == 1)).max()))
    return best


@pytest.mark.parametrize("name", ["knee", "spine", "brain"])
def test_no_long_axis_aligned_straight_boundaries(name: str) -> None:
    a = load_anatomy(name)
    lab = a.labels
    nz, ny, nx = lab.shape
    for off in (-0.2, 0.0, 0.15):
        planes = (lab[int(nz * (0.5 + off))], lab[:, int(ny * (0.5 + off))],
                  lab[:, :, int(nx * (0.5 + off))])
        for p in planes:
            assert _longest_straight_run(p) * a.voxel_mm[0] <= MAX_STRAIGHT_MM, (name, off)


def _runs_along(mask_line: np.ndarray) -> list[int]:
    d = np.diff(np.concatenate([[0], mask_line.astype(np.int8), [0]]))
    return list(np.flatnonzero(d == -1) - np.flatnonzero(d == 1))


def test_knee_structures_exist_with_plausible_size() -> None:
    a = load_anatomy("knee")
    ml = {t: a.volume_ml(t) for t in ("meniscus", "ligament", "cartilage", "tendon",
                                      "synovial_fluid", "blood", "bone_marrow")}
    assert 2.0 <= ml["meniscus"] <= 12.0            # both menisci, a few mL
    assert 1.0 <= ml["ligament"] <= 25.0            # cruciates and collaterals
    assert ml["synovial_fluid"] > 0.5               # suprapatellar recess
    assert ml["blood"] > 2.0                        # popliteal artery and vein
    # Femoral cartilage over the medial condyle: 2–4 mm thick along the vertical.
    x, y, z = a.landmarks["medial_femoral_condyle"]
    k, j, i = (int(round(v)) for v in a.mm_to_index((x, y, z)))
    thick = []
    for dj in range(-6, 7, 2):
        column = a.labels[:, j + dj, i] == a.label("cartilage")
        thick += [r * a.voxel_mm[0] for r in _runs_along(column)]
    assert thick and 2.0 <= float(np.median(thick)) <= 4.0
    # Cruciates in the notch: ligament tissue between the condyles at the joint line.
    c = np.array(a.mm_to_index(a.landmarks["joint_line_centre"])).round().astype(int)
    notch = a.labels[c[0] - 5:c[0] + 30, c[1] - 30:c[1] + 30, c[2] - 12:c[2] + 12]
    assert (notch == a.label("ligament")).sum() * np.prod(a.voxel_mm) > 500.0  # > 0.5 mL
    # Hoffa's fat pad: fat behind the patellar tendon, in front of the joint line.
    hoffa = a.labels[c[0] - 5:c[0] + 10, c[1] - 40:c[1] - 20, c[2] - 10:c[2] + 10]
    assert (hoffa == a.label("fat")).mean() > 0.4


def test_spine_structures_and_disc_heights() -> None:
    a = load_anatomy("spine")
    for tissue in ("disc", "nucleus", "red_marrow", "bone_cortex", "spinal_cord", "nerve",
                   "csf", "fat", "muscle"):
        assert a.volume_ml(tissue) > 0.5, tissue
    disc = np.isin(a.labels, [a.label("disc"), a.label("nucleus")])
    for level in ("l3_l4_disc", "l4_l5_disc", "l5_s1_disc"):
        k, j, i = (int(round(v)) for v in a.mm_to_index(a.landmarks[level]))
        heights = []
        for dj in (-2, 0, 2):
            runs = _runs_along(disc[:, j + dj, i])
            heights.append(max(runs) * a.voxel_mm[0] if runs else 0.0)
        # Along z through the disc centre (the lumbar discs tilt by < 20°: < 7 % longer).
        assert 8.0 <= float(np.median(heights)) <= 13.0, (level, heights)
    # Subcutaneous fat of realistic thickness behind the spine (10–40 mm).
    k, j, i = (int(round(v)) for v in a.mm_to_index(a.landmarks["l3_centre"]))
    back = a.labels[k, j:, i]
    body = np.flatnonzero(back)
    skin_in = back[: body.max() + 1][::-1]
    fat = 0
    for v in skin_in[3:]:
        if a.names[v] in ("fat", "skin"):
            fat += 1
        else:
            break
    assert 10.0 <= fat * a.voxel_mm[1] <= 45.0


def _cv(img: np.ndarray, mask: np.ndarray) -> float:
    roi = ndimage.binary_erosion(mask, iterations=2)
    vals = img[roi]
    return float(vals.std() / vals.mean())


@pytest.mark.parametrize(("name", "proto", "tissues"), [
    ("knee", "t1", ("muscle", "bone_marrow", "fat")),
    ("spine", "t2_tse_sag", ("muscle", "red_marrow", "fat")),
])
def test_no_flat_shaded_tissue(name: str, proto: str, tissues: tuple[str, ...]) -> None:
    a: Anatomy = load_anatomy(name)
    p = dataclasses.replace(preset(name, proto), slices=1)
    centre = a.landmarks["medial_femoral_condyle" if name == "knee" else "l3_centre"]
    geo = Geometry(orientation="sagittal" if name == "spine" else "coronal", center_mm=centre)
    s = scan(a, dataclasses.replace(p, orientation=geo.orientation,
                                    phase_dir="AP" if name == "spine" else "RL"),
             geo, rng=None)
    for t in tissues:
        # Structure inside the tissue (trabeculae, fascicles, septa), not one grey level.
        assert _cv(s.noiseless[0], s.labels[0] == s.names.index(t)) > 0.04, t
