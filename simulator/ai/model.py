"""Shipped denoiser weights: where they live, how they load, what they are.

Each modality has ``weights/<modality>.npz`` (the kernels, see
:meth:`simulator.ai.cnn.ResidualCNN.to_arrays`) and ``weights/<modality>.json`` (the record
of how they were trained: data, seeds, epochs, loss, time, commit). Loading is lazy and
cached, so importing :mod:`simulator.ai` costs nothing until a denoiser is used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.ai._prepare import prepare, restore
from simulator.ai.cnn import ResidualCNN
from simulator.errors import ParameterError, UserError

__all__ = ["MODALITIES", "WEIGHTS_DIR", "DenoiserInfo", "Denoiser", "load_model"]

#: Modalities with a shipped network.
MODALITIES = ("mr", "pet")

#: Folder of the shipped ``.npz`` weights and their ``.json`` training records.
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


@dataclass(frozen=True)
class DenoiserInfo:
    """What a loaded network is and how it was trained.

    Attributes
    ----------
    modality : str
        ``"mr"`` or ``"pet"``.
    n_params : int
        Trainable parameters (kernels and biases).
    channels, depth : int
        Hidden width and number of 3×3 convolutions.
    weights_path : str
        The ``.npz`` file the weights came from.
    record : dict
        The training record (``<modality>.json``), empty when none ships.
    """

    modality: str
    n_params: int
    channels: int
    depth: int
    weights_path: str
    record: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, eq=False)
class Denoiser:
    """A network with its description; call it like :func:`simulator.ai.denoise_mr`."""

    net: ResidualCNN
    info: DenoiserInfo

    def __call__(self, image: npt.ArrayLike, strength: float = 1.0) -> np.ndarray:
        """Denoise a 2-D image or a (slices, rows, cols) stack, blended by ``strength``.

        Each slice is scaled by a robust intensity (see :func:`simulator.ai._prepare.prepare`),
        padded to even size, passed through the network, and restored to its units. The
        result is ``(1 − strength)·image + strength·network(image)``; images without negative
        values stay non-negative.
        """
        x, ctx = prepare(image, strength, modality=self.info.modality)
        if ctx.identity:
            return restore(x, x, ctx)
        out = np.empty_like(x)
        for k in range(x.shape[0]):
            out[k] = self.net(x[k])
        return restore(x, out, ctx)


def _read(path: Path, modality: str) -> Denoiser:
    try:
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise UserError(
            f"no AI weights at {path}: train them with "
            f"`python -m simulator.ai_training --modality {modality}`",
            f"pas de poids IA dans {path} : les entraîner avec "
            f"`python -m simulator.ai_training --modality {modality}`",
        ) from None
    net = ResidualCNN.from_arrays(arrays)
    record_path = path.with_suffix(".json")
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    info = DenoiserInfo(modality, net.n_params, net.channels, net.depth, str(path), record)
    return Denoiser(net, info)


@lru_cache(maxsize=8)
def _cached(modality: str, path: str) -> Denoiser:
    return _read(Path(path), modality)


def load_model(modality: str, path: str | Path | None = None) -> Denoiser:
    """Load (once) the denoiser of ``modality``, or the weights at ``path``.

    Parameters
    ----------
    modality : {"mr", "pet"}
    path : str or Path, optional
        An ``.npz`` written by the training command; defaults to the shipped weights.

    Raises
    ------
    ParameterError
        For an unknown modality.
    UserError
        When the weights file does not exist.
    """
    if modality not in MODALITIES:
        raise ParameterError("modality", modality, ", ".join(MODALITIES))
    p = Path(path) if path is not None else WEIGHTS_DIR / f"{modality}.npz"
    return _cached(modality, str(p.resolve()))
