"""A --quick training run from the scanner's own images lowers the loss (skipped without torch)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

pytest.importorskip("torch")


def test_quick_pet_training_lowers_the_loss_and_exports(tmp_path, capsys):
    from simulator.ai import load_model
    from simulator.ai_training.__main__ import main

    assert main(["--modality", "pet", "--quick", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "pet.json").read_text())
    history = record["training"]["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert record["seed"] == 0 and record["data"]["train_slices"] > 0
    model = load_model("pet", tmp_path / "pet.npz")
    assert model.info.n_params == record["architecture"]["n_params"]
    x = np.random.default_rng(0).random((20, 20)) * 1e4
    assert model(x).shape == x.shape


def test_quick_without_out_refuses_to_overwrite_shipped_weights(capsys):
    from simulator.ai_training.__main__ import main

    assert main(["--modality", "mr", "--quick"]) == 2
    assert "--out" in capsys.readouterr().err


def test_synthetic_loop_is_reproducible_for_a_seed():
    from simulator.ai_training.data import synthetic_pairs
    from simulator.ai_training.train import TrainConfig, train

    pairs = synthetic_pairs(6, np.random.default_rng(1), size=32)
    cfg = TrainConfig(channels=4, hidden=1, patch=16, batch=4, steps=10, val_every=5, threads=1)
    a = train(pairs, pairs[:2], cfg, log=lambda s: None)
    b = train(pairs, pairs[:2], cfg, log=lambda s: None)
    assert a.history[-1]["train_loss"] == b.history[-1]["train_loss"]
    for pa, pb in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert bool((pa == pb).all())


def test_warmup_scales_the_first_steps_learning_rate():
    """Adam's first step moves each weight by about the learning rate: with a 100-step
    warm-up, the first step moves them by about a hundredth of it."""
    import torch

    from simulator.ai_training.data import synthetic_pairs
    from simulator.ai_training.model import TorchResidualCNN
    from simulator.ai_training.train import TrainConfig, train

    pairs = synthetic_pairs(4, np.random.default_rng(2), size=32)
    base = TrainConfig(channels=4, hidden=1, patch=16, batch=4, steps=1, val_every=5, threads=1)

    def first_move(cfg: TrainConfig) -> float:
        torch.manual_seed(cfg.seed)
        start = TorchResidualCNN(cfg.channels, cfg.hidden)
        after = train(pairs, [], cfg, log=lambda s: None).model
        return max(
            float((a.detach() - b.detach()).abs().max())
            for a, b in zip(after.parameters(), start.parameters(), strict=True)
        )

    plain = first_move(base)
    ramped = first_move(dataclasses.replace(base, warmup_steps=100))
    assert plain == pytest.approx(base.lr, rel=0.05)
    assert ramped == pytest.approx(plain / 100, rel=0.05)
