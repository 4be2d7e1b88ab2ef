"""CSL with one term switched off (or read differently), next to the default CSL run.

:func:`ablation_table` matches runs to :data:`cslnb.reproduce.CSL_ABLATIONS` by their
``loss_options`` and reports, per variant, the mean and spread over seeds, the difference to
the default CSL (paper reading, every term on) of the same cell and to plain cross-entropy, each
with a 95 % interval over seeds (paired where the seeds match, Welch's otherwise:
:func:`cslnb.report.seed_statistics.seed_difference`) and an exact permutation p-value,
whether a variant reproduces cross-entropy run for run, and how many classes it never gets right.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cslnb.report.comparison import NOT_RUN, OK
from cslnb.report.formatting import difference_text
from cslnb.report.runs import (
    DEFAULT_OPTIONS,
    DIVERGED,
    check_accuracy,
    check_per_class,
    diverged_note,
    options_key,
    require_columns,
    split_diverged,
)
from cslnb.report.seed_statistics import seed_difference, seed_std
from cslnb.report.summary import interval_effect
from cslnb.reproduce import CSL_ABLATIONS

REFERENCE = "CSL (our paper reading, all terms)"
VARIANT_LABELS = {
    "reading=released": "released reading",
    "use_gamma=False": "no γ (γ_i = 1)",
    "use_npred=False": "no N_pred (N_pred,i = 1)",
    "use_reinforcement=False": "no reinforcement (r_i = 0)",
    "use_denominator=False": "no denominator",
    "npred=epoch": "N_pred counted per epoch (numerical artefact: γ ≈ 10⁶ at the ε floor)",
    "scale=0.1": "term × 0.1",
    "scale=0.01": "term × 0.01",
    "scale=0.001": "term × 0.001",
    "batch_mean=True": "term ÷ batch size",
    "entropy_by=prediction": "H_i grouped by prediction",
}
USED_COLUMNS = ("run_id", "profile", "dataset", "ratio", "imb_type", "loss", "loss_options")
CE_LABEL = "CE (no CSL term)"


def variant_label(options: Mapping[str, object]) -> str:
    """A reader's name for a CSL variant: ``released reading``, ``no γ (γ_i = 1)``, ..."""
    if not options:
        return REFERENCE
    parts = [f"{key}={value}" for key, value in sorted(options.items())]
    return ", ".join(VARIANT_LABELS.get(part, part) for part in parts)


def _same_runs(variant: pd.DataFrame, ce: pd.DataFrame, n_classes: int) -> tuple[int, int]:
    """(seeds whose per-class accuracies equal CE's of the same seed exactly, seeds shared)."""
    ce_by_seed = {int(row["seed"]): row for row in ce.to_dict("records")}
    shared = same = 0
    for row in variant.to_dict("records"):
        other = ce_by_seed.get(int(row["seed"]))
        if other is None:
            continue
        shared += 1
        same += check_per_class(row, n_classes) == check_per_class(other, n_classes)
    return same, shared


def _by_seed(runs: pd.DataFrame) -> dict[int, float]:
    """``{seed: final accuracy}`` of ``runs``, checked, in seed order."""
    rows = sorted(runs.to_dict("records"), key=lambda row: int(row["seed"]))
    return {int(row["seed"]): check_accuracy(row) for row in rows}


def _zero_classes(runs: pd.DataFrame) -> tuple[int, str]:
    """(classes at 0 % final accuracy in every seed, their indices as ``"4 5 6"``)."""
    if runs.empty:
        return 0, ""
    rows = runs.to_dict("records")
    n_classes = len(rows[0]["per_class_accuracy"])
    matrix = np.asarray([check_per_class(row, n_classes) for row in rows], float)
    zero = np.flatnonzero((matrix == 0).all(axis=0))
    return int(zero.size), " ".join(str(int(i)) for i in zero)


def _effect(
    values: np.ndarray, other: np.ndarray, low: float, high: float, is_reference: bool
) -> str:
    if is_reference:
        return "(reference)"
    if values.size == 0 or other.size == 0:
        return NOT_RUN
    return interval_effect(low, high, values.size, other.size)


def ablation_table(
    records: pd.DataFrame,
    profile: str,
    dataset: str = "cifar10",
    ratio: float = 100,
    variants: Sequence[Mapping[str, object]] = CSL_ABLATIONS,
    confidence: float = 0.95,
    seeds: Sequence[int] = (0, 1, 2),
) -> pd.DataFrame:
    """Default CSL, each variant and plain cross-entropy on one cell (``exp`` imbalance).

    One row per run group, the reference (default CSL) first and CE last: ``variant, options,
    n_seeds, seeds, run_ids`` (the finished runs behind the numbers, in seed order) ``, mean,
    std``; ``difference, ci_low, ci_high`` (variant − reference mean and
    its ``confidence`` interval over seeds: paired where both have the same seeds, Welch's
    otherwise, named in ``interval``; ``p_value`` its exact permutation p-value); ``effect``
    (``higher`` /
    ``lower`` than the reference when the interval excludes 0, else ``no detectable effect at
    n vs m seeds``, or ``too few seeds for an interval``; ``(reference)`` on the reference's
    own row, ``not run yet`` where either side has no run); ``ce_difference, ce_low, ce_high,
    ce_interval, ce_p_value, ce_effect`` (the same against CE); ``same_as_ce`` (seeds whose
    per-class accuracies equal CE's of the same seed exactly, as ``"2 of 3"``);
    ``zero_classes`` and ``zero_class_ids`` (classes at 0 % in every seed); ``diverged``
    (:func:`cslnb.report.runs.diverged_note`: runs whose loss became non-finite, left out of
    every number above); ``status`` (``ok``, ``diverged`` when every run did, or ``not run
    yet``) and ``command`` (what trains missing runs). Runs without a final
    accuracy or per-class accuracies raise :class:`cslnb.records.RecordError` naming the run.
    """
    require_columns(records, (*USED_COLUMNS, "seed", "accuracy", "per_class_accuracy"))
    keep = (
        (records["profile"] == profile)
        & (records["dataset"] == dataset)
        & (records["ratio"].astype(float) == float(ratio))
        & (records["imb_type"] == "exp")
    )
    cell_runs = records[keep]
    csl_runs = cell_runs[cell_runs["loss"] == "csl"]
    ce = cell_runs[(cell_runs["loss"] == "ce") & (cell_runs["loss_options"] == DEFAULT_OPTIONS)]
    ce_ended = ce.sort_values("seed")
    ce = split_diverged(ce_ended)[0]
    ce_by_seed = _by_seed(ce)
    ce_values = np.asarray(list(ce_by_seed.values()), float)
    groups: list[tuple[str, str, pd.DataFrame, str]] = []
    where = (
        f"--profile {profile} --seeds {' '.join(map(str, seeds))} --datasets {dataset} "
        f"--ratios {ratio:g}"
    )
    for options in ({}, *variants):
        key = options_key(options) if options else DEFAULT_OPTIONS
        if options:
            command = f"python -m cslnb reproduce ablations {where}"
        else:
            command = f"python -m cslnb reproduce table2 {where} --losses csl"
        cell = csl_runs[csl_runs["loss_options"] == key].sort_values("seed")
        groups.append((variant_label(options), key, cell, command))
    groups.append(
        (
            CE_LABEL,
            DEFAULT_OPTIONS,
            ce_ended,
            f"python -m cslnb reproduce table2 {where} --losses ce",
        )
    )
    reference_by_seed: dict[int, float] | None = None
    rows: list[dict[str, Any]] = []
    for label, key, ended, command in groups:
        cell, diverged = split_diverged(ended)
        by_seed = _by_seed(cell)
        values = np.asarray(list(by_seed.values()), float)
        if reference_by_seed is None:
            reference_by_seed = by_seed
        reference = np.asarray(list(reference_by_seed.values()), float)
        to_reference = seed_difference(by_seed, reference_by_seed, confidence)
        to_ce = seed_difference(by_seed, ce_by_seed, confidence)
        low, high = to_reference.low, to_reference.high
        ce_low, ce_high = to_ce.low, to_ce.high
        n_classes = len(cell["per_class_accuracy"].iloc[0]) if len(cell) else 0
        same, shared = _same_runs(cell, ce, n_classes) if label != CE_LABEL else (0, 0)
        zero, zero_ids = _zero_classes(cell)
        rows.append(
            {
                "variant": label,
                "options": key,
                "n_seeds": int(values.size),
                "seeds": " ".join(str(int(seed)) for seed in cell["seed"]),
                "run_ids": " ".join(cell["run_id"]),
                "mean": float(values.mean()) if values.size else float("nan"),
                "std": seed_std(values),
                "difference": to_reference.difference,
                "ci_low": low,
                "ci_high": high,
                "interval": to_reference.method,
                "p_value": to_reference.p_value,
                "effect": _effect(values, reference, low, high, is_reference=not rows),
                "ce_difference": to_ce.difference,
                "ce_low": ce_low,
                "ce_high": ce_high,
                "ce_interval": to_ce.method,
                "ce_p_value": to_ce.p_value,
                "ce_effect": _effect(values, ce_values, ce_low, ce_high, label == CE_LABEL),
                "same_as_ce": f"{same} of {shared}" if shared else "",
                "zero_classes": zero,
                "zero_class_ids": zero_ids,
                "diverged": diverged_note(diverged),
                "status": OK if values.size else DIVERGED if len(diverged) else NOT_RUN,
                "command": "" if values.size or len(diverged) else command,
            }
        )
    result = pd.DataFrame(rows)
    result.attrs["caption"] = (
        f"CSL variants and CE on {dataset} ratio {ratio:g} (profile {profile!r}): final "
        f"accuracy, mean ± std over seeds; difference = variant − default CSL, with its "
        f"{confidence:.0%} interval over seeds (paired where the seeds match, Welch's otherwise)"
    )
    return result


LIKE_CE = "not detectably different from CE"
SAME_AS_CE = "identical to CE, run for run"
LOSES_CLASSES = "loses classes in every seed"
NEAR_CHANCE = "near chance"


def variant_findings(ablations: pd.DataFrame, chance: float, near: float = 2.0) -> pd.DataFrame:
    """What each row of :func:`ablation_table` shows, one line per variant (CE left out).

    Columns: ``variant``, ``seeds``, ``mean``, ``vs_ce`` (difference to CE and its interval, as
    text), ``command`` (what trains a variant without runs) and ``shows``: ``not run yet``, or
    the findings that apply, joined by ``; ``:
    ``identical to CE, run for run`` (every seed's per-class accuracies equal CE's),
    ``not detectably different from CE`` (the interval to CE includes 0), else ``lower than CE``
    or ``higher than CE``; ``loses classes in every seed`` (with their count) and
    ``near chance`` (mean within ``near`` points of ``chance``); where runs diverged, where
    (``seed 0 diverged at epoch 7 (last 23.40 %)``: the other numbers are over finished seeds).
    """
    rows = []
    for _, row in ablations.iloc[:-1].iterrows():
        if row["n_seeds"] == 0:
            rows.append(
                {"variant": row["variant"], "seeds": "", "mean": float("nan"), "vs_ce": "",
                 "shows": row["diverged"] or NOT_RUN, "command": row["command"]}
            )  # fmt: skip
            continue
        n_shared = row["same_as_ce"].split(" of ")[-1] if row["same_as_ce"] else ""
        shows = []
        if row["same_as_ce"] and row["same_as_ce"] == f"{n_shared} of {n_shared}":
            shows.append(SAME_AS_CE)
        elif str(row["ce_effect"]).startswith("no detectable"):
            shows.append(LIKE_CE)
        elif row["ce_effect"] in ("higher", "lower"):
            shows.append(f"{row['ce_effect']} than CE")
        if row["zero_classes"] > 0:
            shows.append(f"{LOSES_CLASSES} ({row['zero_classes']})")
        if abs(row["mean"] - chance) < near:
            shows.append(NEAR_CHANCE)
        if row["diverged"]:
            shows.append(row["diverged"])
        vs_ce = difference_text(row["ce_difference"], row["ce_low"], row["ce_high"])
        rows.append(
            {"variant": row["variant"], "seeds": row["seeds"], "mean": row["mean"],
             "vs_ce": vs_ce, "shows": "; ".join(shows) or "too few seeds to tell", "command": ""}
        )  # fmt: skip
    return pd.DataFrame(rows, columns=["variant", "seeds", "mean", "vs_ce", "shows", "command"])


def variant_evidence(ablations: pd.DataFrame, class_names: Sequence[str]) -> pd.DataFrame:
    """The numbers behind each variant's findings, one plain row per row of :func:`ablation_table`.

    Columns, all text: ``variant``, ``seeds``, ``mean`` (final accuracy, %, two decimals),
    ``vs paper reading`` and ``vs CE`` (difference of means with its 95 % interval,
    :func:`difference_text`; empty on the reference's and CE's own rows), ``same as CE`` (seeds
    whose per-class accuracies equal CE's) and ``0 % in every seed`` (the names, from
    ``class_names`` in label order, of the classes no seed ever gets right). Rows without runs say
    ``not run yet`` (or where they diverged) and leave the other columns empty.
    """
    columns = ["variant", "seeds", "mean", "vs paper reading", "vs CE", "same as CE",
               "0 % in every seed"]  # fmt: skip
    last = len(ablations) - 1
    rows = []
    for position, (_, row) in enumerate(ablations.iterrows()):
        if row["n_seeds"] == 0:
            empty = dict.fromkeys(columns, "")
            rows.append(empty | {"variant": row["variant"], "seeds": row["diverged"] or NOT_RUN})
            continue
        lost = [class_names[int(i)] for i in str(row["zero_class_ids"]).split()]
        is_variant = 0 < position < last
        to_reference = difference_text(row["difference"], row["ci_low"], row["ci_high"])
        to_ce = difference_text(row["ce_difference"], row["ce_low"], row["ce_high"])
        rows.append(
            {
                "variant": row["variant"],
                "seeds": row["seeds"],
                "mean": f"{np.round(row['mean'], 2):.2f}",  # as DataFrame.round(2) rounds
                "vs paper reading": to_reference if is_variant else "",
                "vs CE": to_ce if position < last else "",
                "same as CE": row["same_as_ce"],
                "0 % in every seed": ", ".join(lost) or "none",
            }
        )
    return pd.DataFrame(rows, columns=columns)
