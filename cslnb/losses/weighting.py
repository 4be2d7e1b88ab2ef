"""Class weights carried by a loss, fixed or changing per epoch, and the loss base using them.

A ``ClassWeights`` module holds the current weight vector in the persistent buffer ``weight``
(part of the loss's ``state_dict``) and may update it in ``start_epoch``; ``DeferredReweighting``
(``drw.py``) is the scheduled kind. Any ``WeightedLongTailLoss`` accepts either kind, which
is how DRW combines with CE, focal or LDAM.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cslnb.losses.base import LongTailLoss


class ClassWeights(nn.Module):
    """A fixed per-class weight vector ``w`` (C,)."""

    weight: torch.Tensor

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        weight = torch.as_tensor(weight, dtype=torch.float32)
        if weight.ndim != 1:
            raise ValueError(f"class weights must be a vector, got shape {tuple(weight.shape)}")
        self.register_buffer("weight", weight.clone())

    def start_epoch(self, epoch: int) -> None:
        """Update ``weight`` for epoch ``epoch``; fixed weights do nothing."""


class WeightedLongTailLoss(LongTailLoss):
    """A loss with optional class weights ``w``; ``None`` means unit weights."""

    def __init__(self, class_counts: Sequence[int], weighting: ClassWeights | None = None) -> None:
        super().__init__(class_counts)
        if weighting is not None and weighting.weight.numel() != self.num_classes:
            raise ValueError(
                f"class weights have {weighting.weight.numel()} entries "
                f"for {self.num_classes} classes"
            )
        self.weighting = weighting

    @property
    def class_weight(self) -> torch.Tensor | None:
        """The current weight vector, or None for unit weights."""
        return None if self.weighting is None else self.weighting.weight

    def start_epoch(self, epoch: int) -> None:
        if self.weighting is not None:
            self.weighting.start_epoch(epoch)
