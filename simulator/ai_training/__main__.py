"""``python -m simulator.ai_training --modality mr|pet [--quick]``: train, export, record.

Writes ``<out>/<modality>.npz`` (numpy weights) and ``<out>/<modality>.json`` (how they were
trained: data, seeds, steps, loss history, time, git commit). ``--quick`` trains a tiny
network on a handful of slices for a few seconds — a smoke test, not a shipped model.
Bad arguments: exit 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from simulator.ai.model import WEIGHTS_DIR
from simulator.errors import UserError

QUICK: dict[str, Any] = {"channels": 8, "hidden": 1, "patch": 32, "batch": 8, "steps": 60, "val_every": 20}


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _torch_version() -> str:
    import torch

    return str(torch.__version__)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m simulator.ai_training", description=__doc__)
    p.add_argument("--modality", required=True, choices=("mr", "pet"))
    p.add_argument("--quick", action="store_true", help="tiny data, tiny network, seconds")
    p.add_argument("--out", type=Path, default=None, help="folder for the .npz/.json")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--minutes", type=float, default=None, help="wall-clock cap")
    p.add_argument("--channels", type=int, default=None)
    p.add_argument("--hidden", type=int, default=None)
    p.add_argument("--lesion-boost", type=float, default=None, help="extra loss weight on lesions")
    p.add_argument("--loss", choices=("l1", "l2"), default=None, help="per-pixel loss (l1)")
    p.add_argument(
        "--no-rotate",
        action="store_true",
        help="augment by flips only (no quarter turns: rows and columns keep their roles)",
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--warmup", type=int, default=None, help="steps of linear learning-rate ramp (0)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    args = _parser().parse_args(argv)
    from simulator.ai_training.cases import training_pairs  # numpy only
    from simulator.ai_training.model import to_numpy  # torch from here on
    from simulator.ai_training.train import TrainConfig, train

    cfg = TrainConfig(seed=args.seed, threads=args.threads)
    if args.quick:
        cfg = replace(cfg, **QUICK)
    for name in ("steps", "channels", "hidden", "loss"):
        if getattr(args, name) is not None:
            cfg = replace(cfg, **{name: getattr(args, name)})
    if args.no_rotate:
        cfg = replace(cfg, rotate90=False)
    if args.minutes is not None:
        cfg = replace(cfg, max_minutes=args.minutes)
    if args.warmup is not None:
        cfg = replace(cfg, warmup_steps=args.warmup)
    out = args.out if args.out is not None else WEIGHTS_DIR
    if args.quick and args.out is None:
        print("--quick needs --out (the shipped weights are not overwritten)", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    kw = {} if args.lesion_boost is None else {"lesion_boost": args.lesion_boost}
    train_set, val_set, data_record = training_pairs(
        args.modality, quick=args.quick, seed=args.seed, **kw
    )
    gen_s = time.perf_counter() - t0
    print(f"{len(train_set)} training and {len(val_set)} validation slices in {gen_s:.0f} s")
    result = train(train_set, val_set, cfg)
    net = to_numpy(result.model)
    arrays: dict[str, Any] = net.to_arrays()
    np.savez(out / f"{args.modality}.npz", **arrays)
    record = {
        "modality": args.modality,
        "command": "python -m simulator.ai_training " + " ".join(argv or sys.argv[1:]),
        "architecture": {
            "kind": "residual CNN, pixel-unshuffle 2, 3x3 convs + ReLU, predicts the noise",
            "channels": net.channels,
            "convolutions": net.depth,
            "n_params": net.n_params,
        },
        "data": data_record,
        "data_generation_s": round(gen_s, 1),
        "loss": f"{cfg.loss.upper()} to the noise-free truth, "
        "weighted 1 + lesion_boost on dilated lesions",
        "optimizer": "Adam, cosine learning-rate decay to 2 %",
        "training": result.summary(),
        "seed": args.seed,
        "commit": _commit(),
        "torch": _torch_version(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip()
        + f", {cfg.threads} torch threads",
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (out / f"{args.modality}.json").write_text(json.dumps(record, indent=1))
    print(f"wrote {out / args.modality}.npz ({net.n_params} params) in {result.seconds:.0f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserError as e:
        print(e.message("en"), file=sys.stderr)
        sys.exit(2)
