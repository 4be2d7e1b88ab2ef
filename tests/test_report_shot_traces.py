"""CSL traces reduced per shot group: medians, the share of classes predicted, the figure."""

from __future__ import annotations

import copy

import pytest
from matplotlib.figure import Figure

from cslnb.records import RecordError
from cslnb.report.shot_traces import plot_shot_group_traces, predicted_share, shot_group_traces

RECORD = {
    "run_id": "tiny-imagenet-exp100-csl-seed0",
    "config": {"dataset": "tiny-imagenet", "ratio": 100},
    "profile": {"name": "quick"},
    "dataset": {
        "class_counts": [200, 50, 40, 30, 5],
        "groups": ["many", "medium", "medium", "medium", "few"],
    },
    "loss_trace": [
        {
            "epoch": 1,
            "semantic_scale": [4.0, 1.0, 2.0, 9.0, 0.5],
            "gamma": [1.0, 2.0, 3.0, 1e6, 5.0],
            "n_pred": [60.0, 10.0, 0.0, 3.0, 1.0],
        },
        {
            "epoch": 2,
            "semantic_scale": [5.0, 0.0, 0.0, 0.0, 0.0],
            "gamma": [1.0, 0.0, 0.0, 0.0, 0.0],
            "n_pred": [128.0, 0.0, 0.0, 0.0, 0.0],
        },
    ],
}


def test_group_medians_by_hand():
    scale = shot_group_traces(RECORD, "semantic_scale")
    assert list(scale.columns) == ["many", "medium", "few"]
    assert list(scale.index) == [1, 2]
    assert scale.loc[1].tolist() == [4.0, 2.0, 0.5]  # medium: median of 1, 2, 9
    gamma = shot_group_traces(RECORD, "gamma")
    assert gamma.loc[1, "medium"] == 3.0  # the median ignores the class at the 1e6 cap
    assert shot_group_traces(RECORD, "gamma", epochs=1).index.tolist() == [1]


def test_predicted_share_is_the_percentage_of_a_groups_classes_with_predictions():
    share = predicted_share(RECORD)
    assert share.loc[1].tolist() == pytest.approx([100.0, 200 / 3, 100.0])
    assert share.loc[2].tolist() == [100.0, 0.0, 0.0]  # the collapse: only the head is left


def test_empty_groups_are_left_out_and_records_without_groups_are_named():
    two_groups = copy.deepcopy(RECORD)
    two_groups["dataset"]["groups"] = ["many", "many", "few", "few", "few"]
    assert list(predicted_share(two_groups).columns) == ["many", "few"]
    without = copy.deepcopy(RECORD)
    del without["dataset"]["groups"]
    with pytest.raises(RecordError, match=r"tiny-imagenet-exp100-csl-seed0: .* dataset\.groups"):
        shot_group_traces(without, "gamma")


def test_figure_has_a_panel_per_quantity_and_the_share_and_logs_wide_spans():
    fig = plot_shot_group_traces(RECORD)
    assert isinstance(fig, Figure)
    axes = fig.get_axes()
    assert len(axes) == 4
    assert [len(ax.get_lines()) for ax in axes] == [3, 3, 3, 3]
    # gamma's positive medians span 1 to 5: linear; n_pred's span 1 to 128: log
    assert [ax.get_yscale() for ax in axes] == ["linear", "linear", "log", "linear"]
    assert axes[3].get_ylim() == (-5, 105)
