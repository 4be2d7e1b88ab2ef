"""Chapter 7's figure labels and per-class numbers, on a small hand-made CSL record."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

from cslnb.records import RecordError
from cslnb.report.figures import (
    count_correlation,
    plot_trace_heatmap,
    plot_trace_lines,
    prediction_gaps,
    trace_snapshot,
)

COUNTS = [50, 40, 30, 20, 10]
GAMMA_LAST = [1.0, 3.0, 2.0, 5.0, 4.0]
"""Ranks against the counts: d = (4, 1, 1, -3, -3), so Spearman's rho = 1 - 6*36/(5*24) = -0.8."""


def _record() -> dict[str, Any]:
    """Two traced epochs of a five-class CSL run; class 4 is never predicted in epoch 2."""
    first = {
        "epoch": 1,
        "semantic_scale": [4.0, 3.0, 2.0, 1.0, 0.5],
        "entropy": [0.5, 0.6, 0.7, 0.8, 0.9],
        "gamma": [2.0, 1.25, 0.71, 0.31, 0.14],
        "n_pred": [60.0, 40.0, 30.0, 15.0, 5.0],
        "reinforcement": [0.0, 0.0, 0.0, 0.0, 0.0],
    }
    second = {
        "epoch": 2,
        "semantic_scale": [4.0, 3.5, 2.5, 1.5, 1.0],
        "entropy": [0.4, 0.3, 0.5, 0.1, 0.2],
        "gamma": GAMMA_LAST,
        "n_pred": [70.0, 40.0, 25.0, 15.0, 0.0],
        "reinforcement": [-1.0, 0.0, 1.0, 0.0, 1.0],
    }
    return {
        "run_id": "cifar10-exp5-csl-seed0",
        "config": {"dataset": "cifar10", "ratio": 5},
        "profile": {"name": "ci"},
        "dataset": {
            "source": "torchvision",
            "class_names": ["a", "b", "c", "d", "e"],
            "class_counts": COUNTS,
        },
        "final": {"per_class_accuracy": [90.0, 70.0, 40.0, 10.0, 0.0]},
        "loss_trace": [first, second],
    }


def test_n_pred_is_labelled_as_argmax_predictions_right_or_wrong() -> None:
    """N_pred,i counts every argmax prediction of class i, not only the correct ones."""
    heatmap = plot_trace_heatmap(_record(), "n_pred")
    colour_bar = heatmap.axes[1].get_ylabel()
    assert colour_bar == r"predictions $N_{pred,i}$ (argmax, right or wrong)"
    assert "correct" not in colour_bar
    assert "correct" not in heatmap.axes[0].get_title()
    lines = plot_trace_lines(_record(), "n_pred").axes[0]
    assert lines.get_ylabel() == colour_bar


def test_snapshot_lists_each_class_at_the_last_or_a_chosen_epoch() -> None:
    table = trace_snapshot(_record())
    assert list(table.index) == [0, 1, 2, 3, 4]
    assert list(table["name"]) == ["a", "b", "c", "d", "e"]
    assert list(table["n_train"]) == COUNTS
    assert list(table["gamma"]) == GAMMA_LAST
    assert list(table["entropy"]) == [0.4, 0.3, 0.5, 0.1, 0.2]
    assert list(table["pred_share"]) == pytest.approx([70 / 150, 40 / 150, 25 / 150, 0.1, 0.0])
    assert list(table["train_share"]) == pytest.approx([c / 150 for c in COUNTS])
    assert list(table["test_accuracy"]) == [90.0, 70.0, 40.0, 10.0, 0.0]
    assert list(table.loc[table["n_pred"] == 0, "name"]) == ["e"]
    first = trace_snapshot(_record(), epoch=1)
    assert list(first["n_pred"]) == [60.0, 40.0, 30.0, 15.0, 5.0]


def test_snapshot_refuses_missing_epochs_and_accuracies() -> None:
    with pytest.raises(ValueError, match="epoch 3 not traced"):
        trace_snapshot(_record(), epoch=3)
    short = _record()
    short["final"]["per_class_accuracy"] = short["final"]["per_class_accuracy"][:-1]
    with pytest.raises(RecordError, match=r"cifar10-exp5-csl-seed0.*per_class_accuracy"):
        trace_snapshot(short)
    unnamed = _record()
    del unnamed["dataset"]["class_names"]
    assert list(trace_snapshot(unnamed)["name"]) == [f"class{c}" for c in range(5)]


def _t3_two_sided(t: float) -> float:
    """Two-sided p of Student's t with 3 degrees of freedom, from its closed-form CDF."""
    x = abs(t) / math.sqrt(3)
    cdf = 0.5 + (x / (1 + x * x) + math.atan(x)) / math.pi
    return 2 * (1 - cdf)


def test_count_correlation_by_hand() -> None:
    rho, p = count_correlation(_record(), "gamma")
    assert rho == pytest.approx(-0.8)
    t = rho * math.sqrt((len(COUNTS) - 2) / (1 - rho**2))
    assert p == pytest.approx(_t3_two_sided(t))
    rho_first, p_first = count_correlation(_record(), "gamma", epoch=1)
    assert (rho_first, p_first) == (pytest.approx(1.0), pytest.approx(0.0, abs=1e-9))


def test_count_correlation_is_undefined_without_ranks() -> None:
    balanced = _record()
    balanced["dataset"]["class_counts"] = [30] * 5
    assert all(np.isnan(count_correlation(balanced, "gamma")))
    flat = copy.deepcopy(_record())
    flat["loss_trace"][1]["reinforcement"] = [0.0] * 5
    flat["loss_trace"][0]["reinforcement"] = [0.0] * 5
    assert all(np.isnan(count_correlation(flat, "reinforcement", epoch=1)))


def test_prediction_gaps_list_the_epochs_without_a_prediction() -> None:
    record = _record()
    third = {**record["loss_trace"][1], "epoch": 3, "n_pred": [70.0, 0.0, 25.0, 15.0, 0.0]}
    fourth = {**record["loss_trace"][1], "epoch": 4, "n_pred": [70.0, 5.0, 25.0, 15.0, 0.0]}
    fifth = {**record["loss_trace"][1], "epoch": 5, "n_pred": [70.0, 0.0, 25.0, 15.0, 0.0]}
    record["loss_trace"] += [third, fourth, fifth]
    gaps = prediction_gaps(record)
    # class 4 ("e"): no prediction in epochs 2-5; class 1 ("b"): epochs 3 and 5.
    assert list(gaps["zero_epochs"]) == [0, 2, 0, 0, 4]
    assert list(gaps["zero_in"]) == ["", "3, 5", "", "", "2–5"]
    assert list(gaps["last_zero"]) == [0, 5, 0, 0, 5]
    assert list(gaps["predicted_last"]) == [True, False, True, True, False]
    assert list(gaps["name"]) == ["a", "b", "c", "d", "e"] and gaps.loc[4, "n_train"] == 10
    assert gaps.loc[4, "test_accuracy"] == 0.0
