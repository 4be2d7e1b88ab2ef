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
from cslnb.report.ablations import ablation_table, options_key, variant_evidence
from cslnb.report.comparison import method_name, paper_method_name, rank_agreement
from cslnb.report.formatting import difference_text, interval_text, names
from cslnb.report.seed_statistics import (
    binomial_standard_error,
    paired_interval,
    permutation_p_value,
    seed_difference,
    seed_std,
    t_quantile,
    t_two_sided_mass,
    welch_dof,
    welch_interval,
)
from cslnb.report.summary import interval_effect

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


def test_seed_std_by_hand() -> None:
    # 48.70, 47.30, 46.60: mean 47.5333, squared deviations 1.3611 + 0.0544 + 0.8711 = 2.2867,
    # divided by n - 1 = 2 gives 1.1433, whose root is 1.0693.
    assert seed_std([48.70, 47.30, 46.60]) == pytest.approx(1.0693, abs=1e-4)
    assert seed_std(np.array([5.0, 5.0])) == 0.0
    assert math.isnan(seed_std([65.52]))


def test_welch_interval_by_hand() -> None:
    # a = 1, 2, 3 and b = 4, 5, 6: s^2 = 1 on both sides, v = 1/3 each; dof =
    # (2/3)^2 / ((1/3)^2 / 2 * 2) = 4; half = 2.7764 * sqrt(2/3) = 2.2669.
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    assert welch_dof(a, b) == pytest.approx(4.0)
    d, low, high = welch_interval(a, b)
    assert (d, low, high) == (
        -3.0,
        pytest.approx(-5.2669, abs=1e-4),
        pytest.approx(-0.7331, abs=1e-4),
    )
    # b without spread: dof = v_a^2 / (v_a^2 / (n_a - 1)) = n_a - 1 = 1; a = 0, 10: s^2 = 50,
    # v_a = 25, half = 12.7062 * 5 = 63.531 (the pooled interval would be 4.3027 * ... narrower).
    d, low, high = welch_interval(np.array([0.0, 10.0]), np.array([5.0, 5.0, 5.0]))
    assert welch_dof(np.array([0.0, 10.0]), np.array([5.0, 5.0, 5.0])) == pytest.approx(1.0)
    assert (d, low, high) == (
        0.0,
        pytest.approx(-63.531, abs=1e-3),
        pytest.approx(63.531, abs=1e-3),
    )
    # a = 80, 82 (v = 1) and b = 70, 71, 75 (s^2 = 7, v = 7/3): dof = (10/3)^2 / (1 + (7/3)^2 / 2)
    # = 200/67, between 2 and 3, so the critical value lies between 4.3027 and 3.1824.
    a, b = np.array([80.0, 82.0]), np.array([70.0, 71.0, 75.0])
    assert welch_dof(a, b) == pytest.approx(200 / 67)
    d, low, high = welch_interval(a, b)
    error = math.sqrt(1 + 7 / 3)
    assert d == pytest.approx(9.0) and 3.1824 * error < d - low < 4.3027 * error
    # one seed on a side: no variance there, no interval; no spread anywhere: zero width.
    assert math.isnan(welch_interval(np.array([1.0]), np.array([2.0, 3.0]))[1])
    assert welch_interval(np.array([2.0, 2.0]), np.array([1.0, 1.0])) == (1.0, 1.0, 1.0)
    assert all(math.isnan(v) for v in welch_interval(np.array([]), np.array([1.0, 2.0])))


def test_paired_interval_and_identical_runs() -> None:
    # d = 1, 2, 3: mean 2, s_d = 1, half = 4.3027 / sqrt(3) = 2.4841.
    d, low, high = paired_interval(np.array([10.0, 12.0, 14.0]), np.array([9.0, 10.0, 11.0]))
    assert (d, low, high) == (
        2.0,
        pytest.approx(-0.4841, abs=1e-4),
        pytest.approx(4.4841, abs=1e-4),
    )
    # the same runs on both sides (e.g. CSL without denominator against CE): exactly 0.
    same = np.array([46.6, 47.3, 48.7])
    assert paired_interval(same, same) == (0.0, 0.0, 0.0)
    assert math.isnan(paired_interval(np.array([1.0]), np.array([2.0]))[1])


def test_permutation_p_value_counts_splits() -> None:
    # 3 against 3: 20 splits; only the observed one and its mirror reach |d| = 3: p = 2/20.
    assert permutation_p_value(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])) == 0.1
    # 2 against 2: 6 splits, the two extreme ones: p = 1/3; overlapping groups: larger.
    assert permutation_p_value(np.array([80.0, 82.0]), np.array([70.0, 71.0])) == pytest.approx(
        1 / 3
    )
    # a = 1, 4 and b = 2, 3: d = 0, every split is at least as extreme.
    assert permutation_p_value(np.array([1.0, 4.0]), np.array([2.0, 3.0])) == 1.0
    assert math.isnan(permutation_p_value(np.array([]), np.array([1.0])))


def test_seed_difference_pairs_matching_seeds_only() -> None:
    paired = seed_difference({0: 10.0, 1: 12.0, 2: 14.0}, {2: 11.0, 0: 9.0, 1: 10.0})
    assert (paired.method, paired.dof, paired.difference) == ("paired", 2.0, 2.0)
    assert paired.high == pytest.approx(4.4841, abs=1e-4)
    welch = seed_difference({0: 1.0, 1: 2.0, 2: 3.0}, {0: 4.0, 1: 5.0, 3: 6.0})
    assert (welch.method, welch.dof) == ("Welch", pytest.approx(4.0))
    assert (welch.low, welch.p_value) == (pytest.approx(-5.2669, abs=1e-4), 0.1)


def test_binomial_standard_error() -> None:
    # quick's test subset: 200 images per class, 2,000 in all; at 50 %: 100 * sqrt(0.25 / n).
    assert binomial_standard_error(50.0, 2000) == pytest.approx(1.1180, abs=1e-4)
    assert binomial_standard_error(50.0, 200) == pytest.approx(3.5355, abs=1e-4)
    assert binomial_standard_error(90.0, 100) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        binomial_standard_error(50.0, 0)


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
        _row("focal", 1, 82.0),
        _row("ib", 0, 60.0),
        _row("csl", 0, 69.0, RELEASED),
    ]
    summary = csl_summary(pd.DataFrame(rows)).set_index("baseline")
    assert summary.loc["ce", "method"] == "CE"
    # ce, paired by seed: d = 10, 11, mean 10.5, s_d = sqrt(0.5), half = 12.7062 * 0.5 = 6.3531.
    assert summary.loc["ce", "interval"] == "paired"
    assert summary.loc["ce", "ci_low"] == pytest.approx(4.1469, abs=1e-4)
    assert summary.loc["ce", "effect"] == "CSL higher"
    assert summary.loc["ce", "p_value"] == pytest.approx(1 / 3)  # 2 of 6 splits
    # focal: d = -1, 0: mean -0.5, the same half width 6.3531.
    assert summary.loc["focal", "ci_high"] == pytest.approx(5.8531, abs=1e-4)
    assert summary.loc["focal", "effect"] == "no detectable effect at 2 vs 2 seeds"
    # ib (one seed, seeds differ): Welch needs two seeds on each side, so no interval.
    assert summary.loc["ib", "interval"] == "Welch" and math.isnan(summary.loc["ib", "ci_low"])
    assert summary.loc["ib", "effect"] == "too few seeds for an interval"
    released = csl_summary(pd.DataFrame(rows), csl_options=RELEASED).set_index("baseline")
    assert released.loc["ce", "csl_mean"] == 69.0 and released.loc["ce", "n_csl"] == 1
    assert released.loc["ce", "difference"] == pytest.approx(69.0 - 70.5)
    assert "CSL (our released reading)" in released.attrs["caption"]


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
    reference = table.loc["CSL (our paper reading, all terms)"]
    # class 9 is right once in seed 2, so it is not silent in every seed
    assert reference["effect"] == "(reference)" and reference["zero_classes"] == 7
    assert reference["zero_class_ids"] == "2 3 4 5 6 7 8"
    # no denominator (seeds 0 1) vs reference (seeds 0 1 2): Welch. a = 40, 41 (v = 1/4);
    # b = 9, 10, 11 (v = 1/3): d = 30.5, dof = (7/12)^2 / ((1/4)^2 + (1/3)^2 / 2) = 49/17,
    # between 2 and 3 degrees of freedom.
    row = table.loc["no denominator"]
    assert row["difference"] == pytest.approx(30.5) and row["interval"] == "Welch"
    error = math.sqrt(7 / 12)
    assert 3.1824 * error < 30.5 - row["ci_low"] < 4.3027 * error
    assert row["effect"] == "higher"
    # vs CE (40, 42), paired: d = 0, -1: mean -0.5, s_d = sqrt(0.5), half = 12.7062 * 0.5.
    assert row["ce_interval"] == "paired"
    assert row["ce_high"] == pytest.approx(-0.5 + 6.3531, abs=1e-3)
    assert row["ce_effect"] == "no detectable effect at 2 vs 2 seeds"
    assert row["same_as_ce"] == "1 of 2" and row["zero_classes"] == 0
    released = table.loc["released reading"]
    # one seed against several: no interval on either comparison.
    assert released["n_seeds"] == 1 and released["effect"] == "too few seeds for an interval"
    assert math.isnan(released["ce_high"]) and released["ce_difference"] == pytest.approx(-31.0)
    assert released["ce_effect"] == "too few seeds for an interval"
    assert table.loc["no γ (γ_i = 1)", "effect"] == "not run yet"
    assert table.loc["CE (no CSL term)", "ce_effect"] == "(reference)"
    names_by_label = [f"class {i}" for i in range(10)]
    evidence = variant_evidence(table.reset_index(), names_by_label).set_index("variant")
    first = evidence.loc["CSL (our paper reading, all terms)"]
    assert first["vs paper reading"] == "" and first["0 % in every seed"] == (
        "class 2, class 3, class 4, class 5, class 6, class 7, class 8"
    )
    twin = evidence.loc["no denominator"]
    assert twin["vs CE"] == f"-0.50 ({row['ce_low']:+.2f} to {row['ce_high']:+.2f})"
    assert twin["vs paper reading"].startswith("+30.50 (") and twin["same as CE"] == "1 of 2"
    assert evidence.loc["released reading", "vs CE"] == "-31.00 (no interval)"
    assert evidence.loc["no γ (γ_i = 1)", "seeds"] == "not run yet"
    assert evidence.loc["no γ (γ_i = 1)", "mean"] == ""
    assert evidence.loc["released reading", "mean"] == "10.00"
    # rounded as the other tables round (DataFrame.round): the float 10.025 lies just above
    # 10.025, so a format string gives 10.03, but numpy scales it to 1002.5 and rounds half to even
    halfway = table.reset_index().assign(mean=[10.025] * len(table))
    assert variant_evidence(halfway, names_by_label).iloc[0]["mean"] == "10.02"
    assert evidence.loc["CE (no CSL term)", "vs CE"] == ""


def test_method_names() -> None:
    assert method_name("ce") == "CE" and method_name("ce-cb") == "CE + CB"
    assert method_name("csl") == "CSL (our paper reading)"
    assert method_name("csl", RELEASED) == "CSL (our released reading)"
    assert (
        method_name("csl", '{"use_gamma": false}') == 'CSL (our paper reading) {"use_gamma": false}'
    )
    assert method_name("new-loss") == "new-loss"
    assert paper_method_name("csl") == "CSL (the paper's own runs)"
    assert paper_method_name("ldam-drw") == "LDAM-DRW"


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
    assert (agreement["top_paper"], agreement["top_ours"]) == ("CSL (our paper reading)", "LDAM")


def test_ranking_pairs_count_ties_within_noise() -> None:
    from cslnb.report.comparison import ranking_pairs

    nan = float("nan")
    comparison = _comparison(
        [
            ("ce", "", 70.0, 52.67),
            ("ce-cb", "", 72.0, 52.68),  # 0.01 points from CE: a tie within 1.1 points
            ("ldam", "", 73.0, 55.0),
            ("focal", "", 70.0, 51.0),  # the paper ties CE and Focal
            ("ib", "", nan, 50.0),  # no paper value: left out
        ]
    )
    pairs = ranking_pairs(comparison, tie_within=1.1).set_index(["first", "second"])
    assert len(pairs) == 6  # 4 methods: 4 * 3 / 2 pairs
    assert pairs.loc[("CE", "CE + CB"), "verdict"] == "tie within noise"
    assert pairs.loc[("CE", "Focal"), "verdict"] == "paper tie"  # ours 1.67 apart
    assert pairs.loc[("CE", "LDAM"), "verdict"] == "agrees"  # -3 and -2.33
    assert pairs.loc[("CE + CB", "Focal"), "verdict"] == "agrees"  # +2 and +1.68
    assert pairs.loc[("LDAM", "Focal"), "verdict"] == "agrees"
    assert pairs.loc[("CE + CB", "LDAM"), "verdict"] == "agrees"
    assert pairs.loc[("CE", "CE + CB"), "ours_difference"] == pytest.approx(-0.01)
    flipped = _comparison([("ce", "", 70.0, 55.0), ("ldam", "", 73.0, 50.0)])
    assert list(ranking_pairs(flipped, 1.1)["verdict"]) == ["disagrees"]


def test_variant_findings_one_line_per_variant() -> None:
    from cslnb.report.ablations import variant_findings

    collapsed = [50.0, 40.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    no_denominator = options_key({"use_denominator": False})
    no_gamma = options_key({"use_gamma": False})
    rows = [
        *(_row("csl", s, 9.0 + s, per_class=collapsed) for s in (0, 1)),
        _row("ce", 0, 40.0),
        _row("ce", 1, 42.0),
        _row("csl", 0, 40.0, no_denominator),  # per-class equal to CE's in both seeds
        _row("csl", 1, 42.0, no_denominator),
        _row("csl", 0, 41.0, no_gamma),
        _row("csl", 1, 41.5, no_gamma),
    ]
    table = ablation_table(pd.DataFrame(rows), "quick")
    findings = variant_findings(table, chance=10.0).set_index("variant")
    # the reference: 9, 10 -> mean 9.5, within 2 points of chance 10; paired vs CE: d = -31,
    # -32, s_d = sqrt(0.5), half = 12.7062 * 0.5 = 6.35: lower than CE.
    assert findings.loc["CSL (our paper reading, all terms)", "shows"] == (
        "lower than CE; loses classes in every seed (8); near chance"
    )
    assert findings.loc["no denominator", "shows"] == "identical to CE, run for run"
    # no gamma: d = 1, -0.5 -> mean 0.25, s_d = 1.0607, half = 12.7062 * 0.75 = 9.53.
    assert findings.loc["no γ (γ_i = 1)", "shows"] == "not detectably different from CE"
    assert findings.loc["no γ (γ_i = 1)", "vs_ce"] == "+0.25 (-9.28 to +9.78)"
    assert findings.loc["term × 0.1", "shows"] == "not run yet"
    assert findings.loc["term × 0.1", "command"] == (
        "python -m cslnb reproduce ablations --profile quick --seeds 0 1 2 --datasets cifar10 "
        "--ratios 100"
    )
    assert findings.loc["no denominator", "command"] == ""
    assert "CE (no CSL term)" not in findings.index


def test_difference_and_interval_texts() -> None:
    nan = float("nan")
    assert difference_text(2.2249, -1.8351, 6.27) == "+2.22 (-1.84 to +6.27)"
    assert difference_text(-0.5, nan, nan) == "-0.50 (no interval)"
    assert interval_text(-1.8351, 6.27, "no detectable effect at 3 vs 3 seeds") == (
        "95 % interval -1.84 to +6.27: no detectable effect at 3 vs 3 seeds"
    )
    ninety = interval_text(0.5, 1.5, "higher", confidence=0.9)
    assert ninety == "90 % interval +0.50 to +1.50: higher"
    assert interval_text(nan, nan, "too few seeds") == "one seed on each side, so no interval yet"
    frame = pd.DataFrame({"variant": ["a", "b"]})
    assert names(frame) == "a, b" and names(frame.iloc[:0]) == "none"
