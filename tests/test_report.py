"""The report on real ``ci`` records: comparison tables, CSL verdicts, figures, loud failures."""

from __future__ import annotations

import copy
import json
import re
import statistics
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cslnb.records import RecordError, load_records, record_path
from cslnb.report import (
    comparison_from_results,
    comparison_table,
    csl_summary,
    format_comparison,
    style_comparison,
)
from cslnb.report.ablations import ablation_table, options_key, variant_findings, variant_label
from cslnb.report.comparison import comparison_cells, csl_difference, reproduce_command
from cslnb.report.figures import (
    default_highlight,
    plot_class_accuracy,
    plot_gamma,
    plot_semantic_scale,
    plot_trace_heatmap,
)
from cslnb.report.formatting import format_cell, style_cell
from cslnb.report.scale import (
    format_scale_table,
    lost_classes,
    profile_agreement,
    scale_table,
)
from cslnb.report.summary import csl_headline
from cslnb.reproduce import CSL_ABLATIONS
from cslnb.train.config import RunConfig
from cslnb.train.trainer import TrainOptions, train

RUNS = (("ce", 0), ("ce", 1), ("csl", 0))
"""Trained once per module: CIFAR-10-LT ratio 50 (the synthetic stand-in in ``ci``)."""


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results root holding real ``ci`` records of :data:`RUNS`."""
    root = tmp_path_factory.mktemp("results")
    checkpoints = tmp_path_factory.mktemp("checkpoints")
    options = TrainOptions(
        results_root=root, checkpoint_root=checkpoints, device="cpu", progress=False
    )
    for loss, seed in RUNS:
        train(RunConfig(dataset="cifar10", loss=loss, ratio=50, seed=seed, profile="ci"), options)
    return root


@pytest.fixture(scope="module")
def records(results: Path) -> pd.DataFrame:
    return load_records(results)


def _record(results: Path, loss: str, seed: int) -> dict[str, Any]:
    run_id = RunConfig(dataset="cifar10", loss=loss, ratio=50, seed=seed, profile="ci").run_id
    return json.loads(record_path("ci", "cifar10", run_id, results).read_text())


def _row(table: pd.DataFrame, **where: object) -> pd.Series:
    mask = pd.Series(True, index=table.index)
    for column, value in where.items():
        mask &= table[column] == value
    assert mask.sum() == 1, where
    return table[mask].iloc[0]


def test_table1_mean_std_and_difference_by_hand(results: Path, records: pd.DataFrame) -> None:
    table = comparison_table(records, 1)
    ce = [_record(results, "ce", seed)["final"] for seed in (0, 1)]
    avg = _row(table, loss="ce", metric="avg")
    accuracies = [final["accuracy"] for final in ce]
    assert avg["n_seeds"] == 2 and avg["seeds"] == "0 1" and avg["status"] == "ok"
    assert avg["ours_mean"] == pytest.approx(statistics.mean(accuracies))
    assert avg["ours_std"] == pytest.approx(statistics.stdev(accuracies))
    assert avg["paper"] == 74.8
    assert avg["difference"] == pytest.approx(statistics.mean(accuracies) - 74.8)
    cat = _row(table, loss="ce", metric="cat")
    cats = [final["per_class_accuracy"][3] for final in ce]
    assert cat["ours_mean"] == pytest.approx(statistics.mean(cats))
    assert cat["ours_std"] == pytest.approx(statistics.stdev(cats))
    assert (table["profile"] == "ci").all()
    assert "profile 'ci'" in table.attrs["caption"]


def test_missing_cells_name_their_command(records: pd.DataFrame) -> None:
    table = comparison_table(records, 1)
    csl = _row(table, loss="csl", options="{}", metric="cat")
    assert (csl["method"], csl["paper"], csl["n_seeds"]) == ("CSL (our paper reading)", 87.64, 1)
    assert csl["paper_method"] == "CSL.Ours" and csl["options"] == "{}"
    assert csl["status"] == "missing seed(s) 1"
    assert csl["command"] == (
        "python -m cslnb reproduce table1 --profile ci --seeds 1 --datasets cifar10 --ratios 50 "
        "--losses csl"
    )
    ldam = _row(table, loss="ldam", metric="avg")
    assert ldam["status"] == "not run yet" and ldam["n_seeds"] == 0
    assert ldam["command"] == (
        "python -m cslnb reproduce table1 --profile ci --seeds 0 1 --datasets cifar10 --ratios 50 "
        "--losses ldam"
    )
    extra = _row(table, loss="balanced-softmax", metric="avg")
    assert pd.isna(extra["paper"]) and extra["method"] == "Balanced Softmax"
    assert extra["paper_method"] == ""


def test_table2_and_table3_cells(records: pd.DataFrame) -> None:
    table2 = comparison_table(records, 2, seeds=[0])
    ce50 = _row(table2, loss="ce", dataset="cifar10", ratio=50.0)
    assert ce50["status"] == "ok" and ce50["paper"] == 74.8
    ssp = _row(table2, method="LDAM-DRW + SSP", dataset="cifar100", ratio=100.0)
    assert ssp["status"] == "not in cslnb" and ssp["command"] == ""
    drw = _row(table2, loss="ldam-drw", dataset="cifar100", ratio=200.0)
    assert pd.isna(drw["paper"]) and drw["status"] == "not run yet"
    assert drw["command"].endswith("--seeds 0 --datasets cifar100 --ratios 200 --losses ldam-drw")
    table3 = comparison_table(records, 3)
    esql = _row(table3, paper_method="ESQL")
    assert esql["method"] == "Equalization loss (ESQL)"
    assert (esql["loss"], esql["type"], esql["paper"]) == ("equalization", "CSL", 48.0)
    assert _row(table3, method="OLTR")["type"] == "MI"


def test_cifar100_rows_carry_group_accuracies(records: pd.DataFrame) -> None:
    fake = records[records["loss"] == "ce"].copy()
    fake["dataset"], fake["ratio"] = "cifar100", 100
    fake["many"], fake["medium"], fake["few"] = [60.0, 62.0], [40.0, 44.0], [10.0, None]
    table = comparison_table(pd.concat([records, fake], ignore_index=True), 2)
    row = _row(table, loss="ce", dataset="cifar100", ratio=100.0)
    assert (row["many"], row["medium"], row["few"]) == (61.0, 42.0, 10.0)
    assert _row(table, loss="ce", dataset="cifar10", ratio=50.0)[["many", "few"]].isna().all()


def test_mixed_profiles_raise_unless_one_is_chosen(records: pd.DataFrame) -> None:
    quick = records.assign(profile="quick", accuracy=99.0)
    mixed = pd.concat([records, quick], ignore_index=True)
    with pytest.raises(ValueError, match="mix profiles ci, quick"):
        comparison_table(mixed, 1)
    with pytest.raises(ValueError, match="mix profiles"):
        csl_summary(mixed)
    chosen = comparison_table(mixed, 1, profile="quick")
    assert _row(chosen, loss="ce", metric="avg")["ours_mean"] == 99.0
    assert "--profile quick" in _row(chosen, loss="ldam", metric="avg")["command"]


def test_formatted_forms(records: pd.DataFrame) -> None:
    formatted = format_comparison(comparison_table(records, 1))
    ce = formatted[(formatted["method"] == "CE") & (formatted["metric"] == "avg")]
    assert ce["ours"].iloc[0].endswith("(n=2)") and " ± " in ce["ours"].iloc[0]
    ldam = formatted[(formatted["method"] == "LDAM") & (formatted["metric"] == "avg")]
    assert ldam["status"].iloc[0].startswith("not run yet: python -m cslnb reproduce table1")
    assert ldam["ours"].iloc[0] == "—"
    assert "many / medium / few" not in formatted
    table2 = format_comparison(comparison_table(records, 2))
    assert "metric" not in table2 and "many / medium / few" in table2
    html = style_comparison(comparison_table(records, 4)).to_html()
    assert "Table 4 of the paper" in html and "CE" in html and "Baseline (CE)" not in html


HAND_MADE_RUNS = (
    ("csl", 0, 80.0),
    ("csl", 1, 82.0),
    ("ce", 0, 70.0),
    ("ce", 1, 71.0),
    ("focal", 0, 81.0),
    ("focal", 1, 83.0),
    ("ldam", 0, 90.0),
    ("ldam", 1, 91.0),
    ("ib", 0, 60.0),
)


def _summary_rows(runs: tuple[tuple[str, int, float], ...]) -> list[dict[str, Any]]:
    """Record rows of CIFAR-10-LT ratio 100 runs, (loss, seed, accuracy) each."""
    return [
        {
            "run_id": f"cifar10-exp100-{loss}-seed{seed}",
            "profile": "quick",
            "dataset": "cifar10",
            "imb_type": "exp",
            "ratio": 100.0,
            "loss": loss,
            "loss_options": "{}",
            "seed": seed,
            "accuracy": accuracy,
        }
        for loss, seed, accuracy in runs
    ]


def test_summary_verdicts_on_hand_made_runs() -> None:
    rows = _summary_rows(HAND_MADE_RUNS)
    no_csl = {**rows[2], "dataset": "cifar100", "run_id": "cifar100-exp100-ce-seed0"}
    summary = csl_summary(pd.DataFrame([*rows, no_csl])).set_index("baseline")
    assert summary["verdict"].to_dict() == {
        "ce": "CSL higher",
        "focal": "within seed spread",
        "ib": "spread unknown (1 seed)",
        "ldam": "CSL lower",
    }
    assert summary.loc["ce", "difference"] == pytest.approx(10.5)
    assert summary.loc["ce", "csl_std"] == pytest.approx(2**0.5)  # 80, 82
    assert summary.loc["ce", "baseline_std"] == pytest.approx(0.5**0.5)  # 70, 71
    assert summary.loc["ce", "interval"] == "paired" and summary.loc["ib", "interval"] == "Welch"
    assert summary.loc["ldam", "csl_range"] == "80.00–82.00"
    assert (summary.loc["ib", "n_csl"], summary.loc["ib", "n_baseline"]) == (2, 1)
    assert (summary.loc["ib", "csl_seeds"], summary.loc["ib", "baseline_seeds"]) == ("0 1", "0")
    broken = pd.DataFrame([*rows[:2], {**rows[2], "accuracy": None}])
    with pytest.raises(RecordError, match="cifar10-exp100-ce-seed0"):
        csl_summary(broken)


def test_summary_on_real_records(records: pd.DataFrame) -> None:
    summary = csl_summary(records)
    assert summary["baseline"].tolist() == ["ce"]
    assert summary.loc[0, "verdict"] == "spread unknown (1 seed)"
    assert (summary.loc[0, "n_csl"], summary.loc[0, "n_baseline"]) == (1, 2)


def test_figures_draw_every_class_and_the_highlighted_ones(results: Path) -> None:
    record = _record(results, "csl", 0)
    n_classes = len(record["dataset"]["class_counts"])
    n_epochs = len(record["loss_trace"])
    assert default_highlight(record) == (0, n_classes // 2, n_classes - 1)
    figure = plot_semantic_scale(record)
    ax = figure.axes[0]
    assert len(ax.lines) == n_classes + 3
    assert len(ax.lines[0].get_xdata()) == n_epochs
    assert "CIFAR-10-LT" in ax.get_title() and "ratio 50" in ax.get_title()
    assert "profile ci" in ax.get_title()
    assert ax.get_xlabel() == "epoch" and "semantic scale" in ax.get_ylabel()
    gamma = plot_gamma(record, highlight=(0, 9), epochs=2).axes[0]
    assert len(gamma.lines) == n_classes + 2
    assert list(gamma.lines[-1].get_xdata()) == [e["epoch"] for e in record["loss_trace"]][:2]
    heatmap = plot_trace_heatmap(record, "gamma")
    assert heatmap.axes[0].images[0].get_array().shape == (n_classes, n_epochs)
    assert len(heatmap.axes) == 2  # the heat-map and its colour bar


def test_cifar100_highlight_includes_the_papers_class_91(results: Path) -> None:
    record = _record(results, "csl", 0)
    wide = copy.deepcopy(record)
    wide["config"]["dataset"] = "cifar100"
    wide["dataset"]["class_counts"] = [500 - 4 * c for c in range(100)]
    for entry in wide["loss_trace"]:
        entry["gamma"] = [1.0] * 100
    assert default_highlight(wide) == (0, 50, 91, 99)
    assert len(plot_gamma(wide).axes[0].lines) == 104


def _write(root: Path, name: str, record: dict[str, Any]) -> Path:
    path = root / "ci" / "cifar10" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return path


def test_malformed_record_files_are_named(results: Path, tmp_path: Path) -> None:
    good = _record(results, "ce", 0)
    no_final = {key: value for key, value in good.items() if key != "final"}
    path = _write(tmp_path / "a", "no-final.json", no_final)
    with pytest.raises(RecordError, match=rf"{re.escape(path.name)}.*final"):
        comparison_from_results(1, root=tmp_path / "a")
    short = copy.deepcopy(good)
    short["final"]["per_class_accuracy"] = short["final"]["per_class_accuracy"][:-1]
    path = _write(tmp_path / "b", "short.json", short)
    with pytest.raises(RecordError, match=rf"{re.escape(path.name)}.*per-class"):
        comparison_from_results(1, root=tmp_path / "b", profile="ci")


def test_malformed_rows_and_traces_are_named(
    results: Path, records: pd.DataFrame, tmp_path: Path
) -> None:
    short = records.copy()
    short.at[0, "per_class_accuracy"] = short.at[0, "per_class_accuracy"][:-1]
    with pytest.raises(RecordError, match=rf"run {short.at[0, 'run_id']}: 9 per-class"):
        comparison_table(short, 1)
    with pytest.raises(RecordError, match="lack column"):
        comparison_table(records.drop(columns=["accuracy"]), 2)
    record = _record(results, "csl", 0)
    del record["loss_trace"][1]["gamma"]
    with pytest.raises(RecordError, match=r"run cifar10-exp50-csl-seed0: .*entry 1 lacks gamma"):
        plot_gamma(record)
    path = _write(tmp_path, "trace.json", record)
    with pytest.raises(RecordError, match=rf"{re.escape(path.name)}: .*entry 1 lacks gamma"):
        plot_trace_heatmap(path, "gamma")
    no_trace = _record(results, "ce", 0)
    with pytest.raises(RecordError, match="no loss_trace"):
        plot_semantic_scale(no_trace)


def test_ablation_table_matches_variants_by_options(records: pd.DataFrame) -> None:
    csl = records[records["loss"] == "csl"]
    released = csl.assign(
        loss_options=options_key({"reading": "released"}), accuracy=1.5, run_id="released-0"
    )
    released2 = released.assign(seed=1, accuracy=3.5, run_id="released-1")
    other_profile = csl.assign(profile="quick", loss_options=options_key({"use_gamma": False}))
    table = ablation_table(
        pd.concat([records, released, released2, other_profile], ignore_index=True),
        "ci",
        ratio=50,
    )
    assert list(table["variant"])[:2] == ["CSL (our paper reading, all terms)", "released reading"]
    assert len(table) == 2 + len(CSL_ABLATIONS) and table["variant"].iloc[-1] == "CE (no CSL term)"
    reference = float(csl["accuracy"].iloc[0])
    first, second = table.iloc[0], table.iloc[1]
    assert (first["n_seeds"], first["mean"], first["status"]) == (1, reference, "ok")
    assert (second["n_seeds"], second["seeds"], second["mean"]) == (2, "0 1", 2.5)
    assert second["run_ids"] == "released-0 released-1"
    assert first["run_ids"] == csl["run_id"].iloc[0]
    assert second["std"] == pytest.approx(statistics.stdev([1.5, 3.5]))
    assert second["difference"] == pytest.approx(2.5 - reference)
    no_gamma = table[table["options"] == options_key({"use_gamma": False})].iloc[0]
    assert no_gamma["status"] == "not run yet" and no_gamma["n_seeds"] == 0
    assert no_gamma["command"] == (
        "python -m cslnb reproduce ablations --profile ci --seeds 0 1 2 --datasets cifar10 "
        "--ratios 50"
    )
    assert no_gamma["effect"] == "not run yet"
    assert variant_label({"use_reinforcement": False}) == "no reinforcement (r_i = 0)"


def test_headline_names_the_best_baseline_with_seeds() -> None:
    summary = csl_summary(pd.DataFrame(_summary_rows(HAND_MADE_RUNS)))
    assert csl_headline(summary, "cifar10", 100) == (
        "CIFAR-10-LT, ratio 100: CSL (our paper reading) 81.00% (seeds 0 1, range 80.00–82.00) "
        "against the best baseline, LDAM, 90.50% (seeds 0 1, range 90.00–91.00): 9.50 points "
        "lower, and CSL's best seed is below the baseline's worst."
    )
    without_ldam = csl_summary(pd.DataFrame(_summary_rows(HAND_MADE_RUNS[:6])))
    assert csl_headline(without_ldam, "cifar10", 100) == (
        "CIFAR-10-LT, ratio 100: CSL (our paper reading) 81.00% (seeds 0 1, range 80.00–82.00) "
        "against the best baseline, Focal, 82.00% (seeds 0 1, range 81.00–83.00): 1.00 points "
        "lower, within the seed spread (the seed ranges overlap)."
    )
    assert csl_headline(summary, "cifar100", 200) == (
        "CIFAR-100-LT, ratio 200: no CSL run and baseline on this cell yet."
    )


def test_headline_on_real_records(records: pd.DataFrame) -> None:
    ce = records[records["loss"] == "ce"].sort_values("seed")["accuracy"].tolist()
    csl = records[records["loss"] == "csl"]["accuracy"].iloc[0]
    direction = "higher" if csl > statistics.mean(ce) else "lower"
    assert csl_headline(csl_summary(records), "cifar10", 50) == (
        f"CIFAR-10-LT, ratio 50: CSL (our paper reading) {csl:.2f}% (seeds 0, range "
        f"{csl:.2f}–{csl:.2f}) against the best baseline, CE, {statistics.mean(ce):.2f}% "
        f"(seeds 0 1, range {min(ce):.2f}–{max(ce):.2f}): "
        f"{abs(csl - statistics.mean(ce)):.2f} points {direction}, "
        "with a single seed on one side, so the seed spread is unknown."
    )


def test_table2_splits_into_its_four_cells(records: pd.DataFrame) -> None:
    cells = comparison_cells(comparison_table(records, 2))
    assert [key for key, _ in cells] == [
        ("cifar10", 100.0),
        ("cifar10", 50.0),
        ("cifar100", 200.0),
        ("cifar100", 100.0),
    ]
    # + the released reading of CSL in every cell, + Weighted Softmax and Equalization loss
    # on CIFAR-10 (no paper value there)
    assert [len(cell) for _, cell in cells] == [16, 16, 14, 14]
    extra = cells[1][1][cells[1][1]["loss"].isin(["weighted-softmax", "equalization"])]
    assert list(extra["method"]) == ["Weighted Softmax", "Equalization loss (ESQL)"]
    assert extra["paper"].isna().all() and set(extra["status"]) == {"not run yet"}
    released = _row(cells[0][1], options='{"reading": "released"}')
    assert (released["method"], released["status"]) == ("CSL (our released reading)", "not run yet")
    assert released["command"] == (
        "python -m cslnb reproduce released --profile ci --seeds 0 1 --datasets cifar10 "
        "--ratios 100"
    )
    assert list(cells[0][1]["method"]).index("CSL (our released reading)") == (
        list(cells[0][1]["method"]).index("CSL (our paper reading)") + 1
    )
    assert reproduce_command(2, "quick", [0, 1], "cifar100", None, 200) == (
        "python -m cslnb reproduce table2 --profile quick --seeds 0 1 --datasets cifar100 "
        "--ratios 200"
    )


def test_table4_lists_the_released_reading_its_target_trains(records: pd.DataFrame) -> None:
    table = comparison_table(records, 4)
    released = _row(table, options='{"reading": "released"}')
    assert (released["method"], released["status"]) == ("CSL (our released reading)", "not run yet")
    assert released["command"] == (
        "python -m cslnb reproduce table4 --profile ci --seeds 0 1 --datasets tiny-imagenet "
        "--ratios 100 --losses csl"
    )
    methods = list(table["method"])
    paper_row = methods.index("CSL (our paper reading)")
    assert methods.index("CSL (our released reading)") == paper_row + 1


def test_csl_difference_per_row(records: pd.DataFrame) -> None:
    table = comparison_table(records, 1)
    difference = csl_difference(table)
    ce = records[records["loss"] == "ce"]
    csl = records[records["loss"] == "csl"]
    avg = (table["metric"] == "avg") & (table["loss"] == "ce")
    assert difference[avg].item() == pytest.approx(csl["accuracy"].item() - ce["accuracy"].mean())
    cat = (table["metric"] == "cat") & (table["loss"] == "ce")
    ce_cat = statistics.mean(row[3] for row in ce["per_class_accuracy"])
    assert difference[cat].item() == pytest.approx(csl["per_class_accuracy"].item()[3] - ce_cat)
    assert difference[table["loss"] == "csl"].isna().all()
    assert difference[table["loss"] == "ldam"].isna().all()  # not run


def test_cell_table_aligns_and_colours_differences(records: pd.DataFrame) -> None:
    cell = comparison_cells(comparison_table(records, 2))[1][1]  # ratio 50: our runs
    shown = format_cell(cell)
    assert list(shown.columns) == [
        "method", "paper", "ours", "ours − paper", "CSL − method", "status",
    ]  # fmt: skip
    ce = cell[cell["loss"] == "ce"].iloc[0]
    csl = cell[cell["loss"] == "csl"].iloc[0]
    row = shown[shown["method"] == "CE"].iloc[0]
    assert row["ours − paper"] == f"{ce['ours_mean'] - 74.8:+.2f}"
    assert row["CSL − method"] == f"{csl['ours_mean'] - ce['ours_mean']:+.2f}"
    assert row["status"] == "ok"
    html = style_cell(cell, uuid="t2").to_html()
    position = list(shown["method"]).index("CE")
    css = _css_by_selector(html)
    # ours − paper is column 3: CE's tiny ci run is far below the paper's 74.8.
    vermillion = "color:#a33c00;background-color:#fbe9df;font-weight:600;"
    blue = "color:#005a8c;background-color:#e3f0fa;font-weight:600;"
    assert css[f"#T_t2_row{position}_col3"] == f"text-align:right;white-space:nowrap;{vermillion}"
    csl_colour = blue if csl["ours_mean"] > ce["ours_mean"] else vermillion
    assert css[f"#T_t2_row{position}_col4"].endswith(csl_colour)
    assert css["#T_t2 th.col1"] == "text-align:right;"  # paper
    assert css[f"#T_t2_row{position}_col2"] == "text-align:right;white-space:nowrap;"  # ours
    assert f"#T_t2_row{position}_col0" not in css  # the method name stays left-aligned


def _css_by_selector(html: str) -> dict[str, str]:
    """The declarations of each selector of a Styler's ``<style>`` block (whitespace removed)."""
    css: dict[str, str] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", html.split("</style>")[0]):
        for selector in selectors.replace('<style type="text/css">', "").split(","):
            props = re.sub(r"\s*([:;])\s*", r"\1", body.strip())
            css[selector.strip()] = css.get(selector.strip(), "") + props
    return css


def _diverge(records: pd.DataFrame, loss: str, seed: int, epoch: int, last: float) -> pd.DataFrame:
    """``records`` with run (loss, seed) turned into a run that diverged at ``epoch``."""
    out = records.copy()
    where = (out["loss"] == loss) & (out["seed"] == seed) & (out["loss_options"] == "{}")
    assert where.sum() == 1
    out.loc[where, ["status", "diverged_epoch", "accuracy"]] = ["diverged", epoch, last]
    return out


def test_a_diverged_seed_is_named_and_never_averaged(results: Path, records: pd.DataFrame) -> None:
    table = comparison_table(_diverge(records, "ce", 1, epoch=3, last=12.345), 2, seeds=[0, 1])
    ce = _row(table, loss="ce", dataset="cifar10", ratio=50.0)
    assert ce["n_seeds"] == 1 and ce["seeds"] == "0"
    assert ce["ours_mean"] == pytest.approx(_record(results, "ce", 0)["final"]["accuracy"])
    assert ce["status"] == "seed 1 diverged at epoch 3 (last 12.35 %)" and ce["command"] == ""
    shown = format_comparison(table[(table["loss"] == "ce") & (table["ratio"] == 50)])
    assert shown["status"].item() == ce["status"]


def test_a_cell_whose_only_run_diverged_reads_diverged(records: pd.DataFrame) -> None:
    diverged = _diverge(records, "csl", 0, epoch=1, last=float("nan"))
    table = comparison_table(diverged, 2, seeds=[0, 1])
    cell = dict(comparison_cells(table))[("cifar10", 50.0)]
    csl = _row(cell, loss="csl", options="{}")
    assert csl["n_seeds"] == 0 and pd.isna(csl["ours_mean"])
    assert csl["status"] == "missing seed(s) 1; seed 0 diverged at epoch 1 (no finite epoch)"
    shown = format_cell(cell)
    assert shown.loc[shown["method"] == "CSL (our paper reading)", "ours"].item() == "diverged"
    assert csl_summary(diverged, profile="ci").empty


def test_the_ablation_table_names_diverged_runs(records: pd.DataFrame) -> None:
    table = ablation_table(_diverge(records, "ce", 1, epoch=2, last=30.0), "ci", ratio=50)
    ce, reference = table.iloc[-1], table.iloc[0]
    assert (ce["n_seeds"], ce["seeds"], ce["status"]) == (1, "0", "ok")
    assert ce["diverged"] == "seed 1 diverged at epoch 2 (last 30.00 %)"
    assert reference["diverged"] == "" and reference["n_seeds"] == 1
    only = ablation_table(_diverge(records, "csl", 0, epoch=4, last=10.0), "ci", ratio=50)
    assert (only.iloc[0]["status"], only.iloc[0]["command"], only.iloc[0]["n_seeds"]) == (
        "diverged",
        "",
        0,
    )
    findings = variant_findings(only, chance=10.0)
    assert findings.iloc[0]["shows"] == "seed 0 diverged at epoch 4 (last 10.00 %)"


def _two_scales(records: pd.DataFrame) -> pd.DataFrame:
    """The ``ci`` records twice: as ``quick`` runs, and their seed-0 runs as ``paper`` runs."""
    large = records[records["seed"] == 0].assign(profile="paper")
    return pd.concat([records.assign(profile="quick"), large], ignore_index=True)


def test_scale_table_puts_one_cell_at_both_profiles(results: Path, records: pd.DataFrame) -> None:
    scale = scale_table(_two_scales(records), dataset="cifar10", ratio=50).set_index("method")
    ce0, ce1 = (_record(results, "ce", seed) for seed in (0, 1))
    ce = scale.loc["CE"]
    assert ce["paper"] == 74.8
    assert ce["paper final"] == pytest.approx(ce0["final"]["accuracy"])
    assert ce["paper best"] == pytest.approx(ce0["best"]["accuracy"])
    assert ce["paper best_epoch"] == ce0["best"]["epoch"]
    assert ce["paper hours"] == pytest.approx(ce0["wall_time_s"] / 3600)
    lost = [sum(a <= 1.0 for a in r["final"]["per_class_accuracy"]) for r in (ce0, ce1)]
    assert (ce["paper lost"], ce["quick lost"]) == (str(lost[0]), f"{lost[0]} {lost[1]}")
    both = [ce0["final"]["accuracy"], ce1["final"]["accuracy"]]
    assert ce["quick mean"] == pytest.approx(statistics.mean(both))
    assert ce["quick std"] == pytest.approx(statistics.stdev(both))
    assert (ce["quick n"], ce["paper status"]) == (2, "ok")
    assert ce["paper run_ids"] == ce0["run_id"]
    assert scale.loc["LDAM", "paper status"] == "not run yet" and scale.loc["LDAM", "quick n"] == 0
    assert "LDAM-DRW + SSP" not in scale.index
    assert lost_classes([0.0, 1.0, 1.5, 90.0]) == 2


def test_profile_agreement_orders_pairs_by_the_large_profile(records: pd.DataFrame) -> None:
    scale = scale_table(_two_scales(records), dataset="cifar10", ratio=50)
    pairs = profile_agreement(scale, tie_within=0.0)
    ran = scale[scale["quick n"] > 0].set_index("method")
    assert len(pairs) == 1
    pair = pairs.iloc[0]
    first, second = pair["first"], pair["second"]
    paper_gap = ran.loc[first, "paper final"] - ran.loc[second, "paper final"]
    quick_gap = ran.loc[first, "quick mean"] - ran.loc[second, "quick mean"]
    assert pair["paper_difference"] == pytest.approx(paper_gap)
    assert pair["quick_difference"] == pytest.approx(quick_gap)
    assert pair["verdict"] == ("agrees" if (paper_gap > 0) == (quick_gap > 0) else "disagrees")
    wide = profile_agreement(scale, tie_within=abs(quick_gap) + 1)
    assert wide["verdict"].item() == "tie within noise"


def test_class_accuracy_heatmap_holds_each_evaluated_epoch(results: Path) -> None:
    record = _record(results, "csl", 0)
    evaluated = [e for e in record["epochs"] if "per_class_accuracy" in e]
    assert evaluated
    order = sorted(range(10), key=lambda c: -record["dataset"]["class_counts"][c])
    image = plot_class_accuracy(record).axes[0].images[0].get_array()
    assert image.shape == (10, len(evaluated))
    head = order[0]
    assert list(image[0]) == pytest.approx([e["per_class_accuracy"][head] for e in evaluated])
    first = plot_class_accuracy(record, epochs=evaluated[0]["epoch"]).axes[0].images[0]
    assert first.get_array().shape == (10, 1)
    bare = copy.deepcopy(record)
    for entry in bare["epochs"]:
        entry.pop("per_class_accuracy", None)
    with pytest.raises(RecordError, match="no evaluated epoch"):
        plot_class_accuracy(bare)


def test_the_two_scale_table_as_text(records: pd.DataFrame) -> None:
    scale = scale_table(_two_scales(records), dataset="cifar10", ratio=50)
    shown = format_scale_table(scale).set_index("method")
    ce = scale.set_index("method").loc["CE"]
    assert shown.loc["CE", "paper (as reported)"] == "74.80"
    assert shown.loc["CE", "paper: final"] == f"{ce['paper final']:.2f}"
    best = f"{ce['paper best']:.2f} ({ce['paper best_epoch']:.0f})"
    assert shown.loc["CE", "paper: best (epoch)"] == best
    mean = f"{ce['quick mean']:.2f} ± {ce['quick std']:.2f} (n=2)"
    assert shown.loc["CE", "quick: mean ± std (n)"] == mean
    assert (
        shown.loc["LDAM", "paper: final"] == "—"
        and shown.loc["LDAM", "quick: lost per seed"] == "—"
    )
    diverged = _two_scales(records)
    where = (diverged["profile"] == "paper") & (diverged["loss"] == "csl")
    diverged.loc[where, ["status", "diverged_epoch", "accuracy"]] = ["diverged", 2, 11.0]
    csl = format_scale_table(scale_table(diverged, dataset="cifar10", ratio=50))
    row = csl[csl["method"] == "CSL (our paper reading)"].iloc[0]
    assert row["paper: final"] == "diverged"
    assert row["paper status"] == "seed 0 diverged at epoch 2 (last 11.00 %)"
