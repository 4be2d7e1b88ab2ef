"""Logit-adjusted cross-entropy (Menon, Jayasumana, Rawat, Jain, Veit and Kumar, 2021,
"Long-Tail Learning via Logit Adjustment").

``L = CE(z + τ · log π, y)`` with the training prior ``π_j = n_j / N`` and τ = 1 by default.
Empty classes use ``log 1e-12`` instead of ``-inf`` (see ``priors.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from cslnb.losses.base import LongTailLoss
from cslnb.losses.checks import check_batch
from cslnb.losses.priors import log_prior


class LogitAdjustedLoss(LongTailLoss):
    """Cross-entropy on ``z_j + τ log π_j``."""

    log_pi: torch.Tensor

    def __init__(self, class_counts: Sequence[int], tau: float = 1.0) -> None:
        super().__init__(class_counts)
        self.tau = float(tau)
        self.register_buffer("log_pi", log_prior(self.class_counts), persistent=False)

    def forward(
        self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor | None = None
    ) -> torch.Tensor:
        check_batch(logits, labels, self.num_classes)
        return F.cross_entropy(logits.float() + self.tau * self.log_pi, labels)
