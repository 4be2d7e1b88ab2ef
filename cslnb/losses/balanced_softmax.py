"""Balanced Softmax (Ren, Yu, Ma, Zhao, Yi and Li, 2020, "Balanced Meta-Softmax for
Long-Tailed Visual Recognition").

``L = CE(z + log n, y)``: each logit is shifted by the log training count of its class.
Empty classes use ``log 1e-12`` instead of ``-inf`` (see ``priors.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from cslnb.losses.base import LongTailLoss
from cslnb.losses.checks import check_batch
from cslnb.losses.priors import log_counts


class BalancedSoftmaxLoss(LongTailLoss):
    """Cross-entropy on ``z_j + log n_j``."""

    log_n: torch.Tensor

    def __init__(self, class_counts: Sequence[int]) -> None:
        super().__init__(class_counts)
        self.register_buffer("log_n", log_counts(self.class_counts), persistent=False)

    def forward(
        self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor | None = None
    ) -> torch.Tensor:
        check_batch(logits, labels, self.num_classes)
        return F.cross_entropy(logits.float() + self.log_n, labels)
