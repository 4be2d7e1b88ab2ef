"""Notebook-ready forms of :func:`cslnb.report.comparison.comparison_table`: formatted strings
in a plain DataFrame, a pandas ``Styler`` with the caption (no ``tabulate`` needed), and one
readable table per cell (:func:`style_cell`: numbers right-aligned, differences coloured)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from cslnb.report.comparison import GROUPED_DATASETS, GROUPS, NOT_IN_CSLNB, OK, csl_difference
from cslnb.report.runs import DIVERGED

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

MISSING = "—"


def _number(value: float, digits: int, signed: bool = False) -> str:
    if value is None or math.isnan(value):
        return MISSING
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _ours(row: pd.Series, digits: int) -> str:
    if row["n_seeds"] == 0:
        return DIVERGED if DIVERGED in str(row["status"]) else MISSING
    spread = "" if math.isnan(row["ours_std"]) else f" ± {row['ours_std']:.{digits}f}"
    return f"{row['ours_mean']:.{digits}f}{spread} (n={row['n_seeds']})"


def _status(row: pd.Series) -> str:
    if row["status"] in (OK, NOT_IN_CSLNB) or not row["command"]:
        return row["status"]
    return f"{row['status']}: {row['command']}"


def format_comparison(comparison: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """The comparison as strings: ``ours`` reads ``mean ± std (n=seeds)`` over finished seeds,
    missing is ``—``, ``diverged`` where every run diverged (``status`` says where).

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


CSL_DIFFERENCE = "CSL − method"
DIFFERENCES = ("ours − paper", CSL_DIFFERENCE)
NUMERIC = ("paper", "ours", *DIFFERENCES, "many / medium / few")
POSITIVE_CSS = "color: #005a8c; background-color: #e3f0fa; font-weight: 600"
"""A positive difference (blue: ours above the paper, or CSL above the method)."""
NEGATIVE_CSS = "color: #a33c00; background-color: #fbe9df; font-weight: 600"
"""A negative difference (vermillion: ours below the paper, or CSL below the method)."""
TABLE_CSS = [
    {"selector": "th", "props": "padding: 0.3em 0.8em; border-bottom: 1px solid #999"},
    {
        "selector": "td",
        "props": "padding: 0.2em 0.8em; border-bottom: 1px solid #e4e4e4; white-space: nowrap",
    },
]
"""Cell padding and row rules: a notebook output table gets no styling from the book's theme."""


def sign_css(value: float) -> str:
    """The CSS of a difference cell: blue when positive, vermillion when negative, none for
    zero or a missing value."""
    if value is None or math.isnan(value) or value == 0:
        return ""
    return POSITIVE_CSS if value > 0 else NEGATIVE_CSS


def format_cell(cell: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """One cell (dataset, ratio) of a comparison as strings, for :func:`style_cell`.

    Columns: method, [type,] [metric,] paper, ours, ours − paper, CSL − method (CSL's mean minus
    the method's: positive where CSL is ahead), [many / medium / few,] status (without the
    command: one command per cell trains every missing run).
    """
    shown = format_comparison(cell, digits).drop(columns=["dataset", "ratio"])
    position = shown.columns.get_loc("ours − paper") + 1
    differences = csl_difference(cell).map(lambda v: _number(v, digits, True))
    shown.insert(position, CSL_DIFFERENCE, differences.to_numpy())
    shown["status"] = cell["status"].to_numpy()
    return shown


def style_cell(cell: pd.DataFrame, digits: int = 2, uuid: str = "") -> Styler:
    """:func:`format_cell` as a ``Styler``: numbers right-aligned (cells and headers), the two
    difference columns coloured by sign (:func:`sign_css`), no index; ``uuid`` fixes the ids
    of the generated CSS so that re-executing a notebook gives the same HTML."""
    shown = format_cell(cell, digits)
    signs = pd.DataFrame("", index=shown.index, columns=shown.columns)
    signs["ours − paper"] = [sign_css(v) for v in cell["difference"]]
    signs[CSL_DIFFERENCE] = [sign_css(v) for v in csl_difference(cell)]
    numeric = [column for column in NUMERIC if column in shown]
    right = [{"selector": f"th.col{shown.columns.get_loc(c)}", "props": "text-align: right"}
             for c in numeric]  # fmt: skip
    styler = shown.style.hide(axis="index")
    if uuid:
        styler = styler.set_uuid(uuid)
    return (
        styler.set_properties(subset=numeric, **{"text-align": "right", "white-space": "nowrap"})
        .apply(lambda _: signs, axis=None)
        .set_table_styles([*TABLE_CSS, *right], overwrite=False)
    )


def difference_text(difference: float, low: float, high: float) -> str:
    """``"+2.22 (-1.84 to +6.27)"``: a difference with its interval, or ``"+2.22 (no interval)"``
    when the interval has no bounds (one seed on a side)."""
    if math.isnan(low) or math.isnan(high):
        return f"{difference:+.2f} (no interval)"
    return f"{difference:+.2f} ({low:+.2f} to {high:+.2f})"


def interval_text(low: float, high: float, effect: str, confidence: float = 0.95) -> str:
    """``"95 % interval -1.84 to +6.27: no detectable effect at 3 vs 3 seeds"``, or
    ``"one seed on each side, so no interval yet"`` when the interval has no bounds."""
    if math.isnan(low) or math.isnan(high):
        return "one seed on each side, so no interval yet"
    return f"{confidence * 100:g} % interval {low:+.2f} to {high:+.2f}: {effect}"


def names(frame: pd.DataFrame, column: str = "variant") -> str:
    """The rows' ``column`` values joined by commas, for a sentence; ``"none"`` when empty."""
    return ", ".join(frame[column]) if len(frame) else "none"
