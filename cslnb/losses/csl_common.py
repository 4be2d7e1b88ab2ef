"""Small helpers shared by the two readings of the CSL loss (see :mod:`cslnb.losses.csl`)."""

from __future__ import annotations

import torch


def compute_dtype(tensor: torch.Tensor) -> torch.dtype:
    """At least float32: fp16/bf16 (autocast) inputs are up-cast, float64 stays float64."""
    return torch.promote_types(tensor.dtype, torch.float32)


def prediction_counts(predictions: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``m_i = #{b : predictions[b] = i}`` as float64, shape (C,): ``torch.bincount`` without
    its host synchronisation (on CUDA it reads the largest value to size its output)."""
    counts = torch.zeros(num_classes, dtype=torch.float64, device=predictions.device)
    ones = torch.ones(predictions.shape, dtype=torch.float64, device=predictions.device)
    return counts.index_add_(0, predictions, ones)


def one_hot_distance_sums(values: torch.Tensor) -> torch.Tensor:
    """``d_i = Σ_b Σ_c (values[b, c] − [c = i])²`` for every class ``i``, shape (C,).

    Uses ``Σ_c (v_c − [c = i])² = (‖v‖² − v_i²) + (v_i − 1)²`` so memory is O(B·C), not
    O(B·C²). The first bracket is the sum of the squares of the other entries; it is clamped
    at 0 per sample so float rounding can never make a distance negative.
    """
    squares = values * values
    others = (squares.sum(dim=1, keepdim=True) - squares).clamp_min(0.0)
    return (others + (values - 1.0) ** 2).sum(dim=0)
