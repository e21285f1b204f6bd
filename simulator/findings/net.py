"""The detectors' small networks, evaluated with numpy only.

:class:`SegNet` — MR lesion probability maps. A fully-convolutional net at a quarter of the
image resolution, built from the denoiser's blocks (:mod:`simulator.ai.cnn`)::

    x ──pixel-unshuffle(4)──> 16 channels at H/4 × W/4
      ──conv3×3(16→C)─ReLU──[conv3×3(C→C)─ReLU]×L──conv3×3(C→K)──> K logits per 4×4 block

so each output cell scores the share of lesion of type k in its 4×4 block; the shipped
C = 16, L = 3 (five 3×3 convolutions) sees 11 cells (44 pixels, about 4 cm) around it. All slices of a series go
through at once: they are stacked along the rows with their zero borders between them, so
every layer is one im2col matrix product (:func:`simulator.ai.cnn.conv3x3`).

:class:`MLP` — PET candidate scores: a two-hidden-layer perceptron on a feature vector.

Weights are stored in torch layout (``conv{i}.weight`` (C_out, C_in, 3, 3), ``fc{i}.weight``
(out, in)), the twins in :mod:`simulator.findings_training.model` train them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from simulator.ai.cnn import (
    conv3x3,
    conv3x3_columns,
    he_conv3x3_layers,
    layers_from_arrays,
    layers_to_arrays,
)

__all__ = ["SEG_UNSHUFFLE", "SegNet", "MLP", "sigmoid"]

#: Down-sampling factor of the segmentation net's input (output cells are 4×4 pixels).
SEG_UNSHUFFLE = 4

Array32 = npt.NDArray[np.float32]


def sigmoid(x: npt.NDArray[np.floating]) -> Array32:
    """Logistic function, float32, without overflow warnings."""
    x = np.asarray(x, dtype=np.float32)
    return (0.5 * (1.0 + np.tanh(0.5 * x))).astype(np.float32)


@dataclass(frozen=True, eq=False)
class SegNet:
    """Kernels (torch layout) of the quarter-resolution segmentation net and its forward pass."""

    weights: tuple[Array32, ...]
    biases: tuple[Array32, ...]
    _cols: tuple[Array32, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_cols", conv3x3_columns(self.weights, self.biases, SEG_UNSHUFFLE**2)
        )

    @property
    def n_classes(self) -> int:
        """Output channels (one logit per finding type)."""
        return int(self.weights[-1].shape[0])

    @property
    def n_params(self) -> int:
        """Trainable parameters."""
        return int(sum(w.size + b.size for w, b in zip(self.weights, self.biases, strict=True)))

    def logits(self, images: Array32) -> Array32:
        """Logits (n, H/4, W/4, K) of a (n, H, W) float32 stack, H and W multiples of 4."""
        x = np.asarray(images, dtype=np.float32)
        n, h, w = x.shape
        r = SEG_UNSHUFFLE
        if h % r or w % r:
            raise ValueError(f"shape {x.shape[1:]} is not a multiple of {r}")
        hh, ww = h // r, w // r
        # pixel-unshuffle of every slice at once (channel i·r + j ← pixel (r·y + i, r·x + j))
        feat = x.reshape(n, hh, r, ww, r).transpose(0, 1, 3, 2, 4).reshape(n, hh, ww, r * r)
        last = len(self._cols) - 1
        pads: dict[int, Array32] = {}
        for i, (wc, b) in enumerate(zip(self._cols, self.biases, strict=True)):
            c = feat.shape[3]
            padded = pads.get(c)
            if padded is None:  # the zero borders stay; the inside is overwritten each layer
                padded = pads[c] = np.zeros((n * (hh + 2) + 2, ww + 2, c), dtype=np.float32)
            padded[: n * (hh + 2)].reshape(n, hh + 2, ww + 2, c)[:, 1:-1, 1:-1] = feat
            out = conv3x3(padded, wc, b)  # (n·(hh+2), ww, C_out): slice k at rows k·(hh+2)…
            feat = out.reshape(n, hh + 2, ww, -1)[:, :hh]
            if i < last:
                np.maximum(feat, 0.0, out=feat)
        return np.ascontiguousarray(feat)

    def __call__(self, images: Array32) -> Array32:
        """Probabilities (n, H/4, W/4, K)."""
        return sigmoid(self.logits(images))

    def to_arrays(self) -> dict[str, Array32]:
        """Arrays for ``np.savez``: ``conv{i}.weight`` / ``conv{i}.bias``."""
        return layers_to_arrays(self.weights, self.biases, "conv")

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> SegNet:
        """Inverse of :meth:`to_arrays` (extra keys are ignored)."""
        return cls(*layers_from_arrays(arrays, "conv"))

    @classmethod
    def random(cls, channels: int = 16, hidden: int = 3, classes: int = 2, seed: int = 0) -> SegNet:
        """He-initialised random weights (tests, benchmarks)."""
        sizes = [SEG_UNSHUFFLE**2] + [channels] * (hidden + 1) + [classes]
        return cls(*he_conv3x3_layers(sizes, seed))


@dataclass(frozen=True, eq=False)
class MLP:
    """Fully-connected layers (torch ``nn.Linear`` layout) with ReLU, one logit out."""

    weights: tuple[Array32, ...]
    biases: tuple[Array32, ...]

    def logits(self, x: npt.NDArray[np.floating]) -> Array32:
        """Logit per row of a (n, features) array."""
        h = np.asarray(x, dtype=np.float32)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = h @ w.T + b
            if i < last:
                h = np.maximum(h, 0.0)
        return h[:, 0]

    def __call__(self, x: npt.NDArray[np.floating]) -> Array32:
        """Probability per row."""
        return sigmoid(self.logits(x))

    @property
    def n_params(self) -> int:
        """Trainable parameters."""
        return int(sum(w.size + b.size for w, b in zip(self.weights, self.biases, strict=True)))

    def to_arrays(self) -> dict[str, Array32]:
        """Arrays for ``np.savez``: ``fc{i}.weight`` / ``fc{i}.bias``."""
        return layers_to_arrays(self.weights, self.biases, "fc")

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> MLP:
        """Inverse of :meth:`to_arrays`."""
        return cls(*layers_from_arrays(arrays, "fc"))
