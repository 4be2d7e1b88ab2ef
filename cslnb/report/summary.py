"""Does CSL beat each baseline in our runs? A verdict per baseline and cell, with seed spread.

The verdict compares seed *ranges*: ``CSL higher`` when CSL's worst seed beats the baseline's
best seed, ``CSL lower`` when CSL's best seed is below the baseline's worst, otherwise
``within seed spread``. With fewer than two seeds on either side the spread is unknown and the
verdict says so; the difference of means is reported either way.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cslnb.report.runs import DATASET_TITLES, check_accuracy, require_columns, select_profile

CSL = "csl"
HIGHER = "CSL higher"
LOWER = "CSL lower"
WITHIN = "within seed spread"
UNKNOWN = "spread unknown (1 seed)"
CELL = ("dataset", "imb_type", "ratio")
SUMMARY_COLUMNS = (
    "baseline",
    "dataset",
    "imb_type",
    "ratio",
    "csl_mean",
    "baseline_mean",
    "difference",
    "pooled_std",
    "csl_range",
    "baseline_range",
    "n_csl",
    "n_baseline",
    "csl_seeds",
    "baseline_seeds",
    "verdict",
)
USED_COLUMNS = ("run_id", "profile", "loss", "loss_options", "seed", "accuracy", *CELL)


def pooled_std(a: np.ndarray, b: np.ndarray) -> float:
    """Pooled sample standard deviation of two groups (NaN with under one degree of freedom)."""
    dof = a.size + b.size - 2
    if dof < 1:
        return float("nan")
    squares = sum(float(((x - x.mean()) ** 2).sum()) for x in (a, b))
    return math.sqrt(squares / dof)


def verdict(csl: np.ndarray, baseline: np.ndarray) -> str:
    """``CSL higher`` / ``CSL lower`` when the seed ranges do not overlap, else the spread."""
    if csl.size < 2 or baseline.size < 2:
        return UNKNOWN
    if csl.min() > baseline.max():
        return HIGHER
    if csl.max() < baseline.min():
        return LOWER
    return WITHIN


def _range(values: np.ndarray) -> str:
    return f"{values.min():.2f}–{values.max():.2f}"


def _seeds(group: pd.DataFrame) -> str:
    return " ".join(str(seed) for seed in sorted(int(s) for s in group["seed"]))


def csl_summary(records: pd.DataFrame, profile: str | None = None) -> pd.DataFrame:
    """CSL against every other loss run on the same cell (dataset, imbalance type and ratio).

    One row per baseline and cell: ``baseline, dataset, imb_type, ratio, csl_mean,
    baseline_mean, difference`` (CSL - baseline), ``pooled_std, csl_range, baseline_range,
    n_csl, n_baseline, csl_seeds, baseline_seeds`` (the seeds, e.g. ``"0 1 2"``), ``verdict``.
    Only runs with default loss options of one profile are used;
    with ``profile=None`` the records must hold one profile only (:class:`ValueError`
    otherwise). Cells without a CSL run are left out. A run without a final accuracy raises
    :class:`cslnb.records.RecordError` naming it.
    """
    require_columns(records, USED_COLUMNS)
    runs, profile = select_profile(records, profile)
    rows = []
    for (dataset, imb_type, ratio), cell in runs.groupby(list(CELL), sort=True):
        by_loss = {
            loss: np.asarray([check_accuracy(row) for row in group.to_dict("records")])
            for loss, group in cell.groupby("loss", sort=True)
        }
        seeds = {loss: _seeds(group) for loss, group in cell.groupby("loss", sort=True)}
        if CSL not in by_loss:
            continue
        csl = by_loss.pop(CSL)
        for baseline, values in by_loss.items():
            rows.append(
                {
                    "baseline": baseline,
                    "dataset": dataset,
                    "imb_type": imb_type,
                    "ratio": float(ratio),
                    "csl_mean": float(csl.mean()),
                    "baseline_mean": float(values.mean()),
                    "difference": float(csl.mean() - values.mean()),
                    "pooled_std": pooled_std(csl, values),
                    "csl_range": _range(csl),
                    "baseline_range": _range(values),
                    "n_csl": int(csl.size),
                    "n_baseline": int(values.size),
                    "csl_seeds": seeds[CSL],
                    "baseline_seeds": seeds[baseline],
                    "verdict": verdict(csl, values),
                }
            )
    result = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    result.attrs["caption"] = (
        f"CSL against each baseline in our runs (profile {profile!r}); difference = CSL − "
        "baseline; the verdict compares seed ranges"
    )
    return result


VERDICT_CLAUSES = {
    HIGHER: "and CSL's worst seed beats the baseline's best",
    LOWER: "and CSL's best seed is below the baseline's worst",
    WITHIN: "within the seed spread (the seed ranges overlap)",
    UNKNOWN: "with a single seed on one side, so the seed spread is unknown",
}


def csl_headline(summary: pd.DataFrame, dataset: str, ratio: float) -> str:
    """One sentence: CSL against the best baseline (highest mean) of one cell, with seeds.

    ``summary`` is :func:`csl_summary` output. The sentence gives both means, their seeds and
    seed ranges, the difference and what the verdict means; a cell without a CSL run and a
    baseline says so. Example: ``CIFAR-10-LT, ratio 100: CSL 25.77% (seeds 0 1 2, range
    25.10–26.50) against the best baseline, balanced-softmax, 56.90% (seeds 0 1 2, range
    56.20–57.60): 31.13 points lower, and CSL's best seed is below the baseline's worst.``
    """
    title = f"{DATASET_TITLES.get(dataset, dataset)}, ratio {ratio:g}"
    cell = summary[(summary["dataset"] == dataset) & (summary["ratio"] == float(ratio))]
    if cell.empty:
        return f"{title}: no CSL run and baseline on this cell yet."
    best = cell.loc[cell["baseline_mean"].idxmax()]
    direction = "higher" if best["difference"] > 0 else "lower"
    return (
        f"{title}: CSL {best['csl_mean']:.2f}% (seeds {best['csl_seeds']}, range "
        f"{best['csl_range']}) against the best baseline, {best['baseline']}, "
        f"{best['baseline_mean']:.2f}% (seeds {best['baseline_seeds']}, range "
        f"{best['baseline_range']}): {abs(best['difference']):.2f} points {direction}, "
        f"{VERDICT_CLAUSES[best['verdict']]}."
    )
