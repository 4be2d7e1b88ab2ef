"""One cell of a paper table at two scales: the ``paper`` profile's runs next to ``quick``'s.

The ``paper`` profile trains the paper's recipe (ResNet-32 on 32x32 images for 200 epochs) with
one seed, as the paper reports it; ``quick`` is the miniature the book's seed statistics rest
on. :func:`scale_table` puts both beside the paper's printed value, method by method, and
:func:`profile_agreement` asks how often the miniature orders two methods as the full recipe
does: the fair anchor for ``quick`` (same code, same data), where the paper's numbers are not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cslnb.report.comparison import NOT_IN_CSLNB, comparison_table, ranking_pairs
from cslnb.report.runs import check_per_class, require_columns

LOST_AT = 1.0
"""A class at or below this test accuracy (%) counts as lost in a run."""
RUN_COLUMNS = ("run_id", "best_accuracy", "best_epoch", "wall_time_s", "status")


def lost_classes(per_class: Sequence[float], at: float = LOST_AT) -> int:
    """How many classes a run has lost: per-class test accuracies at or below ``at`` %."""
    return int((np.asarray(per_class, dtype=float) <= at).sum())


def _cell(records: pd.DataFrame, table: int, profile: str, seeds: Sequence[int],
          dataset: str, ratio: float) -> pd.DataFrame:  # fmt: skip
    """The ``avg`` rows of one cell of :func:`comparison_table`, methods we run only."""
    compared = comparison_table(records, table, profile=profile, seeds=seeds)
    keep = (
        (compared["dataset"] == dataset)
        & (compared["ratio"] == float(ratio))
        & (compared["metric"] == "avg")
        & (compared["status"] != NOT_IN_CSLNB)
    )
    return compared[keep].set_index("method")


def _runs(records: pd.DataFrame, profile: str, dataset: str, ratio: float) -> pd.DataFrame:
    keep = (
        (records["profile"] == profile)
        & (records["dataset"] == dataset)
        & (records["ratio"].astype(float) == float(ratio))
        & (records["imb_type"] == "exp")
    )
    return records[keep]


def _lost_per_seed(runs: pd.DataFrame, n_classes: int) -> str:
    """Lost classes of each finished run, in seed order (``"5 0 1"``); empty without runs."""
    finished = runs[runs["status"] != "diverged"].sort_values("seed")
    return " ".join(
        str(lost_classes(check_per_class(row, n_classes))) for row in finished.to_dict("records")
    )


def scale_table(
    records: pd.DataFrame,
    table: int = 2,
    dataset: str = "cifar10",
    ratio: float = 100,
    large: str = "paper",
    small: str = "quick",
    large_seeds: Sequence[int] = (0,),
    small_seeds: Sequence[int] = (0, 1, 2),
) -> pd.DataFrame:
    """Every method of one cell of Table ``table`` at the ``large`` and ``small`` profiles.

    One row per method (named and ordered as in :func:`comparison_table`; the paper's methods
    that ``cslnb`` lacks are left out): ``method, loss, options, paper`` (as reported by the
    paper; NaN for our additions), then for ``large`` (one seed, as in the paper): ``final``
    (the last epoch's test accuracy, the headline), ``best`` and ``best_epoch`` (the best
    evaluated epoch: selected on the test split, so optimistic), ``hours`` (wall time),
    ``lost`` (classes at or below :data:`LOST_AT` %) and ``status`` (``ok``, ``not run yet`` or
    where the run diverged), ``run_ids`` (the finished runs behind these numbers, in seed
    order, space-separated); for ``small``: ``mean``, ``std``, ``n`` (finished seeds), ``lost``
    (per seed, as ``"5 0 1"``) and ``status``. Columns of the two profiles are prefixed with
    their names (``paper final``, ``quick mean``). With several ``large_seeds`` the ``large``
    numbers are means over them. ``records`` is :func:`cslnb.records.load_records` output.
    """
    require_columns(records, RUN_COLUMNS)
    big = _cell(records, table, large, large_seeds, dataset, ratio)
    little = _cell(records, table, small, small_seeds, dataset, ratio)
    big_runs = _runs(records, large, dataset, ratio)
    little_runs = _runs(records, small, dataset, ratio)
    n_classes = len(records["per_class_accuracy"].iloc[0]) if len(records) else 0
    rows = []
    for method, row in big.iterrows():
        same = (big_runs["loss"] == row["loss"]) & (big_runs["loss_options"] == row["options"])
        runs = big_runs[same & big_runs["seed"].isin(large_seeds)]
        done = runs[runs["status"] != "diverged"]
        theirs = little.loc[method] if method in little.index else None
        small_same = (little_runs["loss"] == row["loss"]) & (
            little_runs["loss_options"] == row["options"]
        )
        small_runs = little_runs[small_same & little_runs["seed"].isin(small_seeds)]
        rows.append(
            {
                "method": method,
                "loss": row["loss"],
                "options": row["options"],
                "paper": row["paper"],
                f"{large} final": row["ours_mean"],
                f"{large} best": done["best_accuracy"].astype(float).mean(),
                f"{large} best_epoch": done["best_epoch"].astype(float).mean(),
                f"{large} hours": done["wall_time_s"].astype(float).mean() / 3600,
                f"{large} lost": _lost_per_seed(runs, n_classes),
                f"{large} status": row["status"],
                f"{large} run_ids": " ".join(done.sort_values("seed")["run_id"]),
                f"{small} mean": theirs["ours_mean"] if theirs is not None else np.nan,
                f"{small} std": theirs["ours_std"] if theirs is not None else np.nan,
                f"{small} n": int(theirs["n_seeds"]) if theirs is not None else 0,
                f"{small} lost": _lost_per_seed(small_runs, n_classes),
                f"{small} status": theirs["status"] if theirs is not None else "",
            }
        )
    result = pd.DataFrame(rows)
    result.attrs["caption"] = (
        f"{dataset} ratio {ratio:g}: the {large!r} profile (seed(s) "
        f"{' '.join(map(str, large_seeds))}; final = last epoch, best = best evaluated epoch, "
        f"selected on the test split) next to {small!r} (mean ± std over seeds "
        f"{' '.join(map(str, small_seeds))}) and the paper's value as reported by the paper"
    )
    return result


def profile_agreement(scale: pd.DataFrame, tie_within: float, large: str = "paper",
                      small: str = "quick") -> pd.DataFrame:  # fmt: skip
    """Every pair of methods run at both profiles of a :func:`scale_table`: does ``small``
    order the pair as ``large`` does? :func:`ranking_pairs` with ``large``'s final accuracy in
    place of the paper's value: ``first, second, paper_difference`` (here: ``large``'s
    difference), ``ours_difference`` (``small``'s), ``verdict`` (``agrees``, ``disagrees`` or
    ``tie within noise`` when ``small``'s means differ by less than ``tie_within`` points)."""
    both = scale[scale[f"{large} final"].notna() & (scale[f"{small} n"] > 0)]
    anchored = pd.DataFrame(
        {
            "dataset": "",
            "ratio": 0.0,
            "method": both["method"],
            "metric": "avg",
            "paper": both[f"{large} final"],
            "ours_mean": both[f"{small} mean"],
            "n_seeds": both[f"{small} n"],
        }
    )
    pairs = ranking_pairs(anchored, tie_within)
    return pairs.drop(columns=["dataset", "ratio"]).rename(
        columns={
            "paper_difference": f"{large}_difference",
            "ours_difference": f"{small}_difference",
        }
    )


def _number(value: float, digits: int = 2) -> str:
    return "—" if pd.isna(value) else f"{value:.{digits}f}"


def format_scale_table(
    scale: pd.DataFrame, large: str = "paper", small: str = "quick"
) -> pd.DataFrame:
    """:func:`scale_table` as strings for a notebook: ``method``, ``paper (as reported)``,
    ``{large}: final``, ``{large}: best (epoch)``, ``{large}: hours``, ``{large}: lost``,
    ``{small}: mean ± std (n)``, ``{small}: lost per seed`` and ``{large} status`` (``—``
    where a number is missing; a diverged run's cell reads ``diverged``)."""

    def large_final(row: pd.Series) -> str:
        if pd.isna(row[f"{large} final"]) and "diverged" in row[f"{large} status"]:
            return "diverged"
        return _number(row[f"{large} final"])

    def small_mean(row: pd.Series) -> str:
        if row[f"{small} n"] == 0:
            return "—"
        spread = "" if pd.isna(row[f"{small} std"]) else f" ± {row[f'{small} std']:.2f}"
        return f"{row[f'{small} mean']:.2f}{spread} (n={row[f'{small} n']})"

    def best(row: pd.Series) -> str:
        if pd.isna(row[f"{large} best"]):
            return "—"
        return f"{row[f'{large} best']:.2f} ({row[f'{large} best_epoch']:.0f})"

    rows = [row for _, row in scale.iterrows()]
    shown = pd.DataFrame(
        {
            "method": scale["method"],
            "paper (as reported)": scale["paper"].map(_number),
            f"{large}: final": [large_final(row) for row in rows],
            f"{large}: best (epoch)": [best(row) for row in rows],
            f"{large}: hours": scale[f"{large} hours"].map(lambda h: _number(h, 1)),
            f"{large}: lost": scale[f"{large} lost"].replace("", "—"),
            f"{small}: mean ± std (n)": [small_mean(row) for row in rows],
            f"{small}: lost per seed": scale[f"{small} lost"].replace("", "—"),
            f"{large} status": scale[f"{large} status"],
        }
    )
    shown.attrs["caption"] = scale.attrs.get("caption", "")
    return shown.reset_index(drop=True)
