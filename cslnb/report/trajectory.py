"""How a run's head and tail classes move over epochs: the test accuracy of its largest and
smallest classes, next to the learning rate and the training loss, from one run record.

Chapter 8 uses it on the influence-balanced runs at the paper profile, to show *when* some of them
give points back after their best evaluated epoch: at one learning-rate step, or gradually while
the training loss keeps falling. For every ``every``-th evaluated epoch from ``start`` on (and the
last one):

    head accuracy = mean of per_class_accuracy[c] over the ``k`` classes with the most training
    images, tail accuracy = the same over the ``k`` classes with the fewest,

both unweighted means over classes (each class has the same number of test images in the
balanced test splits of CIFAR-10/100-LT, so this is also the accuracy on those images).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from cslnb.records import RecordError
from cslnb.report.runs import classes_by_size, source_name

TRAJECTORY_COLUMNS = ("epoch", "lr", "train loss", "test accuracy", "head accuracy",
                      "tail accuracy")  # fmt: skip


def head_and_tail_classes(class_counts: list[int], k: int) -> tuple[list[int], list[int]]:
    """The labels of the ``k`` classes with the most and the ``k`` with the fewest training images
    (ties broken by label), each in label order; ``ValueError`` unless ``1 <= 2k <= C``."""
    if not 1 <= 2 * k <= len(class_counts):
        raise ValueError(f"k = {k} needs 1 <= 2k <= {len(class_counts)} classes")
    by_size = classes_by_size(class_counts)
    return sorted(by_size[:k].tolist()), sorted(by_size[-k:].tolist())


def head_tail_trajectory(
    record: Mapping[str, Any], start: int, every: int, k: int = 4
) -> pd.DataFrame:
    """One row per ``every``-th evaluated epoch from ``start`` (plus the last evaluated epoch):
    :data:`TRAJECTORY_COLUMNS`, accuracies in %; :class:`RecordError` if no evaluated epoch is at
    or after ``start``."""
    head, tail = head_and_tail_classes(record["dataset"]["class_counts"], k)
    evaluated = [e for e in record["epochs"] if "per_class_accuracy" in e and e["epoch"] >= start]
    if not evaluated:
        raise RecordError(f"{source_name(record, None)}: no evaluated epoch at or after {start}")
    shown = [e for e in evaluated if (e["epoch"] - start) % every == 0]
    if shown[-1:] != evaluated[-1:]:
        shown.append(evaluated[-1])
    rows = []
    for entry in shown:
        per_class = np.asarray(entry["per_class_accuracy"], dtype=float)
        rows.append(
            (entry["epoch"], entry["lr"], entry["train_loss"], entry["test_accuracy"],
             per_class[head].mean(), per_class[tail].mean())
        )  # fmt: skip
    return pd.DataFrame(rows, columns=list(TRAJECTORY_COLUMNS))


def shared_epochs(first: Mapping[str, Any], second: Mapping[str, Any], until: int) -> int:
    """How many of epochs 1 to ``until`` have the same recorded training loss in both records.

    Two runs that train the same model on the same batches with the same loss and the same
    kernels (same seed, same ``execution``) record the same losses, to the records' six
    decimals; a run of the influence-balanced family trains plain CE before ``ib_start_epoch``,
    so its variants can share their first epochs exactly.
    """
    ours, theirs = ({e["epoch"]: e["train_loss"] for e in r["epochs"]} for r in (first, second))
    both = set(ours) & set(theirs)
    return sum(1 for epoch in range(1, until + 1) if epoch in both and ours[epoch] == theirs[epoch])
