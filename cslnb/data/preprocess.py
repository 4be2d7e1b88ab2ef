"""One-off reductions of an in-memory split that the run profiles ask for (size, test subset)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cslnb.data.types import ImageArrays

_RESIZE_CHUNK = 4096


def resize_images(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize uint8 ``(N, 3, H, W)`` images to ``(N, 3, size, size)`` once, on load.

    Bilinear with antialiasing (so down-sampling averages rather than aliases), rounded back to
    uint8; processed in chunks to bound the float memory. Same size: returned unchanged.
    """
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise ValueError(f"expected uint8 (N, 3, H, W) images, got {images.dtype} {images.shape}")
    if tuple(images.shape[-2:]) == (size, size):
        return images
    chunks = [
        F.interpolate(
            chunk.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )
        .round_()
        .clamp_(0, 255)
        .to(torch.uint8)
        for chunk in images.split(_RESIZE_CHUNK)
    ]
    return torch.cat(chunks)


def take_per_class(arrays: ImageArrays, k: int | None) -> ImageArrays:
    """The first ``k`` samples of each class in split order (all of a class with fewer).

    The kept samples stay in their original relative order. ``k=None`` returns ``arrays``.
    """
    if k is None:
        return arrays
    if k < 0:
        raise ValueError(f"k must be >= 0 or None, got {k}")
    labels = arrays.labels
    order = torch.argsort(labels, stable=True)
    sorted_labels = labels[order]
    class_start = torch.searchsorted(sorted_labels, sorted_labels, side="left")
    rank = torch.arange(len(labels)) - class_start
    keep = order[rank < k].sort().values
    return ImageArrays(images=arrays.images[keep], labels=labels[keep])
