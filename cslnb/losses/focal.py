"""Focal loss (Lin, Goyal, Girshick, He and Dollár, 2017, "Focal Loss for Dense Object
Detection"), in the softmax form of the LDAM-DRW reference.

``ce_i = w_{y_i} · (-log softmax(z_i)_{y_i})``, ``p_i = exp(-ce_i)``,
``L = (1/B) Σ_i (1 - p_i)^γ · ce_i`` with γ = 1 by default.

The class weight enters ``ce_i`` before ``p_i`` is taken (as in the reference), and the batch
reduction is the plain mean over B, not torch's weighted mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from cslnb.losses.checks import check_batch
from cslnb.losses.weighting import ClassWeights, WeightedLongTailLoss


def focal_modulation(ce: torch.Tensor, gamma: float) -> torch.Tensor:
    """Per-sample ``(1 - exp(-ce))^γ · ce``."""
    return (1.0 - torch.exp(-ce)).pow(gamma) * ce


class FocalLoss(WeightedLongTailLoss):
    """Focal loss with focusing parameter ``gamma`` (γ) and optional class weights."""

    def __init__(
        self,
        class_counts: Sequence[int],
        weighting: ClassWeights | None = None,
        gamma: float = 1.0,
    ) -> None:
        super().__init__(class_counts, weighting)
        if gamma < 0:
            raise ValueError(f"gamma must be non-negative, got {gamma}")
        self.gamma = float(gamma)

    def forward(
        self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor | None = None
    ) -> torch.Tensor:
        check_batch(logits, labels, self.num_classes)
        ce = F.cross_entropy(logits.float(), labels, weight=self.class_weight, reduction="none")
        return focal_modulation(ce, self.gamma).mean()
