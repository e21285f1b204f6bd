"""A small residual convolutional denoiser, evaluated with numpy only.

The network (the same one :mod:`simulator.ai_training.model` trains with torch) is

    x ──pixel-unshuffle(2)──> 4 channels at half resolution
      ──conv3×3(4→C)─ReLU──[conv3×3(C→C)─ReLU]×L──conv3×3(C→4)──pixel-shuffle(2)──> n̂
    y = x − n̂                                           (the network predicts the noise)

as in FFDNet (Zhang, Zuo & Zhang, IEEE TIP 27(9), 2018): working on the half-resolution
"pixel-unshuffled" image quarters the cost of every convolution and doubles the receptive
field, so a 256×256 image goes through in a few tens of milliseconds on one CPU core.

Each 3×3 convolution (zero padding 1, cross-correlation like ``torch.nn.Conv2d``) is an
im2col matrix product: a strided view of the padded image, shape (H, W, 3, 3, C), is
reshaped to (H·W, 9·C) and multiplied by the weights laid out as (9·C, C_out).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import as_strided

__all__ = [
    "ResidualCNN",
    "UNSHUFFLE",
    "pixel_unshuffle",
    "pixel_shuffle",
    "conv3x3",
    "conv3x3_columns",
    "layers_to_arrays",
    "layers_from_arrays",
    "he_conv3x3_layers",
]

#: Down-sampling factor of the pixel-unshuffle at the input (FFDNet uses 2).
UNSHUFFLE = 2

Array32 = npt.NDArray[np.float32]


def layers_to_arrays(
    weights: tuple[Array32, ...], biases: tuple[Array32, ...], prefix: str
) -> dict[str, Array32]:
    """Layers as arrays for ``np.savez``, torch ``state_dict`` names: ``{prefix}{i}.weight``
    and ``{prefix}{i}.bias`` (``conv`` for the convolutions, ``fc`` for linear layers)."""
    out: dict[str, Array32] = {}
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        out[f"{prefix}{i}.weight"] = w
        out[f"{prefix}{i}.bias"] = b
    return out


def layers_from_arrays(
    arrays: dict[str, np.ndarray], prefix: str
) -> tuple[tuple[Array32, ...], tuple[Array32, ...]]:
    """Inverse of :func:`layers_to_arrays` (keys of other prefixes are ignored)."""
    n = sum(1 for k in arrays if k.startswith(prefix) and k.endswith(".weight"))
    ws = tuple(np.asarray(arrays[f"{prefix}{i}.weight"], dtype=np.float32) for i in range(n))
    bs = tuple(np.asarray(arrays[f"{prefix}{i}.bias"], dtype=np.float32) for i in range(n))
    return ws, bs


def conv3x3_columns(
    weights: tuple[Array32, ...], biases: tuple[Array32, ...], c_in: int
) -> tuple[Array32, ...]:
    """The 3×3 kernels (torch layout) as :func:`conv3x3`'s weight columns, each layer checked
    to follow the channels of the one before (``c_in`` for the first).

    (C_out, C_in, dy, dx) → (dy, dx, C_in, C_out) → (9·C_in, C_out). Raises ValueError on a
    kernel or bias of the wrong shape.
    """
    c_prev = c_in
    cols = []
    for w, b in zip(weights, biases, strict=True):
        if w.ndim != 4 or w.shape[2:] != (3, 3) or w.shape[1] != c_prev:
            raise ValueError(f"kernel of shape {w.shape} does not follow {c_prev} channels")
        if b.shape != (w.shape[0],):
            raise ValueError(f"bias of shape {b.shape} for kernel {w.shape}")
        c_prev = w.shape[0]
        cols.append(
            np.ascontiguousarray(w.astype(np.float32).transpose(2, 3, 1, 0).reshape(-1, c_prev))
        )
    return tuple(cols)


def he_conv3x3_layers(
    sizes: list[int], seed: int
) -> tuple[tuple[Array32, ...], tuple[Array32, ...]]:
    """He-initialised 3×3 kernels (torch layout) between the channel counts ``sizes``, and
    small biases: random networks for tests and benchmarks."""
    rng = np.random.default_rng(seed)
    ws, bs = [], []
    for c_in, c_out in zip(sizes[:-1], sizes[1:], strict=True):
        std = np.sqrt(2.0 / (9 * c_in))
        ws.append((rng.standard_normal((c_out, c_in, 3, 3)) * std).astype(np.float32))
        bs.append((rng.standard_normal(c_out) * 0.01).astype(np.float32))
    return tuple(ws), tuple(bs)


def pixel_unshuffle(image: Array32, r: int = UNSHUFFLE) -> Array32:
    """(H, W) → (H/r, W/r, r²), channel ``i·r + j`` holds pixel ``(r·y + i, r·x + j)``.

    Same channel order as ``torch.nn.PixelUnshuffle`` on a one-channel image.
    """
    h, w = image.shape
    return np.ascontiguousarray(
        image.reshape(h // r, r, w // r, r).transpose(0, 2, 1, 3).reshape(h // r, w // r, r * r)
    )


def pixel_shuffle(feat: Array32, r: int = UNSHUFFLE) -> Array32:
    """Inverse of :func:`pixel_unshuffle`: (h, w, r²) → (h·r, w·r)."""
    h, w, _ = feat.shape
    return feat.reshape(h, w, r, r).transpose(0, 2, 1, 3).reshape(h * r, w * r)


def conv3x3(padded: Array32, weight_cols: Array32, bias: Array32) -> Array32:
    """3×3 convolution of a zero-padded (H+2, W+2, C) array by im2col.

    Parameters
    ----------
    padded : ndarray of shape (H + 2, W + 2, C), float32, C-contiguous
        The feature map with a one-pixel border of zeros.
    weight_cols : ndarray of shape (9·C, C_out)
        Weights ordered (dy, dx, c_in) along the first axis.
    bias : ndarray of shape (C_out,)

    Returns
    -------
    ndarray of shape (H, W, C_out)
    """
    hp, wp, c = padded.shape
    h, w = hp - 2, wp - 2
    s0, s1, s2 = padded.strides
    view = as_strided(padded, (h, w, 3, 3, c), (s0, s1, s0, s1, s2), writeable=False)
    cols = view.reshape(h * w, 9 * c)  # the one copy per layer
    out = cols @ weight_cols
    out += bias
    return out.reshape(h, w, -1)


@dataclass(frozen=True, eq=False)
class ResidualCNN:
    """Weights of the residual denoiser, in torch layout, and their numpy forward pass.

    Parameters
    ----------
    weights : tuple of ndarray
        Convolution kernels, each (C_out, C_in, 3, 3) like ``torch.nn.Conv2d.weight``;
        the first takes ``UNSHUFFLE²`` channels and the last gives ``UNSHUFFLE²``.
    biases : tuple of ndarray
        One (C_out,) vector per kernel.
    """

    weights: tuple[Array32, ...]
    biases: tuple[Array32, ...]
    _cols: tuple[Array32, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.weights) != len(self.biases) or len(self.weights) < 2:
            raise ValueError("need at least two conv layers, one bias per kernel")
        cols = conv3x3_columns(self.weights, self.biases, UNSHUFFLE * UNSHUFFLE)
        c_out = self.weights[-1].shape[0]
        if c_out != UNSHUFFLE * UNSHUFFLE:
            raise ValueError(f"last layer gives {c_out} channels, need {UNSHUFFLE**2}")
        object.__setattr__(self, "_cols", cols)

    @property
    def n_params(self) -> int:
        """Number of trainable parameters (kernels and biases)."""
        return int(sum(w.size + b.size for w, b in zip(self.weights, self.biases, strict=True)))

    @property
    def channels(self) -> int:
        """Width of the hidden layers."""
        return int(self.weights[0].shape[0])

    @property
    def depth(self) -> int:
        """Number of 3×3 convolutions."""
        return len(self.weights)

    def predict_noise(self, image: Array32) -> Array32:
        """The network's noise estimate n̂ for a 2-D float32 image of even shape."""
        h, w = image.shape
        if h % UNSHUFFLE or w % UNSHUFFLE:
            raise ValueError(f"shape {image.shape} is not a multiple of {UNSHUFFLE}")
        feat = pixel_unshuffle(np.asarray(image, dtype=np.float32))
        hh, ww = feat.shape[:2]
        last = len(self._cols) - 1
        pads: dict[int, Array32] = {}
        for i, (wc, b) in enumerate(zip(self._cols, self.biases, strict=True)):
            c = feat.shape[2]
            padded = pads.get(c)
            if padded is None:  # borders stay zero; the inside is overwritten each layer
                padded = pads[c] = np.zeros((hh + 2, ww + 2, c), dtype=np.float32)
            padded[1:-1, 1:-1] = feat
            feat = conv3x3(padded, wc, b)
            if i < last:
                np.maximum(feat, 0.0, out=feat)
        return pixel_shuffle(feat)

    def __call__(self, image: Array32) -> Array32:
        """Denoised image ``x − n̂`` (float32, same even shape)."""
        x = np.asarray(image, dtype=np.float32)
        return x - self.predict_noise(x)

    @classmethod
    def random(cls, channels: int = 32, hidden: int = 5, seed: int = 0) -> ResidualCNN:
        """He-initialised random weights, for tests and benchmarks."""
        sizes = [UNSHUFFLE**2] + [channels] * (hidden + 1) + [UNSHUFFLE**2]
        return cls(*he_conv3x3_layers(sizes, seed))

    def to_arrays(self) -> dict[str, Array32]:
        """Arrays for ``np.savez`` named ``conv{i}.weight`` / ``conv{i}.bias``."""
        return layers_to_arrays(self.weights, self.biases, "conv")

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> ResidualCNN:
        """Inverse of :meth:`to_arrays` (extra keys are ignored)."""
        return cls(*layers_from_arrays(arrays, "conv"))
