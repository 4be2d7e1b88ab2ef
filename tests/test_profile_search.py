"""Scoring candidate miniatures by how they order the established baselines."""

import json
import math
from dataclasses import replace

import pandas as pd
import pytest

from cslnb.profile_search import (
    CALIBRATION_LOSSES,
    CANDIDATES,
    QUICK_V1,
    candidate_definitions,
    candidate_scores,
    disagreements,
    load_candidate_runs,
    load_quick_runs,
    pairwise_agreement,
    paper_calibration_values,
    search_root,
    train_accuracy_table,
)
from cslnb.profiles import BUILTIN_PROFILES, PROFILES
from cslnb.records import StaleRecordError, iter_record_paths
from cslnb.train import RunConfig, TrainOptions, train
from cslnb.train import pipeline as pipeline_module
from cslnb.train import trainer as trainer_module


def test_agreement_counts_pairs_and_skips_the_papers_ties():
    paper = {"a": 1.0, "b": 1.0, "c": 2.0, "d": 0.5}
    ours = {"a": 3.0, "b": 1.0, "c": 2.0, "d": 0.1, "only-ours": 9.0}
    # (a,b) tied by the paper: skipped; (a,c) -, ours +: no; (a,d) + +: yes;
    # (b,c) - -: yes; (b,d) + +: yes; (c,d) + +: yes
    assert pairwise_agreement(ours, paper) == (4, 5)
    # a tie of ours is compared and disagrees
    assert pairwise_agreement({"a": 1.0, "c": 1.0}, paper) == (0, 1)
    # a method the paper lacks (NaN) is left out
    assert pairwise_agreement(ours, {**paper, "d": math.nan}) == (1, 2)


def test_disagreements_list_the_pairs_ordered_against_the_paper():
    rows = [
        {"dataset": "cifar10", "ratio": 100.0, "loss": loss, "seed": seed, "accuracy": acc}
        for seed in (0, 1)
        for loss, acc in zip(CALIBRATION_LOSSES, (50, 50, 49, 48, 52, 60), strict=True)
    ]
    found = disagreements(pd.DataFrame(rows))
    # paper IR 100: ce 70.4, focal 70.4, ce-cb 72.4, focal-cb 74.6, ldam 73.4, ldam-drw 77.0;
    # ce-cb (49) and focal-cb (48) fall below ce and focal (50), focal-cb below ce-cb and ldam
    pairs = {(a, b) for a, b in zip(found["a"], found["b"], strict=True)}
    assert pairs == {
        ("ce", "ce-cb"),
        ("ce", "focal-cb"),
        ("ce-cb", "focal"),
        ("focal", "focal-cb"),
        ("ce-cb", "focal-cb"),
        ("focal-cb", "ldam"),
    }
    row = found[(found["a"] == "ce") & (found["b"] == "focal-cb")].iloc[0]
    assert row["ours a - b"] == 2.0 and row["paper a - b"] == -4.2


def test_the_papers_calibration_values():
    assert paper_calibration_values("cifar10", 100) == {
        "ce": 70.4,
        "focal": 70.4,
        "ce-cb": 72.4,
        "focal-cb": 74.6,
        "ldam": 73.4,
        "ldam-drw": 77.0,
    }
    # 15 pairs at IR 50; at IR 100 the paper ties CE and Focal: 14
    paper_50 = paper_calibration_values("cifar10", 50)
    assert pairwise_agreement(paper_50, paper_50) == (15, 15)
    paper_100 = paper_calibration_values("cifar10", 100)
    assert pairwise_agreement(paper_100, paper_100) == (14, 14)


def test_scores_average_over_seeds():
    rows = []
    for seed, shift in ((0, 0.0), (1, 2.0)):
        for loss, acc in zip(CALIBRATION_LOSSES, (10, 11, 12, 14, 13, 15), strict=True):
            rows.append(
                {
                    "candidate": "x",
                    "dataset": "cifar10",
                    "ratio": 100.0,
                    "loss": loss,
                    "seed": seed,
                    "accuracy": acc + shift,
                    "wall_time_s": 100.0 + seed,
                    "precision": "bfloat16",
                    "train_accuracy": 90.0 + seed,
                }
            )
    scores = candidate_scores(pd.DataFrame(rows))
    row = scores.iloc[0]
    # ce 11 vs focal 12: the paper ties them, every other pair is ordered as the paper's
    assert (row["agree"], row["compared"], row["seeds"], row["methods"]) == (14, 14, 2, 6)
    assert row["ce"] == "11.0 ± 1.4"
    assert row["median_run_s"] == 100.5
    assert row["ce_train_accuracy"] == 90.5
    assert row["ldam - ce"] == 3.0 and row["focal-cb - ce"] == 4.0
    without_ldam = candidate_scores(pd.DataFrame(rows).query("loss != 'ldam'")).iloc[0]
    assert without_ldam["ldam"] == "–" and math.isnan(without_ldam["ldam - ce"])
    assert (without_ldam["agree"], without_ldam["compared"], without_ldam["methods"]) == (9, 9, 5)
    assert candidate_scores(pd.DataFrame()).empty


def test_train_accuracy_table_averages_seeds_per_method():
    runs = pd.DataFrame(
        {
            "candidate": ["x", "x", "x", "y"],
            "ratio": [100.0, 100.0, 100.0, 50.0],
            "loss": ["ldam", "ce", "ce", "ce"],
            "train_accuracy": [80.0, 90.0, 94.0, 70.0],
        }
    )
    table = train_accuracy_table(runs)
    assert list(table.columns) == ["ce", "ldam"]
    assert table.loc[("x", 100.0)].to_dict() == {"ce": 92.0, "ldam": 80.0}
    assert table.loc[("y", 50.0), "ce"] == 70.0
    assert math.isnan(table.loc[("y", 50.0), "ldam"])


def test_candidate_definitions_list_the_first_quick_the_candidates_and_todays_quick():
    table = candidate_definitions()
    assert list(table.index) == ["quick-v1", *CANDIDATES, "quick"]
    assert table.loc["quick-v1"].to_dict() == {
        "cifar_depth": 8,
        "cifar_width": 16,
        "image_size": 16,
        "epochs": 24,
        "batch_size": 128,
        "augmentation": "crop (pad 2 px) + flip",
    }
    assert table.loc["quick"].to_dict() == {
        "cifar_depth": 8,
        "cifar_width": 32,
        "image_size": 16,
        "epochs": 40,
        "batch_size": 128,
        "augmentation": "flip only",
    }


def test_candidates_differ_from_the_first_quick_only_in_their_sizes():
    sizes = ("epochs", "eval_every", "batch_size", "cifar_width", "crop_padding")
    for name, candidate in CANDIDATES.items():
        assert candidate.name == name and name not in BUILTIN_PROFILES
        reset = {field: getattr(QUICK_V1, field) for field in sizes}
        assert replace(candidate, name="quick", **reset) == QUICK_V1


def test_todays_quick_is_the_chosen_candidate():
    """On CIFAR, that is: the candidates were screened on CIFAR-10-LT only, and ``quick``'s
    Tiny-ImageNet sizes (``large_*``) were chosen apart."""
    chosen = replace(CANDIDATES["r8w32-16px-e40-flip"], name="quick").to_dict()
    assert PROFILES["quick"].matches(chosen, "cifar10")
    assert not PROFILES["quick"].matches(chosen, "tiny-imagenet")


def test_search_folders_hold_only_their_own_profile(tmp_path):
    record = json.loads(iter_record_paths(search_root() / "quick-v1")[0].read_text())
    folder = tmp_path / "r8w32-16px-e40-flip" / "cifar10"
    folder.mkdir(parents=True)
    (folder / f"{record['run_id']}.json").write_text(json.dumps(record))
    with pytest.raises(StaleRecordError, match="another profile"):
        load_candidate_runs(tmp_path)
    (tmp_path / "r8w32-16px-e40-flip").rename(tmp_path / "quick-v1")
    assert load_candidate_runs(tmp_path)["candidate"].tolist() == ["quick-v1"]
    (tmp_path / "not-a-candidate").mkdir()
    with pytest.raises(ValueError, match="not the folder of a searched profile"):
        load_candidate_runs(tmp_path)


def test_the_width_of_a_profile_reaches_the_model(tmp_path, monkeypatch):
    wide = replace(PROFILES["ci"], name="ci-wide", cifar_width=8)
    monkeypatch.setitem(PROFILES, "ci-wide", wide)
    built = []
    original = trainer_module.build_model
    monkeypatch.setattr(
        trainer_module, "build_model", lambda *a, **k: built.append(k) or original(*a, **k)
    )
    options = TrainOptions(
        results_root=tmp_path, checkpoint_root=tmp_path / "runs", device="cpu", progress=False
    )
    record = train(RunConfig(dataset="synthetic", loss="ce", ratio=10, profile="ci-wide"), options)
    assert built[0]["width"] == 8
    assert record["profile"]["cifar_width"] == 8


def test_the_first_quick_orders_the_baselines_like_a_coin_flip():
    """The agreement of the first ``quick`` definition's records, as the search reports it."""
    runs = load_candidate_runs()
    scores = candidate_scores(runs[runs["candidate"] == "quick-v1"])
    assert scores["methods"].tolist() == [6, 6] and scores["seeds"].tolist() == [3, 3]
    assert (int(scores["agree"].sum()), int(scores["compared"].sum())) == (16, 29)


def test_the_crop_padding_of_a_profile_reaches_the_loader(tmp_path, monkeypatch):
    flips_only = replace(PROFILES["ci"], name="ci-flip", crop_padding=0, epochs=1)
    monkeypatch.setitem(PROFILES, "ci-flip", flips_only)
    pads = []
    original = pipeline_module.GPULoader

    def recording_loader(*args, **kwargs):
        loader = original(*args, **kwargs)
        pads.append((kwargs["train"], loader.pad))
        return loader

    monkeypatch.setattr(pipeline_module, "GPULoader", recording_loader)
    options = TrainOptions(
        results_root=tmp_path, checkpoint_root=tmp_path / "runs", device="cpu", progress=False
    )
    train(RunConfig(dataset="synthetic", loss="ce", ratio=10, profile="ci-flip"), options)
    assert (True, 0) in pads
    # and the default keeps the recipe's image_size // 8
    assert PROFILES["ci"].crop_padding is None


def test_todays_quick_orders_the_baselines_better_than_the_first_but_below_the_target():
    """The agreement of the committed records of today's ``quick`` (three seeds, both cells)."""
    scores = candidate_scores(load_quick_runs())
    assert scores["methods"].tolist() == [6, 6] and scores["seeds"].tolist() == [3, 3]
    assert (int(scores["agree"].sum()), int(scores["compared"].sum())) == (20, 29)
    assert (scores["ldam - ce"] > 0).all()


def test_quick_runs_are_the_calibration_cells_only(tmp_path):
    """A quick record on another dataset (Tiny-ImageNet-LT) or of a non-calibration loss is
    left out of the calibration runs; a CIFAR-10 CE record at IR 100 is kept."""
    committed = search_root().parent / "results" / "quick"
    for relative in (
        "cifar10/cifar10-exp100-ce-seed0.json",
        "cifar10/cifar10-exp100-csl-seed0.json",
        "tiny-imagenet/tiny-imagenet-exp100-ce-seed0.json",
    ):
        target = tmp_path / "quick" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text((committed / relative).read_text())
    runs = load_quick_runs(tmp_path)
    assert runs[["dataset", "ratio", "loss", "seed"]].values.tolist() == [
        ["cifar10", 100.0, "ce", 0]
    ]
