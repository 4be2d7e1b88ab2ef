"""Tiny-ImageNet-LT and ImageNet-LT on fake folder trees and split files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cslnb.data import (
    ImageNetLT,
    TinyImageNetLT,
    large_eval_transform,
    large_train_transform,
    long_tail_counts,
)

WNIDS = ["n03", "n01", "n02"]  # deliberately unsorted in wnids.txt
TRAIN_PER_CLASS = 6


@pytest.fixture
def tiny_root(tmp_path: Path, write_image) -> Path:
    root = tmp_path / "tiny-imagenet-200"
    root.mkdir()
    (root / "wnids.txt").write_text("\n".join(WNIDS) + "\n")
    for wnid in WNIDS:
        for i in range(TRAIN_PER_CLASS):
            write_image(
                root / "train" / wnid / "images" / f"{wnid}_{i}.JPEG", np.full((8, 8, 3), i)
            )
    lines = []
    for k, wnid in enumerate(["n02", "n01", "n03", "n01", "n03", "n02"]):
        write_image(root / "val" / "images" / f"val_{k}.JPEG", np.zeros((8, 8, 3)))
        lines.append(f"val_{k}.JPEG\t{wnid}\t0\t0\t7\t7")
    (root / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    return root


def test_tiny_imagenet_lt_train_selection(tiny_root: Path) -> None:
    ds = TinyImageNetLT(tiny_root, split="train", ratio=3, seed=0)
    assert ds.classes == ["n01", "n02", "n03"]
    counts = long_tail_counts(TRAIN_PER_CLASS, 3, 3)
    assert ds.class_counts == counts == [6, 3, 2]
    assert ds.targets == [0] * 6 + [1] * 3 + [2] * 2
    rng = np.random.RandomState(0)  # LDAM-DRW: per class, files sorted by name, one shuffle each
    expected = []
    for wnid, n_c in zip(ds.classes, counts, strict=True):
        order = np.arange(TRAIN_PER_CLASS)
        rng.shuffle(order)
        expected += [f"{wnid}_{i}.JPEG" for i in order[:n_c]]
    assert [path.name for path, _ in ds.samples] == expected
    image, label = ds[6]
    assert label == 1
    assert image.mode == "RGB"
    assert image.size == (8, 8)


def test_tiny_imagenet_lt_val_split_and_transform(tiny_root: Path) -> None:
    ds = TinyImageNetLT(tiny_root, split="val", transform=large_eval_transform(16))
    assert ds.targets == [0, 0, 1, 1, 2, 2]
    assert [path.name for path, _ in ds.samples][:2] == ["val_1.JPEG", "val_3.JPEG"]
    assert ds.class_counts == long_tail_counts(TRAIN_PER_CLASS, 3, 100)
    assert TinyImageNetLT(tiny_root.parent, split="val").samples == ds.samples  # parent folder
    image, label = ds[0]
    assert isinstance(image, torch.Tensor)
    assert image.shape == (3, 16, 16)
    assert label == 0


def test_tiny_imagenet_errors(tiny_root: Path) -> None:
    with pytest.raises(ValueError, match="unknown split 'test'"):
        TinyImageNetLT(tiny_root, split="test")
    annotations = tiny_root / "val" / "val_annotations.txt"
    annotations.write_text(annotations.read_text() + "val_9.JPEG n99\t0\n")
    with pytest.raises(ValueError, match="line 7"):
        TinyImageNetLT(tiny_root, split="val")
    (tiny_root / "wnids.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"wnids\.txt"):
        TinyImageNetLT(tiny_root)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        TinyImageNetLT(tiny_root.parent / "nowhere")


@pytest.fixture
def imagenet_lt(tmp_path: Path, write_image) -> tuple[Path, Path]:
    images, splits = tmp_path / "imagenet", tmp_path / "splits"
    splits.mkdir()
    train = [("n00a", 0, 4), ("n00b", 1, 2), ("n00c", 2, 1)]
    lines = []
    for wnid, label, n in train:
        for i in range(n):
            rel = f"train/{wnid}/{wnid}_{i}.JPEG"
            write_image(images / rel, np.full((10, 12, 3), 40 * label))
            lines.append(f"{rel} {label}")
    (splits / "ImageNet_LT_train.txt").write_text("\n".join(lines) + "\n")
    for split in ("val", "test"):
        rels = [f"val/{split}_{k}.JPEG" for k in range(3)]
        for rel in rels:
            write_image(images / rel, np.zeros((10, 12, 3)))
        (splits / f"ImageNet_LT_{split}.txt").write_text(
            "".join(f"{rel} {k}\n" for k, rel in enumerate(rels))
        )
    return images, splits


def test_imagenet_lt_splits(imagenet_lt: tuple[Path, Path]) -> None:
    images, splits = imagenet_lt
    train = ImageNetLT(images, split="train", split_dir=splits, transform=large_train_transform(8))
    assert train.targets == [0, 0, 0, 0, 1, 1, 2]
    assert train.class_counts == [4, 2, 1]
    assert train.classes == ["n00a", "n00b", "n00c"]
    image, label = train[4]
    assert image.shape == (3, 8, 8)
    assert label == 1
    test = ImageNetLT(images, split="test", split_dir=splits)
    assert test.targets == [0, 1, 2]
    assert test.class_counts == [4, 2, 1]
    assert test.samples[2][0] == images / "val" / "test_2.JPEG"


def test_imagenet_lt_errors(imagenet_lt: tuple[Path, Path]) -> None:
    images, splits = imagenet_lt
    val_file = splits / "ImageNet_LT_val.txt"
    val_file.write_text(val_file.read_text() + "\nval/odd.JPEG\n")
    with pytest.raises(ValueError, match=r"ImageNet_LT_val\.txt, line 5: expected"):
        ImageNetLT(images, split="val", split_dir=splits)
    val_file.write_text("val/val_0.JPEG 7\n")
    with pytest.raises(ValueError, match="label 7"):
        ImageNetLT(images, split="val", split_dir=splits)
    with pytest.raises(FileNotFoundError, match=r"ImageNet_LT_train\.txt"):
        ImageNetLT(images, split="train")  # split files are not under the image root
    with pytest.raises(FileNotFoundError, match="ImageNet image root"):
        ImageNetLT(images / "missing", split_dir=splits)
