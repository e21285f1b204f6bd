"""The torch twin of :class:`simulator.ai.cnn.ResidualCNN`, and its export to numpy.

Same layers, same order, same weight layout: ``to_numpy(model)`` gives a ``ResidualCNN``
whose numpy forward pass matches this module's to float32 rounding
(``tests/ai/test_cnn_torch.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from simulator.ai.cnn import UNSHUFFLE, ResidualCNN

__all__ = ["TorchResidualCNN", "to_numpy", "from_numpy"]


class TorchResidualCNN(nn.Module):
    """Pixel-unshuffle, ``hidden + 2`` 3×3 convolutions with ReLU, pixel-shuffle, x − n̂.

    Parameters
    ----------
    channels : int
        Width of the hidden layers.
    hidden : int
        Number of C→C convolutions between the first and the last.
    """

    def __init__(self, channels: int = 32, hidden: int = 5) -> None:
        super().__init__()
        r2 = UNSHUFFLE * UNSHUFFLE
        sizes = [r2] + [channels] * (hidden + 1) + [r2]
        self.convs: nn.ModuleList = nn.ModuleList(
            nn.Conv2d(a, b, kernel_size=3, padding=1)
            for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.unshuffle = nn.PixelUnshuffle(UNSHUFFLE)
        self.shuffle = nn.PixelShuffle(UNSHUFFLE)
        for conv in self.conv_layers():
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(_bias(conv))
        # start near the identity map: the last layer predicts almost no noise
        self.conv_layers()[-1].weight.data.mul_(0.1)

    def conv_layers(self) -> list[nn.Conv2d]:
        """The convolutions in order (``ModuleList`` items are typed as plain modules)."""
        return [c for c in self.convs if isinstance(c, nn.Conv2d)]

    def predict_noise(self, x: torch.Tensor) -> torch.Tensor:
        """Noise estimate for a (batch, 1, H, W) tensor with even H, W."""
        h = self.unshuffle(x)
        last = len(self.convs) - 1
        for i, conv in enumerate(self.conv_layers()):
            h = conv(h)
            if i < last:
                h = torch.relu(h)
        return self.shuffle(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - self.predict_noise(x)


def _bias(conv: nn.Conv2d) -> torch.Tensor:
    if conv.bias is None:  # every convolution here is built with a bias
        raise ValueError("convolution without bias")
    return conv.bias


def to_numpy(model: TorchResidualCNN) -> ResidualCNN:
    """Copy the weights into the numpy network."""
    ws = tuple(c.weight.detach().cpu().numpy().astype("float32") for c in model.conv_layers())
    bs = tuple(_bias(c).detach().cpu().numpy().astype("float32") for c in model.conv_layers())
    return ResidualCNN(ws, bs)


def from_numpy(net: ResidualCNN) -> TorchResidualCNN:
    """A torch network holding the numpy network's weights."""
    model = TorchResidualCNN(channels=net.channels, hidden=net.depth - 2)
    with torch.no_grad():
        for conv, w, b in zip(model.conv_layers(), net.weights, net.biases, strict=True):
            conv.weight.copy_(torch.from_numpy(w))
            _bias(conv).copy_(torch.from_numpy(b))
    return model
