"""``run_bench(quick=True)`` writes a complete record; ``load_latest_bench`` finds the newest.

No assertion on speed: timings on a shared machine are noise for a test.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from cslnb.bench import load_latest_bench, run_bench
from cslnb.bench.record import save_record
from cslnb.losses import LOSS_NAMES


@pytest.fixture(scope="module")
def quick_record(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("bench")
    return run_bench(out_dir=out, device="cpu", quick=True), out


def test_record_is_written_with_every_section(quick_record):
    record, out = quick_record
    (path,) = out.glob("bench-cpu-*.json")
    assert json.loads(path.read_text()) == record
    for key in ("losses", "released_csl", "loader", "gpu", "hardware", "torch", "settings"):
        assert key in record
    assert record["settings"]["quick"] is True
    assert record["kind"] == "cpu"


def test_every_loss_has_a_positive_ratio_and_ce_is_one(quick_record):
    rows = quick_record[0]["losses"]["rows"]
    assert set(LOSS_NAMES) <= set(rows)
    for row in rows.values():
        assert row["step_ratio"] > 0
        assert row["loss_only_ratio"] > 0
    assert rows["ce"]["step_ratio"] == 1.0
    assert rows["ce"]["loss_only_ratio"] == 1.0


def test_naive_memory_grows_while_ours_stays_flat(quick_record):
    section = quick_record[0]["released_csl"]
    epochs = section["epochs"]
    assert len(epochs) >= 2
    naive = [row["naive_bytes"] for row in epochs]
    ours = [row["ours_bytes"] for row in epochs]
    assert all(a < b for a, b in itertools.pairwise(naive))
    assert len(set(ours)) == 1
    assert section["max_rel_diff"] < 1e-5


def test_loader_speedup_is_a_positive_number(quick_record):
    speedups = quick_record[0]["loader"]["speedup"]
    assert speedups
    assert all(isinstance(v, float) and v > 0 for v in speedups.values())


def test_gpu_section_is_skipped_on_cpu(quick_record):
    assert "skipped" in quick_record[0]["gpu"]


def test_load_latest_bench_returns_the_newest(tmp_path):
    older = {"kind": "cpu", "created_utc": "2024-01-01T00:00:00+00:00", "n": 1}
    newer = {"kind": "cpu", "created_utc": "2024-01-02T00:00:00+00:00", "n": 2}
    other = {"kind": "cuda", "created_utc": "2024-01-03T00:00:00+00:00", "n": 3}
    for record in (newer, older, other):
        save_record(record, tmp_path)
    assert load_latest_bench("cpu", root=tmp_path) == newer
    assert load_latest_bench(root=tmp_path) == other
    assert load_latest_bench("mps", root=tmp_path) is None
