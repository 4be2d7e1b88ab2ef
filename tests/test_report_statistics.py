"""Intervals over seeds, method names and rank agreement of the report, on hand-made runs.

Every expected number is worked out by hand in the comments, from tabulated Student-t critical
values (two-sided 95 %: 12.7062 at 1 degree of freedom, 4.3027 at 2, 3.1824 at 3, 2.7764 at 4).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cslnb.report import csl_summary
from cslnb.report.ablations import ablation_table, options_key
from cslnb.report.comparison import method_name, rank_agreement
from cslnb.report.summary import (
    difference_interval,
    interval_effect,
    t_quantile,
    t_two_sided_mass,
)

RELEASED = options_key({"reading": "released"})


@pytest.mark.parametrize(
    ("dof", "expected"), [(1, 12.7062), (2, 4.3027), (3, 3.1824), (4, 2.7764), (10, 2.2281)]
)
def test_t_quantile_matches_the_table(dof: int, expected: float) -> None:
    assert t_quantile(0.95, dof) == pytest.approx(expected, abs=1e-4)


def test_t_mass_closed_forms() -> None:
    # dof 1 is the Cauchy distribution: P(|T| <= t) = 2 atan(t) / pi; dof 2: t / sqrt(2 + t^2).
    assert t_two_sided_mass(1.0, 1) == pytest.approx(0.5)
    assert t_two_sided_mass(3.0, 2) == pytest.approx(3 / math.sqrt(11))
    assert t_quantile(0.99, 2) == pytest.approx(9.9248, abs=1e-4)
    with pytest.raises(ValueError, match="dof"):
        t_two_sided_mass(1.0, 0)


def test_difference_interval_by_hand() -> None:
    # a = 80, 82 and b = 70, 71: d = 10.5; s_p^2 = (2 + 0.5) / 2 = 1.25;
    # half width = 4.3027 * sqrt(1.25) * sqrt(1/2 + 1/2) = 4.8105.
    d, low, high = difference_interval(np.array([80.0, 82.0]), np.array([70.0, 71.0]))
    assert d == pytest.approx(10.5)
    assert (low, high) == (pytest.approx(5.6895, abs=1e-4), pytest.approx(15.3105, abs=1e-4))
    # a = 1, 2, 3 and b = 5 (one seed): d = -3; s_p^2 = 2 / 2 = 1 (b adds no spread, 2 dof);
    # half width = 4.3027 * 1 * sqrt(1/3 + 1) = 4.9683.
    d, low, high = difference_interval(np.array([1.0, 2.0, 3.0]), np.array([5.0]))
    assert d == pytest.approx(-3.0)
    assert (low, high) == (pytest.approx(-7.9683, abs=1e-4), pytest.approx(1.9683, abs=1e-4))
    # one seed on each side: no degree of freedom, no interval.
    d, low, high = difference_interval(np.array([1.0]), np.array([2.0]))
    assert d == -1.0 and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(v) for v in difference_interval(np.array([]), np.array([1.0, 2.0])))


def test_interval_effect_words() -> None:
    assert interval_effect(0.5, 2.0, 3, 3) == "higher"
    assert interval_effect(-2.0, -0.1, 3, 3, lower="CSL lower") == "CSL lower"
    assert interval_effect(-1.0, 2.0, 3, 2) == "no detectable effect at 3 vs 2 seeds"
    assert interval_effect(float("nan"), float("nan"), 1, 1) == "too few seeds for an interval"


def _row(loss: str, seed: int, accuracy: float, options: str = "{}", per_class=None) -> dict:
    return {
        "run_id": f"cifar10-exp100-{loss}-{options}-seed{seed}",
        "profile": "quick",
        "dataset": "cifar10",
        "imb_type": "exp",
        "ratio": 100.0,
        "loss": loss,
        "loss_options": options,
        "seed": seed,
        "accuracy": accuracy,
        "per_class_accuracy": per_class if per_class is not None else [accuracy] * 10,
    }


def test_summary_intervals_and_released_reading() -> None:
    rows = [
        _row("csl", 0, 80.0),
        _row("csl", 1, 82.0),
        _row("ce", 0, 70.0),
        _row("ce", 1, 71.0),
        _row("focal", 0, 81.0),
        _row("focal", 1, 83.0),
        _row("ib", 0, 60.0),
        _row("csl", 0, 69.0, RELEASED),
    ]
    summary = csl_summary(pd.DataFrame(rows)).set_index("baseline")
    assert summary.loc["ce", "method"] == "CE"
    assert summary.loc["ce", "effect"] == "CSL higher"
    assert summary.loc["ce", "ci_low"] == pytest.approx(5.6895, abs=1e-4)
    # focal: d = -1, s_p^2 = (2 + 2) / 2 = 2, half = 4.3027 * sqrt(2) * 1 = 6.0849.
    assert summary.loc["focal", "ci_high"] == pytest.approx(5.0849, abs=1e-4)
    assert summary.loc["focal", "effect"] == "no detectable effect at 2 vs 2 seeds"
    # ib (one seed): d = 21, s_p^2 = 2 / 1, half = 12.7062 * sqrt(2) * sqrt(1/2 + 1) = 22.0078.
    assert summary.loc["ib", "ci_low"] == pytest.approx(-1.0078, abs=1e-4)
    released = csl_summary(pd.DataFrame(rows), csl_options=RELEASED).set_index("baseline")
    assert released.loc["ce", "csl_mean"] == 69.0 and released.loc["ce", "n_csl"] == 1
    assert released.loc["ce", "difference"] == pytest.approx(69.0 - 70.5)
    assert "CSL (released reading)" in released.attrs["caption"]


def test_ablation_intervals_ce_twins_and_silent_classes() -> None:
    collapsed = [50.0, 40.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    no_denominator = options_key({"use_denominator": False})
    rows = [
        _row("csl", 0, 9.0, per_class=collapsed),
        _row("csl", 1, 10.0, per_class=collapsed),
        _row("csl", 2, 11.0, per_class=[*collapsed[:9], 1.0]),
        _row("ce", 0, 40.0),
        _row("ce", 1, 42.0),
        _row("csl", 0, 40.0, no_denominator),  # per-class equal to CE seed 0
        _row("csl", 1, 41.0, no_denominator),  # differs from CE seed 1
        _row("csl", 0, 10.0, RELEASED),
    ]
    table = ablation_table(pd.DataFrame(rows), "quick").set_index("variant")
    reference = table.loc["CSL (paper reading, all terms)"]
    # class 9 is right once in seed 2, so it is not silent in every seed
    assert reference["effect"] == "(reference)" and reference["zero_classes"] == 7
    assert reference["zero_class_ids"] == "2 3 4 5 6 7 8"
    # no denominator vs reference: a = 40, 41; b = 9, 10, 11: d = 40.5 - 10 = 30.5;
    # s_p^2 = (0.5 + 2) / 3; half = 3.1824 * sqrt(2.5 / 3) * sqrt(1/2 + 1/3) = 2.6519.
    row = table.loc["no denominator"]
    assert row["difference"] == pytest.approx(30.5)
    assert row["ci_low"] == pytest.approx(30.5 - 2.6519, abs=1e-3)
    assert row["effect"] == "higher"
    # vs CE (40, 42): d = -0.5; s_p^2 = (0.5 + 2) / 2; half = 4.3027 * sqrt(1.25) * 1 = 4.8105.
    assert row["ce_high"] == pytest.approx(-0.5 + 4.8105, abs=1e-3)
    assert row["ce_effect"] == "no detectable effect at 2 vs 2 seeds"
    assert row["same_as_ce"] == "1 of 2" and row["zero_classes"] == 0
    released = table.loc["released reading"]
    assert released["n_seeds"] == 1 and released["effect"] == "no detectable effect at 1 vs 3 seeds"
    # vs CE (40, 42), one degree of freedom: d = -31, s_p^2 = 2, half = 12.7062 * sqrt(2) *
    # sqrt(1 + 1/2) = 22.0078: the interval (-53.0, -9.0) excludes 0.
    assert released["ce_high"] == pytest.approx(-31 + 22.0078, abs=1e-3)
    assert released["ce_effect"] == "lower"
    assert table.loc["no γ (γ_i = 1)", "effect"] == "not run yet"
    assert table.loc["CE (no CSL term)", "ce_effect"] == "(reference)"


def test_method_names() -> None:
    assert method_name("ce") == "CE" and method_name("ce-cb") == "CE + CB"
    assert method_name("csl") == "CSL (paper reading)"
    assert method_name("csl", RELEASED) == "CSL (released reading)"
    assert method_name("csl", '{"use_gamma": false}') == 'CSL (paper reading) {"use_gamma": false}'
    assert method_name("new-loss") == "new-loss"


def _comparison(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    records: list[dict[str, Any]] = [
        {
            "dataset": "cifar10",
            "ratio": 100.0,
            "method": method_name(loss),
            "loss": loss,
            "metric": "avg",
            "paper": paper,
            "ours_mean": ours,
            "n_seeds": 1 if not math.isnan(ours) else 0,
        }
        for loss, _, paper, ours in rows
    ]
    return pd.DataFrame(records)


def test_rank_agreement_by_hand() -> None:
    nan = float("nan")
    comparison = _comparison(
        [
            ("ce", "", 70.0, 40.0),
            ("focal", "", 71.0, 41.0),
            ("ldam", "", 73.0, 45.0),
            ("csl", "", 78.0, 20.0),
            ("ib", "", nan, 50.0),  # no paper value: left out
            ("ce-cb", "", 72.0, nan),  # not run: left out
        ]
    )
    agreement = rank_agreement(comparison).iloc[0]
    # paper ranks ce 1, focal 2, ldam 3, csl 4; ours 2, 3, 4, 1: d^2 = 1 + 1 + 1 + 9 = 12,
    # rho = 1 - 6 * 12 / (4 * 15) = -0.2. Without CSL the orders agree exactly: rho = 1.
    assert agreement["n_methods"] == 4
    assert agreement["spearman"] == pytest.approx(-0.2)
    assert agreement["spearman_without_csl"] == pytest.approx(1.0)
    assert (agreement["csl_rank_paper"], agreement["csl_rank_ours"]) == (1, 4)
    assert (agreement["top_paper"], agreement["top_ours"]) == ("CSL (paper reading)", "LDAM")
