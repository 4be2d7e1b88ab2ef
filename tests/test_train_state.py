"""TrainingState: a checkpoint round trip restores every part of a run, and only the same run's."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from cslnb.losses import build_loss
from cslnb.train import RunConfig
from cslnb.train.checkpoint import load_checkpoint, save_checkpoint
from cslnb.train.state import TrainingState

COUNTS = [50, 20, 5]


def _state(config: RunConfig, seed: int) -> TrainingState:
    torch.manual_seed(seed)
    model = nn.Linear(4, len(COUNTS))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    loss_fn = build_loss("csl", COUNTS)
    return TrainingState(config, model, loss_fn, optimizer, scaler)


def _one_step(state: TrainingState) -> None:
    inputs, labels = torch.randn(6, 4), torch.tensor([0, 0, 1, 2, 0, 1])
    state.loss_fn.start_epoch(state.epoch)
    loss = state.loss_fn(state.model(inputs), labels, inputs)  # inputs stand in for features
    state.optimizer.zero_grad()
    loss.backward()
    state.optimizer.step()
    state.loss_fn.end_epoch(state.epoch)
    state.history.append({"epoch": state.epoch + 1, "train_loss": loss.item()})
    state.epoch += 1
    state.elapsed += 0.5


def test_round_trip_through_a_checkpoint_file_continues_identically(tmp_path: Path) -> None:
    config = RunConfig(dataset="synthetic", loss="csl", ratio=10, profile="ci")
    original = _state(config, seed=0)
    _one_step(original)
    save_checkpoint(tmp_path / "last.pt", original.checkpoint())
    saved_history = list(original.history)
    _one_step(original)  # the uninterrupted run goes on

    restored = _state(config, seed=1)  # other weights and RNG state, all overwritten by restore
    restored.restore(load_checkpoint(tmp_path / "last.pt"), tmp_path / "last.pt")
    assert (restored.epoch, restored.elapsed, restored.history) == (1, 0.5, saved_history)
    _one_step(restored)  # same RNG draws, momentum buffers and CSL statistics as the original
    assert restored.history == original.history
    assert restored.epoch == original.epoch == 2
    for a, b in zip(original.model.parameters(), restored.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_restore_refuses_another_runs_checkpoint(tmp_path: Path) -> None:
    mine = RunConfig(dataset="synthetic", loss="csl", ratio=10, profile="ci")
    other = RunConfig(dataset="synthetic", loss="csl", ratio=10, profile="ci", seed=1)
    saved = _state(other, seed=0).checkpoint()
    with pytest.raises(RuntimeError, match="belongs to a different configuration"):
        _state(mine, seed=0).restore(saved, tmp_path / "last.pt")
