"""A disk cache of decoded uint8 arrays (``.npz`` files under :func:`cslnb.paths.cache_dir`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cslnb import paths
from cslnb.atomic import write_atomic


def cache_path(name: str, kind: str, location: str) -> Path:
    """The cache file of dataset ``name`` decoded from source ``kind`` found at ``location``."""
    digest = hashlib.sha1(f"{name}|{kind}|{location}".encode()).hexdigest()[:16]
    return paths.cache_dir() / f"{name}-{kind}-{digest}.npz"


def save_arrays_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` as ``.npz`` via a temporary file and an atomic rename."""
    write_atomic(path, lambda handle: np.savez(handle, **arrays))


def cached_arrays(path: Path, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Load the arrays stored at ``path``, or ``build`` them and store them there first."""
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    arrays = build()
    save_arrays_atomic(path, arrays)
    return arrays
