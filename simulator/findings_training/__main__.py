"""``python -m simulator.findings_training [--detector brain|knee|spine|pet|all] [--quick]``: scan, train, export.

Writes ``<out>/mr_brain.npz``, ``mr_knee.npz``, ``mr_spine.npz`` and ``<out>/pet.npz`` (numpy weights) with their ``.json``
training records (data, seeds, steps, loss, time, git commit, torch version). ``--quick``
uses a handful of cases and steps: a smoke test, not a shipped model.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from simulator.ai_training.__main__ import _commit  # the same record of the commit
from simulator.findings.detect import MR_CLASSES, WEIGHTS_DIR
from simulator.findings_training.cases import mr_training_cases, pet_training_cases


def _common(seed: int) -> dict[str, Any]:
    import torch

    return {
        "seed": seed,
        "commit": _commit(),
        "torch": str(torch.__version__),
        "python": platform.python_version(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "threads": 1,
    }


def _cached_data(cache: Path, cache_ok: bool, what: str, cls: Any,
                 build: Any) -> tuple[Any, float]:
    """The training arrays ``cls(x, y)`` from ``cache`` when allowed and present, else built
    by ``build()`` (and cached when allowed); with the seconds the scans took (-1 when the
    cache did not record them)."""
    if cache_ok and cache.exists():
        with np.load(cache) as z:
            data = cls(z["x"], z["y"])
            scan_s = float(z["scan_seconds"]) if "scan_seconds" in z.files else -1.0
        print(f"  {what} data from {cache}")
        return data, scan_s
    t0 = time.perf_counter()
    data = build()
    scan_s = time.perf_counter() - t0
    if cache_ok:
        np.savez(cache, x=data.x, y=data.y, scan_seconds=scan_s)
    return data, scan_s


def train_brain(out: Path, seed: int, quick: bool, minutes: float | None, cache_ok: bool,
                anatomy: str = "brain", n_cases: int | None = None,
                kw: dict[str, Any] | None = None) -> None:
    """Scan, train and write ``mr_<anatomy>.npz`` with its ``.json`` record."""
    from simulator.findings_training.data import SegData, mr_data
    from simulator.findings_training.train import train_seg

    n = n_cases or (36 if anatomy == "brain" else 24)
    cases = mr_training_cases(anatomy, 6 if quick else n, seed)
    data, scan_s = _cached_data(out / f"{anatomy}_data_cache.npz", cache_ok, anatomy, SegData,
                                lambda: mr_data(cases))
    kwargs: dict[str, Any] = ({"channels": 8, "hidden": 1, "steps": 30, "patch": 64} if quick
                              else dict(kw or {}))
    net, rec = train_seg(data, seed=seed, minutes=minutes, **kwargs)
    arrays: dict[str, Any] = net.to_arrays()
    np.savez(out / f"mr_{anatomy}.npz", **arrays)
    classes = MR_CLASSES[anatomy]
    record = {
        "detector": anatomy,
        "classes": list(classes),
        "data": {
            "cases": len(cases),
            "sequences": sorted({c.preset for c in cases}),
            "pathologies": sorted({str(c.pathology) for c in cases}),
            "placement_seeds": sorted(c.placement_seed for c in cases if c.placement_seed is not None),
            "noise_seeds": [c.seed for c in cases],
            "scan_seconds": round(scan_s, 1),
            "from_cache": bool(cache_ok and scan_s < 0),
            "target": f"share of {' / '.join(classes)} pixels in each 4x4 block "
                      "(MRSeries.labels, simulator.findings.truth.MR_TRUTH_TISSUES)",
        },
        "n_params": net.n_params,
        "quick": quick,
        **rec,
        **_common(seed),
    }
    (out / f"mr_{anatomy}.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out / f'mr_{anatomy}.npz'} ({net.n_params} parameters)")


def train_pet(out: Path, seed: int, quick: bool, cache_ok: bool) -> None:
    from simulator.findings_training.data import PETData, pet_data
    from simulator.findings_training.train import train_mlp

    cases = pet_training_cases(1, 2, seed) if quick else pet_training_cases(seed=seed)
    data, scan_s = _cached_data(out / "pet_data_cache.npz", cache_ok, "PET", PETData,
                                lambda: pet_data(cases))
    kw: dict[str, Any] = {"steps": 50} if quick else {}
    net, mean, std, rec = train_mlp(data, seed=seed, **kw)
    arrays: dict[str, Any] = {"feature_mean": mean, "feature_std": std, **net.to_arrays()}
    np.savez(out / "pet.npz", **arrays)
    record = {
        "detector": "pet",
        "data": {
            "cases": [
                {"phantom": c.phantom, "seed": c.seed, "lesions": c.lesions, "ratio": c.ratio,
                 "weight_kg": c.weight_kg, "height_cm": c.height_cm, "minutes_per_bed": c.minutes_per_bed}
                for c in cases
            ],
            "scan_seconds": round(scan_s, 1),
            "target": "candidate maximum inside a hot sphere/lesion region grown by one voxel",
        },
        "n_params": net.n_params,
        "quick": quick,
        **rec,
        **_common(seed),
    }
    (out / "pet.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out / 'pet.npz'} ({net.n_params} parameters)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m simulator.findings_training", description=__doc__)
    p.add_argument("--detector", choices=("brain", "knee", "spine", "pet", "all"), default="all")
    p.add_argument("--cases", type=int, default=None, help="MR training cases (default 36/24)")
    p.add_argument("--steps", type=int, default=None, help="MR training steps")
    p.add_argument("--quick", action="store_true", help="a few cases and steps (smoke test)")
    p.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--minutes", type=float, default=None, help="wall-clock cap of the MR training")
    p.add_argument("--cache", action="store_true", help="keep/reuse the scanned MR data in --out")
    a = p.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        print("training needs torch: pip install 'merm-lab[train]'", file=sys.stderr)
        return 2
    a.out.mkdir(parents=True, exist_ok=True)
    kw = {"steps": a.steps} if a.steps else {}
    for anatomy in ("brain", "knee", "spine"):
        if a.detector in (anatomy, "all"):
            train_brain(a.out, a.seed, a.quick, a.minutes, a.cache, anatomy, a.cases, kw)
    if a.detector in ("pet", "all"):
        train_pet(a.out, a.seed, a.quick, a.cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
