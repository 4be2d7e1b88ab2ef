"""Accuracy on the balanced test split: overall, per class, and per many/medium/few group, and
how often each class is predicted there."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from cslnb.losses.csl_common import prediction_counts as class_counts


def per_class_accuracy(
    predictions: torch.Tensor, labels: torch.Tensor, num_classes: int
) -> list[float]:
    """Accuracy of each class in percent, ``100 * correct_c / total_c`` (NaN: absent class)."""
    correct = torch.bincount(labels[predictions == labels], minlength=num_classes).double()
    total = torch.bincount(labels, minlength=num_classes).double()
    return (100.0 * correct / total).tolist()


def prediction_counts(predictions: torch.Tensor, num_classes: int) -> list[int]:
    """How many test samples are predicted as each class, ``#{n : argmax_j z_nj = c}``.

    A class with count 0 is never predicted: its accuracy is 0 whatever the model learnt about
    it, the mark of a collapse that a low accuracy alone does not distinguish from confusion.
    """
    return [int(count) for count in class_counts(predictions, num_classes).tolist()]


def overall_accuracy(predictions: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy in percent over all test samples."""
    return 100.0 * float((predictions == labels).double().mean())


def group_accuracy(per_class: Sequence[float], groups: Sequence[str]) -> dict[str, float | None]:
    """Mean per-class accuracy of the many / medium / few groups (None for an empty group).

    On a balanced test split this equals the accuracy over the group's test samples.
    """
    result: dict[str, float | None] = {}
    for group in ("many", "medium", "few"):
        values = [acc for acc, g in zip(per_class, groups, strict=True) if g == group]
        result[group] = sum(values) / len(values) if values else None
    return result
