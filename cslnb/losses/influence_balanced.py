"""Influence-Balanced loss (Park, Lim, Jeon and Choi, 2021, "Influence-Balanced Loss for
Imbalanced Visual Classification"), following pseulki/IB-Loss.

Per sample, with ``h`` the pooled penultimate features:
``g = Σ_c |softmax(z)_c - onehot(y)_c|``, ``ib = α / (g · ‖h‖₁ + ε)`` (α = 1000, ε = 0.001),
``ce = w_y · (-log softmax(z)_y)`` and ``L = (1/B) Σ_i (1 - exp(-ce_i))^γ · ce_i · ib_i``
(γ = 0: IB and IB + CB; γ = 1: IB + Focal). Before ``ib_start_epoch`` (0-indexed, 100 in the
paper) the loss is plain, unweighted CE.

Gradient of the influence factor: by default (``detach_influence=False``) it flows through
``ib`` too, as in the reference code, which does not detach ``g`` or ``h``;
``detach_influence=True`` computes ``ib`` from detached ``g`` and ``h`` so that it acts as a pure
per-sample weight, as the IB paper describes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F

from cslnb.losses.checks import check_batch, check_features, label_mask
from cslnb.losses.focal import focal_modulation
from cslnb.losses.weighting import ClassWeights, WeightedLongTailLoss

IB_EPSILON = 1e-3


def influence_factor(
    logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor, alpha: float
) -> torch.Tensor:
    """Per-sample ``α / (Σ_c |softmax(z)_c - onehot(y)_c| · ‖h‖₁ + ε)`` in float32."""
    probs = torch.softmax(logits.float(), dim=1)
    onehot = label_mask(labels, logits.shape[1]).to(probs.dtype)
    g = (probs - onehot).abs().sum(dim=1)
    h_norm = features.float().abs().sum(dim=1)
    return alpha / (g * h_norm + IB_EPSILON)


class InfluenceBalancedLoss(WeightedLongTailLoss):
    """IB loss; plain CE before ``ib_start_epoch``, then the influence-weighted loss."""

    needs_features: ClassVar[bool] = True

    def __init__(
        self,
        class_counts: Sequence[int],
        weighting: ClassWeights | None = None,
        ib_start_epoch: int = 100,
        alpha: float = 1000.0,
        gamma: float = 0.0,
        detach_influence: bool = False,
    ) -> None:
        super().__init__(class_counts, weighting)
        if alpha <= 0 or gamma < 0 or ib_start_epoch < 0:
            raise ValueError(
                "need alpha > 0, gamma >= 0 and ib_start_epoch >= 0, got "
                f"{alpha}, {gamma} and {ib_start_epoch}"
            )
        self.ib_start_epoch = ib_start_epoch
        self.alpha = float(alpha)
        self.gamma = float(gamma)
        self.detach_influence = detach_influence
        self.ib_active = False

    def start_epoch(self, epoch: int) -> None:
        super().start_epoch(epoch)
        self.ib_active = epoch >= self.ib_start_epoch

    def step_signature(self) -> tuple[object, ...]:
        """Plain CE before ``ib_start_epoch``, the influence-weighted loss from then on."""
        return (self.ib_active,)

    def forward(
        self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor | None = None
    ) -> torch.Tensor:
        check_batch(logits, labels, self.num_classes)
        logits = logits.float()
        if not self.ib_active:
            return F.cross_entropy(logits, labels)
        features = check_features(features, logits.shape[0])
        if self.detach_influence:
            ib = influence_factor(logits.detach(), labels, features.detach(), self.alpha)
        else:
            ib = influence_factor(logits, labels, features, self.alpha)
        ce = F.cross_entropy(logits, labels, weight=self.class_weight, reduction="none")
        return (focal_modulation(ce, self.gamma) * ib).mean()
