"""The device loader: epoch order, batched crop/flip augmentation, normalisation."""

from __future__ import annotations

import pytest
import torch

from cslnb.data import CIFAR_MEAN, CIFAR_STD, GPULoader, ImageArrays

MEAN = torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1)
STD = torch.tensor(CIFAR_STD).view(1, 3, 1, 1)


def _normalised(pixels: torch.Tensor) -> torch.Tensor:
    return (pixels.float() / 255 - MEAN) / STD


def _pixels(images: torch.Tensor) -> torch.Tensor:
    return (images * STD + MEAN).mul(255).round()


def _indexed(n: int, size: int = 8) -> ImageArrays:
    """Constant images whose channels 0/1 hold ``index % 256`` / ``index // 256``."""
    index = torch.arange(n)
    images = torch.zeros(n, 3, size, size, dtype=torch.uint8)
    images[:, 0] = (index % 256).view(-1, 1, 1).to(torch.uint8)
    images[:, 1] = (index // 256).view(-1, 1, 1).to(torch.uint8)
    return ImageArrays(images, index % 10)


def _decode_index(batch: torch.Tensor) -> torch.Tensor:
    centre = _pixels(batch)[:, :, batch.shape[-2] // 2, batch.shape[-1] // 2]
    return (centre[:, 0] + 256 * centre[:, 1]).long()


def test_shapes_dtypes_range_and_len() -> None:
    arrays = ImageArrays(
        torch.randint(0, 256, (50, 3, 32, 32), dtype=torch.uint8), torch.arange(50)
    )
    loader = GPULoader(arrays, 16, train=True, device="cpu")
    assert len(loader) == 4
    assert loader.pad == 4
    batches = list(loader)
    assert [len(labels) for _, labels in batches] == [16, 16, 16, 2]
    for images, labels in batches:
        assert images.dtype == torch.float32
        assert images.shape[1:] == (3, 32, 32)
        assert labels.dtype == torch.int64
        low, high = (-MEAN / STD).view(-1), ((1 - MEAN) / STD).view(-1)
        per_channel = images.transpose(0, 1).reshape(3, -1)
        assert (per_channel.min(1).values >= low - 1e-5).all()
        assert (per_channel.max(1).values <= high + 1e-5).all()


def test_drop_last() -> None:
    loader = GPULoader(_indexed(50), 16, train=True, drop_last=True)
    assert len(loader) == 3
    assert [len(labels) for _, labels in loader] == [16, 16, 16]


def test_epoch_covers_every_sample_once() -> None:
    """Constant images survive crop (pad < size / 2 keeps the centre) and flip unchanged."""
    loader = GPULoader(_indexed(300), 32, train=True, pad=3)
    loader.set_epoch(2)
    seen = []
    for images, labels in loader:
        index = _decode_index(images)
        assert torch.equal(labels, index % 10)
        seen.append(index)
    seen = torch.cat(seen)
    assert sorted(seen.tolist()) == list(range(300))
    assert not torch.equal(seen, torch.arange(300))  # shuffled


def test_same_seed_and_epoch_reproduce_other_epochs_differ() -> None:
    arrays = ImageArrays(torch.randint(0, 256, (40, 3, 8, 8), dtype=torch.uint8), torch.arange(40))

    def epoch(seed: int, e: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        loader = GPULoader(arrays, 16, train=True, seed=seed)
        loader.set_epoch(e)
        return list(loader)

    first, again = epoch(0, 5), epoch(0, 5)
    for (x1, y1), (x2, y2) in zip(first, again, strict=True):
        assert torch.equal(x1, x2)
        assert torch.equal(y1, y2)
    order = torch.cat([y for _, y in first])
    assert not torch.equal(order, torch.cat([y for _, y in epoch(0, 6)]))
    assert not torch.equal(order, torch.cat([y for _, y in epoch(1, 5)]))


def test_flip_happens_in_both_orientations() -> None:
    images = torch.zeros(64, 3, 8, 8, dtype=torch.uint8)
    images[..., :4] = 255  # bright left half
    loader = GPULoader(
        ImageArrays(images, torch.zeros(64, dtype=torch.int64)), 64, train=True, pad=0
    )
    (batch, _) = next(iter(loader))
    pixels = _pixels(batch)
    left_bright = (pixels[..., :4] == 255).all(dim=(1, 2, 3))
    right_bright = (pixels[..., 4:] == 255).all(dim=(1, 2, 3))
    assert torch.equal(left_bright, ~right_bright)
    assert 16 < int(left_bright.sum()) < 48


def test_crop_shifts_in_zero_padding() -> None:
    images = torch.full((256, 3, 32, 32), 255, dtype=torch.uint8)
    loader = GPULoader(ImageArrays(images, torch.zeros(256, dtype=torch.int64)), 256, train=True)
    (batch, _) = next(iter(loader))
    pixels = _pixels(batch)
    assert set(pixels.unique().tolist()) == {0.0, 255.0}
    zero_rows = (pixels == 0).all(dim=(1, 3)).sum(dim=1)  # fully padded rows per image
    zero_cols = (pixels == 0).all(dim=(1, 2)).sum(dim=1)
    assert set(zero_rows.tolist()) == set(zero_cols.tolist()) == {0, 1, 2, 3, 4}  # pad 4
    assert int((zero_rows + zero_cols > 0).sum()) > 128  # most crops are shifted
    # each output is a shifted copy: the bright block is a (32 - rows) x (32 - cols) rectangle
    bright = (pixels[:, 0] == 255).sum(dim=(1, 2))
    assert torch.equal(bright, (32 - zero_rows) * (32 - zero_cols))


def test_test_mode_is_ordered_and_only_normalised() -> None:
    arrays = ImageArrays(torch.randint(0, 256, (37, 3, 8, 8), dtype=torch.uint8), torch.arange(37))
    loader = GPULoader(arrays, 10, train=False)
    loader.set_epoch(3)
    images = torch.cat([x for x, _ in loader])
    labels = torch.cat([y for _, y in loader])
    assert torch.equal(labels, torch.arange(37))
    torch.testing.assert_close(images, _normalised(arrays.images), rtol=0, atol=1e-5)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        GPULoader(_indexed(4), 0, train=True)
    with pytest.raises(ValueError, match="pad"):
        GPULoader(_indexed(4), 2, train=True, pad=-1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu() -> None:
    arrays = ImageArrays(
        torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8), torch.arange(40)
    )
    cpu = list(GPULoader(arrays, 16, train=True, seed=4))
    cuda = list(GPULoader(arrays, 16, train=True, seed=4, device="cuda"))
    for (x1, y1), (x2, y2) in zip(cpu, cuda, strict=True):
        assert x2.is_cuda
        torch.testing.assert_close(x1, x2.cpu(), rtol=0, atol=1e-5)
        assert torch.equal(y1, y2.cpu())
