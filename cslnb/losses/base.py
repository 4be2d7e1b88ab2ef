"""The one interface every loss implements, so the trainer never special-cases a loss."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import nn


class LongTailLoss(nn.Module, abc.ABC):
    """Base class of every ``cslnb`` loss.

    * ``forward(logits, labels, features=None)`` returns the scalar loss of a training batch.
      ``logits`` (B, C), ``labels`` (B,) int64, ``features`` (B, D) pooled penultimate features,
      given by the trainer only when ``needs_features`` is True.
    * ``start_epoch(epoch)`` is called before training epoch ``epoch`` (0-indexed) and
      ``end_epoch(epoch)`` after its last batch. Schedules (DRW, IB's start epoch) and
      per-epoch statistics (CSL) live behind these hooks; the trainer calls them also after a
      resume, so any state that must survive a resume is kept in registered buffers and is part
      of ``state_dict()``.
    * ``epoch_trace()`` returns per-class values recorded for the last finished epoch
      (``{"semantic_scale": [...], ...}``); empty for losses with no per-epoch state.
    * The trainer calls the loss on training batches only: test data never reaches it.
    * ``forward`` never reads a device value back to the host (no ``.item()``, ``bool()``,
      ``bincount``, data-dependent shapes), so a training step runs without host
      synchronisation and can be captured as a CUDA graph; state that changes between steps
      lives in buffers updated in place. Python-side state that changes what ``forward``
      computes (a phase switch set by ``start_epoch``) is reported by ``step_signature()``.
    """

    needs_features: ClassVar[bool] = False
    needs_cosine_head: ClassVar[bool] = False

    def __init__(self, class_counts: Sequence[int]) -> None:
        super().__init__()
        counts = torch.as_tensor(list(class_counts), dtype=torch.float64)
        if counts.ndim != 1 or counts.numel() < 2:
            raise ValueError("class_counts must list at least two classes")
        if bool((counts < 0).any()):
            raise ValueError("class_counts must be non-negative")
        self.register_buffer("class_counts", counts.float(), persistent=False)

    @property
    def num_classes(self) -> int:
        return int(self.class_counts.numel())

    def start_epoch(self, epoch: int) -> None:
        """Hook called before training epoch ``epoch`` (0-indexed)."""

    def end_epoch(self, epoch: int) -> None:
        """Hook called after the last training batch of epoch ``epoch``."""

    def step_signature(self) -> tuple[object, ...]:
        """The Python-side state (not tensors) that decides what ``forward`` computes.

        A training step captured as a CUDA graph (:mod:`cslnb.train.step`) replays the kernels
        recorded at capture time, so it is re-captured whenever this value changes. Buffers
        updated in place need no entry; the default is none.
        """
        return ()

    def epoch_trace(self) -> dict[str, list[float]]:
        """Per-class values of the last finished epoch, for plots; empty by default."""
        return {}

    @abc.abstractmethod
    def forward(
        self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Scalar loss of one training batch."""
