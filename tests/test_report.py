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
from cslnb.report.ablations import ablation_table, options_key, variant_label
from cslnb.report.figures import (
    default_highlight,
    plot_gamma,
    plot_semantic_scale,
    plot_trace_heatmap,
)
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
    csl = _row(table, loss="csl", metric="cat")
    assert (csl["method"], csl["paper"], csl["n_seeds"]) == ("CSL.Ours", 87.64, 1)
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
    assert pd.isna(extra["paper"]) and extra["method"] == "balanced-softmax"


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
    esql = _row(table3, method="ESQL")
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
    ce = formatted[(formatted["method"] == "Baseline (CE)") & (formatted["metric"] == "avg")]
    assert ce["ours"].iloc[0].endswith("(n=2)") and " ± " in ce["ours"].iloc[0]
    ldam = formatted[(formatted["method"] == "LDAM") & (formatted["metric"] == "avg")]
    assert ldam["status"].iloc[0].startswith("not run yet: python -m cslnb reproduce table1")
    assert ldam["ours"].iloc[0] == "—"
    assert "many / medium / few" not in formatted
    table2 = format_comparison(comparison_table(records, 2))
    assert "metric" not in table2 and "many / medium / few" in table2
    html = style_comparison(comparison_table(records, 4)).to_html()
    assert "Table 4 of the paper" in html and "Baseline (CE)" in html


def test_summary_verdicts_on_hand_made_runs() -> None:
    runs = [
        ("csl", 0, 80.0),
        ("csl", 1, 82.0),
        ("ce", 0, 70.0),
        ("ce", 1, 71.0),
        ("focal", 0, 81.0),
        ("focal", 1, 83.0),
        ("ldam", 0, 90.0),
        ("ldam", 1, 91.0),
        ("ib", 0, 60.0),
    ]
    rows = [
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
    no_csl = {**rows[2], "dataset": "cifar100", "run_id": "cifar100-exp100-ce-seed0"}
    summary = csl_summary(pd.DataFrame([*rows, no_csl])).set_index("baseline")
    assert summary["verdict"].to_dict() == {
        "ce": "CSL higher",
        "focal": "within seed spread",
        "ib": "spread unknown (1 seed)",
        "ldam": "CSL lower",
    }
    assert summary.loc["ce", "difference"] == pytest.approx(10.5)
    assert summary.loc["ce", "pooled_std"] == pytest.approx(((2.0 + 0.5) / 2) ** 0.5)
    assert summary.loc["ldam", "csl_range"] == "80.00–82.00"
    assert (summary.loc["ib", "n_csl"], summary.loc["ib", "n_baseline"]) == (2, 1)
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
    released = csl.assign(loss_options=options_key({"reading": "released"}), accuracy=1.5)
    released2 = released.assign(seed=1, accuracy=3.5)
    other_profile = csl.assign(profile="quick", loss_options=options_key({"use_gamma": False}))
    table = ablation_table(
        pd.concat([records, released, released2, other_profile], ignore_index=True),
        "ci",
        ratio=50,
    )
    assert list(table["variant"])[:2] == ["CSL (paper reading, all terms)", "released reading"]
    assert len(table) == 1 + len(CSL_ABLATIONS)
    reference = float(csl["accuracy"].iloc[0])
    first, second = table.iloc[0], table.iloc[1]
    assert (first["n_seeds"], first["mean"], first["status"]) == (1, reference, "ok")
    assert (second["n_seeds"], second["seeds"], second["mean"]) == (2, "0 1", 2.5)
    assert second["std"] == pytest.approx(statistics.stdev([1.5, 3.5]))
    assert second["difference"] == pytest.approx(2.5 - reference)
    no_gamma = table[table["options"] == options_key({"use_gamma": False})].iloc[0]
    assert no_gamma["status"] == "not run yet" and no_gamma["n_seeds"] == 0
    assert no_gamma["command"] == (
        "python -m cslnb reproduce ablations --profile ci --datasets cifar10"
    )
    assert variant_label({"use_reinforcement": False}) == "no reinforcement (r_i = 0)"
