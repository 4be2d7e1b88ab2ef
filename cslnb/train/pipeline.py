"""The trainer's view of a dataset: seeded training batches per epoch and the test batches.

CIFAR-LT and the synthetic set live in memory and go through the GPU-resident loader (the whole
uint8 split on the device, augmentation as batched tensor ops). Tiny-ImageNet-LT and ImageNet-LT
go through torchvision transforms and a ``DataLoader``. Under ``torchrun`` each rank trains on its
own share of every epoch's batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler

from cslnb.data import (
    CIFAR_MEAN,
    CIFAR_STD,
    GPULoader,
    ImageNetLT,
    TinyImageNetLT,
    build_in_memory_dataset,
    large_transforms,
)
from cslnb.data.fingerprint import fingerprint_files
from cslnb.profiles import Profile
from cslnb.train.config import FOLDER_DATASETS, RunConfig, TrainOptions
from cslnb.train.distributed import DistInfo
from cslnb.train.validation import check_run_config

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]
EVAL_BATCH_SIZE = 1000


@dataclass
class DataPipeline:
    """Training batches of an epoch (``train_batches(epoch)``) and the test batches.

    ``source`` is the kind of data source (never a path) and ``fingerprint`` a content digest of
    the training data (:mod:`cslnb.data.fingerprint`); run records store both. For
    Tiny-ImageNet-LT the source names the tree's kind (``image folders (full tree)`` or
    ``image folders (long-tail tree)``) and the fingerprint covers the long-tailed training files
    actually used, so runs on either kind of tree with the same images share it.
    """

    name: str
    source: str
    fingerprint: str
    class_names: list[str]
    class_counts: list[int]
    num_test: int
    train_batches: Callable[[int], Batches]
    test_batches: Callable[[], Batches]


def build_pipeline(
    config: RunConfig,
    profile: Profile,
    device: torch.device,
    batch_size: int,
    options: TrainOptions,
    dist_info: DistInfo,
) -> DataPipeline:
    """The pipeline for ``config.dataset`` under ``profile``; the whole configuration is checked
    first (:func:`check_run_config`), before any data is read."""
    check_run_config(config)
    if config.dataset in FOLDER_DATASETS:
        return _folder_pipeline(config, profile, device, batch_size, options.data_root, dist_info)
    return _in_memory_pipeline(config, profile, device, batch_size, options, dist_info)


def _in_memory_pipeline(
    config: RunConfig,
    profile: Profile,
    device: torch.device,
    batch_size: int,
    options: TrainOptions,
    dist_info: DistInfo,
) -> DataPipeline:
    data = build_in_memory_dataset(
        config.dataset,
        ratio=config.ratio,
        imb_type=config.imb_type,
        seed=config.subset_seed,
        profile=profile,
        root=options.data_root,
        source=config.source,
        download=options.download,
        progress=options.progress and dist_info.is_main,
    )
    train_loader = GPULoader(
        data.train,
        batch_size,
        train=True,
        device=device,
        mean=CIFAR_MEAN,
        std=CIFAR_STD,
        seed=config.seed,
        pad=profile.crop_padding,
    )
    test_loader = GPULoader(
        data.test, EVAL_BATCH_SIZE, train=False, device=device, mean=CIFAR_MEAN, std=CIFAR_STD
    )

    def train_batches(epoch: int) -> Batches:
        train_loader.set_epoch(epoch)
        return _shard(train_loader, len(train_loader), dist_info)

    return DataPipeline(
        name=data.name,
        source=data.source,
        fingerprint=data.fingerprint,
        class_names=list(data.class_names),
        class_counts=list(data.class_counts),
        num_test=len(data.test),
        train_batches=train_batches,
        test_batches=lambda: test_loader,
    )


def _shard(batches: Batches, count: int, dist_info: DistInfo) -> Iterator:
    """Every ``world_size``-th batch for this rank; equal counts on every rank."""
    if not dist_info.enabled:
        yield from batches
        return
    usable = count - count % dist_info.world_size
    for index, batch in enumerate(batches):
        if index >= usable:
            break
        if index % dist_info.world_size == dist_info.rank:
            yield batch


def _folder_pipeline(
    config: RunConfig,
    profile: Profile,
    device: torch.device,
    batch_size: int,
    data_root: Path | None,
    dist_info: DistInfo,
) -> DataPipeline:
    train_tf, eval_tf = large_transforms(profile.large_augmentation, profile.large_image_size)
    if config.dataset == "tiny-imagenet":
        train_set: Dataset = TinyImageNetLT(
            data_root,
            split="train",
            ratio=config.ratio,
            imb_type=config.imb_type,
            seed=config.subset_seed,
            transform=train_tf,
        )
        test_set: Dataset = TinyImageNetLT(data_root, split="val", transform=eval_tf)
        name = "tiny-imagenet-lt"
        source = f"image folders ({train_set.tree_kind} tree)"
    else:
        train_set = ImageNetLT(data_root, split="train", transform=train_tf)
        test_set = ImageNetLT(data_root, split="test", transform=eval_tf)
        name = "imagenet-lt"
        source = "image folders"
    workers = min(8, max(1, (torch.get_num_threads() or 2) - 1))
    pin = device.type == "cuda"

    def train_batches(epoch: int) -> Batches:
        generator = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
        if dist_info.enabled:
            sampler = DistributedSampler(
                train_set, dist_info.world_size, dist_info.rank, seed=config.seed, drop_last=True
            )
            sampler.set_epoch(epoch)
        else:
            sampler = RandomSampler(train_set, generator=generator)
        loader = DataLoader(
            train_set, batch_size, sampler=sampler, num_workers=workers, pin_memory=pin
        )
        return _to_device(loader, device)

    def test_batches() -> Batches:
        loader = DataLoader(test_set, batch_size, num_workers=workers, pin_memory=pin)
        return _to_device(loader, device)

    return DataPipeline(
        name=name,
        source=source,
        fingerprint=fingerprint_files([path for path, _ in train_set.samples]),
        class_names=list(train_set.classes),
        class_counts=list(train_set.class_counts),
        num_test=len(test_set),
        train_batches=train_batches,
        test_batches=test_batches,
    )


def _to_device(loader: DataLoader, device: torch.device) -> Iterator:
    for images, labels in loader:
        yield images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
