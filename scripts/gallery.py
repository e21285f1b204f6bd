"""Render the MR gallery in docs/gallery/: brain, knee and spine in their standard planes.

Usage::

    python scripts/gallery.py [--out docs/gallery] [--field 1.5]

Each image is a real acquisition of the simulator (``simulator.mr.scan`` with the console
preset, noise included, seed 0): the central slice of the preset's stack, windowed from 0 to
the 99.5th percentile, written as an 8-bit PNG at the reconstructed matrix. The PNGs are
committed so that a reader sees what a trainee sees; rerun after changing anatomy or physics.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

#: (file stem, anatomy, preset, orientation override or None, pathology)
VIEWS: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    ("brain_t1_se_axial", "brain", "t1_se", None, None),
    ("brain_t2_tse_axial", "brain", "t2_tse", None, None),
    ("brain_flair_axial", "brain", "flair", None, None),
    ("brain_t2_tse_coronal", "brain", "t2_tse", "coronal", None),
    ("brain_flair_axial_ms", "brain", "flair", None, "ms_lesions"),
    ("knee_pd_fs_sagittal", "knee", "pd_fs", None, None),
    ("knee_t1_coronal", "knee", "t1", None, None),
    ("knee_t2_fs_axial", "knee", "t2_fs", None, None),
    ("knee_pd_fs_sagittal_tear", "knee", "pd_fs", None, "meniscal_tear"),
    ("spine_t2_tse_sagittal", "spine", "t2_tse_sag", None, None),
    ("spine_t1_se_sagittal", "spine", "t1_se_sag", None, None),
    ("spine_stir_sagittal", "spine", "stir_sag", None, None),
    ("spine_t2_axial", "spine", "t2_ax", None, None),
    ("spine_t2_tse_sagittal_herniation", "spine", "t2_tse_sag", None, "disc_herniation"),
)

_PHASE = {"axial": "RL", "sagittal": "AP", "coronal": "RL"}
#: Views centred on a landmark's left–right position: the knee sagittal through the medial
#: compartment (condyle, meniscal horns, cruciate-free), as a radiographer reads it first.
_SAGITTAL_THROUGH = {"knee_pd_fs_sagittal": "medial_femoral_condyle",
                     "knee_pd_fs_sagittal_tear": "medial_meniscus_posterior_horn"}


def render(stem: str, anatomy: str, name: str, orientation: str | None,
           pathology: str | None, out: Path, field_t: float) -> Path:
    """Scan the central slice of one view and write ``out/<stem>.png``."""
    from PIL import Image

    from simulator.mr import preset
    from simulator.mr.anatomy import load_anatomy
    from simulator.mr.geometry import default_geometry
    from simulator.mr.scan import scan

    anat = load_anatomy(anatomy, pathology)
    p = preset(anatomy, name, field_t=field_t)
    if orientation is not None:
        p = dataclasses.replace(p, orientation=orientation, phase_dir=_PHASE[orientation])
    geo = default_geometry(anat, p)
    if pathology is not None:
        changed = np.argwhere(anat.labels != load_anatomy(anatomy).labels)
        k, j, i = np.median(changed, axis=0)
        x, y, z = anat.index_to_mm((float(k), float(j), float(i)))
        cx, cy, cz = geo.center_mm
        centre = {"axial": (cx, cy, z), "sagittal": (x, cy, cz), "coronal": (cx, y, cz)}
        geo = dataclasses.replace(geo, center_mm=centre[p.orientation])
    if stem in _SAGITTAL_THROUGH:
        cx, cy, cz = geo.center_mm
        geo = dataclasses.replace(geo, center_mm=(anat.landmarks[_SAGITTAL_THROUGH[stem]][0],
                                                  cy, cz))
    s = scan(anat, p, geo, rng=np.random.default_rng(0), slices=[p.slices // 2])
    img = s.images[0].astype(np.float64)
    top = float(np.percentile(img, 99.5)) or 1.0
    png = (np.clip(img / top, 0.0, 1.0) * 255).astype(np.uint8)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stem}.png"
    Image.fromarray(png).save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/gallery"))
    parser.add_argument("--field", type=float, default=1.5)
    parser.add_argument("--only", default="", help="render only stems containing this text")
    args = parser.parse_args(argv)
    for view in VIEWS:
        if args.only in view[0]:
            print(render(*view, out=args.out, field_t=args.field))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
