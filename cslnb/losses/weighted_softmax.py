"""Weighted Softmax: cross-entropy with log-frequency class weights, a baseline of
KaihuaTang/Long-Tailed-Recognition.pytorch, the code of Tang, Huang and Zhang, 2020, "Long-Tailed
Classification by Keeping the Good and Removing the Bad Momentum Causal Effect".

``p_j = n_j / N``, ``p_j ← p_j / max_k p_k``, ``w_j = 1 - log p_j``;
``L = Σ_i w_{y_i} ce_i / Σ_i w_{y_i}`` (torch's weighted mean). Empty classes use
``p_j = 1e-12`` instead of 0 (see ``priors.py``); they are never targets.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from cslnb.losses.ce import CrossEntropyLoss
from cslnb.losses.priors import COUNT_FLOOR
from cslnb.losses.weighting import ClassWeights


def weighted_softmax_weights(class_counts: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """``w_j = 1 - log(p_j / max_k p_k)`` with ``p_j = n_j / N`` (float32, shape (C,))."""
    counts = torch.as_tensor(class_counts, dtype=torch.float64)
    if counts.sum() <= 0:
        raise ValueError("class_counts must contain at least one non-empty class")
    prior = counts / counts.sum()
    relative = (prior / prior.max()).clamp_min(COUNT_FLOOR)
    return (1.0 - relative.log()).float()


class WeightedSoftmaxLoss(CrossEntropyLoss):
    """Cross-entropy weighted by ``w_j = 1 - log p_j``."""

    def __init__(self, class_counts: Sequence[int]) -> None:
        super().__init__(class_counts, ClassWeights(weighted_softmax_weights(class_counts)))
