"""Bench records: ``bench-<device kind>-<UTC timestamp>.json``, written atomically."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from cslnb.paths import bench_dir
from cslnb.records import write_json_atomic

STAMP_FORMAT = "%Y%m%dT%H%M%S.%fZ"


def record_path(record: dict[str, Any], out_dir: Path | None = None) -> Path:
    """Where ``record`` goes: its ``kind`` and ``created_utc`` name the file."""
    created = datetime.fromisoformat(record["created_utc"])
    name = f"bench-{record['kind']}-{created.strftime(STAMP_FORMAT)}.json"
    return (out_dir or bench_dir()) / name


def save_record(record: dict[str, Any], out_dir: Path | None = None) -> Path:
    """Write ``record`` atomically to :func:`record_path`; returns the path."""
    path = record_path(record, out_dir)
    write_json_atomic(path, record)
    return path


SECTION_NAMES = ("losses", "released_csl", "loader", "gpu")
"""The sections a complete bench record holds. Section ``cpu_epoch`` (the paper epoch on CPU)
is measured by every full run too, but records written before it existed count as complete:
ask for it by name (``section="cpu_epoch"``)."""


def load_latest_bench(
    kind: str | None = None, *, root: Path | None = None, section: str | None = None
) -> dict | None:
    """The newest bench record (by ``created_utc``) in ``root`` (default ``bench_dir()``),
    of device kind ``kind`` (``"cpu"``, ``"cuda"``, ...) if given, that has ``section``, or
    every section when ``section`` is None (``bench --only`` writes partial records); ``None``
    if there is none."""
    folder = root or bench_dir()
    pattern = f"bench-{kind}-*.json" if kind else "bench-*.json"
    needed = SECTION_NAMES if section is None else (section,)
    records = [json.loads(path.read_text()) for path in folder.glob(pattern)]
    records = [
        r
        for r in records
        if (kind is None or r.get("kind") == kind) and all(name in r for name in needed)
    ]
    return max(records, key=lambda r: datetime.fromisoformat(r["created_utc"]), default=None)
