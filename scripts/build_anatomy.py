"""Build the shipped MR label volumes in simulator/mr/data/.

Usage::

    python scripts/build_anatomy.py [brain] [knee] [spine] [--png DIR]

The brain comes from the MNI ICBM152 2009 template shipped inside nilearn's wheel (no
download; nilearn is needed only here, never at runtime). The knee and the lumbar spine are
modelled procedurally; every volume is then warped and textured
(``simulator/mr/_anatomy_texture.py``: no straight boundaries, trabecular marrow, muscle
fascicles, fibrous septa of fat). Each volume is saved with ``np.savez_compressed`` as ``labels``
(z, y, x) uint8, ``names``, ``voxel_mm``, ``origin_mm``, ``landmark_names``, ``landmark_mm``.
With ``--png DIR``, mid-plane label maps and a crude T1 contrast are written for inspection.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "simulator" / "mr" / "data"


def _brain() -> dict[str, object]:
    from nilearn import datasets

    from simulator.mr._anatomy_brain import build_brain

    t1 = datasets.load_mni152_template(resolution=1)
    gm = datasets.load_mni152_gm_template(resolution=1)
    wm = datasets.load_mni152_wm_template(resolution=1)
    return build_brain(t1.get_fdata(), gm.get_fdata(), wm.get_fdata(), np.asarray(t1.affine))


def _knee() -> dict[str, object]:
    from simulator.mr._anatomy_knee import build_knee

    return build_knee()


def _spine() -> dict[str, object]:
    from simulator.mr._anatomy_spine import build_spine

    return build_spine()


BUILDERS = {"brain": _brain, "knee": _knee, "spine": _spine}


def build(name: str) -> dict[str, object]:
    """Build one volume: the shapes, then warp and textures (fixed seeds)."""
    from simulator.mr._anatomy_texture import refine_named

    return refine_named(name, BUILDERS[name]())


def save(name: str, vol: dict[str, object]) -> Path:
    """Write one volume to ``simulator/mr/data/<name>_labels.npz``."""
    marks: dict[str, tuple[float, float, float]] = vol["landmarks"]  # type: ignore[assignment]
    path = DATA / f"{name}_labels.npz"
    np.savez_compressed(
        path,
        labels=np.asarray(vol["labels"], dtype=np.uint8),
        names=np.array(vol["names"], dtype="U32"),
        voxel_mm=np.asarray(vol["voxel_mm"], dtype=np.float64),
        origin_mm=np.asarray(vol["origin_mm"], dtype=np.float64),
        landmark_names=np.array(list(marks), dtype="U32"),
        landmark_mm=np.asarray(list(marks.values()), dtype=np.float64).reshape(-1, 3),
    )
    return path


def render_png(name: str, out: Path, pathology: str | None = None) -> Path:
    """Mid-plane label maps (top) and crude T1 contrast (bottom) as one PNG."""
    from PIL import Image

    from simulator.mr.anatomy import load_anatomy
    from simulator.mr.tissues import tissue_table

    anat = load_anatomy(name, pathology)
    table = tissue_table(1.5)
    t1w = np.array(
        [
            table[n].pd * (1 - np.exp(-500 / table[n].t1_ms)) * np.exp(-15 / table[n].t2_ms)
            for n in anat.names
        ]
    )
    t2w = np.array(
        [
            table[n].pd * (1 - np.exp(-4000 / table[n].t1_ms)) * np.exp(-100 / table[n].t2_ms)
            for n in anat.names
        ]
    )
    rng = np.random.default_rng(0)
    colours = rng.integers(40, 255, size=(len(anat.names), 3)).astype(np.uint8)
    colours[0] = 0
    lab = anat.labels
    marks = list(anat.landmarks.values())
    k, j, i = (int(round(c)) for c in anat.mm_to_index(marks[0]))
    i = lab.shape[2] // 2
    if pathology is not None:  # cut through the lesion
        changed = np.argwhere(lab != load_anatomy(name).labels)
        k, j, i = (int(v) for v in np.median(changed, axis=0))
    k = min(max(k, 0), lab.shape[0] - 1)
    planes = [lab[:, :, i][::-1], lab[k][:, :], lab[:, j, :][::-1]]
    tiles = []
    for lut in (None, t1w, t2w):
        row = []
        for p in planes:
            if lut is None:
                img = colours[p]
            else:
                v = lut[p]
                g = (255 * v / max(float(lut.max()), 1e-9)).astype(np.uint8)
                img = np.repeat(g[..., None], 3, axis=2)
            row.append(Image.fromarray(img))
        tiles.append(row)
    w = sum(im.width for im in tiles[0]) + 20
    h = sum(max(im.height for im in row) for row in tiles) + 20
    canvas = Image.new("RGB", (w, h))
    yy = 0
    for row in tiles:
        xx = 0
        for im in row:
            canvas.paste(im, (xx, yy))
            xx += im.width + 10
        yy += max(im.height for im in row) + 10
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}_{pathology or 'normal'}.png"
    canvas.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=[*BUILDERS, []], metavar="NAME")
    parser.add_argument("--png", type=Path, default=None, help="write inspection PNGs here")
    parser.add_argument("--no-build", action="store_true", help="only render PNGs")
    args = parser.parse_args(argv)
    for name in args.names or list(BUILDERS):
        if not args.no_build:
            vol = build(name)
            path = save(name, vol)
            labels = np.asarray(vol["labels"])
            print(f"{name}: {labels.shape} -> {path} ({path.stat().st_size / 1e6:.2f} MB)")
        if args.png is not None:
            from simulator.mr.anatomy import PATHOLOGIES

            for pathology in (None, *PATHOLOGIES[name]):
                print(render_png(name, args.png, pathology))
    return 0


if __name__ == "__main__":
    sys.exit(main())
