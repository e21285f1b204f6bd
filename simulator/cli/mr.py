"""``merm-lab mr``: scan an anatomy on the virtual MR scanner, write DICOM + metrics (+ truth).

Examples
--------
::

    merm-lab mr scan --anatomy brain --preset t2_tse --set tr_ms=5000 --seed 1 --out t2 --truth
    merm-lab mr localizer --anatomy knee --out loc
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from simulator.cli._scan_common import (
    GENERATOR,
    add_study_arguments,
    apply_sets,
    parse_sets,
    staged_output,
    study_from_args,
    write_json,
)
from simulator.errors import ParameterError

__all__ = ["HELP", "add_arguments", "run"]

HELP = "Virtual MR scanner: scan an anatomy (DICOM, metrics.json, --truth) or a localizer."

_ORIENTATIONS = ("axial", "sagittal", "coronal")
#: Phase directions lying in each plane, the usual one first.


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--anatomy", required=True, help="brain, knee or spine")
    p.add_argument("--pathology", default=None,
                   help="brain: ms_lesions, tumour; knee: meniscal_tear, bone_marrow_oedema, "
                        "acl_tear; spine: disc_herniation, vertebral_fracture")
    p.add_argument("--seed", type=int, default=1, help="noise seed (same seed, same image)")
    p.add_argument("--out", required=True, help="output folder (absent, empty or an earlier scan)")
    add_study_arguments(p)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``scan`` and ``localizer`` actions."""
    sub = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
    scan = sub.add_parser("scan", help="acquire a series", description="Acquire an MR series.")
    _common(scan)
    scan.add_argument("--preset", default=None, help="starting protocol (default: the first)")
    scan.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="protocol parameter, e.g. tr_ms=600 (repeatable)",
    )
    scan.add_argument("--orientation", default=None, help="axial, sagittal or coronal")
    scan.add_argument("--angle", type=float, default=0.0, help="oblique angle in degrees")
    scan.add_argument(
        "--center", default=None, metavar="X,Y,Z", help="slice-stack centre in patient mm (LPS)"
    )
    scan.add_argument(
        "--truth", action="store_true", help="also write truth.npz (labels, names, noiseless)"
    )
    loc = sub.add_parser(
        "localizer", help="three-plane localizer", description="Acquire the three-plane localizer."
    )
    _common(loc)


def _center(text: str | None, anat: Any, proto: Any) -> tuple[float, float, float]:
    if text is not None:
        try:
            xyz = tuple(float(v) for v in text.split(","))
        except ValueError:
            xyz = ()
        if len(xyz) != 3:
            raise ParameterError("center", text, "x,y,z in mm")
        return xyz
    try:
        from simulator.mr.geometry import default_geometry
    except ImportError:  # scanner without planning helpers: centre of the body's box
        body = anat.labels > 0
        centre: list[float] = []
        for axis, drop in ((2, (0, 1)), (1, (0, 2)), (0, (1, 2))):
            idx = np.flatnonzero(body.any(axis=drop))
            mid = (idx[0] + idx[-1]) / 2 if idx.size else (anat.labels.shape[axis] - 1) / 2
            centre.append(anat.origin_mm[len(centre)] + mid * anat.voxel_mm[axis])
        return tuple(float(c) for c in centre)  # type: ignore[return-value]
    return tuple(float(c) for c in default_geometry(anat, proto).center_mm)  # type: ignore[return-value]


def _protocol(mr: Any, args: argparse.Namespace) -> Any:
    if args.anatomy not in mr.PRESETS:
        raise ParameterError("anatomy", args.anatomy, ", ".join(mr.PRESETS))
    name = args.preset or next(iter(mr.PRESETS[args.anatomy]))
    proto = mr.preset(args.anatomy, name)
    values = parse_sets(args.set, mr.MRProtocol)
    if args.orientation is not None:
        if args.orientation not in _ORIENTATIONS:
            raise ParameterError("orientation", args.orientation, ", ".join(_ORIENTATIONS))
        values.setdefault("orientation", args.orientation)
    orientation = values.get("orientation", proto.orientation)
    phase_dir = values.get("phase_dir", proto.phase_dir)
    if "phase_dir" not in values:
        from simulator.mr.planning import phase_dir_for

        # Like a console: a new orientation brings a phase direction that lies in its plane.
        values["phase_dir"] = phase_dir_for(orientation, phase_dir)
    return apply_sets(proto, values), name


def _scan(args: argparse.Namespace) -> int:
    import simulator.mr as mr
    from simulator.dicom import write_mr_series

    proto, preset_name = _protocol(mr, args)
    anat = mr.load_anatomy(args.anatomy, pathology=args.pathology)
    warnings = tuple(mr.check_protocol(proto))
    geo = mr.Geometry(
        orientation=proto.orientation,
        center_mm=_center(args.center, anat, proto),
        angle_deg=args.angle,
    )
    from simulator.mr.scan import scan

    series = scan(anat, proto, geo, rng=args.seed)  # an int: recorded as series.seed
    with staged_output(args.out) as stage:
        study = study_from_args(args, "mr", args.anatomy, args.pathology, proto, geo, args.seed)
        files = write_mr_series(series, stage, study=study, series_number=args.series_number)
        metrics = dict(series.metrics)
        metrics.update(
            generator=GENERATOR,
            modality="MR",
            anatomy=args.anatomy,
            pathology=args.pathology,
            preset=preset_name,
            seed=args.seed,
            warnings=list(
                dict.fromkeys([*warnings, *series.warnings, *metrics.get("warnings", ())])
            ),
            derived=series.derived,
            protocol=series.protocol,
            geometry=series.geometry,
            images=[f.name for f in files],
        )
        write_json(stage / "metrics.json", metrics)
        if args.truth:
            np.savez_compressed(
                stage / "truth.npz",
                labels=np.asarray(series.labels, dtype=np.int16),
                names=np.array(series.names, dtype=str),
                noiseless=np.asarray(series.noiseless, dtype=np.float32),
            )
    return 0


def _localizer(args: argparse.Namespace) -> int:
    import simulator.mr as mr
    from simulator.dicom import write_mr_images

    anat = mr.load_anatomy(args.anatomy, pathology=args.pathology)
    from simulator.mr.localizer import localizer

    loc = localizer(anat, rng=args.seed)
    study = study_from_args(args, "mr-localizer", args.anatomy, args.pathology, args.seed)
    with staged_output(args.out) as stage:
        names = []
        for number, (plane, image) in enumerate(_localizer_planes(loc), start=1):
            files = write_mr_images(
                image.images,
                image.slice_positions_mm,
                image.orientation_cosines,
                image.pixel_spacing_mm,
                image.protocol,
                stage,
                seed=args.seed,
                anatomy=args.anatomy,
                derived=getattr(image, "derived", None),
                description=f"LOCALIZER {plane}",
                series_number=100 * args.series_number + number,
                study=study,
                identity=("localizer", plane, anat.name, anat.pathology),
                file_prefix=f"LOC_{plane}_",
            )
            names += [f.name for f in files]
        write_json(
            stage / "metrics.json",
            {
                "generator": GENERATOR,
                "modality": "MR",
                "kind": "localizer",
                "anatomy": args.anatomy,
                "pathology": args.pathology,
                "seed": args.seed,
                "images": names,
            },
        )
    return 0


def _localizer_planes(loc: Any) -> list[tuple[str, Any]]:
    """(plane name, single-image MRSeries) pairs of a :class:`simulator.mr.Localizer`."""
    from simulator.mr.localizer import PLANES

    return list(zip(PLANES, loc.series, strict=True))


def run(args: argparse.Namespace) -> int:
    """Run ``mr scan`` or ``mr localizer``."""
    return _scan(args) if args.action == "scan" else _localizer(args)
