"""Notebook-ready forms of :func:`cslnb.report.comparison.comparison_table`: formatted strings
in a plain DataFrame, or a pandas ``Styler`` with the caption (no ``tabulate`` needed)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from cslnb.report.comparison import GROUPED_DATASETS, GROUPS, NOT_IN_CSLNB, OK

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

MISSING = "—"


def _number(value: float, digits: int, signed: bool = False) -> str:
    if value is None or math.isnan(value):
        return MISSING
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _ours(row: pd.Series, digits: int) -> str:
    if row["n_seeds"] == 0:
        return MISSING
    spread = "" if math.isnan(row["ours_std"]) else f" ± {row['ours_std']:.{digits}f}"
    return f"{row['ours_mean']:.{digits}f}{spread} (n={row['n_seeds']})"


def _status(row: pd.Series) -> str:
    if row["status"] in (OK, NOT_IN_CSLNB):
        return row["status"]
    return f"{row['status']}: {row['command']}"


def format_comparison(comparison: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """The comparison as strings: ``ours`` reads ``mean ± std (n=seeds)``, missing is ``—``.

    Columns: dataset, ratio, method, [type,] [metric (Table 1),] paper, ours, ours − paper,
    [many / medium / few (filled on CIFAR-100, ImageNet-LT and Tiny-ImageNet rows),] status
    (followed by the command to run, if any).
    """
    out = pd.DataFrame(
        {
            "dataset": comparison["dataset"],
            "ratio": comparison["ratio"].map(lambda r: f"{r:g}"),
            "method": comparison["method"],
        }
    )
    if "type" in comparison:
        out["type"] = comparison["type"]
    if set(comparison["metric"]) != {"avg"}:
        out["metric"] = comparison["metric"]
    out["paper"] = comparison["paper"].map(lambda v: _number(v, digits))
    out["ours"] = [_ours(row, digits) for _, row in comparison.iterrows()]
    out["ours − paper"] = comparison["difference"].map(lambda v: _number(v, digits, True))
    grouped = comparison["dataset"].isin(GROUPED_DATASETS) & (comparison["metric"] == "avg")
    if grouped.any():
        out["many / medium / few"] = [
            " / ".join(_number(row[g], digits) for g in GROUPS) if has_groups else ""
            for has_groups, (_, row) in zip(grouped, comparison.iterrows(), strict=True)
        ]
    out["status"] = [_status(row) for _, row in comparison.iterrows()]
    out.attrs["caption"] = comparison.attrs.get("caption", "")
    return out.reset_index(drop=True)


def style_comparison(comparison: pd.DataFrame, digits: int = 2) -> Styler:
    """:func:`format_comparison` as a ``Styler`` with the caption and without the index."""
    formatted = format_comparison(comparison, digits)
    return formatted.style.set_caption(formatted.attrs["caption"]).hide(axis="index")
