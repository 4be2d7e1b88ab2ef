"""``--time-budget``: runs stop at an epoch boundary with their checkpoint and resume exactly.

Time is a fake clock (:func:`cslnb.train.budget.clock` replaced) that moves only when the tests
say, so the epoch at which a run stops is exact, not a race against the machine's speed.
"""

from __future__ import annotations

import pytest
import torch

from cslnb.cli import main
from cslnb.records import read_record
from cslnb.train import budget, trainer
from cslnb.train.budget import EpochBudget


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(budget, "clock", fake)
    return fake


def test_an_epoch_starts_only_if_it_ends_by_the_deadline(clock):
    epochs = EpochBudget(deadline=1_100.0)
    assert epochs.allows_epoch()  # no estimate yet: the first epoch starts while time is left
    clock.now += 30
    epochs.epoch_done()
    assert epochs.estimate == 30
    assert epochs.allows_epoch()  # 1030 + 30 <= 1100
    clock.now += 30
    epochs.epoch_done()
    assert epochs.allows_epoch()  # 1060 + 30 <= 1100
    clock.now += 30
    epochs.epoch_done()
    assert not epochs.allows_epoch()  # 1090 + 30 > 1100


def test_a_resumed_run_starts_from_its_mean_epoch_time_and_no_deadline_never_stops(clock):
    assert not EpochBudget(deadline=1_050.0, estimate=60.0).allows_epoch()
    assert EpochBudget(deadline=1_060.0, estimate=60.0).allows_epoch()
    assert not EpochBudget(deadline=999.0).allows_epoch()  # deadline passed
    assert EpochBudget(deadline=None, estimate=1e9).allows_epoch()


@pytest.mark.slow
def test_budget_stop_then_the_same_command_resumes_to_the_uninterrupted_record(
    tmp_path, clock, monkeypatch, capsys, without_timings
):
    """Each epoch 'takes' 4 minutes: with 10 minutes, epochs 1 and 2 fit (0+4 and 4+4 <= 10),
    epoch 3 would end at 12, so the run stops after 2 epochs; rerunning the command finishes it."""
    real_save = trainer.save_checkpoint

    def save_and_take_four_minutes(path, state):
        real_save(path, state)
        clock.now += 240

    monkeypatch.setattr(trainer, "save_checkpoint", save_and_take_four_minutes)
    args = ["reproduce", "table1", "--profile", "ci", "--losses", "ce", "--device", "cpu"]
    args += ["--no-progress", "--time-budget", "10"]
    cut = ["--out", str(tmp_path / "cut" / "results"), "--runs", str(tmp_path / "cut" / "runs")]
    assert main(args + cut) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2].startswith(
        "1 runs: 0 finished, 0 resumed and finished, 0 diverged (record written), "
        "0 already had a record"
    )
    assert "1 stopped with a checkpoint (time budget)" in out[-2]
    assert out[-1] == (
        "  cifar10-exp50-ce-seed0: stopped after epoch 2 of 4, checkpoint kept; "
        "the same command resumes it"
    )
    assert not (tmp_path / "cut" / "results").exists()  # a record only for a finished run
    ckpt = tmp_path / "cut" / "runs" / "ci" / "cifar10-exp50-ce-seed0" / "last.pt"
    assert torch.load(ckpt, weights_only=True)["epoch"] == 2

    clock.now += 3_600  # a new session, a new budget: 2 more epochs fit
    assert main(args + cut) == 0
    assert "1 resumed and finished" in capsys.readouterr().out
    whole = ["--out", str(tmp_path / "whole" / "results"), "--runs", str(tmp_path / "whole")]
    monkeypatch.setattr(trainer, "save_checkpoint", real_save)
    assert main(args[:-2] + whole) == 0
    resumed, uninterrupted = (
        read_record(tmp_path / name / "results" / "ci" / "cifar10" / "cifar10-exp50-ce-seed0.json")
        for name in ("cut", "whole")
    )
    assert without_timings(resumed) == without_timings(uninterrupted)


def test_train_command_stops_at_the_budget_and_says_how_to_resume(
    tmp_path, clock, monkeypatch, capsys
):
    """30 s of budget, 40 s per epoch: the first epoch starts (no estimate yet), not the second."""
    real_save = trainer.save_checkpoint

    def save_and_take_forty_seconds(path, state):
        real_save(path, state)
        clock.now += 40

    monkeypatch.setattr(trainer, "save_checkpoint", save_and_take_forty_seconds)
    args = ["train", "--dataset", "synthetic", "--ratio", "10", "--loss", "ce", "--profile", "ci"]
    args += ["--out", str(tmp_path), "--runs", str(tmp_path), "--device", "cpu", "--no-progress"]
    assert main([*args, "--time-budget", "0.5"]) == 0
    assert capsys.readouterr().out == (
        "synthetic-exp10-ce-seed0: stopped after epoch 1 of 4, checkpoint kept; "
        "the same command resumes it\n"
    )
    assert torch.load(tmp_path / "ci" / "synthetic-exp10-ce-seed0" / "last.pt")["epoch"] == 1
