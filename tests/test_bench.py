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
from cslnb.bench.cpu_epoch import MODES, mode_name
from cslnb.bench.cpu_epoch import project as project_cpu
from cslnb.bench.gpu import gpu_section
from cslnb.bench.projection import PlannedRun, aggregate_rate, makespan, project, table_runs
from cslnb.bench.record import SECTION_NAMES, save_record
from cslnb.bench.report import format_table, gpu_lines
from cslnb.bench.runner import SECTIONS
from cslnb.bench.settings import FULL
from cslnb.data.longtail import cifar_lt_counts
from cslnb.losses import LOSS_NAMES


@pytest.fixture(scope="module")
def quick_record(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("bench")
    return run_bench(out_dir=out, device="cpu", quick=True), out


def test_record_is_written_with_every_section(quick_record):
    record, out = quick_record
    (path,) = out.glob("bench-cpu-*.json")
    assert json.loads(path.read_text()) == record
    for key in ("losses", "released_csl", "loader", "gpu", "cpu_epoch", "hardware", "torch"):
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
    sections = {key: {} for key in SECTION_NAMES}
    older = {"kind": "cpu", "created_utc": "2024-01-01T00:00:00+00:00", "n": 1, **sections}
    newer = {"kind": "cpu", "created_utc": "2024-01-02T00:00:00+00:00", "n": 2, **sections}
    other = {"kind": "cuda", "created_utc": "2024-01-03T00:00:00+00:00", "n": 3, **sections}
    gpu_only = {"kind": "cuda", "created_utc": "2024-01-04T00:00:00+00:00", "n": 4, "gpu": {}}
    for record in (newer, older, other, gpu_only):
        save_record(record, tmp_path)
    assert load_latest_bench("cpu", root=tmp_path) == newer
    assert load_latest_bench(root=tmp_path) == other  # the newest with every section
    assert load_latest_bench("cuda", root=tmp_path, section="gpu") == gpu_only
    assert load_latest_bench("cpu", root=tmp_path, section="gpu") == newer
    assert load_latest_bench("mps", root=tmp_path) is None


def test_only_some_sections(tmp_path, capsys):
    record = run_bench(out_dir=tmp_path, device="cpu", quick=True, only=["gpu"])
    assert [name for name in SECTION_NAMES if name in record] == ["gpu"]
    assert "4. GPU training: skipped" in capsys.readouterr().out
    assert load_latest_bench(root=tmp_path) is None
    assert load_latest_bench(root=tmp_path, section="gpu") == record
    assert [name for name, _ in SECTIONS] == [*SECTION_NAMES, "cpu_epoch"]
    with pytest.raises(ValueError, match="unknown bench section"):
        run_bench(out_dir=tmp_path, device="cpu", quick=True, only=["gpus"])


def test_table_runs_are_the_28_cifar10_runs_of_tables_1_and_2():
    runs = table_runs("paper")
    assert len(runs) == 28
    ir100 = [r for r in runs if "-exp100-" in r.run_id]
    ir50 = [r for r in runs if "-exp50-" in r.run_id]
    assert len(ir100) == len(ir50) == 14  # 12 methods, Weighted Softmax, Equalization loss
    assert {r.train_images for r in ir100} == {200 * 12406}
    assert {r.train_images for r in ir50} == {200 * sum(cifar_lt_counts("cifar10", 50))}
    assert {r.test_images for r in runs} == {40 * 10_000}  # full test split every 5th epoch


def test_aggregate_rate_interpolates_between_measured_concurrencies():
    rate = aggregate_rate({1: 100.0, 4: 400.0, 8: 600.0})
    assert [rate(k) for k in (1, 2, 4, 6, 8, 16)] == [100, 200, 400, 500, 600, 600]
    assert aggregate_rate({2: 300.0})(1) == 150  # proportional below the smallest
    with pytest.raises(ValueError, match="positive rates"):
        aggregate_rate({1: 0.0})


def test_makespan_by_hand():
    rate = aggregate_rate({1: 10.0, 2: 16.0})
    # two at 8/s each finish at 12.5 s, then the third alone at 10/s takes 10 s
    assert makespan([100, 100, 100], 2, rate) == pytest.approx(22.5)
    assert makespan([100, 100, 100], 1, rate) == pytest.approx(30.0)
    # three at once share 16/s (constant above 2): 100 / (16/3) each
    assert makespan([100, 100, 100], 3, rate) == pytest.approx(18.75)
    # 50 done at 6.25 s (8/s each); the other's remaining 50 alone at 10/s: 5 s
    assert makespan([100, 50], 2, rate) == pytest.approx(11.25)


def test_projection_counts_evaluation_at_its_measured_cost():
    runs = [PlannedRun("a", 1000, 500), PlannedRun("b", 1000, 500)]
    result = project({1: 10.0, 2: 16.0}, eval_rate=20.0, runs=runs, jobs=[1, 2])
    assert result["eval_cost_in_train_images"] == 0.5  # an evaluated image costs half
    # each run: 1000 + 500 x 0.5 = 1250 images; one job: 2 x 125 s; two: 1250 / 8 s
    assert result["wall_s_by_jobs"] == {"1": pytest.approx(250.0), "2": pytest.approx(156.25)}
    assert result["best_jobs"] == 2 and result["best_wall_s"] == pytest.approx(156.25)
    assert (result["runs"], result["train_images"], result["test_images"]) == (2, 2000, 1000)


def fake_gpu_section() -> dict[str, Any]:
    """A section as ``run_gpu`` builds it on a GPU, from made-up measurements."""
    step = {
        "eager": {
            "cuda_graph": False,
            "step_ms": 9.0,
            "images_per_s": 14000.0,
            "warmup_epochs": 1,
            "first_epoch_s": 3.0,
            "warmup_s": 3.0,
            "peak_allocated_mib": 600.0,
            "peak_reserved_mib": 700.0,
            "device_used_mib": 1200.0,
        },
        "cuda_graph": {
            "cuda_graph": True,
            "step_ms": 3.0,
            "images_per_s": 42000.0,
            "warmup_epochs": 2,
            "first_epoch_s": 4.0,
            "warmup_s": 5.0,
            "peak_allocated_mib": 650.0,
            "peak_reserved_mib": 900.0,
            "device_used_mib": 1400.0,
        },
    }
    concurrent = [
        {
            "jobs": 1,
            "cuda_graph": True,
            "images_per_s": 40000.0,
            "per_run_images_per_s": [40000.0],
            "peak_reserved_mib": 900.0,
            "device_used_mib": 1900.0,
        },
        {
            "jobs": 4,
            "cuda_graph": True,
            "images_per_s": 100000.0,
            "per_run_images_per_s": [25000.0] * 4,
            "peak_reserved_mib": 900.0,
            "device_used_mib": 5500.0,
        },
        {"jobs": 8, "error": "RuntimeError('out of memory')"},
    ]
    machine = {
        "device": "Fake GPU",
        "torch": "2.x",
        "precision": "bfloat16",
        "mps": {"active": False, "pipe": False, "daemons": []},
    }
    evaluation = {"batch_size": 1000, "images_per_s": 80000.0}
    deterministic = {
        "cuda_graph": True,
        "default_images_per_s": 40000.0,
        "deterministic_images_per_s": 32000.0,
        "slowdown": 1.25,
    }
    return gpu_section(FULL, machine, step, evaluation, concurrent, deterministic)


def test_gpu_section_layout_projection_and_table():
    section = fake_gpu_section()
    assert json.loads(json.dumps(section)) == section
    for key in ("device", "torch", "precision", "step", "evaluation", "concurrent"):
        assert key in section
    projection = section["projection"]
    assert projection["runs"] == 28
    assert set(projection["wall_s_by_jobs"]) == {"1", "4"}  # the failed 8 is left out
    work = sum(r.train_images + r.test_images * 0.5 for r in table_runs("paper"))
    assert projection["wall_s_by_jobs"]["1"] == pytest.approx(work / 40000.0)
    text = "\n".join(gpu_lines(section))
    assert "Fake GPU" in text and "bfloat16" in text
    assert "failed: RuntimeError('out of memory')" in text
    assert "projected wall time of the 28 CIFAR-10 runs" in text
    assert "1 jobs" in text and "4 jobs" in text
    assert "MPS off" in text
    assert f"{'--deterministic':<22} 32000 images/s against 40000 (1.25x slower)" in text
    assert "4 (graph)                 100000     25000       900      5500" in text
    assert section["deterministic"]["slowdown"] == 1.25


def test_cpu_epoch_section_measures_each_mode_against_eager(quick_record):
    section = quick_record[0]["cpu_epoch"]
    assert section["threads"] == 1
    for modes in section["modes"].values():
        assert list(modes) == ["eager", "channels_last"]  # quick: no compilation
        assert modes["eager"]["ratio_to_eager"] == 1.0
        ratio = modes["channels_last"]["images_per_s"] / modes["eager"]["images_per_s"]
        assert modes["channels_last"]["ratio_to_eager"] == pytest.approx(ratio)
    assert "fp32" in section["modes"]
    assert section["auto"]["picked"] in MODES
    assert section["projection"]["runs"] == 29
    assert "5. Paper epoch on CPU" in format_table(quick_record[0])


def test_cpu_campaign_projection_by_hand():
    """1,000 training and 2,000 evaluation images/s, evaluation every 5 of 200 epochs:
    IR 100 epoch 12,406/1,000 + 10,000/2,000/5 = 13.406 s, run 200 x 13.406 s = 0.74478 h;
    IR 50 epoch 13.996 + 1 = 14.996 s, run 0.83311 h; 16 + 13 runs = 22.746 CPU-hours."""
    plan = project_cpu(1000.0, 2000.0, cores=2, eval_every=5, epochs=200)
    assert plan["run_hours"]["ir100"] == pytest.approx(200 * 13.406 / 3600)
    assert plan["run_hours"]["ir50"] == pytest.approx(200 * 14.996 / 3600)
    assert plan["cpu_hours"] == pytest.approx((16 * 200 * 13.406 + 13 * 200 * 14.996) / 3600)
    assert plan["wall_hours"] == pytest.approx(plan["cpu_hours"] / 2)


def test_mode_names_round_trip():
    for name, execution in MODES.items():
        assert mode_name(execution) == name
