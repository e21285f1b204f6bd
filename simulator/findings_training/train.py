"""Torch training of the detectors (needs the ``train`` extra)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from simulator.findings.net import MLP, SegNet
from simulator.findings_training.data import PETData, SegData
from simulator.findings_training.model import TorchMLP, TorchSegNet, mlp_to_numpy, seg_to_numpy

__all__ = ["train_seg", "train_mlp", "POS_WEIGHT"]

#: Extra loss weight of lesion blocks (lesions are a few per cent of the blocks).
POS_WEIGHT = 10.0


def train_seg(
    data: SegData,
    *,
    channels: int = 16,
    hidden: int = 3,
    steps: int = 6000,
    batch: int = 16,
    patch: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
    minutes: float | None = None,
    threads: int = 1,
    log: Callable[[str], None] = print,
) -> tuple[SegNet, dict[str, Any]]:
    """Train the segmentation net on block targets; returns the numpy net and a record."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng([seed, 7])
    k = data.y.shape[1]
    model = TorchSegNet(channels, hidden, k)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr / 20)
    r = data.x.shape[1] // data.y.shape[2]
    pc = patch // r  # patch size in cells
    # of every four patches, one is centred on a cell of each class, two anywhere in the head
    class_cells = [np.argwhere(data.y[:, c] > 0.25) for c in range(k)]
    lesion_cells = np.argwhere(data.y.max(axis=1) > 0.25)
    head = data.x.reshape(len(data.x), data.y.shape[2], r, data.y.shape[3], r).max(axis=(2, 4))
    head_cells = np.argwhere(head > 0.08)
    ny, nx = data.y.shape[2], data.y.shape[3]
    has = np.zeros(len(data.x))
    has[np.unique(lesion_cells[:, 0])] = 1
    t0 = time.perf_counter()
    history = []
    done = 0
    for step in range(steps):
        xs, ys = [], []
        for b in range(batch):
            pool = class_cells[b % 4] if b % 4 < k and len(class_cells[b % 4]) else head_cells
            sl, cy, cx = pool[rng.integers(len(pool))]
            y0 = int(np.clip(cy - pc // 2 + rng.integers(-pc // 4, pc // 4 + 1), 0, ny - pc))
            x0 = int(np.clip(cx - pc // 2 + rng.integers(-pc // 4, pc // 4 + 1), 0, nx - pc))
            xs.append(data.x[sl, y0 * r : (y0 + pc) * r, x0 * r : (x0 + pc) * r])
            ys.append(data.y[sl, :, y0 : y0 + pc, x0 : x0 + pc])
        x = torch.from_numpy(np.stack(xs)[:, None].copy())
        y = torch.from_numpy(np.stack(ys).copy())
        x *= torch.from_numpy(rng.uniform(0.85, 1.15, size=(batch, 1, 1, 1)).astype(np.float32))
        if rng.random() < 0.5:
            x, y = torch.flip(x, dims=[3]), torch.flip(y, dims=[3])
        logits = model(x)
        w = 1.0 + (POS_WEIGHT - 1.0) * y
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y, weight=w)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        done = step + 1
        if step % 100 == 0 or step == steps - 1:
            history.append([step, float(loss.item())])
            log(f"  seg step {step}: loss {loss.item():.4f} ({time.perf_counter() - t0:.0f} s)")
        if minutes is not None and time.perf_counter() - t0 > 60 * minutes:
            log(f"  stopped at the {minutes} min cap")
            break
    model.eval()
    rec = {
        "channels": channels,
        "hidden": hidden,
        "steps": done,
        "batch": batch,
        "patch_px": patch,
        "sampling": f"of 4 patches: 1 centred on a block of each of the {k} classes, the others "
                    "anywhere in the body (blocks above 8 % of the scale)",
        "lr": lr,
        "schedule": "Adam, cosine decay to lr/20",
        "pos_weight": POS_WEIGHT,
        "loss_history": history,
        "train_seconds": round(time.perf_counter() - t0, 1),
        "slices": int(len(data.x)),
        "lesion_slices": int(has.sum()),
    }
    return seg_to_numpy(model), rec


def train_mlp(
    data: PETData,
    *,
    hidden: tuple[int, ...] = (32, 16),
    steps: int = 6000,
    batch: int = 256,
    lr: float = 3e-3,
    seed: int = 0,
    threads: int = 1,
    log: Callable[[str], None] = print,
) -> tuple[MLP, np.ndarray, np.ndarray, dict[str, Any]]:
    """Train the PET candidate scorer; returns the numpy MLP, feature mean/std, a record."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng([seed, 8])
    mean = data.x.mean(axis=0).astype(np.float32)
    std = (data.x.std(axis=0) + 1e-3).astype(np.float32)
    x_all = torch.from_numpy((data.x - mean) / std)
    y_all = torch.from_numpy(data.y)
    pos = np.nonzero(data.y > 0)[0]
    neg = np.nonzero(data.y == 0)[0]
    model = TorchMLP(data.x.shape[1], hidden)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-3)
    t0 = time.perf_counter()
    history = []
    for step in range(steps):
        # balanced batches: a quarter lesions
        ip = rng.choice(pos, size=batch // 4)
        ineg = rng.choice(neg, size=batch - batch // 4)
        idx = torch.from_numpy(np.concatenate([ip, ineg]))
        logits = model(x_all[idx])
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y_all[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 500 == 0 or step == steps - 1:
            history.append([step, float(loss.item())])
            log(f"  pet step {step}: loss {loss.item():.4f}")
    model.eval()
    rec = {
        "hidden": list(hidden),
        "steps": steps,
        "batch": batch,
        "lr": lr,
        "loss_history": history,
        "train_seconds": round(time.perf_counter() - t0, 1),
        "candidates": int(len(data.y)),
        "lesion_candidates": int(len(pos)),
        "sampling": "balanced batches, 1/4 lesion candidates",
    }
    return mlp_to_numpy(model), mean, std, rec
