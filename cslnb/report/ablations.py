"""CSL with one term switched off (or read differently), next to the default CSL run.

:func:`ablation_table` matches runs to :data:`cslnb.reproduce.CSL_ABLATIONS` by their
``loss_options`` and reports, per variant, the mean and spread over seeds and the difference to
the default CSL (paper reading, every term on) of the same cell.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cslnb.report.comparison import NOT_RUN, OK
from cslnb.report.runs import DEFAULT_OPTIONS, check_accuracy, require_columns
from cslnb.reproduce import CSL_ABLATIONS

REFERENCE = "CSL (paper reading, all terms)"
VARIANT_LABELS = {
    "reading=released": "released reading",
    "use_gamma=False": "no γ (γ_i = 1)",
    "use_npred=False": "no N_pred (N_pred,i = 1)",
    "use_reinforcement=False": "no reinforcement (r_i = 0)",
    "use_denominator=False": "no denominator",
    "npred=epoch": "N_pred counted per epoch",
}
USED_COLUMNS = ("run_id", "profile", "dataset", "ratio", "imb_type", "loss", "loss_options")


def options_key(options: Mapping[str, object]) -> str:
    """``loss_options`` as :func:`cslnb.records.record_row` stores them (sorted JSON)."""
    return json.dumps(dict(options), sort_keys=True)


def variant_label(options: Mapping[str, object]) -> str:
    """A reader's name for a CSL variant: ``released reading``, ``no γ (γ_i = 1)``, ..."""
    if not options:
        return REFERENCE
    parts = [f"{key}={value}" for key, value in sorted(options.items())]
    return ", ".join(VARIANT_LABELS.get(part, part) for part in parts)


def ablation_table(
    records: pd.DataFrame,
    profile: str,
    dataset: str = "cifar10",
    ratio: float = 100,
    variants: Sequence[Mapping[str, object]] = CSL_ABLATIONS,
) -> pd.DataFrame:
    """Default CSL and each variant of one cell (``exp`` imbalance) of one profile.

    One row per variant, the reference first: ``variant, options, n_seeds, seeds, mean, std,
    difference`` (variant − reference mean), ``status`` (``ok`` or ``not run yet``) and
    ``command`` (what trains the missing runs). Runs without a final accuracy raise
    :class:`cslnb.records.RecordError` naming the run.
    """
    require_columns(records, (*USED_COLUMNS, "seed", "accuracy"))
    keep = (
        (records["profile"] == profile)
        & (records["dataset"] == dataset)
        & (records["ratio"].astype(float) == float(ratio))
        & (records["imb_type"] == "exp")
        & (records["loss"] == "csl")
    )
    runs = records[keep]
    rows: list[dict[str, Any]] = []
    for options in ({}, *variants):
        key = options_key(options) if options else DEFAULT_OPTIONS
        cell = runs[runs["loss_options"] == key].sort_values("seed")
        values = np.asarray([check_accuracy(row) for row in cell.to_dict("records")], float)
        if options:
            command = (
                f"python -m cslnb reproduce ablations --profile {profile} --datasets {dataset}"
            )
        else:
            command = (
                f"python -m cslnb reproduce table2 --profile {profile} --datasets {dataset} "
                "--losses csl"
            )
        rows.append(
            {
                "variant": variant_label(options),
                "options": key,
                "n_seeds": int(values.size),
                "seeds": " ".join(str(int(seed)) for seed in cell["seed"]),
                "mean": float(values.mean()) if values.size else float("nan"),
                "std": float(values.std(ddof=1)) if values.size > 1 else float("nan"),
                "status": OK if values.size else NOT_RUN,
                "command": "" if values.size else command,
            }
        )
    result = pd.DataFrame(rows)
    result.insert(6, "difference", result["mean"] - result["mean"].iloc[0])
    result.attrs["caption"] = (
        f"CSL variants on {dataset} ratio {ratio:g} (profile {profile!r}): final accuracy, mean "
        "± std over seeds; difference = variant − default CSL"
    )
    return result
