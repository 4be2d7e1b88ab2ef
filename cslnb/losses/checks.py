"""Shape checks shared by the losses (clear errors instead of deep broadcasting failures) and
the one-hot label mask."""

from __future__ import annotations

import torch


def check_batch(logits: torch.Tensor, labels: torch.Tensor, num_classes: int) -> None:
    """Raise ValueError/TypeError unless ``logits`` is (B, C) and ``labels`` is (B,) integer."""
    if logits.ndim != 2 or logits.shape[1] != num_classes:
        raise ValueError(
            f"logits must have shape (batch, {num_classes}), got {tuple(logits.shape)}"
        )
    if labels.ndim != 1 or labels.shape[0] != logits.shape[0]:
        raise ValueError(
            f"labels must have shape ({logits.shape[0]},) to match the logits, "
            f"got {tuple(labels.shape)}"
        )
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise TypeError(f"labels must be an integer tensor, got {labels.dtype}")


def check_features(features: torch.Tensor | None, batch_size: int) -> torch.Tensor:
    """Return ``features`` after checking it is a (B, D) tensor; None raises ValueError."""
    if features is None:
        raise ValueError("this loss needs the pooled penultimate features: pass features=")
    if features.ndim != 2 or features.shape[0] != batch_size:
        raise ValueError(f"features must have shape ({batch_size}, D), got {tuple(features.shape)}")
    return features


def label_mask(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Boolean (B, C) mask with ``mask[b, c] = (labels[b] == c)``: ``F.one_hot(...).bool()``
    without the range check that ``F.one_hot`` makes by reading the labels' minimum and maximum
    back to the host (a synchronisation on every call on devices that check)."""
    classes = torch.arange(num_classes, device=labels.device)
    return labels.unsqueeze(1) == classes
