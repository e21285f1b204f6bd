"""Torch's output of the shipped detector networks on fixed inputs, kept so that CI (no torch:
the ``train`` extra is optional) still checks the numpy inference against torch to 1e-4.

Regenerate after retraining (needs the ``train`` extra)::

    python tests/findings/torch_reference.py
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

REFERENCE = Path(__file__).resolve().parent / "data" / "torch_reference.npz"
WEIGHTS = Path(__file__).resolve().parents[2] / "simulator" / "findings" / "weights"
FILES = ("mr_brain.npz", "pet.npz")


def seg_input() -> np.ndarray:
    """Two fixed 64×48 slices of uniform noise (non-square: catches transposes)."""
    return np.random.default_rng(19).random((2, 64, 48)).astype(np.float32)


def mlp_input(n_features: int) -> np.ndarray:
    """Twelve fixed feature vectors (standardised scale)."""
    return np.random.default_rng(20).standard_normal((12, n_features)).astype(np.float32)


def weights_sha256(name: str) -> str:
    return hashlib.sha256((WEIGHTS / name).read_bytes()).hexdigest()


def main() -> None:
    import torch

    from simulator.findings import load_detector
    from simulator.findings_training.model import mlp_from_numpy, seg_from_numpy

    seg = load_detector("brain").net
    mlp = load_detector("pet").net
    x = seg_input()
    f = mlp_input(int(mlp.weights[0].shape[1]))
    with torch.no_grad():
        y_seg = seg_from_numpy(seg).eval()(torch.from_numpy(x)[:, None]).numpy()
        y_mlp = mlp_from_numpy(mlp).eval()(torch.from_numpy(f)).numpy()
    out = {
        "seg_input": x,
        "seg_torch": y_seg.transpose(0, 2, 3, 1).astype(np.float32),  # (n, h, w, K) like numpy
        "mlp_input": f,
        "mlp_torch": y_mlp.astype(np.float32),
        "mr_brain_sha256": np.array(weights_sha256("mr_brain.npz")),
        "pet_sha256": np.array(weights_sha256("pet.npz")),
        "torch_version": np.array(torch.__version__),
    }
    REFERENCE.parent.mkdir(exist_ok=True)
    np.savez_compressed(REFERENCE, **out)
    print(f"wrote {REFERENCE} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
