"""Where ``cslnb`` reads data from and writes caches, run records and benchmarks to.

* ``CSLNB_DATA_DIR`` -- root holding the datasets (``cifar10/`` image-folder tree or
  torchvision's ``cifar-10-batches-py``, ``tiny-imagenet-200/``, ImageNet-LT files).
  Default: ``<project>/data/cache``.
* ``CSLNB_CACHE_DIR`` -- where decoded uint8 arrays are cached. Default:
  ``<project>/data/cache/decoded``, whatever the data root, so that a read-only or shared dataset
  folder is never written to (cache files are keyed by the dataset's path).
* ``CSLNB_RESULTS_DIR`` -- root of the run records. Default: ``<project>/data/results``.

``<project>`` is the repository checkout when ``cslnb`` is imported from one (the folder holding
``pyproject.toml`` next to the package), else the current working directory.
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The repository checkout holding this package, or the current directory when installed."""
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").is_file() and (here / "cslnb").is_dir():
        return here
    return Path.cwd()


def _env_path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).expanduser() if value else default


def data_dir() -> Path:
    """Root of the dataset copies (``$CSLNB_DATA_DIR`` or ``<project>/data/cache``)."""
    return _env_path("CSLNB_DATA_DIR", project_root() / "data" / "cache")


def cache_dir() -> Path:
    """Where decoded arrays go (``$CSLNB_CACHE_DIR`` or ``<project>/data/cache/decoded``)."""
    return _env_path("CSLNB_CACHE_DIR", project_root() / "data" / "cache" / "decoded")


def results_dir() -> Path:
    """Root of the run records (``$CSLNB_RESULTS_DIR`` or ``<project>/data/results``)."""
    return _env_path("CSLNB_RESULTS_DIR", project_root() / "data" / "results")


def bench_dir() -> Path:
    """Where benchmark records go (``<project>/data/bench``)."""
    return project_root() / "data" / "bench"


def paper_tables_dir() -> Path:
    """The paper's Tables 1-4 transcribed as CSV (``<project>/data/paper``)."""
    return project_root() / "data" / "paper"
