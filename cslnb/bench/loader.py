"""Section 3: ``GPULoader`` against a torchvision ``DataLoader`` with per-sample transforms.

Both serve the same synthetic uint8 32x32 images (labels in CIFAR-10-LT IR100 proportions) in
shuffled, augmented batches of 128 on the bench device. The baseline is the classic CIFAR
recipe as torchvision's ``CIFAR10`` dataset runs it: per image ``PIL.Image.fromarray``, then
``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip``, ``ToTensor``, ``Normalize``, batched by
a ``DataLoader`` (``num_workers`` 0 and, in the full bench, 2) and moved to the device. Epochs
of all loaders are interleaved; images per second is the median over epochs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from cslnb.bench.settings import EPOCH_BATCH, BenchSettings, long_tail_labels
from cslnb.bench.timing import medians, round_robin
from cslnb.data.gpu_loader import CIFAR_MEAN, CIFAR_STD, GPULoader
from cslnb.data.types import ImageArrays

GPU_LOADER = "gpu_loader"


def synthetic_images(n: int) -> ImageArrays:
    """``n`` random uint8 (3, 32, 32) images with IR100-distributed labels."""
    gen = torch.Generator().manual_seed(0)
    labels = long_tail_labels()
    labels = labels[torch.randperm(len(labels), generator=gen)][:n]
    images = torch.randint(0, 256, (len(labels), 3, 32, 32), dtype=torch.uint8, generator=gen)
    return ImageArrays(images, labels)


class PerSampleCifar(Dataset):
    """HWC uint8 images transformed one by one from PIL, as torchvision's ``CIFAR10``."""

    def __init__(self, arrays: ImageArrays) -> None:
        self.images = np.ascontiguousarray(arrays.images.permute(0, 2, 3, 1).numpy())
        self.labels = arrays.labels.tolist()
        self.transform = transforms.Compose(
            [
                transforms.RandomCrop(32, padding=4),
                transforms.RandomHorizontalFlip(),
                transforms.ToTensor(),
                transforms.Normalize(CIFAR_MEAN, CIFAR_STD),
            ]
        )

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(Image.fromarray(self.images[index])), self.labels[index]


def _drain(batches: Iterable[tuple[torch.Tensor, torch.Tensor]], device: torch.device) -> None:
    """Consume one epoch of batches, each moved to ``device``."""
    for images, labels in batches:
        images.to(device, non_blocking=True)
        labels.to(device, non_blocking=True)


def gpu_loader_epoch(loader: GPULoader, device: torch.device) -> Callable[[], None]:
    """A closure running the next training epoch of ``loader``."""
    epochs = itertools.count()

    def run() -> None:
        loader.set_epoch(next(epochs))
        _drain(loader, device)

    return run


def dataloader_epoch(
    dataset: PerSampleCifar, workers: int, device: torch.device
) -> Callable[[], None]:
    """A closure running one shuffled epoch of a ``DataLoader`` with ``workers`` workers."""

    def run() -> None:
        loader = DataLoader(
            dataset,
            batch_size=EPOCH_BATCH,
            shuffle=True,
            num_workers=workers,
            pin_memory=device.type == "cuda",
        )
        _drain(loader, device)

    return run


def run_loader(settings: BenchSettings, device: torch.device) -> dict[str, Any]:
    """Measure section 3; see the module docstring."""
    arrays = synthetic_images(settings.loader_images)
    dataset = PerSampleCifar(arrays)
    tasks = {
        GPU_LOADER: gpu_loader_epoch(
            GPULoader(arrays, EPOCH_BATCH, train=True, device=device), device
        )
    }
    for workers in settings.loader_workers:
        tasks[f"dataloader_workers_{workers}"] = dataloader_epoch(dataset, workers, device)
    epoch_s = medians(
        round_robin(tasks, device, min_reps=settings.loader_epochs, max_reps=settings.loader_epochs)
    )
    images_per_s = {name: len(arrays) / seconds for name, seconds in epoch_s.items()}
    gpu_rate = images_per_s[GPU_LOADER]
    return {
        "images": len(arrays),
        "batch_size": EPOCH_BATCH,
        "epochs": settings.loader_epochs,
        "images_per_s": images_per_s,
        "speedup": {
            name: gpu_rate / value for name, value in images_per_s.items() if name != GPU_LOADER
        },
    }
