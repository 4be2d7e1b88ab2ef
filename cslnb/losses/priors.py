"""Logarithms of class counts and priors, safe for classes with no training sample.

Counts are clamped at ``COUNT_FLOOR`` before the logarithm, so an empty class gets a large
negative but finite offset (log 1e-12 ≈ -27.6) instead of -inf, and no NaN or inf reaches the
loss. Such a class is never a target, and its logit is merely pushed down.
"""

from __future__ import annotations

import torch

COUNT_FLOOR = 1e-12


def log_counts(class_counts: torch.Tensor) -> torch.Tensor:
    """``log(max(n_j, COUNT_FLOOR))`` in float32."""
    return class_counts.float().clamp_min(COUNT_FLOOR).log()


def log_prior(class_counts: torch.Tensor) -> torch.Tensor:
    """``log(max(n_j / N, COUNT_FLOOR))`` in float32, with ``N = sum_j n_j``."""
    counts = class_counts.float()
    return (counts / counts.sum()).clamp_min(COUNT_FLOOR).log()
