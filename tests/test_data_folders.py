"""Tiny-ImageNet-LT and ImageNet-LT on fake folder trees and split files."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cslnb import paths
from cslnb.data import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ImageNetLT,
    TinyImageNetLT,
    TinyTreeError,
    large_eval_transform,
    large_train_transform,
    large_transforms,
    long_tail_counts,
)
from cslnb.data.fingerprint import fingerprint_files
from cslnb.data.tiny_imagenet_names import TINY_IMAGENET_NAMES, readable_class_names

WNIDS = ["n03", "n01", "n02"]  # deliberately unsorted in wnids.txt
TRAIN_PER_CLASS = 6
LT_COUNTS = [6, 3, 2]  # long_tail_counts(6, 3, ratio=3)
SHIPPED_ARCHIVE = "tiny-imagenet-200-lt-r100-s0.tar.gz"
SHIPPED_FINGERPRINT = "sha256:b53e7fcfe84aea2f1ad8430eac43ec713be797c17284ed43cf5406be49e830d2"


@pytest.fixture
def tiny_root(tmp_path: Path, write_image) -> Path:
    """A full fake tree: 6 training images per class, named as in the release."""
    root = tmp_path / "full" / "tiny-imagenet-200"
    root.mkdir(parents=True)
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


def lt_draw(seed: int = 0) -> list[str]:
    """File names of the ratio-3 long tail of the full fake tree, in LDAM-DRW draw order: per
    class (sorted wnids), files sorted by name, one RandomState(seed) shuffle each."""
    rng = np.random.RandomState(seed)
    names = []
    for wnid, n_c in zip(sorted(WNIDS), LT_COUNTS, strict=True):
        files = sorted(f"{wnid}_{i}.JPEG" for i in range(TRAIN_PER_CLASS))
        order = np.arange(TRAIN_PER_CLASS)
        rng.shuffle(order)
        names += [files[i] for i in order[:n_c]]
    return names


@pytest.fixture
def lt_root(tiny_root: Path, tmp_path: Path) -> Path:
    """A copy of the full fake tree that holds only the ratio-3, subset-seed-0 long tail."""
    root = tmp_path / "lt" / "tiny-imagenet-200"
    shutil.copytree(tiny_root, root)
    kept = set(lt_draw(0))
    for path in (root / "train").glob("*/images/*.JPEG"):
        if path.name not in kept:
            path.unlink()
    return root


def test_tiny_imagenet_lt_train_selection(tiny_root: Path) -> None:
    ds = TinyImageNetLT(tiny_root, split="train", ratio=3, seed=0, n_max=TRAIN_PER_CLASS)
    assert ds.tree_kind == "full"
    assert ds.classes == ["n01", "n02", "n03"]
    assert ds.class_counts == long_tail_counts(TRAIN_PER_CLASS, 3, 3) == LT_COUNTS
    assert ds.targets == [0] * 6 + [1] * 3 + [2] * 2
    assert [path.name for path, _ in ds.samples] == lt_draw(0)
    image, label = ds[6]
    assert label == 1
    assert image.mode == "RGB"
    assert image.size == (8, 8)


def test_a_long_tail_tree_is_read_as_it_is_in_the_order_of_the_draw(
    tiny_root: Path, lt_root: Path
) -> None:
    full = TinyImageNetLT(tiny_root, ratio=3, seed=0, n_max=TRAIN_PER_CLASS)
    cut = TinyImageNetLT(lt_root, ratio=3, seed=0, n_max=TRAIN_PER_CLASS)
    assert cut.tree_kind == "long-tail"
    assert cut.class_counts == LT_COUNTS
    on_disk = [len(list((lt_root / "train" / wnid / "images").iterdir())) for wnid in cut.classes]
    assert on_disk == LT_COUNTS
    assert [path.name for path, _ in cut.samples] == lt_draw(0)  # no second draw
    assert cut.targets == full.targets
    assert all(path.is_file() and path.is_relative_to(lt_root) for path, _ in cut.samples)
    files = [path for path, _ in cut.samples]
    assert fingerprint_files(files) == fingerprint_files([path for path, _ in full.samples])


def test_a_long_tail_tree_refuses_another_ratio_or_subset_seed(lt_root: Path) -> None:
    with pytest.raises(TinyTreeError, match=r"neither a full .* \(6 images in each of the 3 "):
        TinyImageNetLT(lt_root, ratio=2, n_max=TRAIN_PER_CLASS)
    with pytest.raises(
        TinyTreeError,
        match=r"11 images, 2 to 6 per class, and class n02 \(label 1\) has 3 where "
        r"that profile has 4\. Its counts fall from 6 to 2: a long tail cut for ratio 3 ",
    ):
        TinyImageNetLT(lt_root, ratio=2, n_max=TRAIN_PER_CLASS)
    with pytest.raises(TinyTreeError, match="not the images that subset seed 1 draws"):
        TinyImageNetLT(lt_root, ratio=3, seed=1, n_max=TRAIN_PER_CLASS)
    with pytest.raises(TinyTreeError, match=r"'step' long tail at ratio 3 \(6 ... 2 images"):
        TinyImageNetLT(lt_root, ratio=3, imb_type="step", n_max=TRAIN_PER_CLASS)


def test_a_partial_tree_is_refused_with_what_it_holds(tiny_root: Path) -> None:
    (tiny_root / "train" / "n02" / "images" / "n02_4.JPEG").unlink()
    with pytest.raises(TinyTreeError, match="it holds 17 images, 5 to 6 per class"):
        TinyImageNetLT(tiny_root, ratio=3, n_max=TRAIN_PER_CLASS)
    shutil.rmtree(tiny_root / "train" / "n03")
    with pytest.raises(TinyTreeError, match=r"no <wnid>/images/ folder for n03"):
        TinyImageNetLT(tiny_root, ratio=3, n_max=TRAIN_PER_CLASS)
    (tiny_root / "train" / "n03" / "images").mkdir(parents=True)
    (tiny_root / "train" / "n99").mkdir()
    with pytest.raises(TinyTreeError, match=r"folders of classes absent from wnids\.txt: n99"):
        TinyImageNetLT(tiny_root, ratio=3, n_max=TRAIN_PER_CLASS)


def test_the_default_n_max_is_the_release_500(tiny_root: Path) -> None:
    with pytest.raises(TinyTreeError, match=r"\(500 images in each of the 3 classes\)"):
        TinyImageNetLT(tiny_root, ratio=3)


def test_tiny_imagenet_lt_val_split_and_transform(tiny_root: Path) -> None:
    ds = TinyImageNetLT(
        tiny_root, split="val", transform=large_eval_transform(16), n_max=TRAIN_PER_CLASS
    )
    assert ds.tree_kind is None
    assert ds.targets == [0, 0, 1, 1, 2, 2]
    assert [path.name for path, _ in ds.samples][:2] == ["val_1.JPEG", "val_3.JPEG"]
    assert ds.class_counts == long_tail_counts(TRAIN_PER_CLASS, 3, 100) == [6, 0, 0]
    assert TinyImageNetLT(tiny_root.parent, split="val").samples == ds.samples  # parent folder
    image, label = ds[0]
    assert isinstance(image, torch.Tensor)
    assert image.shape == (3, 16, 16)
    assert label == 0


def test_an_incomplete_val_split_is_refused(tiny_root: Path) -> None:
    annotations = tiny_root / "val" / "val_annotations.txt"
    lines = annotations.read_text().splitlines()
    annotations.write_text("\n".join(line for line in lines if "\tn03\t" not in line))
    with pytest.raises(TinyTreeError, match=r"\(4 annotated images.*no image of class\(es\) n03"):
        TinyImageNetLT(tiny_root, split="val")
    annotations.write_text("\n".join(lines))
    (tiny_root / "val" / "images" / "val_4.JPEG").unlink()
    with pytest.raises(TinyTreeError, match=r"1 annotated files are absent .* \(val_4\.JPEG\)"):
        TinyImageNetLT(tiny_root, split="val")


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


@pytest.fixture(scope="module")
def shipped_tree() -> Path:
    """The offline archive under the data root, unpacked once into the git-ignored
    ``data/cache/unpacked/`` (skipped where the archive is absent)."""
    archive = paths.data_dir() / SHIPPED_ARCHIVE
    if not archive.is_file():
        pytest.skip(f"{SHIPPED_ARCHIVE} not under the data root {paths.data_dir()}")
    target = paths.project_root() / "data" / "cache" / "unpacked" / archive.name.split(".")[0]
    done = target / ".unpacked"
    if not done.exists():
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
        done.touch()
    return target / "tiny-imagenet-200"


def test_the_shipped_archive_is_the_ratio_100_long_tail(shipped_tree: Path) -> None:
    train = TinyImageNetLT(shipped_tree, "train", ratio=100, seed=0)
    assert train.tree_kind == "long-tail"
    assert len(train.classes) == 200
    assert len(train) == 21_549
    assert train.class_counts == long_tail_counts(500, 200, 100)
    assert (train.class_counts[0], train.class_counts[-1]) == (500, 5)
    assert np.bincount(train.targets).tolist() == train.class_counts
    files = [path for path, _ in train.samples]
    assert fingerprint_files(files) == SHIPPED_FINGERPRINT
    val = TinyImageNetLT(shipped_tree, "val")
    assert len(val) == 10_000
    assert np.bincount(val.targets).tolist() == [50] * 200
    with pytest.raises(TinyTreeError, match="ratio 50"):
        TinyImageNetLT(shipped_tree, "train", ratio=50)
    with pytest.raises(TinyTreeError, match="subset seed 1"):
        TinyImageNetLT(shipped_tree, "train", ratio=100, seed=1)


def test_the_readable_names_are_the_first_synonyms_of_the_shipped_words(
    shipped_tree: Path,
) -> None:
    train = TinyImageNetLT(shipped_tree, "train", ratio=100, seed=0)
    assert list(TINY_IMAGENET_NAMES) == train.classes
    words = dict(
        line.split("\t", 1) for line in (shipped_tree / "words.txt").read_text().splitlines()
    )
    assert all(TINY_IMAGENET_NAMES[wnid] == words[wnid].split(",")[0] for wnid in train.classes)


def test_readable_class_names_name_tiny_classes_and_keep_other_names() -> None:
    assert len(TINY_IMAGENET_NAMES) == len(set(TINY_IMAGENET_NAMES.values())) == 200
    assert readable_class_names("tiny-imagenet", ["n01443537", "n09256479", "n00000000"]) == [
        "goldfish",
        "coral reef",
        "n00000000",
    ]
    assert readable_class_names("cifar10", ["airplane", "cat"]) == ["airplane", "cat"]


def test_the_flip_augmentation_keeps_the_whole_image() -> None:
    pixels = (np.arange(4 * 4 * 3).reshape(4, 4, 3) * 5).astype(np.uint8)  # no symmetry
    image = Image.fromarray(pixels)
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    whole = (torch.from_numpy(pixels).permute(2, 0, 1).float() / 255 - mean) / std
    train_tf, eval_tf = large_transforms("flip", 4)
    assert torch.allclose(eval_tf(image), whole, atol=1e-6)
    torch.manual_seed(0)
    outputs = [train_tf(image) for _ in range(16)]
    flipped = [torch.allclose(out, whole.flip(-1), atol=1e-6) for out in outputs]
    kept = [torch.allclose(out, whole, atol=1e-6) for out in outputs]
    assert all(f != k for f, k in zip(flipped, kept, strict=True))  # each: one or the other
    assert 0 < sum(flipped) < 16
    resized_crop_train, _ = large_transforms("resized-crop", 4)
    assert resized_crop_train.transforms[0].__class__.__name__ == "RandomResizedCrop"
    with pytest.raises(ValueError, match="unknown large_augmentation 'mixup'"):
        large_transforms("mixup", 4)


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
