"""Shared fixtures: no downloads, an isolated data/cache location, a writer of tiny images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test fetches data: ignore a ``CSLNB_DOWNLOAD=1`` set in the caller's environment."""
    monkeypatch.delenv("CSLNB_DOWNLOAD", raising=False)


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ``CSLNB_CACHE_DIR`` at a fresh folder so that no test reads another's cache."""
    cache = tmp_path / "decoded"
    monkeypatch.setenv("CSLNB_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def write_image() -> Callable[[Path, np.ndarray], Path]:
    """Write an ``(H, W, 3)`` uint8 array as an image file (format from the suffix)."""

    def write(path: Path, pixels: np.ndarray) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(path)
        return path

    return write
