"""The synthetic long-tailed dataset, the profile helpers and ``build_in_memory_dataset``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cslnb.data.in_memory as in_memory
from cslnb.data import (
    ImageArrays,
    LongTailArrays,
    build_in_memory_dataset,
    long_tail_counts,
    make_synthetic_lt,
    resize_images,
    take_per_class,
)
from cslnb.profiles import get_profile


def test_synthetic_shapes_counts_and_names() -> None:
    data = make_synthetic_lt(num_classes=5, n_max=40, ratio=10, image_size=12, test_per_class=7)
    assert data.class_counts == long_tail_counts(40, 5, 10) == [40, 22, 12, 7, 4]
    assert data.class_names == ["class0", "class1", "class2", "class3", "class4"]
    assert data.source == "synthetic"
    assert data.train.images.shape == (85, 3, 12, 12)
    assert np.bincount(data.train.labels.numpy()).tolist() == data.class_counts
    assert np.bincount(data.test.labels.numpy()).tolist() == [7] * 5
    assert data.meta["ratio"] == 10


def test_synthetic_is_seeded() -> None:
    a, b = make_synthetic_lt(seed=1), make_synthetic_lt(seed=1)
    assert torch.equal(a.train.images, b.train.images)
    assert not torch.equal(a.train.images, make_synthetic_lt(seed=2).train.images)


def test_synthetic_classes_are_separable() -> None:
    """A nearest-class-mean classifier on raw pixels already beats chance by far."""
    data = make_synthetic_lt(num_classes=10, n_max=100, ratio=10, image_size=16)
    x_train = data.train.images.flatten(1).float()
    means = torch.stack([x_train[data.train.labels == c].mean(0) for c in range(10)])
    predicted = torch.cdist(data.test.images.flatten(1).float(), means).argmin(1)
    assert (predicted == data.test.labels).float().mean() > 0.8


def test_resize_images() -> None:
    images = torch.zeros(3, 3, 32, 32, dtype=torch.uint8)
    images[:, :, :16] = 200
    small = resize_images(images, 16)
    assert small.dtype == torch.uint8
    assert small.shape == (3, 3, 16, 16)
    assert (small[:, :, :7] == 200).all()
    assert (small[:, :, 9:] == 0).all()
    assert resize_images(images, 32) is images


def test_take_per_class_keeps_split_order() -> None:
    labels = torch.tensor([2, 0, 2, 1, 0, 2, 0, 1])
    arrays = ImageArrays(
        torch.arange(8, dtype=torch.uint8).view(8, 1, 1, 1).expand(8, 3, 1, 1), labels
    )
    kept = take_per_class(arrays, 2)
    assert kept.labels.tolist() == [2, 0, 2, 1, 0, 1]
    assert kept.images[:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4, 7]
    assert take_per_class(arrays, None) is arrays
    assert len(take_per_class(arrays, 0)) == 0


def test_ci_profile_gives_synthetic_with_the_cifar_class_count() -> None:
    profile = get_profile("ci")
    data = build_in_memory_dataset("cifar10", 100, "exp", 0, profile)
    assert data.source == "synthetic"
    assert data.num_classes == 10
    assert data.train.images.shape[-1] == profile.image_size
    assert np.bincount(data.test.labels.numpy()).tolist() == [profile.test_per_class] * 10
    assert data.class_counts[0] == 200
    assert build_in_memory_dataset("cifar100", 10, "exp", 0, profile).num_classes == 100


def test_real_profile_resizes_and_cuts_the_test_split(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_cifar(name: str, **kwargs: object) -> LongTailArrays:
        images = torch.randint(0, 256, (30, 3, 32, 32), dtype=torch.uint8)
        split = ImageArrays(images, torch.arange(30) % 10)
        return LongTailArrays(name, [str(c) for c in range(10)], [3] * 10, split, split, "fake",
                              {"ratio": kwargs["ratio"]})  # fmt: skip

    monkeypatch.setattr(in_memory, "build_cifar_lt", fake_cifar)
    profile = get_profile("quick")
    data = build_in_memory_dataset("cifar10", 100, "exp", 0, profile)
    assert data.train.images.shape == (30, 3, 16, 16)
    assert len(data.test) == 10 * min(3, profile.test_per_class)
    assert data.meta == {"ratio": 100, "image_size": 16, "test_per_class": profile.test_per_class}
    assert data.source == "fake"


def test_unknown_in_memory_dataset() -> None:
    with pytest.raises(ValueError, match="cifar10, cifar100, synthetic"):
        build_in_memory_dataset("svhn", 100, "exp", 0, get_profile("ci"))
