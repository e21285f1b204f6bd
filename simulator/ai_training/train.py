"""Training loop: random patches of (noisy, clean) pairs, weighted loss, Adam, fixed seeds.

The loss is a per-pixel distance to the noise-free truth — L1, or L2 (the squared error that
NRMSE measures; L1 aims at the median and leaves more error) — weighted up inside lesions
(``Pair.weight``), because a plain loss learns to smooth away what is small and rare —
the trade-off the lesson shows (``course/lessons/ai_tradeoffs.ipynb``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from simulator.ai_training.data import Pair
from simulator.ai_training.model import TorchResidualCNN

__all__ = ["LOSSES", "TrainConfig", "TrainResult", "train"]

#: Per-pixel losses :class:`TrainConfig` accepts.
LOSSES = ("l1", "l2")


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run (all recorded next to the weights)."""

    channels: int = 32
    hidden: int = 5
    patch: int = 64
    batch: int = 16
    steps: int = 3000
    max_minutes: float = 12.0
    lr: float = 2e-3
    weight_decay: float = 0.0
    seed: int = 0
    threads: int = 2
    val_every: int = 200
    scale_jitter: float = 0.3
    loss: str = "l1"  # "l1" or "l2"
    # quarter turns swap rows and columns: off, the network may learn what is particular to
    # the phase-encoding axis (partial-Fourier and truncation ringing); flips are always on
    rotate90: bool = True
    # linear learning-rate ramp over the first steps: without it, a data set with strong
    # outliers (g-factor noise of SENSE) can kill every ReLU in the first few hundred steps
    warmup_steps: int = 0

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"loss {self.loss!r} not in {LOSSES}")


@dataclass
class TrainResult:
    """The trained network and its history."""

    model: TorchResidualCNN
    config: TrainConfig
    steps_done: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """JSON-safe record of the run."""
        return {
            "config": asdict(self.config),
            "steps_done": self.steps_done,
            "seconds": round(self.seconds, 1),
            "history": self.history,
        }


def _sample(pairs: Sequence[Pair], cfg: TrainConfig, rng: np.random.Generator) -> tuple:
    p = cfg.patch
    xs = np.empty((cfg.batch, 1, p, p), np.float32)
    ys = np.empty_like(xs)
    ws = np.empty_like(xs)
    sizes = np.array([pr.noisy.size for pr in pairs], dtype=np.float64)
    pick = rng.choice(len(pairs), size=cfg.batch, p=sizes / sizes.sum())
    for b, k in enumerate(pick):
        pr = pairs[k]
        h, w = pr.noisy.shape
        i = int(rng.integers(0, h - p + 1))
        j = int(rng.integers(0, w - p + 1))
        stack = np.stack([a[i : i + p, j : j + p] for a in (pr.noisy, pr.clean, pr.weight)])
        if cfg.rotate90:
            stack = np.rot90(stack, k=int(rng.integers(4)), axes=(1, 2))
        elif rng.random() < 0.5:
            stack = stack[:, ::-1]
        if rng.random() < 0.5:
            stack = stack[:, :, ::-1]
        gain = float(np.exp(rng.uniform(-cfg.scale_jitter, cfg.scale_jitter)))
        xs[b, 0] = stack[0] * gain
        ys[b, 0] = stack[1] * gain
        ws[b, 0] = stack[2]
    return torch.from_numpy(xs), torch.from_numpy(ys), torch.from_numpy(ws)


def _loss(model: TorchResidualCNN, x, y, w, kind: str = "l1") -> torch.Tensor:
    err = model(x) - y
    return (w * (err.abs() if kind == "l1" else err * err)).sum() / w.sum()


@torch.no_grad()
def _evaluate(model: TorchResidualCNN, pairs: Sequence[Pair]) -> dict[str, float]:
    model.eval()
    num = den = base = 0.0
    for pr in pairs:
        x = torch.from_numpy(pr.noisy[None, None])
        y = torch.from_numpy(pr.clean[None, None])
        num += float(((model(x) - y) ** 2).sum())
        base += float(((x - y) ** 2).sum())
        den += float((y**2).sum())
    model.train()
    return {"val_nrmse": math.sqrt(num / den), "val_nrmse_input": math.sqrt(base / den)}


def _pad_even(pairs: Sequence[Pair], patch: int) -> list[Pair]:
    out = []
    for pr in pairs:
        h, w = pr.noisy.shape
        ph, pw = max(patch - h, h % 2), max(patch - w, w % 2)
        if ph or pw:
            pad = ((0, max(ph, 0)), (0, max(pw, 0)))
            noisy, clean, weight = (
                np.pad(a, pad, mode="edge") for a in (pr.noisy, pr.clean, pr.weight)
            )
            pr = Pair(noisy, clean, weight, pr.meta)
        out.append(pr)
    return out


def train(
    train_pairs: Sequence[Pair],
    val_pairs: Sequence[Pair],
    cfg: TrainConfig,
    log=print,
) -> TrainResult:
    """Train a :class:`TorchResidualCNN` from scratch, deterministically for a given seed.

    Stops after ``cfg.steps`` steps or ``cfg.max_minutes``, whichever comes first; the
    learning rate rises linearly over ``cfg.warmup_steps`` (if any) and follows a cosine from
    ``cfg.lr`` to 2 % of it over that budget (so a run cut short by the clock still ends at a
    low rate; with a step budget that the clock never reaches, the run is deterministic for a
    seed).
    """
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    rng = np.random.default_rng(cfg.seed)
    train_pairs = _pad_even(train_pairs, cfg.patch)
    val_pairs = _pad_even(val_pairs, 2)
    model = TorchResidualCNN(cfg.channels, cfg.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    t0 = time.perf_counter()
    history: list[dict[str, float]] = []
    running, n_run, step = 0.0, 0, 0
    while step < cfg.steps and (time.perf_counter() - t0) < 60 * cfg.max_minutes:
        # cosine decay over whichever budget runs out first: steps or wall-clock time
        progress = max(step / cfg.steps, (time.perf_counter() - t0) / (60 * cfg.max_minutes))
        ramp = min(1.0, (step + 1) / cfg.warmup_steps) if cfg.warmup_steps > 0 else 1.0
        for group in opt.param_groups:
            group["lr"] = (
                cfg.lr * ramp * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))
            )
        x, y, w = _sample(train_pairs, cfg, rng)
        loss = _loss(model, x, y, w, cfg.loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        running += float(loss.detach())
        n_run += 1
        if step % cfg.val_every == 0 or step == cfg.steps:
            rec = {"step": step, "train_loss": running / n_run, "seconds": time.perf_counter() - t0}
            if val_pairs:
                rec.update(_evaluate(model, val_pairs))
            history.append({k: round(float(v), 6) for k, v in rec.items()})
            log(" ".join(f"{k}={v:.5g}" for k, v in rec.items()))
            running, n_run = 0.0, 0
    if n_run:
        rec = {"step": step, "train_loss": running / n_run, "seconds": time.perf_counter() - t0}
        if val_pairs:
            rec.update(_evaluate(model, val_pairs))
        history.append({k: round(float(v), 6) for k, v in rec.items()})
        log(" ".join(f"{k}={v:.5g}" for k, v in rec.items()))
    return TrainResult(model.eval(), cfg, step, time.perf_counter() - t0, history)
