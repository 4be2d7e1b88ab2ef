"""The paper's Tables 1-4 next to our runs: one row per printed number (and per method we add).

For every cell of a table (method x dataset x ratio, x class for Table 1) the row holds the
paper's value, our mean and standard deviation over seeds for one profile, the difference
ours - paper, and -- where records are missing -- the command that produces them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cslnb.paper_tables import TABLE1_CLASSES, load_paper_table
from cslnb.records import load_records
from cslnb.report.runs import check_accuracy, check_per_class, require_columns, select_profile
from cslnb.reproduce import TABLE_CELLS

GROUPED_DATASETS = ("cifar100", "imagenet-lt", "tiny-imagenet")
"""Datasets whose rows carry many/medium/few accuracies (CIFAR-10-LT's groups are degenerate:
at ratio 50 or 100 almost every class has more than 100 training images)."""
GROUPS = ("many", "medium", "few")
USED_COLUMNS = (
    "run_id",
    "profile",
    "dataset",
    "ratio",
    "imb_type",
    "loss",
    "loss_options",
    "seed",
    "accuracy",
    "per_class_accuracy",
    *GROUPS,
)
CSL = "csl"
NOT_RUN = "not run yet"
NOT_IN_CSLNB = "not in cslnb"
OK = "ok"


def reproduce_command(
    table: int,
    profile: str,
    seeds: Sequence[int],
    dataset: str,
    loss: str | None,
    ratio: float,
) -> str:
    """The ``python -m cslnb reproduce`` line that trains one cell's missing runs (of one loss,
    or of every loss of the cell with ``loss=None``: ``reproduce`` skips existing records)."""
    seed_list = " ".join(str(seed) for seed in seeds)
    command = (
        f"python -m cslnb reproduce table{table} --profile {profile} --seeds {seed_list} "
        f"--datasets {dataset} --ratios {ratio:g}"
    )
    return f"{command} --losses {loss}" if loss else command


def _cell_runs(runs: pd.DataFrame, dataset: str, ratio: float, loss: str) -> pd.DataFrame:
    keep = (
        (runs["dataset"] == dataset)
        & (runs["ratio"].astype(float) == float(ratio))
        & (runs["loss"] == loss)
        & (runs["imb_type"] == "exp")
    )
    return runs[keep].sort_values("seed")


def _metric_values(cell: pd.DataFrame, metric: str) -> list[float]:
    """Each run's value of ``metric`` (``avg`` or a Table 1 class), checked."""
    rows = cell.to_dict("records")
    if metric == "avg":
        return [check_accuracy(row) for row in rows]
    index = TABLE1_CLASSES.index(metric)
    return [check_per_class(row, len(TABLE1_CLASSES))[index] for row in rows]


def _group_means(cell: pd.DataFrame) -> dict[str, float]:
    """Mean many/medium/few accuracy over the cell's runs (NaN where a group is empty)."""
    return {
        group: float(pd.to_numeric(cell[group], errors="coerce").mean())
        if len(cell)
        else float("nan")
        for group in GROUPS
    }


def _cell_methods(paper_cell: pd.DataFrame, losses: Sequence[str]) -> list[tuple[str, str]]:
    """(method as printed, loss) in the paper's order, then our losses the paper lacks."""
    printed = list(dict.fromkeys(zip(paper_cell["method"], paper_cell["loss"], strict=True)))
    in_paper = {loss for _, loss in printed}
    return printed + [(loss, loss) for loss in losses if loss not in in_paper]


def comparison_table(
    records: pd.DataFrame,
    table: int,
    profile: str | None = None,
    seeds: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Table ``table`` of the paper next to our runs of one profile, one row per number.

    Columns: ``table, dataset, ratio, method, loss, [type,] metric, paper, ours_mean, ours_std,
    n_seeds, seeds, difference`` (ours - paper), ``many, medium, few`` (our means; only for
    :data:`GROUPED_DATASETS` and metric ``avg``), ``profile``, ``status`` and ``command``.
    ``status`` is ``ok``, ``not run yet``, ``missing seed(s) ...`` (``command`` then trains the
    missing runs) or ``not in cslnb`` (a method of the paper we do not implement). Methods we
    run that the paper lacks get a NaN ``paper`` value. ``ratio`` is the ratio of our runs (1
    for ImageNet-LT's fixed split, which the paper prints without a ratio).

    ``records`` is :func:`cslnb.records.load_records` output; runs with non-default loss options
    are left out. With ``profile=None`` the records must hold one profile only
    (:class:`ValueError` otherwise). ``seeds`` are the seeds every cell should have (default:
    every seed among the profile's runs, else 0). Malformed runs raise
    :class:`cslnb.records.RecordError` naming the run. The caption is in ``.attrs["caption"]``.
    """
    paper = load_paper_table(table)
    require_columns(records, USED_COLUMNS)
    runs, profile = select_profile(records, profile)
    target_seeds = sorted(seeds if seeds is not None else set(runs["seed"])) or [0]
    metrics = (*TABLE1_CLASSES, "avg") if table == 1 else ("avg",)
    rows: list[dict[str, Any]] = []
    for dataset, ratio, losses in TABLE_CELLS[f"table{table}"]:
        paper_cell = paper[
            (paper["dataset"] == dataset)
            & ((paper["ratio"] == float(ratio)) | paper["ratio"].isna())
        ]
        for method, loss in _cell_methods(paper_cell, losses):
            printed = paper_cell[paper_cell["method"] == method]
            cell = _cell_runs(runs, dataset, ratio, loss) if loss else runs.iloc[0:0]
            cell_seeds = sorted(int(seed) for seed in cell["seed"])
            missing = [seed for seed in target_seeds if seed not in cell_seeds]
            if not loss:
                status, command = NOT_IN_CSLNB, ""
            elif not cell_seeds:
                status = NOT_RUN
                command = reproduce_command(table, profile, target_seeds, dataset, loss, ratio)
            elif missing:
                status = f"missing seed(s) {' '.join(map(str, missing))}"
                command = reproduce_command(table, profile, missing, dataset, loss, ratio)
            else:
                status, command = OK, ""
            groups = _group_means(cell)
            for metric in metrics:
                values = np.asarray(_metric_values(cell, metric), dtype=float)
                paper_value = printed.loc[printed["metric"] == metric, "value"]
                row: dict[str, Any] = {
                    "table": table,
                    "dataset": dataset,
                    "ratio": float(ratio),
                    "method": method,
                    "loss": loss,
                }
                if table == 3:
                    row["type"] = printed["type"].iloc[0] if len(printed) else ""
                mean = float(values.mean()) if values.size else float("nan")
                paper_number = float(paper_value.iloc[0]) if len(paper_value) else float("nan")
                row |= {
                    "metric": metric,
                    "paper": paper_number,
                    "ours_mean": mean,
                    "ours_std": float(values.std(ddof=1)) if values.size > 1 else float("nan"),
                    "n_seeds": int(values.size),
                    "seeds": " ".join(map(str, cell_seeds)),
                    "difference": mean - paper_number,
                }
                grouped = dataset in GROUPED_DATASETS and metric == "avg"
                row |= {group: groups[group] if grouped else float("nan") for group in GROUPS}
                row |= {"profile": profile, "status": status, "command": command}
                rows.append(row)
    result = pd.DataFrame(rows)
    result.attrs["caption"] = (
        f"Table {table} of the paper next to our runs (profile {profile!r}, target seeds "
        f"{' '.join(map(str, target_seeds))}): mean ± std over seeds; difference = ours − paper"
    )
    return result


def comparison_from_results(
    table: int,
    profile: str | None = None,
    root: Path | None = None,
    seeds: Sequence[int] | None = None,
) -> pd.DataFrame:
    """:func:`comparison_table` of the records under ``root`` (default: the results folder).

    A malformed record file raises :class:`cslnb.records.RecordError` naming the file.
    """
    return comparison_table(load_records(root, profile), table, profile=profile, seeds=seeds)


def comparison_cells(comparison: pd.DataFrame) -> list[tuple[tuple[str, float], pd.DataFrame]]:
    """The comparison split per cell: ``((dataset, ratio), rows)`` in the table's order."""
    keys = list(dict.fromkeys(zip(comparison["dataset"], comparison["ratio"], strict=True)))
    return [
        (
            (dataset, ratio),
            comparison[(comparison["dataset"] == dataset) & (comparison["ratio"] == ratio)],
        )
        for dataset, ratio in keys
    ]


def csl_difference(comparison: pd.DataFrame) -> pd.Series:
    """CSL's mean minus each row's mean, within the row's cell and metric (NaN on CSL's own
    rows, and where CSL or the method has no run)."""
    csl = comparison[comparison["loss"] == CSL].set_index(["dataset", "ratio", "metric"])
    keys = pd.MultiIndex.from_frame(comparison[["dataset", "ratio", "metric"]])
    csl_mean = csl["ours_mean"].reindex(keys).to_numpy()
    difference = pd.Series(csl_mean - comparison["ours_mean"].to_numpy(), index=comparison.index)
    return difference.where(comparison["loss"] != CSL)
