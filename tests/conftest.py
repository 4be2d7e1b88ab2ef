"""Shared fixtures: no downloads, an isolated data/cache location, a writer of tiny images, and
a run record less its timings (what equal runs must share)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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


TIMING_KEYS = ("wall_time_s", "images_per_s")
"""Record fields that measure the machine, not the run: they differ between equal runs."""


@pytest.fixture
def without_timings() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A run record without its timing fields; equal runs (same seed, resumed or not) give equal
    results of this."""

    def strip(record: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in record.items() if key not in TIMING_KEYS}

    return strip
