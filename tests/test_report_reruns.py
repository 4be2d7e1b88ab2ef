"""``cslnb.report.reruns``: re-runs against their committed record and the cell's seed spread."""

import math
from pathlib import Path

import pandas as pd
import pytest

from cslnb.profiles import get_profile
from cslnb.records import write_json_atomic
from cslnb.report.reruns import COLUMNS, ReportedRerun, load_reruns, rerun_table
from cslnb.verify import IDENTICAL, NO_SPREAD, OUTSIDE, WITHIN, Verification

COMMITTED = [92.5, 94.0, 67.5, 56.5, 47.5, 33.0, 46.5, 32.5, 10.5, 6.5]
SEEDS = {
    0: {"accuracy": 48.7, "per_class_accuracy": COMMITTED},
    1: {"accuracy": 47.3, "per_class_accuracy": COMMITTED},
    2: {"accuracy": 46.6, "per_class_accuracy": COMMITTED},
}
"""Overall range 48.7 - 46.6 = 2.1; mean 47.5333..., sample sd sqrt(2.286667 / 2) = 1.069268."""
AMD = {"cpu_model": "AMD EPYC", "bf16_path": "avx512_bf16"}


def record(
    accuracy: float = 48.7,
    per_class: list[float] | None = None,
    seed: int = 0,
    precision: str = "bfloat16",
    **hardware,
) -> dict:
    """A minimal quick CIFAR-10 CE IR 100 record."""
    return {
        "schema_version": 1,
        "run_id": f"cifar10-exp100-ce-seed{seed}",
        "config": {"dataset": "cifar10", "loss": "ce", "ratio": 100.0, "seed": seed},
        "profile": get_profile("quick").to_dict(),
        "dataset": {"class_names": [f"c{i}" for i in range(10)], "class_counts": [10] * 10},
        "final": {
            "accuracy": accuracy,
            "per_class_accuracy": list(per_class or COMMITTED),
            "group_accuracy": {},
        },
        "epochs": [],
        "hardware": {"device": "cpu", "torch_threads": 1, **hardware},
        "precision": precision,
    }


def with_changes(**classes: float) -> list[float]:
    """COMMITTED with the classes ``c<i>=value`` replaced."""
    return [classes.get(f"c{i}", value) for i, value in enumerate(COMMITTED)]


def check(fresh: dict) -> Verification:
    return Verification(Path("cifar10-exp100-ce-seed0.json"), record(), fresh, SEEDS)


def test_one_row_per_rerun_with_the_setting_changed_and_the_seed_spread():
    two_threads = record(47.95, with_changes(c0=93.5, c6=44.0), **{**AMD, "torch_threads": 2})
    fp32 = record(46.5, with_changes(c5=29.0, c6=39.0), precision="fp32", **AMD)
    same = record(**AMD)
    table = rerun_table([check(same), check(two_threads), check(fp32)])
    assert list(table.columns) == COLUMNS
    assert table["setting changed"].tolist() == [
        "none",
        "threads 1 → 2",
        "precision bfloat16 → fp32",
    ]
    assert table["hardware"].tolist() == [
        "AMD EPYC, bf16 path avx512_bf16, 1 thread(s), bfloat16",
        "AMD EPYC, bf16 path avx512_bf16, 2 thread(s), bfloat16",
        "AMD EPYC, bf16 path avx512_bf16, 1 thread(s), fp32",
    ]
    assert table["overall %"].tolist() == [48.7, 47.95, 46.5]
    assert table["difference"].tolist() == pytest.approx([0.0, -0.75, -2.2])
    assert table["largest class difference"].tolist() == pytest.approx([0.0, -2.5, -7.5])
    assert pd.isna(table["class"][0]) and table["class"].tolist()[1:] == ["c6", "c6"]
    assert table["seed range"].tolist() == pytest.approx([2.1] * 3)
    assert table["seed sd"].tolist() == pytest.approx([math.sqrt(2.286667 / 2)] * 3, abs=1e-6)
    assert table["seed sd"][0] == pytest.approx(1.069268, abs=1e-6)
    assert table["verdict"].tolist() == [IDENTICAL, WITHIN, OUTSIDE]


def test_a_reported_rerun_uses_the_classes_it_states():
    """The issue's pair: 46.85 overall, frog 40.0 against the record's 46.5."""
    reported = ReportedRerun(
        setting="CPU: Intel Xeon with AMX",
        hardware="Intel Xeon, bf16 path amx, 1 thread(s), bfloat16",
        accuracy=46.85,
        per_class={"c6": 40.0},
    )
    base = check(record(**AMD))
    row = rerun_table([], reported=[(base, reported)]).iloc[0]
    assert row["re-run"] == "cifar10-exp100-ce-seed0, as reported"
    assert row["setting changed"] == "CPU: Intel Xeon with AMX"
    assert row["difference"] == pytest.approx(-1.85)
    assert row["largest class difference"] == pytest.approx(-6.5)
    assert row["class"] == "c6"
    assert row["seed range"] == pytest.approx(2.1)
    assert row["verdict"] == WITHIN


def test_one_seed_leaves_the_spread_empty_and_old_records_name_what_they_know():
    old = record(48.0, with_changes(c9=5.5))
    old["hardware"] = {"device": "cpu"}
    del old["precision"]
    lone = Verification(Path("x.json"), record(), old, {0: SEEDS[0]})
    row = rerun_table([lone]).iloc[0]
    assert row["setting changed"] == "none"
    assert row["hardware"] == "cpu"
    assert row["largest class difference"] == pytest.approx(-1.0)
    assert row["seed range"] is None and row["seed sd"] is None
    assert row["verdict"] == NO_SPREAD


def test_load_reruns_pairs_each_rerun_with_its_committed_record_and_seeds(tmp_path):
    results = tmp_path / "results"
    for seed, final in SEEDS.items():
        committed = record(final["accuracy"], seed=seed)
        write_json_atomic(results / "quick" / "cifar10" / f"{committed['run_id']}.json", committed)
    verify = tmp_path / "verify"
    write_json_atomic(verify / "b-fp32.json", record(46.5, precision="fp32", **AMD))
    write_json_atomic(verify / "a-2threads.json", record(47.0, **{**AMD, "torch_threads": 2}))
    (verify / "README.md").write_text("not a record")
    loaded = load_reruns(verify, results)
    assert [v.rerun["final"]["accuracy"] for v in loaded] == [47.0, 46.5]
    assert {v.source for v in loaded} == {
        results / "quick" / "cifar10" / "cifar10-exp100-ce-seed0.json"
    }
    assert loaded[0].recorded["final"]["accuracy"] == 48.7
    assert sorted(loaded[0].seeds) == [0, 1, 2]
    assert rerun_table(loaded)["difference"].tolist() == pytest.approx([-1.7, -2.2])
