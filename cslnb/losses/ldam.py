"""Label-Distribution-Aware Margin loss (Cao, Wei, Gaidon, Arechiga and Ma, 2019).

``m_j = C' / n_j^{1/4}`` with ``C'`` chosen so that ``max_j m_j = 0.5``;
``L = CE(s · (z - m_y e_y), y; w)`` with scale s = 30: the margin is subtracted from the
target logit only, then all logits are scaled. The reduction is torch's weighted mean
(``Σ w_y ce / Σ w_y``) as in the reference. Meant for the cosine head (logits in [-1, 1]).

A class with no training sample is never a target; it gets the largest margin, and the
rescaling uses the non-empty classes only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F

from cslnb.losses.checks import check_batch
from cslnb.losses.weighting import ClassWeights, WeightedLongTailLoss


def ldam_margins(class_counts: torch.Tensor, max_margin: float = 0.5) -> torch.Tensor:
    """``m_j ∝ n_j^{-1/4}`` rescaled to ``max_j m_j = max_margin`` (float32, shape (C,))."""
    counts = torch.as_tensor(class_counts, dtype=torch.float64)
    present = counts > 0
    if not bool(present.any()):
        raise ValueError("class_counts must contain at least one non-empty class")
    raw = torch.where(present, counts, torch.ones_like(counts)).pow(-0.25)
    margins = raw * (max_margin / raw[present].max())
    return torch.where(present, margins, torch.full_like(margins, max_margin)).float()


class LDAMLoss(WeightedLongTailLoss):
    """LDAM with margin ``max_margin`` for the rarest class and logit scale ``s``."""

    needs_cosine_head: ClassVar[bool] = True
    margins: torch.Tensor

    def __init__(
        self,
        class_counts: Sequence[int],
        weighting: ClassWeights | None = None,
        max_margin: float = 0.5,
        s: float = 30.0,
    ) -> None:
        super().__init__(class_counts, weighting)
        if max_margin <= 0 or s <= 0:
            raise ValueError(f"max_margin and s must be positive, got {max_margin} and {s}")
        self.s = float(s)
        self.register_buffer(
            "margins", ldam_margins(self.class_counts, max_margin), persistent=False
        )

    def forward(
        self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor | None = None
    ) -> torch.Tensor:
        check_batch(logits, labels, self.num_classes)
        target_margin = self.margins[labels].unsqueeze(1)
        adjusted = logits.float().scatter_add(1, labels.unsqueeze(1), -target_margin)
        return F.cross_entropy(self.s * adjusted, labels, weight=self.class_weight)
