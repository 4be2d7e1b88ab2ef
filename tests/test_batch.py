"""``reproduce --jobs N``: schedule, isolation of failures, the closing summary."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cslnb.cli import main
from cslnb.reproduce import target_runs
from cslnb.train import batch
from cslnb.train.batch import (
    RunOutcome,
    run_batch,
    schedule,
    summarize,
    threads_per_job,
    train_tracked,
)
from cslnb.train.config import RunConfig, TrainOptions


def test_schedule_trains_seed_zero_of_every_cell_before_further_seeds():
    runs = target_runs("table2", "ci", seeds=[2, 0, 1], datasets=["cifar10"], losses=["ce", "csl"])
    order = [(r.seed, r.ratio, r.loss) for r in schedule(runs)]
    cells = [(100, "ce"), (100, "csl"), (50, "ce"), (50, "csl")]
    assert order == [(seed, *cell) for seed in (0, 1, 2) for cell in cells]


def test_threads_are_shared_out_between_jobs(monkeypatch):
    monkeypatch.setattr(batch.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert [threads_per_job(jobs) for jobs in (1, 3, 4, 16, 32)] == [16, 5, 4, 1, 1]


def test_summary_counts_every_ending_and_names_each_failure():
    outcomes = [
        RunOutcome("a", "finished", 4, 4),
        RunOutcome("b", "resumed", 4, 4),
        RunOutcome("c", "had record"),
        RunOutcome("d", "stopped", 2, 4),
        RunOutcome("e", "failed", error="ValueError: bad option"),
        RunOutcome("f", "not started"),
        RunOutcome("g", "failed", error="its process exited with code -9 before reporting"),
    ]
    assert summarize(outcomes).splitlines() == [
        "7 runs: 1 finished, 1 resumed and finished, 0 diverged (record written), "
        "1 already had a record, "
        "1 stopped with a checkpoint (time budget), 2 failed, 1 not started",
        "  d: stopped after epoch 2 of 4, checkpoint kept; the same command resumes it",
        "  e: failed: ValueError: bad option",
        "  f: not started",
        "  g: failed: its process exited with code -9 before reporting",
    ]


def test_no_run_starts_once_the_budget_is_spent(tmp_path):
    runs = target_runs("table1", "ci", losses=["ce", "csl"])
    options = TrainOptions(results_root=tmp_path, checkpoint_root=tmp_path, deadline=0.0)
    outcomes = run_batch(runs, options, jobs=2, progress=False)
    assert [(o.run_id, o.status) for o in outcomes] == [
        ("cifar10-exp50-ce-seed0", "not started"),
        ("cifar10-exp50-csl-seed0", "not started"),
    ]
    assert not list(tmp_path.iterdir())


def _reproduce_ci(tmp_path: Path, *extra: str) -> list[str]:
    """``reproduce table1`` for the CE and CSL runs of the ``ci`` profile, in ``tmp_path``."""
    args = ["reproduce", "table1", "--profile", "ci", "--losses", "ce", "csl", "--device", "cpu"]
    args += ["--out", str(tmp_path / "results"), "--runs", str(tmp_path / "runs")]
    return [*args, "--no-progress", *extra]


def _cli(args: list[str]) -> subprocess.Popen:
    """``python -m cslnb ARGS`` in a child process (worker processes and the multiprocessing
    resource tracker then belong to it, not to the test session)."""
    return subprocess.Popen(
        [sys.executable, "-m", "cslnb", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


@pytest.mark.slow
def test_a_failing_run_does_not_stop_the_other_and_the_exit_status_says_so(tmp_path, capsys):
    """Two ``ci`` runs in two worker processes; one has a damaged checkpoint and fails there."""
    damaged = tmp_path / "runs" / "ci" / "cifar10-exp50-csl-seed0" / "last.pt"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"not a checkpoint")
    process = _cli(_reproduce_ci(tmp_path, "--jobs", "2"))
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 1, stderr.decode()[-3000:]
    out = stdout.decode().splitlines()
    assert out[-3].startswith("cifar10-exp50-ce-seed0: accuracy ")
    assert out[-2] == (
        "2 runs: 1 finished, 0 resumed and finished, 0 diverged (record written), "
        "0 already had a record, "
        "0 stopped with a checkpoint (time budget), 1 failed, 0 not started"
    )
    assert out[-1] == (
        f"  cifar10-exp50-csl-seed0: failed: UnreadableCheckpointError: checkpoint {damaged} "
        "is damaged or not a cslnb checkpoint (UnpicklingError); delete it to train the run afresh"
    )
    records = sorted(p.name for p in (tmp_path / "results").rglob("*.json"))
    assert records == ["cifar10-exp50-ce-seed0.json"]
    assert damaged.read_bytes() == b"not a checkpoint"  # a failed run's files are left alone

    # Again, one job in this process: the record is kept, the damaged run fails the same way.
    assert main(_reproduce_ci(tmp_path)) == 1
    summary = capsys.readouterr().out.splitlines()[-2]
    assert summary.startswith(
        "2 runs: 0 finished, 0 resumed and finished, 0 diverged (record written), "
        "1 already had a record"
    )
    assert "1 failed" in summary


@pytest.mark.slow
def test_a_worker_killed_by_the_system_is_a_failed_run_and_the_others_go_on(tmp_path):
    """SIGKILL the first worker process (as the out-of-memory killer would) once it exists."""
    psutil = pytest.importorskip("psutil")  # installed with ipykernel (the book extra)
    process = _cli(_reproduce_ci(tmp_path, "--jobs", "2"))
    killed = None
    while killed is None and process.poll() is None:
        for child in psutil.Process(process.pid).children():
            with contextlib.suppress(psutil.NoSuchProcess):
                command = " ".join(child.cmdline())
                if "spawn_main" in command and "resource_tracker" not in command:
                    child.kill()
                    killed = child.pid
                    break
        time.sleep(0.05)
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 1, stderr.decode()[-3000:]
    out = stdout.decode().splitlines()
    assert out[-2] == (
        "2 runs: 1 finished, 0 resumed and finished, 0 diverged (record written), "
        "0 already had a record, "
        "0 stopped with a checkpoint (time budget), 1 failed, 0 not started"
    )
    assert out[-1].endswith(": failed: its process exited with code -9 before reporting")
    assert len(list((tmp_path / "results").rglob("*.json"))) == 1


def test_outcome_lines_of_finished_runs_give_accuracy_and_groups():
    record = {
        "run_id": "x",
        "final": {"accuracy": 71.234, "group_accuracy": {"many": 90.0, "few": 40.3}},
        "profile": {"name": "ci"},
    }
    line = RunOutcome("x", "resumed", 4, 4, record=record).describe()
    assert line == "x: accuracy 71.23% (many 90.0, medium -, few 40.3; profile ci)"


def test_jobs_must_be_positive(tmp_path: Path, capsys):
    with pytest.raises(SystemExit):
        main(["reproduce", "table1", "--jobs", "0"])
    assert "must be at least 1" in capsys.readouterr().err


def test_a_fresh_run_that_trains_no_epoch_is_not_started(tmp_path):
    """A run stopped before its first epoch (here ``stop_after_epochs=0``; in a batch, a first
    epoch that would overrun the time budget) has no checkpoint: it did not start."""
    config = RunConfig(dataset="synthetic", loss="ce", ratio=10, profile="ci")
    options = TrainOptions(
        results_root=tmp_path / "results",
        checkpoint_root=tmp_path / "runs",
        progress=False,
        stop_after_epochs=0,
    )
    assert train_tracked(config, options).status == "not started"


def test_no_progress_leaves_only_the_result_lines(tmp_path, capsys):
    """``reproduce --no-progress``: no batch bar and no run bar; each result and the summary."""
    args = ["reproduce", "table1", "--profile", "ci", "--losses", "ce", "--device", "cpu"]
    args += ["--out", str(tmp_path), "--runs", str(tmp_path), "--no-progress"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("cifar10-exp50-ce-seed0: accuracy ")
    assert lines[1].startswith("1 runs: 1 finished")
