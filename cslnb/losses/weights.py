"""Per-class weights from training counts: Class-Balanced and inverse frequency.

Class-Balanced (Cui, Jia, Lin, Song and Belongie, 2019, "Class-Balanced Loss Based on
Effective Number of Samples"): the effective number of class j is
``E_j = (1 - β^{n_j}) / (1 - β)`` and ``w_j ∝ 1 / E_j = (1 - β) / (1 - β^{n_j})``.
Inverse frequency: ``w_j ∝ 1 / n_j``. Both are normalised so that ``Σ_j w_j = C``.

A class with no training sample would get an infinite weight; it is never a target, so it
gets weight 0 and the other classes share the total ``C``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def _as_counts(class_counts: Sequence[int] | torch.Tensor) -> torch.Tensor:
    counts = torch.as_tensor(class_counts, dtype=torch.float64).flatten()
    if counts.numel() < 1 or bool((counts < 0).any()):
        raise ValueError("class_counts must be a non-empty list of non-negative counts")
    if not bool((counts > 0).any()):
        raise ValueError("class_counts must contain at least one non-empty class")
    return counts


def _normalise(raw: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Zero the weights of empty classes and rescale the rest so the weights sum to C."""
    raw = torch.where(counts > 0, raw, torch.zeros_like(raw))
    return (raw * counts.numel() / raw.sum()).float()


def class_balanced_weights(
    class_counts: Sequence[int] | torch.Tensor, beta: float = 0.9999
) -> torch.Tensor:
    """``w_j = (1 - β) / (1 - β^{n_j})`` normalised to sum ``C`` (float32, shape (C,))."""
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must lie in [0, 1), got {beta}")
    counts = _as_counts(class_counts)
    effective = (1.0 - torch.pow(torch.full_like(counts, beta), counts)) / (1.0 - beta)
    return _normalise(1.0 / effective, counts)


def inverse_frequency_weights(class_counts: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """``w_j ∝ 1 / n_j`` normalised to sum ``C`` (float32, shape (C,))."""
    counts = _as_counts(class_counts)
    return _normalise(1.0 / counts, counts)
