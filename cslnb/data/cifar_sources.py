"""Where CIFAR pixels come from: torchvision's pickled batches or an image-folder tree.

Both readers return the same four uint8/int64 arrays (``{train,test}_{images,labels}``, images
``(N, 3, 32, 32)``) so that :mod:`cslnb.data.cifar` can cache and use them alike.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from cslnb.data.longtail import CIFAR_CLASS_NAMES

TORCHVISION_FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
"""Folder that ``torchvision.datasets.CIFAR10`` / ``CIFAR100`` create under their root."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
CIFAR_SIDE = 32
SPLITS = ("train", "test")


def find_torchvision_folder(name: str, root: Path) -> Path | None:
    """``root/cifar-10-batches-py`` (or ``cifar-100-python``) if it exists."""
    folder = root / TORCHVISION_FOLDERS[name]
    return folder if folder.is_dir() else None


def _has_splits(folder: Path) -> bool:
    return all((folder / split).is_dir() for split in SPLITS)


def find_image_folder(name: str, root: Path) -> Path | None:
    """The image-folder tree: ``root/<name>`` or ``root`` itself, whichever has ``train/`` and
    ``test/``."""
    for folder in (root / name, root):
        if _has_splits(folder):
            return folder
    return None


def read_torchvision(name: str, root: Path, download: bool) -> dict[str, np.ndarray]:
    """Read (and with ``download``, first fetch) CIFAR through ``torchvision.datasets``."""
    from torchvision import datasets

    dataset_class = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
    arrays = {}
    for split in SPLITS:
        ds = dataset_class(str(root), train=split == "train", download=download)
        if list(ds.classes) != CIFAR_CLASS_NAMES[name]:
            raise ValueError(f"{root} holds {name} with unexpected class names {ds.classes[:5]}...")
        arrays[f"{split}_images"] = np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2))
        arrays[f"{split}_labels"] = np.asarray(ds.targets, dtype=np.int64)
    return arrays


def list_image_files(folder: Path, split: str, class_names: list[str]) -> list[list[Path]]:
    """Image files of ``folder/split/<class>/`` for each class in label order, sorted by name."""
    files = []
    for class_name in class_names:
        class_dir = folder / split / class_name
        if not class_dir.is_dir():
            raise FileNotFoundError(
                f"image-folder tree {folder} lacks the class folder {split}/{class_name}/ "
                f"(expected one folder per class: {', '.join(class_names[:4])}, ...)"
            )
        found = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {class_dir}")
        files.append(found)
    return files


def _decode_split(
    files: list[list[Path]], desc: str, progress: bool
) -> tuple[np.ndarray, np.ndarray]:
    total = sum(len(group) for group in files)
    images = np.empty((total, CIFAR_SIDE, CIFAR_SIDE, 3), dtype=np.uint8)
    labels = np.repeat(np.arange(len(files), dtype=np.int64), [len(g) for g in files])
    flat = [path for group in files for path in group]
    bar = tqdm(flat, desc=desc, unit="img", mininterval=1.0, disable=not progress)
    for i, path in enumerate(bar):
        with Image.open(path) as im:
            if im.size != (CIFAR_SIDE, CIFAR_SIDE):
                raise ValueError(f"{path} is {im.size[0]}x{im.size[1]}, CIFAR images are 32x32")
            images[i] = np.asarray(im if im.mode == "RGB" else im.convert("RGB"))
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2)), labels


def decode_image_folder(name: str, folder: Path, progress: bool = True) -> dict[str, np.ndarray]:
    """Decode ``folder/{train,test}/<class>/*`` with Pillow.

    Labels follow the canonical class order of ``name``; within a class files are taken in name
    order (for the offline copy ``NNNN.jpg`` is the image's index in the original class order).
    ``progress`` shows a progress bar per split.
    """
    class_names = CIFAR_CLASS_NAMES[name]
    arrays = {}
    for split in SPLITS:
        files = list_image_files(folder, split, class_names)
        images, labels = _decode_split(files, f"decoding {name} {split}", progress)
        arrays[f"{split}_images"] = images
        arrays[f"{split}_labels"] = labels
    return arrays


def image_folder_label(name: str, folder: Path) -> str:
    """Source kind of an image-folder tree, saying when its pixels are a lossy JPEG copy (no
    path: records name the kind and a content fingerprint, not where the copy lived)."""
    first = list_image_files(folder, "train", CIFAR_CLASS_NAMES[name][:1])[0][0]
    lossy = first.suffix.lower() in (".jpg", ".jpeg")
    return "image-folder (lossy JPEG copy)" if lossy else "image-folder"
