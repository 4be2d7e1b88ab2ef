"""Head and tail accuracy over epochs from one record, checked against hand-computed means."""

from __future__ import annotations

import pytest

from cslnb.records import RecordError
from cslnb.report.trajectory import (
    TRAJECTORY_COLUMNS,
    head_and_tail_classes,
    head_tail_trajectory,
    shared_epochs,
)


def _epoch(epoch: int, per_class: list[float] | None) -> dict:
    entry = {"epoch": epoch, "lr": 0.1 / epoch, "train_accuracy": 50.0, "train_loss": 1.0 / epoch}
    if per_class is not None:
        entry |= {"test_accuracy": sum(per_class) / len(per_class), "per_class_accuracy": per_class}
    return entry


# six classes; counts out of label order, with a tie between labels 1 and 4 (both 40)
RECORD = {
    "run_id": "cifar10-exp100-ib-seed0",
    "dataset": {"class_counts": [100, 40, 10, 60, 40, 5]},
    "epochs": [
        _epoch(1, [90.0, 50.0, 10.0, 80.0, 40.0, 0.0]),
        _epoch(2, None),  # not evaluated
        _epoch(3, [92.0, 52.0, 20.0, 82.0, 44.0, 6.0]),
        _epoch(4, [94.0, 54.0, 30.0, 84.0, 48.0, 12.0]),
        _epoch(5, [96.0, 56.0, 40.0, 86.0, 52.0, 18.0]),
        _epoch(6, [98.0, 58.0, 50.0, 88.0, 56.0, 24.0]),
    ],
}


def test_head_and_tail_classes_break_ties_by_label():
    assert head_and_tail_classes([100, 40, 10, 60, 40, 5], 2) == ([0, 3], [2, 5])
    # the tie at 40: label 1 comes before label 4 among the largest three
    assert head_and_tail_classes([100, 40, 10, 60, 40, 5], 3) == ([0, 1, 3], [2, 4, 5])
    with pytest.raises(ValueError, match="k = 4"):
        head_and_tail_classes([100, 40, 10, 60, 40, 5], 4)


def test_trajectory_by_hand():
    table = head_tail_trajectory(RECORD, start=1, every=2, k=2)
    assert tuple(table.columns) == TRAJECTORY_COLUMNS
    # epochs 1, 3, 5 on the grid, then the last evaluated epoch 6
    assert table["epoch"].tolist() == [1, 3, 5, 6]
    # head = labels 0 and 3, tail = labels 2 and 5
    assert table["head accuracy"].tolist() == [85.0, 87.0, 91.0, 93.0]
    assert table["tail accuracy"].tolist() == [5.0, 13.0, 29.0, 37.0]
    assert table["lr"].tolist() == pytest.approx([0.1, 0.1 / 3, 0.02, 0.1 / 6])
    assert table["train loss"].tolist() == pytest.approx([1.0, 1 / 3, 0.2, 1 / 6])
    assert table["test accuracy"].iloc[0] == pytest.approx(270 / 6)


def test_trajectory_grid_starts_at_start_and_skips_unevaluated_epochs():
    table = head_tail_trajectory(RECORD, start=2, every=2, k=1)
    # epoch 2 is on the grid but not evaluated; 4 and 6 are, and 6 is also the last
    assert table["epoch"].tolist() == [4, 6]
    assert table["head accuracy"].tolist() == [94.0, 98.0]
    assert table["tail accuracy"].tolist() == [12.0, 24.0]


def test_trajectory_needs_an_evaluated_epoch_after_start():
    with pytest.raises(RecordError, match="cifar10-exp100-ib-seed0: no evaluated epoch at or"):
        head_tail_trajectory(RECORD, start=7, every=1, k=2)


def test_shared_epochs_counts_equal_training_losses():
    other = {"epochs": [dict(e) for e in RECORD["epochs"]]}
    assert shared_epochs(RECORD, other, until=6) == 6
    other["epochs"][3]["train_loss"] = 0.3  # epoch 4 differs
    del other["epochs"][5]  # epoch 6 missing
    assert shared_epochs(RECORD, other, until=6) == 4
    assert shared_epochs(RECORD, other, until=3) == 3
    assert shared_epochs(other, RECORD, until=10) == 4
