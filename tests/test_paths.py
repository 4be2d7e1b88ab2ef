"""Where cslnb reads and writes: environment variables first, then folders of the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from cslnb import paths

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_are_folders_of_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("CSLNB_DATA_DIR", "CSLNB_CACHE_DIR", "CSLNB_RESULTS_DIR"):
        monkeypatch.delenv(var, raising=False)
    assert paths.project_root() == ROOT
    assert paths.data_dir() == ROOT / "data" / "cache"
    assert paths.cache_dir() == ROOT / "data" / "cache" / "decoded"
    assert paths.results_dir() == ROOT / "data" / "results"


def test_a_dataset_folder_elsewhere_is_never_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CSLNB_CACHE_DIR", raising=False)
    monkeypatch.setenv("CSLNB_DATA_DIR", str(tmp_path / "read-only-datasets"))
    assert paths.data_dir() == tmp_path / "read-only-datasets"
    assert paths.cache_dir() == ROOT / "data" / "cache" / "decoded"


def test_environment_variables_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CSLNB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CSLNB_RESULTS_DIR", "~/records")
    assert paths.cache_dir() == tmp_path / "cache"
    assert paths.results_dir() == Path.home() / "records"
