"""Content fingerprints of training data: which data a run saw, without naming a machine's path.

A run record stores the *kind* of its data source (``torchvision``, ``image-folder (lossy JPEG
copy)``, ``synthetic``, ``image folders``) and one of these fingerprints, so that two records can
be checked to come from the same copy of a dataset wherever that copy lived.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

PREFIX = "sha256:"


def fingerprint_arrays(images: torch.Tensor, labels: torch.Tensor) -> str:
    """``sha256:<hex>`` of a decoded split: the uint8 image bytes ((N, 3, H, W) in C order), then
    the labels as little-endian int64.

    For CIFAR the trainer fingerprints the *full* decoded training split, before the long-tailed
    subset is drawn and before any resizing, so every run on one copy of the data shares it.
    """
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(images.numpy(), dtype=np.uint8).tobytes())
    digest.update(np.ascontiguousarray(labels.numpy(), dtype="<i8").tobytes())
    return PREFIX + digest.hexdigest()


def fingerprint_files(files: Sequence[Path]) -> str:
    """``sha256:<hex>`` of a file-backed split: one ``<relative path>\\t<size in bytes>\\n`` line
    per file, sorted, with paths relative to the files' common folder (so the location of the
    copy does not matter; file sizes, not contents, are read)."""
    if not files:
        raise ValueError("cannot fingerprint an empty list of files")
    base = Path(os.path.commonpath([Path(f).parent for f in files]))
    lines = sorted(
        f"{Path(f).relative_to(base).as_posix()}\t{Path(f).stat().st_size}\n" for f in files
    )
    return PREFIX + hashlib.sha256("".join(lines).encode()).hexdigest()
