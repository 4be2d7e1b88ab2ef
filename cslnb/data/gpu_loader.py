"""A data loader that keeps a whole uint8 split on the device and augments batches there.

Training augmentation is the standard CIFAR recipe (He et al. 2016, as used by LDAM-DRW, Cao et
al. 2019): random crop of the original size from the image zero-padded by ``pad`` pixels on
each side, horizontal flip with probability 1/2, then per-channel normalisation
``x = (pixel / 255 - mean) / std``. Test mode only normalises, in split order.

Usage::

    loader = GPULoader(arrays, 128, train=True, device="cuda")
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        for images, labels in loader:
            ...

The shuffling order and every augmentation draw of an epoch come from a ``torch.Generator``
seeded by ``(seed, epoch)``, so any epoch is reproducible on its own: resuming at epoch ``e``
needs ``set_epoch(e)``, no saved generator state. Draws are made on the CPU, so CPU and CUDA
give identical batches.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from cslnb.data.types import ImageArrays

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """A CPU generator whose state depends only on ``(seed, epoch)`` (mixed by numpy's
    ``SeedSequence`` so that nearby pairs give unrelated streams)."""
    state = np.random.SeedSequence([seed, epoch]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed((int(state[0]) << 31) ^ int(state[1]))


class GPULoader:
    """Batches ``(float32 (B, 3, H, W) normalised images, int64 (B,) labels)`` on ``device``.

    ``train=True`` shuffles and augments (crop with zero padding ``pad``, default ``H // 8`` =
    4 px at 32x32, ``pad=0`` disables it; flip); ``train=False`` yields the split in order,
    normalised only. ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(
        self,
        arrays: ImageArrays,
        batch_size: int,
        *,
        train: bool,
        device: torch.device | str = "cpu",
        mean: Sequence[float] = CIFAR_MEAN,
        std: Sequence[float] = CIFAR_STD,
        seed: int = 0,
        drop_last: bool = False,
        pad: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.device = torch.device(device)
        self.images = arrays.images.to(self.device)
        self.labels = arrays.labels.to(self.device, dtype=torch.int64)
        self.batch_size = batch_size
        self.train = train
        self.seed = seed
        self.drop_last = drop_last
        self.pad = self.images.shape[-1] // 8 if pad is None else pad
        if self.pad < 0:
            raise ValueError(f"pad must be >= 0, got {self.pad}")
        self._scale = 1.0 / (255.0 * torch.tensor(std, device=self.device).view(1, -1, 1, 1))
        self._shift = torch.tensor(mean, device=self.device).view(1, -1, 1, 1) * 255.0
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order and augmentation the next iteration uses."""
        self.epoch = epoch

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 pixels to ``(pixel / 255 - mean) / std`` in float32."""
        return (images.float() - self._shift) * self._scale

    def _crop_flip(
        self, images: torch.Tensor, offsets: torch.Tensor, flips: torch.Tensor
    ) -> torch.Tensor:
        """Per-sample crop at ``offsets`` (row, col) of the zero-padded batch, then flip."""
        if self.pad > 0:
            h, w = images.shape[-2:]
            padded = torch.nn.functional.pad(images, (self.pad,) * 4)
            rows = offsets[:, 0, None] + torch.arange(h, device=self.device)  # (B, H)
            cols = offsets[:, 1, None] + torch.arange(w, device=self.device)  # (B, W)
            batch = torch.arange(len(images), device=self.device)[:, None, None, None]
            chans = torch.arange(images.shape[1], device=self.device)[None, :, None, None]
            images = padded[batch, chans, rows[:, None, :, None], cols[:, None, None, :]]
        return torch.where(flips[:, None, None, None], images.flip(-1), images)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.labels)
        if self.train:
            gen = epoch_generator(self.seed, self.epoch)
            order = torch.randperm(n, generator=gen).to(self.device)
            offsets = torch.randint(0, 2 * self.pad + 1, (n, 2), generator=gen).to(self.device)
            flips = (torch.rand(n, generator=gen) < 0.5).to(self.device)
        for b in range(len(self)):
            span = slice(b * self.batch_size, min((b + 1) * self.batch_size, n))
            if self.train:
                idx = order[span]
                images = self._crop_flip(self.images[idx], offsets[span], flips[span])
                yield self.normalise(images), self.labels[idx]
            else:
                yield self.normalise(self.images[span]), self.labels[span]
