"""What a run carries from one epoch to the next, and its round trip through a checkpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cslnb.losses import LongTailLoss
from cslnb.train.checkpoint import restore_rng_state, rng_state
from cslnb.train.config import RunConfig
from cslnb.train.execution import same_execution


@dataclass
class TrainingState:
    """The trained parts of one run and how far it has got.

    :meth:`checkpoint` and :meth:`restore` are inverses: a state restored from the dictionary
    that :meth:`checkpoint` returned (RNG states included) continues exactly where it stopped.
    """

    config: RunConfig
    model: nn.Module
    loss_fn: LongTailLoss
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    history: list[dict[str, Any]] = field(default_factory=list)
    """One entry per finished epoch: learning rate, training loss/accuracy, test metrics."""
    traces: list[dict[str, Any]] = field(default_factory=list)
    """Per-epoch statistics the loss reports (CSL's S, H, gamma, N_pred, r)."""
    epoch: int = 0
    """Epochs finished."""
    elapsed: float = 0.0
    """Seconds spent on those epochs, over every call that trained this run."""
    execution: list[dict[str, Any]] = field(default_factory=list)
    """How the epochs were executed (:func:`cslnb.train.execution.segment`), one entry per
    change of device, precision, threads, compilation or memory format."""

    def note_execution(self, entry: dict[str, Any]) -> None:
        """Record how the next epochs execute, unless the last entry already says so."""
        if not self.execution or not same_execution(self.execution[-1], entry):
            self.execution.append(entry)

    def checkpoint(self) -> dict[str, Any]:
        """Everything the next epoch depends on, as tensors and plain containers."""
        return {
            "config": self.config.to_dict(),
            "epoch": self.epoch,
            "elapsed": self.elapsed,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "loss": self.loss_fn.state_dict(),
            "rng": rng_state(),
            "history": self.history,
            "traces": self.traces,
            "execution": self.execution,
        }

    def restore(self, saved: dict[str, Any], source: Path) -> None:
        """Continue from ``saved`` (read from ``source``), which must be this run's."""
        if saved["config"] != self.config.to_dict():
            raise RuntimeError(f"checkpoint {source} belongs to a different configuration")
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scaler.load_state_dict(saved["scaler"])
        self.loss_fn.load_state_dict(saved["loss"])
        restore_rng_state(saved["rng"])
        self.history, self.traces = saved["history"], saved["traces"]
        self.epoch, self.elapsed = saved["epoch"], saved["elapsed"]
        self.execution = saved.get("execution", [])
