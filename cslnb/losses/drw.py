"""Deferred re-weighting (DRW), a class-weight schedule usable with any weighted loss.

Cao, Wei, Gaidon, Arechiga and Ma, 2019, "Learning Imbalanced Datasets with Label-Distribution-
Aware Margin Loss": ``w_j = 1`` for epochs ``e < drw_epoch`` (0-indexed; 160 of 200 in the
paper), then the Class-Balanced weights ``w_j ∝ (1 - β) / (1 - β^{n_j})`` with β = 0.9999.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from cslnb.losses.weighting import ClassWeights
from cslnb.losses.weights import class_balanced_weights


class DeferredReweighting(ClassWeights):
    """Unit weights before ``drw_epoch``, Class-Balanced weights from ``drw_epoch`` on.

    The current weights live in the persistent buffer ``weight``; ``start_epoch(epoch)`` sets
    them from ``epoch`` alone, so a resumed run gets the same weights once it calls it again.
    """

    deferred_weight: torch.Tensor

    def __init__(
        self, class_counts: Sequence[int], drw_epoch: int = 160, beta: float = 0.9999
    ) -> None:
        if drw_epoch < 0:
            raise ValueError(f"drw_epoch must be non-negative, got {drw_epoch}")
        deferred = class_balanced_weights(class_counts, beta)
        super().__init__(torch.ones_like(deferred))
        self.drw_epoch = drw_epoch
        self.register_buffer("deferred_weight", deferred, persistent=False)

    def start_epoch(self, epoch: int) -> None:
        if epoch >= self.drw_epoch:
            self.weight.copy_(self.deferred_weight)
        else:
            self.weight.fill_(1.0)
