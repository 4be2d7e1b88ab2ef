"""``run_bench``: run the five sections, print the table and write the record."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from cslnb.bench.cpu_epoch import run_cpu_epoch
from cslnb.bench.gpu import run_gpu
from cslnb.bench.loader import run_loader
from cslnb.bench.losses import run_losses
from cslnb.bench.record import save_record
from cslnb.bench.released import run_released
from cslnb.bench.report import format_table
from cslnb.bench.settings import FULL, QUICK, BenchSettings
from cslnb.train.device import describe_hardware, pick_device

SCHEMA_VERSION = 1
SECTIONS = (
    ("losses", run_losses),
    ("released_csl", run_released),
    ("loader", run_loader),
    ("gpu", run_gpu),
    ("cpu_epoch", run_cpu_epoch),
)


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` torch intra-op threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_bench(
    out_dir: Path | None = None,
    device: str | None = None,
    quick: bool = False,
    only: Sequence[str] | None = None,
    deterministic: bool = False,
) -> dict[str, Any]:
    """Measure every section (or the sections named in ``only``) on ``device`` (default: the
    best available), print the table, write the record to ``out_dir`` (default
    ``bench_dir()``) and return it.

    ``quick`` runs a much smaller version (tiny model and sizes, for tests, or a first check of
    the GPU path). ``deterministic`` also times the GPU step with deterministic kernels.
    """
    settings = replace(QUICK if quick else FULL, gpu_deterministic=deterministic)
    names = [name for name, _ in SECTIONS]
    unknown = sorted(set(only or ()) - set(names))
    if unknown:
        raise ValueError(f"unknown bench section(s) {unknown}; choose from {names}")
    with torch_threads(settings.cpu_threads):
        record = measure_record(pick_device(device), settings, only or names)
    path = save_record(record, out_dir)
    print(format_table(record))
    print(f"\nrecord: {path}")
    return record


def measure_record(
    dev: torch.device, settings: BenchSettings, only: Sequence[str]
) -> dict[str, Any]:
    """The record of one run: the machine, the settings and the results of the sections
    named in ``only``."""
    start = time.perf_counter()
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": dev.type,
        "created_utc": datetime.now(timezone.utc).isoformat(),
        "hardware": describe_hardware(dev),
        "torch": torch.__version__,
        "settings": asdict(settings),
    }
    for name, run_section in SECTIONS:
        if name not in only:
            continue
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        record[name] = run_section(settings, dev)
    record["wall_time_s"] = time.perf_counter() - start
    return json.loads(json.dumps(record))  # plain JSON types: returned == written
