"""Torch twins of :class:`simulator.findings.net.SegNet` and :class:`~simulator.findings.net.MLP`.

Same layers, same order, same weight layout: :func:`seg_to_numpy` / :func:`mlp_to_numpy`
give numpy networks that match these to float32 rounding (``tests/findings``).
"""

from __future__ import annotations

import torch
from torch import nn

from simulator.findings.net import MLP, SEG_UNSHUFFLE, SegNet

__all__ = ["TorchSegNet", "TorchMLP", "seg_to_numpy", "seg_from_numpy", "mlp_to_numpy", "mlp_from_numpy"]


class TorchSegNet(nn.Module):
    """Pixel-unshuffle(4), ``hidden + 2`` 3×3 convolutions with ReLU between, K logits."""

    def __init__(self, channels: int = 16, hidden: int = 3, classes: int = 2) -> None:
        super().__init__()
        sizes = [SEG_UNSHUFFLE**2] + [channels] * (hidden + 1) + [classes]
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, kernel_size=3, padding=1) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.unshuffle = nn.PixelUnshuffle(SEG_UNSHUFFLE)
        for c in self.layers():
            nn.init.kaiming_normal_(c.weight, nonlinearity="relu")
            nn.init.zeros_(c.bias)  # type: ignore[arg-type]

    def layers(self) -> list[nn.Conv2d]:
        """The convolutions in order."""
        return [c for c in self.convs if isinstance(c, nn.Conv2d)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) → (B, K, H/4, W/4) logits."""
        h = self.unshuffle(x)
        convs = self.layers()
        for i, c in enumerate(convs):
            h = c(h)
            if i < len(convs) - 1:
                h = torch.relu(h)
        return h


class TorchMLP(nn.Module):
    """Linear–ReLU–Linear–ReLU–Linear, one logit."""

    def __init__(self, n_in: int, hidden: tuple[int, ...] = (32, 16)) -> None:
        super().__init__()
        sizes = [n_in, *hidden, 1]
        self.fcs = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))

    def layers(self) -> list[nn.Linear]:
        """The linear layers in order."""
        return [f for f in self.fcs if isinstance(f, nn.Linear)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, n_in) → (B,) logits."""
        fcs = self.layers()
        for i, f in enumerate(fcs):
            x = f(x)
            if i < len(fcs) - 1:
                x = torch.relu(x)
        return x[:, 0]


def _np(t: torch.Tensor):  # noqa: ANN202
    return t.detach().cpu().numpy().astype("float32")


def seg_to_numpy(model: TorchSegNet) -> SegNet:
    """Copy the weights into the numpy net."""
    return SegNet(tuple(_np(c.weight) for c in model.layers()), tuple(_np(c.bias) for c in model.layers()))  # type: ignore[arg-type]


def seg_from_numpy(net: SegNet) -> TorchSegNet:
    """A torch net holding the numpy net's weights."""
    m = TorchSegNet(int(net.weights[0].shape[0]), len(net.weights) - 2, net.n_classes)
    with torch.no_grad():
        for c, w, b in zip(m.layers(), net.weights, net.biases, strict=True):
            c.weight.copy_(torch.from_numpy(w))
            c.bias.copy_(torch.from_numpy(b))  # type: ignore[union-attr]
    return m


def mlp_to_numpy(model: TorchMLP) -> MLP:
    """Copy the weights into the numpy perceptron."""
    return MLP(tuple(_np(f.weight) for f in model.layers()), tuple(_np(f.bias) for f in model.layers()))


def mlp_from_numpy(net: MLP) -> TorchMLP:
    """A torch perceptron holding the numpy one's weights."""
    hidden = tuple(int(w.shape[0]) for w in net.weights[:-1])
    m = TorchMLP(int(net.weights[0].shape[1]), hidden)
    with torch.no_grad():
        for f, w, b in zip(m.layers(), net.weights, net.biases, strict=True):
            f.weight.copy_(torch.from_numpy(w))
            f.bias.copy_(torch.from_numpy(b))
    return m
