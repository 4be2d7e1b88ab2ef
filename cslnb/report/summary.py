"""Does CSL beat each baseline in our runs? A verdict per baseline and cell, with seed spread.

The verdict compares seed *ranges*: ``CSL higher`` when CSL's worst seed beats the baseline's
best seed, ``CSL lower`` when CSL's best seed is below the baseline's worst, otherwise
``within seed spread``. With fewer than two seeds on either side the spread is unknown and the
verdict says so; the difference of means is reported either way, with a Student-t interval over
seeds (:func:`difference_interval`) and what that interval can tell (:func:`interval_effect`).
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
    variant_runs,
)

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


def t_two_sided_mass(t: float, dof: int) -> float:
    """P(|T| <= t) for Student's t with an integer number of degrees of freedom ``dof`` >= 1.

    The closed form of Abramowitz & Stegun (26.7.3-4), with theta = atan(t / sqrt(dof)):

    * dof odd: ``(2/pi) * (theta + sin(theta) * (cos(theta) + 2/3 cos^3(theta) + ...
      + (2*4*...*(dof-3)) / (1*3*...*(dof-2)) cos^(dof-2)(theta)))`` (for dof = 1 only
      ``2 theta / pi``);
    * dof even: ``sin(theta) * (1 + 1/2 cos^2(theta) + (1*3)/(2*4) cos^4(theta) + ...
      + (1*3*...*(dof-3)) / (2*4*...*(dof-2)) cos^(dof-2)(theta))``.
    """
    if dof < 1 or int(dof) != dof:
        raise ValueError(f"dof must be a positive integer, got {dof!r}")
    theta = math.atan(abs(t) / math.sqrt(dof))
    sin, cos = math.sin(theta), math.cos(theta)
    if dof % 2 == 1:
        term, series = cos, 0.0
        for k in range(1, (dof - 1) // 2 + 1):
            series += term
            term *= cos * cos * (2 * k) / (2 * k + 1)
        return 2 / math.pi * (theta + sin * series)
    term, series = 1.0, 0.0
    for k in range(1, dof // 2 + 1):
        series += term
        term *= cos * cos * (2 * k - 1) / (2 * k)
    return sin * series


def t_quantile(confidence: float, dof: int) -> float:
    """The two-sided critical value t* with P(|T| <= t*) = ``confidence`` (Student's t, ``dof``
    degrees of freedom), found by bisection on :func:`t_two_sided_mass`; e.g. 4.303 for 0.95 and
    dof 2, 2.776 for dof 4."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    low, high = 0.0, 1.0
    while t_two_sided_mass(high, dof) < confidence:
        low, high = high, 2 * high
    for _ in range(200):
        middle = (low + high) / 2
        if t_two_sided_mass(middle, dof) < confidence:
            low = middle
        else:
            high = middle
        if high - low < 1e-12 * high:
            break
    return (low + high) / 2


def difference_interval(
    a: np.ndarray, b: np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Difference of means ``mean(a) - mean(b)`` and its Student-t interval over seeds.

    With n_a and n_b seeds, sample variances s_a^2 and s_b^2 and dof = n_a + n_b - 2, the
    pooled standard deviation is ``s_p = sqrt(((n_a - 1) s_a^2 + (n_b - 1) s_b^2) / dof)``
    and the interval is ``d ± t*(confidence, dof) * s_p * sqrt(1/n_a + 1/n_b)``, where
    d = mean(a) - mean(b) and t* is :func:`t_quantile`. It assumes both groups' seeds scatter
    with one common variance (the pooled one), so a single seed on one side still gets an
    interval when the other side has at least two. Returns ``(d, low, high)``; the bounds are
    NaN with fewer than one degree of freedom (and d is NaN if a group is empty).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size == 0 or b.size == 0:
        return float("nan"), float("nan"), float("nan")
    difference = float(a.mean() - b.mean())
    spread = pooled_std(a, b)
    if math.isnan(spread):
        return difference, float("nan"), float("nan")
    half = t_quantile(confidence, a.size + b.size - 2) * spread * math.sqrt(1 / a.size + 1 / b.size)
    return difference, difference - half, difference + half


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
    baseline_mean, difference`` (CSL - baseline), ``ci_low, ci_high`` (its 95 % Student-t
    interval over seeds, :func:`difference_interval`), ``effect`` (:func:`interval_effect`:
    ``CSL higher``, ``CSL lower`` or no detectable effect), ``pooled_std, csl_range,
    baseline_range, n_csl, n_baseline, csl_seeds, baseline_seeds`` (the seeds, e.g.
    ``"0 1 2"``), ``verdict`` (seed ranges). Baselines are the runs with default loss options of
    one profile; CSL is the run whose ``loss_options`` equal ``csl_options`` (default: the
    paper reading; ``'{"reading": "released"}'`` for the released reading). With
    ``profile=None`` the records must hold one profile only (:class:`ValueError` otherwise).
    Cells without a CSL run are left out. A run without a final accuracy raises
    :class:`cslnb.records.RecordError` naming it.
    """
    require_columns(records, USED_COLUMNS)
    runs, profile = select_profile(records, profile)
    if csl_options != DEFAULT_OPTIONS:
        variant = variant_runs(records, profile, CSL, csl_options)
        runs = pd.concat([runs[runs["loss"] != CSL], variant], ignore_index=True)
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
            difference, low, high = difference_interval(csl, values)
            rows.append(
                {
                    "baseline": baseline,
                    "method": method_name(baseline),
                    "dataset": dataset,
                    "imb_type": imb_type,
                    "ratio": float(ratio),
                    "csl_mean": float(csl.mean()),
                    "baseline_mean": float(values.mean()),
                    "difference": difference,
                    "ci_low": low,
                    "ci_high": high,
                    "effect": interval_effect(low, high, csl.size, values.size, HIGHER, LOWER),
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
        f"{method_name(CSL, csl_options)} against each baseline in our runs (profile "
        f"{profile!r}); difference = CSL − baseline with its 95 % Student-t interval over "
        "seeds; the verdict compares seed ranges"
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
    ratio 100: CSL (paper reading) 25.77% (seeds 0 1 2, range 25.10–26.50) against the best
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
