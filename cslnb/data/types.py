"""Containers shared by every in-memory long-tailed dataset (CIFAR-LT and the synthetic one)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class ImageArrays:
    """A split held in memory: ``images`` uint8 (N, 3, H, W), ``labels`` int64 (N,)."""

    images: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4 or self.images.shape[1] != 3:
            raise ValueError(
                f"images must be uint8 of shape (N, 3, H, W), got {self.images.dtype} "
                f"{tuple(self.images.shape)}"
            )
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError(
                f"labels must have shape ({self.images.shape[0]},), got {tuple(self.labels.shape)}"
            )

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass
class LongTailArrays:
    """A long-tailed training split and a balanced test split, both in memory.

    ``class_counts[c]`` is the number of training images of class ``c``; ``source`` names the
    kind of source the pixels came from (``torchvision``, ``image-folder (lossy JPEG copy)`` for
    the offline JPEG copy, ``synthetic``), never a path, so that records and plots can say so;
    ``fingerprint`` identifies the training data by content
    (:func:`cslnb.data.fingerprint.fingerprint_arrays`; empty when not computed).
    """

    name: str
    class_names: list[str]
    class_counts: list[int]
    train: ImageArrays
    test: ImageArrays
    source: str
    meta: dict[str, object] = field(default_factory=dict)
    fingerprint: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)
