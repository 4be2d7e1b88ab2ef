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
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    """Where the run trains; its CUDA RNG state is the one a checkpoint keeps."""
    precision: str = "fp32"
    """The precision this call trains in (:attr:`cslnb.train.device.Precision.label`)."""
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

    forced_precision_change: str | None = None
    """``"<checkpoint's> -> <this call's>"`` when :meth:`restore` was allowed to change the
    precision; the next :meth:`note_execution` entry records it."""

    def note_execution(self, entry: dict[str, Any]) -> None:
        """Record how the next epochs execute, unless the last entry already says so."""
        if self.forced_precision_change is not None:
            entry = {**entry, "forced_precision_change": self.forced_precision_change}
            self.forced_precision_change = None
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
            "precision": self.precision,
            "rng": rng_state(self.device),
            "history": self.history,
            "traces": self.traces,
            "execution": self.execution,
        }

    def restore(
        self, saved: dict[str, Any], source: Path, *, allow_precision_change: bool = False
    ) -> None:
        """Continue from ``saved`` (read from ``source``), which must be this run's.

        A checkpoint trained in another precision than this call's (``amp="auto"`` resolves per
        machine) raises :class:`PrecisionChangeError`, unless ``allow_precision_change``: the
        run then goes on in this call's precision (with a fresh gradient scaler when the
        checkpoint had none) and the next execution entry says so.
        """
        if saved["config"] != self.config.to_dict():
            raise RuntimeError(f"checkpoint {source} belongs to a different configuration")
        stored = saved_precision(saved)
        if stored is not None and stored != self.precision:
            if not allow_precision_change:
                raise PrecisionChangeError(
                    f"checkpoint {source} was trained in {stored}, but this call trains in "
                    f"{self.precision} on {self.device} (amp={self.config.amp!r}); resume it "
                    f"where the run trains in {stored}, or pass --allow-precision-change "
                    f"(TrainOptions.allow_precision_change) to go on in {self.precision}, "
                    "which the run record then states"
                )
            self.forced_precision_change = f"{stored} -> {self.precision}"
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        if saved["scaler"]:  # empty: saved by a disabled scaler (no fp16), nothing to carry over
            self.scaler.load_state_dict(saved["scaler"])
        self.loss_fn.load_state_dict(saved["loss"])
        restore_rng_state(saved["rng"], self.device)
        self.history, self.traces = saved["history"], saved["traces"]
        self.epoch, self.elapsed = saved["epoch"], saved["elapsed"]
        self.execution = saved.get("execution", [])


class PrecisionChangeError(ValueError):
    """A checkpoint resumed in another precision than the one it was trained in."""


def saved_precision(saved: dict[str, Any]) -> str | None:
    """The precision a checkpoint was trained in: its ``precision`` entry, else (older
    checkpoints) its last execution entry's; ``None`` if it names none."""
    if "precision" in saved:
        return saved["precision"]
    execution = saved.get("execution") or [{}]
    return execution[-1].get("precision")
