"""``reproduce --list``: each run's state and the time left (:mod:`cslnb.train.status`)."""

import json

import pytest

from cslnb.train.config import RunConfig, TrainOptions
from cslnb.train.status import RunStatus, estimate_pace, format_status, run_status
from cslnb.train.trainer import train


def _config(loss: str, ratio: float = 10) -> RunConfig:
    return RunConfig(dataset="synthetic", loss=loss, ratio=ratio, profile="ci")


def test_done_in_progress_and_not_started_runs_with_their_time_left(tmp_path):
    options = TrainOptions(
        results_root=tmp_path / "results", checkpoint_root=tmp_path / "runs", progress=False
    )
    record = train(_config("ce"), options)
    assert (
        train(_config("focal"), TrainOptions(**{**vars(options), "stop_after_epochs": 1})) is None
    )
    statuses = [run_status(_config(loss), options) for loss in ("ce", "focal", "ldam")]
    done, running, waiting = statuses
    assert (done.state, done.epochs_done, done.epochs_left) == ("done", 4, 0)
    assert done.seconds_per_epoch == pytest.approx(record["wall_time_s"] / 4)
    assert (running.state, running.epochs_done, running.epochs_left) == ("in progress", 1, 3)
    assert (waiting.state, waiting.epochs_done, waiting.epochs_left) == ("not started", 0, 4)
    # the run that has not started takes the median pace of its cell's two timed runs
    pace, source = estimate_pace(waiting, statuses)
    assert source == "same cell"
    assert pace == pytest.approx((done.seconds_per_epoch + running.seconds_per_epoch) / 2)
    lines = format_status(statuses, jobs=2).splitlines()
    assert lines[0] == f"synthetic-exp10-ce-seed0: done ({record['final']['accuracy']:.2f}%)"
    assert lines[1].startswith("synthetic-exp10-focal-seed0: at epoch 1 of 4; about ")
    assert lines[1].endswith("s/epoch, this run)")
    assert lines[2].startswith("synthetic-exp10-ldam-seed0: not started, 4 epochs; about ")
    assert lines[3].startswith("3 runs: 1 done, 0 diverged, 1 in progress, 1 not started; about ")
    assert "with --jobs 2" in lines[3]


def _status(state: str, done: int, pace: float | None, ratio: float = 10) -> RunStatus:
    return RunStatus(_config("ce", ratio), state, done, 200, pace)


def test_time_left_adds_each_runs_epochs_at_its_pace():
    """Run A: 150 epochs left at 60 s = 2 h 30; run B (not started, same cell): 200 epochs at
    A's 60 s = 3 h 20; run C at another ratio: the same dataset's median 60 s, 3 h 20;
    9 h 10 in all, 4 h 35 on two jobs."""
    statuses = [
        _status("in progress", 50, 60.0),
        _status("not started", 0, None),
        _status("not started", 0, None, ratio=50),
    ]
    assert estimate_pace(statuses[2], statuses) == (60.0, "same dataset")
    text = format_status(statuses, jobs=2).splitlines()
    assert text[0].endswith("about 2 h 30 min left (60 s/epoch, this run)")
    assert text[1].endswith("about 3 h 20 min left (60 s/epoch, same cell)")
    assert text[-1] == (
        "3 runs: 0 done, 0 diverged, 1 in progress, 2 not started; about 9 h 10 min of run time "
        "left, 4 h 35 min with --jobs 2"
    )


def test_a_diverged_record_is_listed_where_it_diverged(tmp_path):
    options = TrainOptions(results_root=tmp_path, checkpoint_root=tmp_path / "runs")
    path = tmp_path / "ci" / "synthetic" / "synthetic-exp10-ce-seed0.json"
    record = train(_config("ce"), TrainOptions(**{**vars(options), "progress": False}))
    record.update(status="diverged", divergence={"epoch": 3, "batch": 2, "loss": None})
    path.write_text(json.dumps(record))
    status = run_status(_config("ce"), options)
    assert (status.state, status.detail) == ("diverged", "diverged at epoch 3, batch 2")
    assert format_status([status]).splitlines()[0] == (
        "synthetic-exp10-ce-seed0: diverged (diverged at epoch 3, batch 2)"
    )
