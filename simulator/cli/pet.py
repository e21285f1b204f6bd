"""``merm-lab pet``: scan a phantom on the virtual PET scanner, write DICOM + metrics (+ truth).

Example
-------
::

    merm-lab pet scan --phantom nema-iec --set activity_mbq=200 --set minutes_per_bed=2 \\
        --seed 1 --out iec --truth
    merm-lab pet scan --phantom patient --set beds=6 --seed 1 --out wb
    merm-lab pet countrate --scanner biograph-mct --format csv
"""

from __future__ import annotations

import argparse
import dataclasses
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

HELP = "Virtual PET scanner: scan a phantom (DICOM in Bq/mL with SUV, metrics.json, --truth)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``scan`` and ``countrate`` actions."""
    sub = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
    scan = sub.add_parser(
        "scan",
        help="acquire and reconstruct a PET series",
        description="Acquire and reconstruct a PET series.",
    )
    scan.add_argument(
        "--phantom", required=True, help="nema-iec, brain, torso or patient (whole body)"
    )
    scan.add_argument(
        "--nema",
        action="store_true",
        help="start from the NEMA NU 2 image-quality acquisition (5.3 kBq/mL at the scan "
        "start, 100 cm in 30 min); --set still applies",
    )
    scan.add_argument(
        "--height-cm", type=float, default=175.0, help="whole-body patient: height (140–210)"
    )
    scan.add_argument(
        "--ratio",
        type=float,
        default=4.0,
        help="IEC sphere:background activity ratio (NEMA: 4 or 8)",
    )
    scan.add_argument(
        "--cold-spheres",
        action="store_true",
        help="IEC: the 28 and 37 mm spheres cold (NEMA NU 2 variant)",
    )
    scan.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="protocol parameter, e.g. activity_mbq=200 (repeatable)",
    )
    scan.add_argument("--seed", type=int, default=1, help="noise seed (same seed, same image)")
    scan.add_argument(
        "--out", required=True, help="output folder (absent, empty or an earlier scan)"
    )
    scan.add_argument(
        "--truth",
        action="store_true",
        help="also write truth.npz (labels, names, activity_bqml at injection)",
    )
    add_study_arguments(scan)
    rate = sub.add_parser(
        "countrate",
        help="NEMA NU 2 count-rate curve (trues, scatter, randoms, NECR) of a scanner model",
        description="NEMA NU 2 count-rate curve of a scanner model, with its NECR peak.",
    )
    rate.add_argument("--scanner", required=True, help="biograph-mct, discovery-mi or umi-550")
    rate.add_argument(
        "--format", choices=("text", "json", "csv"), default="text", help="output format"
    )
    rate.add_argument(
        "--max-kbqml", type=float, default=60.0, help="highest concentration (kBq/mL)"
    )
    rate.add_argument("--step-kbqml", type=float, default=1.0, help="concentration step")


def _on_grid(volume: np.ndarray, shape: tuple[int, ...], labels: bool) -> np.ndarray:
    """``volume`` brought to ``shape`` (same field of view): block mean, or nearest for labels."""
    vol = np.asarray(volume)
    if vol.shape == tuple(shape):
        return vol
    from scipy import ndimage

    zoom = [s / v for s, v in zip(shape, vol.shape, strict=True)]
    if labels:
        return ndimage.zoom(vol, zoom, order=0, grid_mode=True, mode="nearest")
    if all(v % s == 0 for v, s in zip(vol.shape, shape, strict=True)):
        f = [v // s for v, s in zip(vol.shape, shape, strict=True)]
        return vol.reshape(shape[0], f[0], shape[1], f[1], shape[2], f[2]).mean(axis=(1, 3, 5))
    return ndimage.zoom(vol.astype(np.float64), zoom, order=1, grid_mode=True, mode="nearest")


def _truth_activity(series: Any, phantom: Any) -> np.ndarray:
    truth = getattr(series, "truth_bqml", None)
    if truth is None:
        truth = phantom.activity_bqml
    return _on_grid(truth, series.images_bqml.shape, labels=False).astype(np.float32)


def _countrate(args: argparse.Namespace) -> int:
    """Print the count-rate curve of ``--scanner`` and its NECR peak."""
    import json

    from simulator.pet.countrate import necr_curve

    curve = necr_curve(args.scanner, args.max_kbqml, args.step_kbqml).as_dict()
    rows: list[dict[str, float]] = curve["curve"]  # type: ignore[assignment]
    peak: dict[str, float] = curve["peak"]  # type: ignore[assignment]
    if args.format == "json":
        print(json.dumps(curve, indent=1))
        return 0
    keys = list(rows[0])
    if args.format == "csv":
        print(",".join(keys))
        for r in rows:
            print(",".join(f"{r[k]:.6g}" for k in keys))
        return 0
    print(f"{curve['label']} — NEMA NU 2 count rates, 70-cm scatter phantom ({curve['source']})")
    print("  ".join(f"{k:>14}" for k in keys))
    for r in rows:
        print("  ".join(f"{r[k]:14.2f}" for k in keys))
    print(
        f"NECR peak {peak['necr_kcps']:.1f} kcps at {peak['activity_kbqml']:.2f} kBq/mL "
        f"(published {peak['published_necr_kcps']:g} kcps at "
        f"{peak['published_activity_kbqml']:g} kBq/mL)"
    )
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``pet scan`` or ``pet countrate``."""
    if args.action == "countrate":
        return _countrate(args)
    import simulator.pet as pet
    from simulator.dicom import write_pet_series

    if args.phantom not in pet.PHANTOMS:
        raise ParameterError("phantom", args.phantom, ", ".join(pet.PHANTOMS))
    from simulator.pet.protocol import nema_iq_protocol

    start = nema_iq_protocol() if args.nema else pet.PETProtocol()
    proto = apply_sets(start, parse_sets(args.set, pet.PETProtocol))
    warnings = tuple(pet.check_protocol(proto))
    kwargs: dict[str, Any] = {"activity_mbq": proto.activity_mbq, "weight_kg": proto.weight_kg}
    if args.phantom == "nema-iec":
        kwargs.update(ratio=args.ratio, cold_spheres=args.cold_spheres)
    if args.phantom == "patient":
        kwargs.update(height_cm=args.height_cm)
    phantom = pet.make_phantom(args.phantom, **kwargs)
    series = pet.scan(phantom, proto, seed=args.seed)
    with staged_output(args.out) as stage:
        study = study_from_args(args, "pet", args.phantom, proto, args.seed, args.ratio)
        files = write_pet_series(series, stage, study=study, series_number=args.series_number)
        metrics = dict(series.metrics)
        counts = series.counts
        if dataclasses.is_dataclass(counts) and not isinstance(counts, type):
            counts = dataclasses.asdict(counts)
        metrics.update(
            generator=GENERATOR,
            modality="PT",
            phantom=args.phantom,
            seed=args.seed,
            counts=counts,
            dose_at_scan_bq=series.dose_at_scan_bq,
            scan_start_offset_s=series.scan_start_offset_s,
            warnings=list(
                dict.fromkeys([*warnings, *series.warnings, *metrics.get("warnings", ())])
            ),
            protocol=series.protocol,
            images=[f.name for f in files],
        )
        if args.phantom == "nema-iec":
            metrics["ratio"] = args.ratio
            if "nema" not in metrics and hasattr(pet, "nema_analysis"):
                metrics["nema"] = pet.nema_analysis(series, phantom)
        write_json(stage / "metrics.json", metrics)
        if args.truth:
            np.savez_compressed(
                stage / "truth.npz",
                labels=np.asarray(series.labels, dtype=np.int16),
                names=np.array(series.names, dtype=str),
                activity_bqml=_truth_activity(series, phantom),
            )
    return 0
