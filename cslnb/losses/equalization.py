"""Softmax Equalization loss (Tan, Wang, Li, Li, Ouyang, Yin and Yan, 2020, "Equalization
Loss for Long-Tailed Object Recognition"), classification form.

``t_j = 1`` if ``n_j > λ`` else 0 (0 marks a tail class); draw ``u ~ U(0, 1)`` per logit from
torch's global RNG; keep logit k of sample i if ``t_k + [u_ik > γ_ignore] + [k = y_i] > 0``,
else replace it by ``SUPPRESSED_LOGIT``; then ``L = CE``. So a tail class's negative logit is
dropped from the softmax with probability γ_ignore, sparing it the discouraging gradient.

Defaults (ours; the paper tunes them per dataset): λ = 5 % of the largest class count
(CIFAR-10-LT IR100: the four classes with fewer than 250 images are tail; CIFAR-100-LT IR100:
the classes with at most 25), γ_ignore = 0.9.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from cslnb.losses.base import LongTailLoss
from cslnb.losses.checks import check_batch, label_mask

SUPPRESSED_LOGIT = -1.0e4
"""Finite (representable in fp16 and bf16) and far below any kept logit: exp underflows to 0."""
DEFAULT_LAMBDA_FRACTION = 0.05


def equalization_keep_mask(
    labels: torch.Tensor, head: torch.Tensor, u: torch.Tensor, gamma_ignore: float
) -> torch.Tensor:
    """Boolean (B, C) mask of the logits kept: ``t_k + [u > γ_ignore] + [k = y] > 0``."""
    return head.unsqueeze(0) | (u > gamma_ignore) | label_mask(labels, head.numel())


class EqualizationLoss(LongTailLoss):
    """Softmax EQL with count threshold ``lambda_threshold`` (λ) and ``gamma_ignore``."""

    head: torch.Tensor

    def __init__(
        self,
        class_counts: Sequence[int],
        lambda_threshold: float | None = None,
        gamma_ignore: float = 0.9,
    ) -> None:
        super().__init__(class_counts)
        if not 0.0 <= gamma_ignore <= 1.0:
            raise ValueError(f"gamma_ignore must lie in [0, 1], got {gamma_ignore}")
        if lambda_threshold is None:
            lambda_threshold = DEFAULT_LAMBDA_FRACTION * float(self.class_counts.max())
        self.lambda_threshold = float(lambda_threshold)
        self.gamma_ignore = float(gamma_ignore)
        self.register_buffer("head", self.class_counts > self.lambda_threshold, persistent=False)

    def forward(
        self, logits: torch.Tensor, labels: torch.Tensor, features: torch.Tensor | None = None
    ) -> torch.Tensor:
        check_batch(logits, labels, self.num_classes)
        u = torch.rand(logits.shape, device=logits.device)
        keep = equalization_keep_mask(labels, self.head, u, self.gamma_ignore)
        return F.cross_entropy(logits.float().masked_fill(~keep, SUPPRESSED_LOGIT), labels)
