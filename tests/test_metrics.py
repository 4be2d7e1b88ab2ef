import torch

from cslnb.train.metrics import (
    group_accuracy,
    overall_accuracy,
    per_class_accuracy,
    prediction_counts,
)

# 3 classes, 2 test images each; class 2 is never predicted
LABELS = torch.tensor([0, 0, 1, 1, 2, 2])
PREDICTIONS = torch.tensor([0, 1, 1, 1, 0, 1])


def test_per_class_and_overall_accuracy_by_hand():
    assert per_class_accuracy(PREDICTIONS, LABELS, 3) == [50.0, 100.0, 0.0]
    assert overall_accuracy(PREDICTIONS, LABELS) == 50.0


def test_prediction_counts_count_each_class_including_the_silent_one():
    assert prediction_counts(PREDICTIONS, 3) == [2, 4, 0]
    assert prediction_counts(torch.tensor([3, 3]), 5) == [0, 0, 0, 2, 0]


def test_group_accuracy_averages_per_group_and_leaves_empty_groups_none():
    groups = ["many", "many", "few"]
    assert group_accuracy([50.0, 100.0, 0.0], groups) == {"many": 75.0, "medium": None, "few": 0.0}
