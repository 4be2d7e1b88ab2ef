"""Softmax cross-entropy with optional class weights (CE, CE + CB, CE + DRW).

``L = Σ_i w_{y_i} · (-log softmax(z_i)_{y_i}) / Σ_i w_{y_i}``: torch's weighted mean, as in
the LDAM-DRW reference (``F.cross_entropy(z, y, weight=w)``); with unit weights it is the
plain batch mean. Class-Balanced weights: Cui et al., 2019.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cslnb.losses.checks import check_batch
from cslnb.losses.weighting import WeightedLongTailLoss


class CrossEntropyLoss(WeightedLongTailLoss):
    """Cross-entropy, optionally weighted per class (fixed weights or a DRW schedule)."""

    def forward(
        self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor | None = None
    ) -> torch.Tensor:
        check_batch(logits, labels, self.num_classes)
        return F.cross_entropy(logits.float(), labels, weight=self.class_weight)
