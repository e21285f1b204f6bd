"""Torch's output of the shipped networks on a fixed input, kept so that CI (no torch: the
``train`` extra is optional) still checks the numpy inference against torch to 1e-4.

Regenerate after retraining (needs the ``train`` extra)::

    python tests/ai/torch_reference.py
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

REFERENCE = Path(__file__).resolve().parent / "data" / "torch_reference.npz"
WEIGHTS = Path(__file__).resolve().parents[2] / "simulator" / "ai" / "weights"
MODALITIES = ("mr", "pet")


def reference_input() -> np.ndarray:
    """A fixed 64×48 image of uniform noise (odd-free, non-square: catches transposes)."""
    return np.random.default_rng(5).random((64, 48)).astype(np.float32)


def weights_sha256(modality: str) -> str:
    return hashlib.sha256((WEIGHTS / f"{modality}.npz").read_bytes()).hexdigest()


def main() -> None:
    import torch

    from simulator.ai import load_model
    from simulator.ai_training.model import from_numpy

    x = reference_input()
    out: dict[str, np.ndarray] = {"input": x}
    for modality in MODALITIES:
        net = load_model(modality).net
        with torch.no_grad():
            y = from_numpy(net).eval()(torch.from_numpy(x)[None, None])[0, 0].numpy()
        out[f"{modality}_torch"] = y.astype(np.float32)
        out[f"{modality}_weights_sha256"] = np.array(weights_sha256(modality))
    out["torch_version"] = np.array(torch.__version__)
    REFERENCE.parent.mkdir(exist_ok=True)
    np.savez_compressed(REFERENCE, **out)
    print(f"wrote {REFERENCE} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
