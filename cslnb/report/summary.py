"""Does CSL beat each baseline in our runs? A verdict per baseline and cell, with seed spread.

The verdict compares seed *ranges*: ``CSL higher`` when CSL's worst seed beats the baseline's
best seed, ``CSL lower`` when CSL's best seed is below the baseline's worst, otherwise
``within seed spread``. With fewer than two seeds on either side the spread is unknown and the
verdict says so. With 3 seeds against 3 a non-overlap is exactly an exact permutation p-value of
2/20 = 0.10, so the verdict is not stricter than a 95 % interval. The difference of means is
reported either way, with its 95 % interval over seeds (paired where both methods have the same
seeds, Welch's otherwise: :func:`cslnb.report.seed_statistics.seed_difference`), the exact
permutation p-value, and what the interval can tell (:func:`interval_effect`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cslnb.report.comparison import method_name
from cslnb.report.runs import (
    DATASET_TITLES,
    DEFAULT_OPTIONS,
    check_accuracy,
    require_columns,
    select_profile,
    split_diverged,
    variant_runs,
)
from cslnb.report.seed_statistics import seed_difference, seed_std

CSL = "csl"
HIGHER = "CSL higher"
LOWER = "CSL lower"
WITHIN = "within seed spread"
UNKNOWN = "spread unknown (1 seed)"
CELL = ("dataset", "imb_type", "ratio")
SUMMARY_COLUMNS = (
    "baseline",
    "method",
    "dataset",
    "imb_type",
    "ratio",
    "csl_mean",
    "baseline_mean",
    "difference",
    "ci_low",
    "ci_high",
    "effect",
    "interval",
    "p_value",
    "csl_std",
    "baseline_std",
    "csl_range",
    "baseline_range",
    "n_csl",
    "n_baseline",
    "csl_seeds",
    "baseline_seeds",
    "verdict",
)
USED_COLUMNS = ("run_id", "profile", "loss", "loss_options", "seed", "accuracy", *CELL)


def interval_effect(
    low: float, high: float, n_a: int, n_b: int, higher: str = "higher", lower: str = "lower"
) -> str:
    """What a difference interval says: ``higher`` / ``lower`` when it excludes zero, else
    ``no detectable effect at n_a vs n_b seeds`` (absence of evidence, not evidence of no
    effect), or ``too few seeds for an interval`` when it has no bounds."""
    if math.isnan(low) or math.isnan(high):
        return "too few seeds for an interval"
    if low > 0:
        return higher
    if high < 0:
        return lower
    return f"no detectable effect at {n_a} vs {n_b} seeds"


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


def csl_summary(
    records: pd.DataFrame, profile: str | None = None, csl_options: str = DEFAULT_OPTIONS
) -> pd.DataFrame:
    """CSL against every other loss run on the same cell (dataset, imbalance type and ratio).

    One row per baseline and cell: ``baseline`` (the loss), ``method`` (its name in tables,
    :func:`cslnb.report.comparison.method_name`), ``dataset, imb_type, ratio, csl_mean,
    baseline_mean, difference`` (CSL - baseline), ``ci_low, ci_high`` (its 95 % interval over
    seeds), ``effect`` (:func:`interval_effect`: ``CSL higher``, ``CSL lower`` or no detectable
    effect), ``interval`` (``paired`` when both have the same seeds, else ``Welch``:
    :func:`cslnb.report.seed_statistics.seed_difference`), ``p_value`` (exact permutation
    test), ``csl_std, baseline_std`` (standard deviations over seeds), ``csl_range,
    baseline_range, n_csl, n_baseline, csl_seeds, baseline_seeds`` (the seeds, e.g.
    ``"0 1 2"``), ``verdict`` (seed ranges). Baselines are the runs with default loss options of
    one profile; CSL is the run whose ``loss_options`` equal ``csl_options`` (default: the
    paper reading; ``'{"reading": "released"}'`` for the released reading). With
    ``profile=None`` the records must hold one profile only (:class:`ValueError` otherwise).
    Runs that diverged are left out (the comparison tables name them), as are cells without
    a finished CSL run. A run without a final accuracy raises
    :class:`cslnb.records.RecordError` naming it.
    """
    require_columns(records, USED_COLUMNS)
    runs, profile = select_profile(records, profile)
    if csl_options != DEFAULT_OPTIONS:
        variant = variant_runs(records, profile, CSL, csl_options)
        runs = pd.concat([runs[runs["loss"] != CSL], variant], ignore_index=True)
    runs = split_diverged(runs)[0]
    rows = []
    for (dataset, imb_type, ratio), cell in runs.groupby(list(CELL), sort=True):
        by_loss = {
            loss: {int(row["seed"]): check_accuracy(row) for row in group.to_dict("records")}
            for loss, group in cell.groupby("loss", sort=True)
        }
        seeds = {loss: _seeds(group) for loss, group in cell.groupby("loss", sort=True)}
        if CSL not in by_loss:
            continue
        csl_by_seed = by_loss.pop(CSL)
        csl = np.asarray(list(csl_by_seed.values()))
        for baseline, by_seed in by_loss.items():
            values = np.asarray(list(by_seed.values()))
            compared = seed_difference(csl_by_seed, by_seed)
            low, high = compared.low, compared.high
            rows.append(
                {
                    "baseline": baseline,
                    "method": method_name(baseline),
                    "dataset": dataset,
                    "imb_type": imb_type,
                    "ratio": float(ratio),
                    "csl_mean": float(csl.mean()),
                    "baseline_mean": float(values.mean()),
                    "difference": compared.difference,
                    "ci_low": low,
                    "ci_high": high,
                    "effect": interval_effect(low, high, csl.size, values.size, HIGHER, LOWER),
                    "interval": compared.method,
                    "p_value": compared.p_value,
                    "csl_std": seed_std(csl),
                    "baseline_std": seed_std(values),
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
        f"{method_name(CSL, csl_options)} against each baseline in our runs (profile "
        f"{profile!r}); difference = CSL − baseline with its 95 % interval over seeds (paired "
        "where the seeds match, Welch's otherwise) and exact permutation p-value; the verdict "
        "compares seed ranges"
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

    ``summary`` is :func:`csl_summary` output (of the paper reading, which the sentence names).
    The sentence gives both means, their seeds and seed ranges, the difference and what the
    verdict means; a cell without a CSL run and a baseline says so. Example: ``CIFAR-10-LT,
    ratio 100: CSL (our paper reading) 25.77% (seeds 0 1 2, range 25.10–26.50) against the best
    baseline, Balanced Softmax, 56.90% (seeds 0 1 2, range 56.20–57.60): 31.13 points lower,
    and CSL's best seed is below the baseline's worst.``
    """
    title = f"{DATASET_TITLES.get(dataset, dataset)}, ratio {ratio:g}"
    cell = summary[(summary["dataset"] == dataset) & (summary["ratio"] == float(ratio))]
    if cell.empty:
        return f"{title}: no CSL run and baseline on this cell yet."
    best = cell.loc[cell["baseline_mean"].idxmax()]
    direction = "higher" if best["difference"] > 0 else "lower"
    return (
        f"{title}: {method_name(CSL)} {best['csl_mean']:.2f}% (seeds {best['csl_seeds']}, "
        f"range {best['csl_range']}) against the best baseline, {best['method']}, "
        f"{best['baseline_mean']:.2f}% (seeds {best['baseline_seeds']}, range "
        f"{best['baseline_range']}): {abs(best['difference']):.2f} points {direction}, "
        f"{VERDICT_CLAUSES[best['verdict']]}."
    )
