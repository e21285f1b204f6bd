"""``python -m simulator.findings_training.evaluate``: how well the detectors do, honestly.

On held-out cases (placement and noise seeds never used in training) and on inputs the
detectors were not trained for — MR with motion, MR T1 SE (trained on FLAIR/T2 only), MR at
half the time (SENSE 2) with and without the AI denoiser first ("AI on AI"), PET at a quarter
of the time per bed with and without the AI denoiser — it counts, per finding type:

* sensitivity: truth findings hit / truth findings (:func:`simulator.findings.match`);
* false positives per case: findings that hit no truth, over the number of cases;
* the same split by lesion size (diameter bins).

Writes ``simulator/findings/weights/evaluation.json`` and ``evaluation.md`` (numpy only).
``--quick`` evaluates two cases per variant (a smoke test; its figures mean little).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from simulator.findings import detect, match, truth
from simulator.findings.detect import MR_CLASSES, WEIGHTS_DIR
from simulator.findings_training.cases import (
    MR_VARIANTS,
    PET_VARIANTS,
    mr_heldout_cases,
    pet_heldout_cases,
    scan_brain,
    scan_pet,
)

__all__ = ["evaluate_series", "summarise", "main", "SIZE_BINS_MM"]

#: Diameter bins (mm) of the per-size sensitivity.
SIZE_BINS_MM = (0.0, 6.0, 10.0, 20.0, 1000.0)

#: What each variant is, in words (the report's table).
VARIANT_TEXT = {
    "heldout": "held-out cases, trained conditions",
    "motion": "moderate motion (not in training)",
    "unseen_sequence_t1": "T1 SE: a sequence not seen in training (FLAIR/T2 only)",
    "unseen_sequence_t2_fs_axial": "T2 fat-sat axial: a sequence and plane not seen in training "
    "(PD-FS sagittal, T1 coronal only)",
    "unseen_sequence_stir": "STIR sagittal: a sequence not seen in training (T1/T2 sagittal only)",
    "half_time": "half the time (SENSE 2), noisier",
    "half_time_ai_denoised": "half the time, AI-denoised first (AI on AI)",
    "low_count_quarter_time": "a quarter of the time per bed (0.5 min), noisier",
    "low_count_quarter_time_ai_denoised": "0.5 min per bed, AI-denoised first (AI on AI)",
}


def _bin(d: float) -> str:
    for lo, hi in zip(SIZE_BINS_MM[:-1], SIZE_BINS_MM[1:], strict=True):
        if lo <= d < hi:
            return f"{lo:g}-{hi:g} mm" if hi < 1000 else f">={lo:g} mm"
    return "?"


def evaluate_series(series: Any, weights_dir: Path | None = None) -> dict[str, Any]:
    """Counts of one series: per label truth, hits, false positives; per size bin."""
    t = truth(series)
    f = detect(series, weights_dir=weights_dir)
    m = match(f, t)
    out: dict[str, Any] = {"truth": defaultdict(int), "hit": defaultdict(int), "fp": defaultdict(int),
                           "size_truth": defaultdict(int), "size_hit": defaultdict(int),
                           "fp_confidence": [], "tp_confidence": []}
    for x in t:
        out["truth"][x.label] += 1
        out["size_truth"][f"{x.label} {_bin((x.measure or {}).get('diameter_mm', 0.0))}"] += 1
    for fd, x in m.pairs:
        out["hit"][x.label] += 1
        out["size_hit"][f"{x.label} {_bin((x.measure or {}).get('diameter_mm', 0.0))}"] += 1
        out["tp_confidence"].append(fd.confidence)
    for fd in m.false_positives:
        out["fp"][fd.label] += 1
        out["fp_confidence"].append(fd.confidence)
    return out


def summarise(per_case: list[dict[str, Any]], labels: tuple[str, ...]) -> dict[str, Any]:
    """Sensitivity and false positives per case per label over a list of case counts."""
    n = len(per_case)
    res: dict[str, Any] = {"cases": n}
    for lab in labels:
        nt = sum(c["truth"].get(lab, 0) for c in per_case)
        nh = sum(c["hit"].get(lab, 0) for c in per_case)
        nf = sum(c["fp"].get(lab, 0) for c in per_case)
        res[lab] = {
            "truth": nt,
            "hit": nh,
            "sensitivity": round(nh / nt, 3) if nt else None,
            "false_positives": nf,
            "fp_per_case": round(nf / n, 3) if n else None,
        }
    sizes: dict[str, list[int]] = {}
    for c in per_case:
        for k, v in c["size_truth"].items():
            sizes.setdefault(k, [0, 0])[0] += v
        for k, v in c["size_hit"].items():
            sizes.setdefault(k, [0, 0])[1] += v
    res["by_size"] = {k: {"truth": a, "hit": b, "sensitivity": round(b / a, 3)} for k, (a, b) in sorted(sizes.items())}
    return res


#: The evaluation's sections: MR detectors by name, then PET.
SECTIONS = ("brain", "knee", "spine", "pet")
SECTION_TITLE = {"brain": "MR brain", "knee": "MR knee", "spine": "MR lumbar spine", "pet": "PET"}


def _labels(kind: str) -> tuple[str, ...]:
    return MR_CLASSES[kind] if kind in MR_CLASSES else ("pet_hot_lesion",)


def _run(kind: str, variants: dict[str, Any], n: int, log, weights_dir: Path | None) -> dict[str, Any]:  # noqa: ANN001
    out = {}
    for v in variants:
        t0 = time.perf_counter()
        series = (
            (scan_pet(c) for c in pet_heldout_cases(v, n))
            if kind == "pet"
            else (scan_brain(c) for c in mr_heldout_cases(kind, v, n))
        )
        per_case = [evaluate_series(s, weights_dir) for s in series]
        labels = _labels(kind)
        out[v] = summarise(per_case, labels)
        out[v]["what"] = VARIANT_TEXT[v]
        out[v]["seconds"] = round(time.perf_counter() - t0, 1)
        log(f"{kind} {v}: {json.dumps({k: out[v][k] for k in labels})}")
    return out


def _md(res: dict[str, Any]) -> str:
    lines = [
        "# Detection AI: honest figures",
        "",
        "Written by `python -m simulator.findings_training.evaluate` "
        f"({res['date_utc']}, commit `{res['commit'][:10]}`). Held-out cases use placement and "
        "noise seeds never used in training. Sensitivity = truth findings hit / truth findings; "
        "FP/case = findings that hit no truth (duplicates included) per case; matching rule: "
        "`simulator.findings.matching`.",
        "",
    ]
    for kind in SECTIONS:
        if kind not in res:
            continue
        labels = _labels(kind)
        lines += [f"## {SECTION_TITLE[kind]}", "",
                  "| input | cases | " + " | ".join(f"{lab} sensitivity | {lab} FP/case" for lab in labels) + " |",
                  "|---|---|" + "---|---|" * len(labels)]
        for r in res[kind].values():
            cells = []
            for lab in labels:
                x = r[lab]
                sens = "–" if x["sensitivity"] is None else f"{x['sensitivity']:.2f} ({x['hit']}/{x['truth']})"
                cells += [sens, f"{x['fp_per_case']:.2f}"]
            lines.append(f"| {r['what']} | {r['cases']} | " + " | ".join(cells) + " |")
        lines += ["", "Sensitivity by size (held-out cases):", ""]
        for k, x in res[kind]["heldout"]["by_size"].items():
            lines.append(f"- {k}: {x['hit']}/{x['truth']} ({x['sensitivity']:.2f})")
        lines.append("")
    lines += ["## Limits stated by this evaluation", "", *[f"- {t}" for t in res.get("limits", [])], ""]
    return "\n".join(lines)


LIMITS = [
    "One procedural brain and one whole-body patient: held-out cases differ in lesion "
    "placement, size, noise and protocol, not in the healthy anatomy. Real patients vary more.",
    "The MR detector was trained on FLAIR and T2 TSE only; the T1 row shows what happens on a "
    "sequence it never saw.",
    "PET candidates need SUVmax >= 2 and 1.5x the mean SUV 12 mm around: a faint lesion on a hot "
    "organ is missed by construction.",
    "MS-like lesions larger than the trained 5-10 mm plaques are missed: a 13 mm bright disk "
    "painted in the white matter of a healthy FLAIR, without oedema, is found at 0 of 12 sites "
    "(tests/findings/test_laws.py, an xfail kept strict so that a fix shows).",
    "The false-positive figures are per case of this simulator; they are the ceiling the tests "
    "in tests/findings check, not a clinical claim.",
]


def weights_sha256(folder: Path) -> dict[str, str]:
    """SHA-256 of the weights evaluated (the record says which weights its figures are of)."""
    import hashlib

    names = [f"mr_{k}.npz" for k in MR_CLASSES] + ["pet.npz"]
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in names
            if (folder / n).exists()}


def main(argv: list[str] | None = None) -> int:
    from simulator.findings_training.__main__ import _commit

    p = argparse.ArgumentParser(prog="python -m simulator.findings_training.evaluate", description=__doc__)
    p.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--weights", type=Path, default=None, help="folder of weights (default: shipped)")
    p.add_argument("--brain-cases", type=int, default=12)
    p.add_argument("--mr-cases", type=int, default=8, help="held-out knee and spine cases")
    p.add_argument("--pet-patients", type=int, default=4)
    p.add_argument("--only", nargs="*", choices=SECTIONS, default=None,
                   help="evaluate these sections again, keep the others from --out's evaluation.json")
    a = p.parse_args(argv)
    nb, nm, npat = (2, 2, 1) if a.quick else (a.brain_cases, a.mr_cases, a.pet_patients)
    t0 = time.perf_counter()
    old: dict[str, Any] = {}
    if a.only and (a.out / "evaluation.json").exists():
        old = json.loads((a.out / "evaluation.json").read_text())
    res: dict[str, Any] = {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": _commit(),
        "quick": a.quick,
        "weights_sha256": weights_sha256(a.weights or WEIGHTS_DIR),
    }
    for kind in SECTIONS:
        if a.only and kind not in a.only and kind in old:
            res[kind] = old[kind]
            continue
        variants = PET_VARIANTS if kind == "pet" else MR_VARIANTS[kind]
        n = npat if kind == "pet" else nb if kind == "brain" else nm
        res[kind] = _run(kind, variants, n, print, a.weights)
    res["limits"] = LIMITS
    res["seconds"] = round(time.perf_counter() - t0, 1)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "evaluation.json").write_text(json.dumps(res, indent=1) + "\n")
    (a.out / "evaluation.md").write_text(_md(res))
    print(f"wrote {a.out / 'evaluation.json'} and evaluation.md ({res['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
