"""The paper's Tables 1-4 next to our runs: one row per printed number (and per method we add).

For every cell of a table (method x dataset x ratio, x class for Table 1) the row holds the
paper's value, our mean and standard deviation over seeds for one profile, the difference
ours - paper, and -- where records are missing -- the command that produces them.

Methods are named one way in every table (:data:`METHOD_NAMES`, e.g. ``CE``, ``CE + CB``,
``CSL (our paper reading)``), whatever the paper printed in that table (``Baseline (CE)``,
``CB``, ``CSL Ours``, ...); the printed name stays in the column ``paper_method``. Next to the
paper reading of CSL (the runs behind the paper's "CSL Ours" row) each cell that has released
reading runs (or is a cell of Tables 1-2, :data:`cslnb.reproduce.RELEASED_CELLS`) gets a row
for the released reading, which has no paper value.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cslnb.paper_tables import TABLE1_CLASSES, load_paper_table
from cslnb.records import load_records
from cslnb.report.runs import (
    DEFAULT_OPTIONS,
    check_accuracy,
    check_per_class,
    diverged_note,
    options_key,
    require_columns,
    select_profile,
    split_diverged,
    variant_runs,
)
from cslnb.report.seed_statistics import seed_std
from cslnb.reproduce import RELEASED_CELLS, TABLE_CELLS, TABLE_CSL_VARIANTS

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
RELEASED = '{"reading": "released"}'
"""``loss_options`` (as records store them) of CSL's released reading."""
METHOD_NAMES = {
    "ce": "CE",
    "ce-cb": "CE + CB",
    "focal": "Focal",
    "focal-cb": "Focal + CB",
    "ldam": "LDAM",
    "ldam-drw": "LDAM-DRW",
    "ib": "IB",
    "ib-cb": "IB + CB",
    "ib-focal": "IB + Focal",
    "balanced-softmax": "Balanced Softmax",
    "logit-adjusted": "Logit adjustment",
    "weighted-softmax": "Weighted Softmax",
    "equalization": "Equalization loss (ESQL)",
    "csl": "CSL (our paper reading)",
}
"""The one name of each loss in every table and sentence (the paper's method names where the
paper has the method)."""
CSL_READINGS = {DEFAULT_OPTIONS: "CSL (our paper reading)", RELEASED: "CSL (our released reading)"}


def method_name(loss: str, options: str = DEFAULT_OPTIONS) -> str:
    """The table name of ``loss`` run with ``options`` (``loss_options`` as records store
    them): ``CE``, ``CSL (our paper reading)``, ``CSL (our released reading)``; an unknown loss
    keeps its name, other options are appended (``csl {"use_gamma": false}``). "Our": the
    readings are our implementations of the paper's text and of the released code, so a poor
    result of a reading is a result of our reading, not a measurement of the authors' runs."""
    if loss == CSL and options in CSL_READINGS:
        return CSL_READINGS[options]
    name = METHOD_NAMES.get(loss, loss)
    return name if options == DEFAULT_OPTIONS else f"{name} {options}"


PAPER_CSL = "CSL (the paper's own runs)"


def paper_method_name(loss: str) -> str:
    """The name of a row of a paper table (:func:`cslnb.paper_tables.load_paper_table`) next to
    our tables: :func:`method_name` for the baselines, whose rows compare with our runs of the
    same loss, and :data:`PAPER_CSL` for the paper's "CSL Ours" row, which reports the authors'
    own runs, not either of our readings."""
    return PAPER_CSL if loss == CSL else method_name(loss)


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


def _cell_methods(
    paper_cell: pd.DataFrame, losses: Sequence[str], released: bool
) -> list[tuple[str, str, str]]:
    """(method as printed, loss, options) in the paper's order, then our losses the paper
    lacks; the released reading of CSL right after the paper reading when ``released``."""
    printed = list(dict.fromkeys(zip(paper_cell["method"], paper_cell["loss"], strict=True)))
    in_paper = {loss for _, loss in printed}
    methods = [(name, loss, DEFAULT_OPTIONS) for name, loss in printed]
    methods += [("", loss, DEFAULT_OPTIONS) for loss in losses if loss not in in_paper]
    if released:
        at = next((i + 1 for i, m in enumerate(methods) if m[1] == CSL), len(methods))
        methods.insert(at, ("", CSL, RELEASED))
    return methods


def _table_trains(table: int, options: str) -> bool:
    """Whether the target ``table{table}`` trains CSL with ``options`` (as records store them)."""
    variants = TABLE_CSL_VARIANTS.get(f"table{table}", ())
    return options in {DEFAULT_OPTIONS, *map(options_key, variants)}


def _command(
    table: int, profile: str, seeds: Sequence[int], dataset: str, loss: str, options: str,
    ratio: float,
) -> str:  # fmt: skip
    if _table_trains(table, options):
        return reproduce_command(table, profile, seeds, dataset, loss, ratio)
    return (
        f"python -m cslnb reproduce released --profile {profile} "
        f"--seeds {' '.join(map(str, seeds))} --datasets {dataset} --ratios {ratio:g}"
    )


def comparison_table(
    records: pd.DataFrame,
    table: int,
    profile: str | None = None,
    seeds: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Table ``table`` of the paper next to our runs of one profile, one row per number.

    Columns: ``table, dataset, ratio, method`` (:func:`method_name`), ``paper_method`` (as the
    paper prints it; empty for our additions), ``loss, options`` (``loss_options``), ``[type,]
    metric, paper, ours_mean, ours_std, n_seeds, seeds, difference`` (ours - paper), ``many,
    medium, few`` (our means; only for :data:`GROUPED_DATASETS` and metric ``avg``),
    ``profile``, ``status`` and ``command``.
    ``status`` is ``ok``, ``not run yet``, ``missing seed(s) ...`` (``command`` then trains the
    missing runs) or ``not in cslnb`` (a method of the paper we do not implement); a run that
    diverged is left out of the mean and ``n_seeds`` and named in ``status`` instead
    (``seed 0 diverged at epoch 7 (last 23.40 %)``, :func:`cslnb.report.runs.diverged_note`).
    Methods we run that the paper lacks get a NaN ``paper`` value. ``ratio`` is the ratio of our
    runs (1 for ImageNet-LT's fixed split, which the paper prints without a ratio).

    ``records`` is :func:`cslnb.records.load_records` output; runs with non-default loss options
    are left out, except CSL's released reading: its row (no paper value) follows the paper
    reading's in every cell that has its runs or is one of :data:`RELEASED_CELLS` (whose
    ``reproduce released`` target trains it). With ``profile=None`` the records must hold one
    profile only (:class:`ValueError` otherwise). ``seeds`` are the seeds every cell should
    have (default: every seed among the profile's runs, else 0). Malformed runs raise
    :class:`cslnb.records.RecordError` naming the run. The caption is in ``.attrs["caption"]``.
    """
    paper = load_paper_table(table)
    require_columns(records, USED_COLUMNS)
    runs, profile = select_profile(records, profile)
    released_runs = variant_runs(records, profile, CSL, RELEASED)
    target_seeds = sorted(seeds if seeds is not None else set(runs["seed"])) or [0]
    metrics = (*TABLE1_CLASSES, "avg") if table == 1 else ("avg",)
    rows: list[dict[str, Any]] = []
    for dataset, ratio, losses in TABLE_CELLS[f"table{table}"]:
        paper_cell = paper[
            (paper["dataset"] == dataset)
            & ((paper["ratio"] == float(ratio)) | paper["ratio"].isna())
        ]
        released = CSL in losses and (
            (dataset, ratio) in RELEASED_CELLS
            or _table_trains(table, RELEASED)
            or not _cell_runs(released_runs, dataset, ratio, CSL).empty
        )
        for paper_method, loss, options in _cell_methods(paper_cell, losses, released):
            printed = paper_cell[paper_cell["method"] == paper_method]
            source = runs if options == DEFAULT_OPTIONS else released_runs
            ended = _cell_runs(source, dataset, ratio, loss) if loss else runs.iloc[0:0]
            cell, diverged = split_diverged(ended)
            cell_seeds = sorted(int(seed) for seed in cell["seed"])
            ended_seeds = sorted(int(seed) for seed in ended["seed"])
            missing = [seed for seed in target_seeds if seed not in ended_seeds]
            if not loss:
                status, command = NOT_IN_CSLNB, ""
            elif not ended_seeds:
                status = NOT_RUN
                command = _command(table, profile, target_seeds, dataset, loss, options, ratio)
            elif missing:
                status = f"missing seed(s) {' '.join(map(str, missing))}"
                command = _command(table, profile, missing, dataset, loss, options, ratio)
            else:
                status, command = OK, ""
            if len(diverged):
                note = diverged_note(diverged)
                status = note if status == OK else f"{status}; {note}"
            groups = _group_means(cell)
            for metric in metrics:
                values = np.asarray(_metric_values(cell, metric), dtype=float)
                paper_value = printed.loc[printed["metric"] == metric, "value"]
                row: dict[str, Any] = {
                    "table": table,
                    "dataset": dataset,
                    "ratio": float(ratio),
                    "method": method_name(loss, options) if loss else paper_method,
                    "paper_method": paper_method,
                    "loss": loss,
                    "options": options,
                }
                if table == 3:
                    row["type"] = printed["type"].iloc[0] if len(printed) else ""
                mean = float(values.mean()) if values.size else float("nan")
                paper_number = float(paper_value.iloc[0]) if len(paper_value) else float("nan")
                row |= {
                    "metric": metric,
                    "paper": paper_number,
                    "ours_mean": mean,
                    "ours_std": seed_std(values),
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
    """CSL's (paper reading's) mean minus each row's mean, within the row's cell and metric
    (NaN on that CSL row, and where CSL or the method has no run)."""
    is_csl = (comparison["loss"] == CSL) & (comparison["options"] == DEFAULT_OPTIONS)
    csl = comparison[is_csl].set_index(["dataset", "ratio", "metric"])
    keys = pd.MultiIndex.from_frame(comparison[["dataset", "ratio", "metric"]])
    csl_mean = csl["ours_mean"].reindex(keys).to_numpy()
    difference = pd.Series(csl_mean - comparison["ours_mean"].to_numpy(), index=comparison.index)
    return difference.where(~is_csl)


def _spearman(cell: pd.DataFrame) -> float:
    """Spearman's rho of a cell's paper values and our means (NaN under 3 methods)."""
    if len(cell) < 3:
        return float("nan")
    ranks = cell[["paper", "ours_mean"]].rank(method="average")
    return float(ranks["paper"].corr(ranks["ours_mean"]))


def rank_agreement(comparison: pd.DataFrame) -> pd.DataFrame:
    """How well our runs order a cell's methods as the paper does (metric ``avg``).

    One row per cell: ``dataset, ratio, n_methods`` (methods with a paper value and our run),
    ``spearman`` (Spearman's rank correlation: the Pearson correlation of the two rankings,
    ties at their average rank; NaN under 3 methods), ``spearman_without_csl`` (the same with
    CSL's row left out), ``csl_rank_paper, csl_rank_ours`` (CSL's place, 1 = best, among those
    methods), ``top_paper, top_ours`` (the best method by each).
    """
    both = comparison[
        (comparison["metric"] == "avg") & comparison["paper"].notna() & (comparison["n_seeds"] > 0)
    ]
    rows = []
    for (dataset, ratio), cell in both.groupby(["dataset", "ratio"], sort=False):
        csl = cell["loss"] == CSL
        paper_place = cell["paper"].rank(ascending=False, method="min")
        ours_place = cell["ours_mean"].rank(ascending=False, method="min")
        rows.append(
            {
                "dataset": dataset,
                "ratio": ratio,
                "n_methods": len(cell),
                "spearman": _spearman(cell),
                "spearman_without_csl": _spearman(cell[~csl]),
                "csl_rank_paper": int(paper_place[csl].iloc[0]) if csl.any() else None,
                "csl_rank_ours": int(ours_place[csl].iloc[0]) if csl.any() else None,
                "top_paper": cell.loc[cell["paper"].idxmax(), "method"],
                "top_ours": cell.loc[cell["ours_mean"].idxmax(), "method"],
            }
        )
    return pd.DataFrame(rows)


def ranking_pairs(comparison: pd.DataFrame, tie_within: float) -> pd.DataFrame:
    """Every pair of methods of a cell that have a paper value and our run (metric ``avg``):
    does our ordering of the pair agree with the paper's?

    One row per pair: ``dataset, ratio, first, second`` (method names), ``paper_difference`` and
    ``ours_difference`` (first - second), and ``verdict``: ``tie within noise`` when our means
    differ by less than ``tie_within`` points (e.g. the binomial standard error of the test
    subset, :func:`cslnb.report.seed_statistics.binomial_standard_error`: such a pair can neither
    agree nor disagree), ``paper tie`` when the paper's values are equal, else ``agrees`` or
    ``disagrees``.
    """
    both = comparison[
        (comparison["metric"] == "avg") & comparison["paper"].notna() & (comparison["n_seeds"] > 0)
    ]
    rows = []
    for (dataset, ratio), cell in both.groupby(["dataset", "ratio"], sort=False):
        records = cell.to_dict("records")
        for i, first in enumerate(records):
            for second in records[i + 1 :]:
                paper = first["paper"] - second["paper"]
                ours = first["ours_mean"] - second["ours_mean"]
                if abs(ours) < tie_within:
                    verdict = "tie within noise"
                elif paper == 0:
                    verdict = "paper tie"
                else:
                    verdict = "agrees" if (paper > 0) == (ours > 0) else "disagrees"
                rows.append(
                    {
                        "dataset": dataset,
                        "ratio": ratio,
                        "first": first["method"],
                        "second": second["method"],
                        "paper_difference": paper,
                        "ours_difference": ours,
                        "verdict": verdict,
                    }
                )
    return pd.DataFrame(
        rows,
        columns=[
            "dataset", "ratio", "first", "second", "paper_difference", "ours_difference", "verdict"
        ],
    )  # fmt: skip
