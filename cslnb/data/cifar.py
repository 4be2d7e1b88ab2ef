"""CIFAR-10 / CIFAR-100 in memory and their long-tailed versions CIFAR-10-LT / CIFAR-100-LT.

Sources, in the order ``source="auto"`` tries them under ``root`` (default
:func:`cslnb.paths.data_dir`, i.e. ``$CSLNB_DATA_DIR``):

1. ``torchvision`` -- the folder torchvision creates (``cifar-10-batches-py`` or
   ``cifar-100-python``); with ``download=True`` torchvision fetches it first (needs internet).
2. ``image-folder`` -- a tree ``<root>/<name>/{train,test}/<class>/*`` (or ``root`` itself holding
   ``train/`` and ``test/``), such as the offline lossy JPEG copy of CIFAR-10.

When neither is there and ``$CSLNB_DOWNLOAD`` is ``1``, torchvision fetches the data as if
``download=True`` had been passed: a way to allow downloads once for a whole session (the book's
Colab install cell sets it) instead of in every call.

Decoded arrays are cached under :func:`cslnb.paths.cache_dir`, keyed by name, source and path.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from cslnb import paths
from cslnb.data.cache import cache_path, cached_arrays
from cslnb.data.cifar_sources import (
    TORCHVISION_FOLDERS,
    decode_image_folder,
    find_image_folder,
    find_torchvision_folder,
    image_folder_label,
    read_torchvision,
)
from cslnb.data.fingerprint import fingerprint_arrays
from cslnb.data.longtail import (
    CIFAR_CLASS_NAMES,
    check_cifar_name,
    cifar_lt_counts,
    select_long_tail_indices,
)
from cslnb.data.types import ImageArrays, LongTailArrays

SOURCES = ("auto", "torchvision", "image-folder")
DOWNLOAD_ENV_VAR = "CSLNB_DOWNLOAD"
"""Set to ``1`` to let torchvision fetch CIFAR whenever no local copy is found."""


def downloads_allowed() -> bool:
    """Whether ``$CSLNB_DOWNLOAD`` allows fetching a CIFAR copy that is not found locally."""
    return os.environ.get(DOWNLOAD_ENV_VAR, "") == "1"


def _missing_message(name: str, root: Path, source: str) -> str:
    return (
        f"no {name} found for source={source!r} under {root}: looked for the torchvision folder "
        f"{root / TORCHVISION_FOLDERS[name]} and for an image-folder tree "
        f"{root / name}/{{train,test}}/<class>/ (or {root}/{{train,test}}/<class>/). "
        f"Fix: pass download=True (or set {DOWNLOAD_ENV_VAR}=1) to fetch it with torchvision "
        f"(needs internet), or set "
        f"CSLNB_DATA_DIR (or root=) to a folder holding {name}/train/... and {name}/test/..."
    )


def _to_image_arrays(arrays: dict[str, np.ndarray], split: str) -> ImageArrays:
    return ImageArrays(
        images=torch.from_numpy(arrays[f"{split}_images"]),
        labels=torch.from_numpy(arrays[f"{split}_labels"]),
    )


def load_cifar_arrays(
    name: str,
    root: str | Path | None = None,
    source: str = "auto",
    download: bool = False,
    progress: bool = True,
) -> tuple[ImageArrays, ImageArrays, str]:
    """The full train and test splits of ``name`` as uint8 arrays, and a label of their source.

    ``download=True`` always uses torchvision (fetching the data under ``root`` if absent).
    Otherwise ``source="auto"`` prefers the torchvision folder and falls back to an image-folder
    tree, then to a torchvision download when :func:`downloads_allowed`; a missing dataset raises
    ``FileNotFoundError`` explaining where it was looked for. ``progress`` shows a progress bar
    while an image-folder tree is decoded (once; the arrays are cached).
    """
    check_cifar_name(name)
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose one of: {', '.join(SOURCES)}")
    if download and source == "image-folder":
        raise ValueError("download=True fetches the torchvision copy; use source='torchvision'")
    root = Path(root).expanduser() if root is not None else paths.data_dir()
    local_torchvision = source in ("auto", "torchvision") and find_torchvision_folder(name, root)
    folder = find_image_folder(name, root) if source in ("auto", "image-folder") else None
    fetch = download or (
        source != "image-folder" and not (local_torchvision or folder) and downloads_allowed()
    )

    if fetch or local_torchvision:
        key = cache_path(name, "torchvision", str(root.resolve()))
        arrays = cached_arrays(key, lambda: read_torchvision(name, root, fetch))
        label = "torchvision"
    elif folder:
        folder = folder.resolve()
        key = cache_path(name, "image-folder", str(folder))
        arrays = cached_arrays(key, lambda: decode_image_folder(name, folder, progress))
        label = image_folder_label(name, folder)
    else:
        raise FileNotFoundError(_missing_message(name, root, source))
    return _to_image_arrays(arrays, "train"), _to_image_arrays(arrays, "test"), label


def build_cifar_lt(
    name: str = "cifar10",
    ratio: float = 100,
    imb_type: str = "exp",
    seed: int = 0,
    root: str | Path | None = None,
    source: str = "auto",
    download: bool = False,
    progress: bool = True,
) -> LongTailArrays:
    """CIFAR-10-LT / CIFAR-100-LT exactly as LDAM-DRW builds them (Cao et al. 2019).

    Training split: for each class ``c`` the first ``n_c`` of its images after one numpy shuffle
    per class (:func:`select_long_tail_indices`), with ``n_c`` from :func:`cifar_lt_counts`;
    the result is grouped by class in label order. Test split: the full balanced test set.
    ``fingerprint`` is that of the full decoded training split (:func:`fingerprint_arrays`).
    ``progress``: see :func:`load_cifar_arrays`.
    """
    counts = cifar_lt_counts(name, ratio, imb_type)
    train, test, label = load_cifar_arrays(
        name, root=root, source=source, download=download, progress=progress
    )
    idx = torch.from_numpy(select_long_tail_indices(train.labels.numpy(), counts, seed=seed))
    return LongTailArrays(
        name=name,
        class_names=list(CIFAR_CLASS_NAMES[name]),
        class_counts=counts,
        train=ImageArrays(images=train.images[idx], labels=train.labels[idx]),
        test=test,
        source=label,
        meta={"ratio": ratio, "imb_type": imb_type, "seed": seed},
        fingerprint=fingerprint_arrays(train.images, train.labels),
    )
