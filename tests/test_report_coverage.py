"""The coverage table: per method, accuracy over seeds, shot groups and silenced classes."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cslnb.records import RecordError
from cslnb.report.comparison import RELEASED
from cslnb.report.coverage import COLUMNS, coverage_table


def _run(loss: str, seed: int, accuracy: float, per_class: list[float], **extra) -> dict:
    return {
        "run_id": f"tiny-imagenet-exp100-{loss}-seed{seed}",
        "profile": "quick",
        "dataset": "tiny-imagenet",
        "ratio": 100,
        "loss": loss,
        "loss_options": "{}",
        "seed": seed,
        "status": "finished",
        "accuracy": accuracy,
        "many": 60.0,
        "medium": 30.0,
        "few": 0.0,
        "per_class_accuracy": per_class,
        "never_predicted": None,
        "wall_time_s": 1200.0,
        **extra,
    }


RUNS = pd.DataFrame(
    [
        _run("ce", 1, 40.0, [80.0, 40.0, 0.0, 0.5], never_predicted=1, wall_time_s=1500.0),
        _run("ce", 0, 30.0, [60.0, 30.0, 30.0, 0.0], never_predicted=0, many=50.0),
        _run("ce", 2, 20.0, [80.0, 0.0, 0.0, 0.0], never_predicted=2, wall_time_s=900.0),
        _run("csl", 0, 25.0, [100.0, 0.0, 0.0, 0.0]),  # written before the counts were stored
        _run("csl", 1, 24.0, [96.0, 0.0, 0.0, 0.0], status="diverged", diverged_epoch=7),
        _run("csl", 0, 33.0, [70.0, 30.0, 30.0, 2.0], loss_options=RELEASED, never_predicted=0),
        _run("ce", 0, 99.0, [99.0] * 4, profile="paper"),
        _run("ce", 0, 99.0, [99.0] * 4, ratio=10),
    ]
)


def test_one_row_per_method_with_seed_statistics_by_hand():
    table = coverage_table(RUNS, "tiny-imagenet", 100, "quick").set_index("method")
    assert list(table.index) == [
        "CE",
        "CSL (our paper reading)",
        "CSL (our released reading)",
    ]
    assert tuple(table.reset_index().columns) == COLUMNS
    ce = table.loc["CE"]
    assert ce["seeds"] == 3 and ce["mean"] == 30.0
    assert ce["sd"] == pytest.approx(10.0)  # sqrt((0 + 100 + 100) / 2)
    assert ce["many"] == pytest.approx((50 + 60 + 60) / 3) and ce["few"] == 0.0
    # seed order 0, 1, 2: silenced classes 0 / 1 / 2; at or below 1 %: 1 / 2 / 3
    assert ce["never predicted"] == "0 / 1 / 2"
    assert ce["lost"] == "1 / 2 / 3"
    assert ce["median minutes"] == 20.0
    assert ce["diverged"] == ""


def test_diverged_seeds_are_named_not_averaged_and_old_records_show_a_dash():
    table = coverage_table(RUNS, "tiny-imagenet", 100, "quick").set_index("method")
    paper = table.loc["CSL (our paper reading)"]
    assert paper["seeds"] == 1 and paper["mean"] == 25.0 and math.isnan(paper["sd"])
    assert paper["never predicted"] == "—" and paper["lost"] == "3"
    assert paper["diverged"] == "seed 1 diverged at epoch 7 (last 24.00 %)"
    assert table.loc["CSL (our released reading)", "lost"] == "0"


def test_an_empty_cell_gives_an_empty_table_and_a_missing_column_is_named():
    assert coverage_table(RUNS, "tiny-imagenet", 50, "quick").empty
    with pytest.raises(RecordError, match="never_predicted"):
        coverage_table(RUNS.drop(columns="never_predicted"), "tiny-imagenet", 100, "quick")
