"""Sizing quick on Tiny-ImageNet-LT: candidates, projected run times, the screening table."""

from __future__ import annotations

from dataclasses import fields

import pytest
import torch

from cslnb.profiles import FOLDER, PROFILES
from cslnb.records import record_path, write_json_atomic
from cslnb.tiny_search import (
    TINY_CANDIDATES,
    candidate_network,
    screening_table,
    step_time_table,
    time_training_step,
)


def test_candidates_differ_from_quick_only_in_the_large_fields():
    quick = PROFILES["quick"].to_dict()
    large = {f.name for f in fields(PROFILES["quick"]) if f.metadata.get("family") == FOLDER}
    for name, candidate in TINY_CANDIDATES.items():
        changed = {key for key, value in candidate.to_dict().items() if quick[key] != value}
        assert changed - {"name"} <= large, name
    assert candidate_network(TINY_CANDIDATES["r18-32px-e12"]) == "resnet18"
    assert candidate_network(TINY_CANDIDATES["r32-32px-e15"]) == "resnet32"


def test_projected_minutes_by_hand():
    measured = {
        "timings": [
            {"network": "resnet18", "side": 64, "process": 0, "train_s": 1.0, "eval_s": 0.2},
            {"network": "resnet18", "side": 64, "process": 1, "train_s": 1.2, "eval_s": 0.2},
            {"network": "resnet18", "side": 32, "process": 0, "train_s": 0.6, "eval_s": 0.1},
            {"network": "resnet18", "side": 32, "process": 1, "train_s": 0.6, "eval_s": 0.1},
            {"network": "resnet32", "side": 32, "process": 0, "train_s": 0.4, "eval_s": 0.1},
            {"network": "resnet32", "side": 32, "process": 1, "train_s": 0.4, "eval_s": 0.1},
        ]
    }
    table = step_time_table(measured).set_index("candidate")
    # 15 epochs x 169 steps x 1.1 s + 2 evaluations x 79 batches x 0.2 s = 2,820.1 s
    assert table.loc["r18-64px-e15", "projected minutes"] == pytest.approx(2820.1 / 60)
    # 12 x 169 x 0.6 + 2 x 79 x 0.1 = 1,232.6 s
    assert table.loc["r18-32px-e12", "projected minutes"] == pytest.approx(1232.6 / 60)
    assert table.loc["r32-32px-e15", "img/s"] == pytest.approx(320.0)


def test_screening_table_reads_each_record(tmp_path):
    record = {
        "schema_version": 1,
        "run_id": "tiny-imagenet-exp100-ce-seed0",
        "config": {
            "dataset": "tiny-imagenet",
            "ratio": 100,
            "imb_type": "exp",
            "loss": "ce",
            "seed": 0,
        },
        "profile": TINY_CANDIDATES["r32-32px-e15"].to_dict(),
        "dataset": {"class_counts": [500, 5]},
        "final": {
            "accuracy": 20.0,
            "per_class_accuracy": [40.0, 0.0],
            "group_accuracy": {"many": 40.0, "medium": None, "few": 0.0},
            "per_class_predicted": [2, 0],
        },
        "epochs": [{"epoch": 15, "train_accuracy": 71.5}],
        "wall_time_s": 1020.0,
    }
    path = record_path("r32-32px-e15", "tiny-imagenet", record["run_id"], tmp_path)
    write_json_atomic(path, record)
    write_json_atomic(tmp_path / "step_times.json", {"timings": []})  # not a run record
    table = screening_table(tmp_path)
    assert len(table) == 1
    row = table.iloc[0]
    assert row["candidate"] == "r32-32px-e15" and row["loss"] == "ce"
    assert row["minutes"] == 17.0 and row["train accuracy"] == 71.5
    assert row["test accuracy"] == 20.0 and row["never predicted"] == 1


def test_a_step_time_is_measured_for_a_small_network_on_one_thread_then_restored():
    threads = torch.get_num_threads()
    timing = time_training_step("resnet8", side=8, steps=1)
    assert torch.get_num_threads() == threads
    assert set(timing) == {"train_s", "eval_s"}
    assert timing["train_s"] > 0 and timing["eval_s"] > 0
