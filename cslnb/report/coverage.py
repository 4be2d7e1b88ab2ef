"""Which classes a method gives up on: one line per method of one cell (dataset and ratio).

On a dataset with many classes the mean accuracy hides how it is spread. :func:`coverage_table`
puts beside each method's mean and spread over seeds its many / medium / few-shot accuracy
(the ImageNet-LT thresholds: over 100, 20 to 100, under 20 training images; Liu et al. 2019)
and two counts per seed: the classes the model predicts for no test image at all (``never
predicted``, :func:`cslnb.records.never_predicted`: a silenced class, as in a collapse), and the
classes at or below 1 % test accuracy (``lost``, :func:`cslnb.report.scale.lost_classes`: a
silenced class or one that is predicted but always wrongly). Diverged runs are named, never
averaged.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd

from cslnb.report.comparison import method_name
from cslnb.report.runs import (
    check_accuracy,
    check_per_class,
    diverged_note,
    require_columns,
    split_diverged,
)
from cslnb.report.scale import lost_classes
from cslnb.report.seed_statistics import seed_std

USED_COLUMNS = (
    "run_id",
    "profile",
    "dataset",
    "ratio",
    "loss",
    "loss_options",
    "seed",
    "status",
    "accuracy",
    "many",
    "medium",
    "few",
    "per_class_accuracy",
    "never_predicted",
    "wall_time_s",
)
COLUMNS = (
    "method",
    "seeds",
    "mean",
    "sd",
    "many",
    "medium",
    "few",
    "never predicted",
    "lost",
    "median minutes",
    "diverged",
)


def _per_seed(values: list[int | None]) -> str:
    """Per-seed counts in seed order, ``"3 / 0 / 12"``; ``—`` for a run that did not store it."""
    return " / ".join("—" if value is None else str(value) for value in values)


def _mean(values: pd.Series) -> float:
    """Mean of the known values (NaN when none is known)."""
    known = values.dropna().astype(float)
    return float(known.mean()) if len(known) else math.nan


def _never_predicted(value: object) -> int | None:
    """``never_predicted`` as an int, None where the record predates the counts."""
    if isinstance(value, numbers.Real) and not math.isnan(value):
        return int(value)
    return None


def coverage_table(records: pd.DataFrame, dataset: str, ratio: float, profile: str) -> pd.DataFrame:
    """One row per method (loss and options) with runs on ``dataset`` at ``ratio`` under
    ``profile``, in the order the methods first appear in ``records``.

    ``mean`` and ``sd`` (ddof = 1, NaN for one seed) are over finished seeds; ``many``,
    ``medium`` and ``few`` are the means of the group accuracies; ``never predicted`` and
    ``lost`` list the per-seed class counts in seed order; ``median minutes`` is the median
    wall time; ``diverged`` names diverged seeds (:func:`cslnb.report.runs.diverged_note`).
    """
    require_columns(records, USED_COLUMNS)
    cell = records[
        (records["profile"] == profile)
        & (records["dataset"] == dataset)
        & (records["ratio"].astype(float) == float(ratio))
    ]
    rows = []
    for (loss, options), runs in cell.groupby(["loss", "loss_options"], sort=False):
        finished, diverged = split_diverged(runs.sort_values("seed"))
        rows.append(_row(method_name(loss, options), finished, diverged))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _row(method: str, finished: pd.DataFrame, diverged: pd.DataFrame) -> dict[str, object]:
    """The :data:`COLUMNS` of one method from its finished and diverged runs."""
    finished_rows = finished.to_dict("records")
    accuracies = [check_accuracy(row) for row in finished_rows]
    n_classes = len(finished_rows[0]["per_class_accuracy"]) if finished_rows else 0
    lost = [lost_classes(check_per_class(row, n_classes)) for row in finished_rows]
    never = [_never_predicted(row["never_predicted"]) for row in finished_rows]
    minutes = finished["wall_time_s"].dropna().astype(float) / 60
    return {
        "method": method,
        "seeds": len(finished_rows),
        "mean": float(np.mean(accuracies)) if accuracies else math.nan,
        "sd": seed_std(accuracies),
        "many": _mean(finished["many"]),
        "medium": _mean(finished["medium"]),
        "few": _mean(finished["few"]),
        "never predicted": _per_seed(never),
        "lost": _per_seed(lost),
        "median minutes": float(minutes.median()) if len(minutes) else math.nan,
        "diverged": diverged_note(diverged),
    }
