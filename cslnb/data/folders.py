"""Tiny-ImageNet-LT and ImageNet-LT as torchvision-style datasets read from files on disk.

* Tiny-ImageNet-LT: the standard ``tiny-imagenet-200`` folder (``wnids.txt``,
  ``train/<wnid>/images/*.JPEG``, ``val/images/*`` with ``val/val_annotations.txt``). Classes in
  sorted-wnid order; the training split is the LDAM-DRW "exp" (or "step") long tail (Cao et al.
  2019) with ``n_max`` = 500, drawn by :func:`select_long_tail_indices` from each class's files
  sorted by name, or read as it is from a tree that already holds that long tail
  (:mod:`cslnb.data.tiny_tree`); the balanced val split serves as the test split.
* ImageNet-LT (Liu et al., *Large-Scale Long-Tailed Recognition in an Open World*, CVPR 2019):
  split files ``ImageNet_LT_{train,val,test}.txt`` whose lines read ``relative/path.JPEG label``,
  with paths relative to the ImageNet image root.

Both expose ``targets`` (label per sample), ``classes`` (class names in label order) and
``class_counts`` (training images per class, whatever the split).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from cslnb import paths
from cslnb.data import tiny_tree
from cslnb.data.longtail import long_tail_counts
from cslnb.data.tiny_tree import (
    TREE_HINT,
    TinyTreeError,
    brief,
    read_train_split,
)

TINY_IMAGENET_FOLDER = "tiny-imagenet-200"


class _FileListDataset(Dataset):
    """Samples ``(path, label)`` loaded as RGB PIL images and passed through ``transform``."""

    def __init__(
        self,
        samples: list[tuple[Path, int]],
        classes: list[str],
        class_counts: list[int],
        transform: Callable | None,
    ) -> None:
        self.samples = samples
        self.targets = [label for _, label in samples]
        self.classes = classes
        self.class_counts = class_counts
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[object, int]:
        path, label = self.samples[index]
        with Image.open(path) as im:
            image = im.convert("RGB")
        return (self.transform(image) if self.transform else image), label


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(
            f"missing {what}: {path} (pass root= / split_dir=, or set CSLNB_DATA_DIR)"
        )
    return path


def _check_split(split: str, allowed: tuple[str, ...]) -> None:
    if split not in allowed:
        raise ValueError(f"unknown split {split!r}; choose one of: {', '.join(allowed)}")


class TinyImageNetLT(_FileListDataset):
    """Tiny-ImageNet-LT; ``split`` is ``train`` or ``val``.

    ``root`` is the ``tiny-imagenet-200`` folder or a folder holding it (default
    ``$CSLNB_DATA_DIR``). ``class_counts`` is the long-tailed training profile
    ``long_tail_counts(n_max, 200, ratio, imb_type)`` for both splits; ``n_max`` defaults to the
    release's 500 images per class (:data:`~cslnb.data.tiny_tree.TINY_TRAIN_PER_CLASS`; smaller
    only for small test trees). The training split reads a full tree or
    one that already holds this very long tail; ``tree_kind`` says which (``full`` or
    ``long-tail``; ``None`` for ``val``, which reads no training folder). Trees of any other
    shape raise :class:`~cslnb.data.tiny_tree.TinyTreeError` naming what was found.
    """

    def __init__(
        self,
        root: str | Path | None = None,
        split: str = "train",
        transform: Callable | None = None,
        ratio: float = 100,
        imb_type: str = "exp",
        seed: int = 0,
        n_max: int | None = None,
    ) -> None:
        _check_split(split, ("train", "val"))
        root = Path(root) if root is not None else paths.data_dir()
        if (root / TINY_IMAGENET_FOLDER).is_dir():
            root = root / TINY_IMAGENET_FOLDER
        wnids_file = _require(root / "wnids.txt", "Tiny-ImageNet class list wnids.txt")
        classes = sorted(
            line.strip() for line in wnids_file.read_text().splitlines() if line.strip()
        )
        n_max = tiny_tree.TINY_TRAIN_PER_CLASS if n_max is None else n_max
        self.tree_kind: str | None = None
        if split == "train":
            train = read_train_split(root / "train", classes, ratio, imb_type, seed, n_max)
            samples, counts, self.tree_kind = train.samples, train.counts, train.kind
        else:
            samples = self._val_samples(root, classes)
            counts = long_tail_counts(n_max, len(classes), ratio, imb_type)
        super().__init__(samples, classes, counts, transform)
        self.meta = {"ratio": ratio, "imb_type": imb_type, "seed": seed, "n_max": n_max}

    @staticmethod
    def _val_samples(root: Path, classes: list[str]) -> list[tuple[Path, int]]:
        """``val/images/*`` labelled by ``val_annotations.txt``; every class of ``wnids.txt``
        must have images and every annotated file must exist."""
        annotations = _require(root / "val" / "val_annotations.txt", "val annotations")
        images = _require(root / "val" / "images", "val image folder")
        label_of = {wnid: c for c, wnid in enumerate(classes)}
        samples = []
        for number, line in enumerate(annotations.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < 2 or fields[1] not in label_of:
                raise ValueError(
                    f"{annotations}, line {number}: expected 'filename<TAB>wnid<TAB>bbox...' "
                    f"with a wnid from wnids.txt, got {line!r}"
                )
            samples.append((images / fields[0], label_of[fields[1]]))
        on_disk = {p.name for p in images.iterdir()}
        absent = sorted(path.name for path, _ in samples if path.name not in on_disk)
        per_class = np.bincount([label for _, label in samples], minlength=len(classes))
        unseen = [wnid for wnid, n in zip(classes, per_class, strict=True) if n == 0]
        problems = []
        if absent:
            problems.append(
                f"{len(absent)} annotated files are absent from {images} ({brief(absent)})"
            )
        if unseen:
            problems.append(f"no image of class(es) {brief(unseen)}")
        if problems:
            raise TinyTreeError(
                f"{root / 'val'} is not a complete Tiny-ImageNet val split ({len(samples)} "
                f"annotated images; expected images of all {len(classes)} classes of wnids.txt): "
                f"{'; '.join(problems)}. {TREE_HINT}"
            )
        return sorted(samples, key=lambda sample: (sample[1], sample[0].name))


def read_split_file(path: Path) -> list[tuple[str, int]]:
    """Parse an ImageNet-LT split file: one ``relative/path.JPEG label`` per line."""
    _require(path, "ImageNet-LT split file")
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2 or not fields[1].isdigit():
            raise ValueError(
                f"{path}, line {number}: expected 'relative/path.JPEG label' with an integer "
                f"label, got {line!r}"
            )
        entries.append((fields[0], int(fields[1])))
    return entries


class ImageNetLT(_FileListDataset):
    """ImageNet-LT; ``root`` is the ImageNet image root the split files' paths are relative to
    (default ``$CSLNB_DATA_DIR/imagenet``), ``split_dir`` holds ``ImageNet_LT_<split>.txt``
    (default ``root``), ``split`` is ``train``, ``val`` or ``test``.

    ``classes`` are the wnid folder names of the training paths (``train/<wnid>/...``).
    """

    def __init__(
        self,
        root: str | Path | None = None,
        split: str = "train",
        transform: Callable | None = None,
        split_dir: str | Path | None = None,
    ) -> None:
        _check_split(split, ("train", "val", "test"))
        root = Path(root) if root is not None else paths.data_dir() / "imagenet"
        _require(root, "ImageNet image root")
        split_dir = Path(split_dir) if split_dir is not None else root
        train = read_split_file(split_dir / "ImageNet_LT_train.txt")
        if not train:
            raise ValueError(f"{split_dir / 'ImageNet_LT_train.txt'} lists no images")
        num_classes = max(label for _, label in train) + 1
        counts = np.bincount([label for _, label in train], minlength=num_classes).tolist()
        classes = [str(c) for c in range(num_classes)]
        for rel, label in train:
            classes[label] = Path(rel).parent.name
        entries = (
            train if split == "train" else read_split_file(split_dir / f"ImageNet_LT_{split}.txt")
        )
        out_of_range = [label for _, label in entries if label >= num_classes]
        if out_of_range:
            raise ValueError(
                f"ImageNet_LT_{split}.txt has label {out_of_range[0]}, but the training split "
                f"only has {num_classes} classes"
            )
        super().__init__(
            [(root / rel, label) for rel, label in entries], classes, counts, transform
        )
