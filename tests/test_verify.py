"""``python -m cslnb verify``: re-runs in a scratch folder, conditions side by side, verdicts."""

import copy
import json
from pathlib import Path

import pytest
import torch

from cslnb.cli import main
from cslnb.profiles import get_profile
from cslnb.records import read_record, write_json_atomic
from cslnb.verify import (
    IDENTICAL,
    NO_SPREAD,
    OUTSIDE,
    WITHIN,
    Verification,
    execution_settings,
    recorded_threads,
    rerun,
    rerun_config,
    seed_results,
)

CE_SEED0 = [92.5, 94.0, 67.5, 56.5, 47.5, 33.0, 46.5, 32.5, 10.5, 6.5]
"""Per-class accuracy of the committed quick CE IR 100 seed 0 record (overall 48.7)."""
CE_SEEDS = {
    0: {"accuracy": 48.7, "per_class_accuracy": CE_SEED0},
    1: {
        "accuracy": 47.3,
        "per_class_accuracy": [90.5, 95, 65.5, 58, 49.5, 33.5, 35.5, 29.5, 9.5, 6.5],
    },
    2: {"accuracy": 46.6, "per_class_accuracy": [90.5, 94, 64.5, 59, 45.5, 29.5, 41, 31, 8, 3]},
}
"""Final results of the committed quick CE IR 100 seeds 0-2: overall range 48.7 - 46.6 = 2.1,
frog (class 6) 46.5 - 35.5 = 11."""


def make_record(seed: int = 0, accuracy: float = 48.7, per_class=None, **hardware) -> dict:
    """A minimal valid quick CIFAR-10 CE record of the shape the trainer writes."""
    return {
        "schema_version": 1,
        "run_id": f"cifar10-exp100-ce-seed{seed}",
        "config": {"dataset": "cifar10", "loss": "ce", "ratio": 100.0, "seed": seed},
        "profile": get_profile("quick").to_dict(),
        "dataset": {
            "class_names": [f"c{i}" for i in range(10)],
            "class_counts": [10] * 10,
            "fingerprint": "sha256:abc",
        },
        "final": {
            "accuracy": accuracy,
            "per_class_accuracy": list(per_class or CE_SEED0),
            "group_accuracy": {},
        },
        "epochs": [],
        "versions": {"torch": "2.14.1+cu130"},
        "hardware": {"device": "cpu", "torch_threads": 1, **hardware},
        "precision": "bfloat16",
    }


AMD = {"cpu_vendor": "AuthenticAMD", "cpu_model": "AMD EPYC", "bf16_path": "avx512_bf16"}
INTEL = {"cpu_vendor": "GenuineIntel", "cpu_model": "Intel Xeon", "bf16_path": "amx"}


def check(recorded: dict, fresh: dict, seeds=CE_SEEDS) -> Verification:
    return Verification(Path("cifar10-exp100-ce-seed0.json"), recorded, fresh, seeds)


def test_equal_accuracies_are_identical_whatever_the_hardware():
    result = check(make_record(**AMD), make_record(**INTEL))
    assert result.identical and result.verdict == IDENTICAL and not result.failed
    assert result.hardware == "differ"
    rows = {row.name: row.status for row in result.conditions}
    assert rows["cpu_model"] == rows["bf16_path"] == "differs"
    assert rows["device"] == rows["threads"] == rows["torch"] == "same"


def test_the_issues_pair_is_within_seed_noise():
    """48.7 (record) against 46.85 on an Intel Xeon with AMX: 1.85 points <= 2.1 of seeds."""
    other = [93.0, 95.0, 66.0, 58.5, 47.0, 30.5, 40.0, 33.0, 11.5, 4.0]
    result = check(make_record(**AMD), make_record(accuracy=46.85, per_class=other, **INTEL))
    assert result.difference == pytest.approx(-1.85)
    assert result.seed_spread == pytest.approx(2.1)
    assert result.verdict == WITHIN and not result.failed
    report = result.report()
    assert result.class_seed_spreads[6] == pytest.approx(11.0)
    assert "  overall                        48.70     46.85       -1.85        2.10" in report
    assert "  c6                             46.50     40.00       -6.50       11.00" in report
    assert "cpu_model                 record AMD EPYC | re-run Intel Xeon  <- differs" in report
    assert "seed spread of this cell: 2.10 points (seed 0: 48.70, seed 1: 47.30" in report
    assert report.endswith("verdict: within seed noise")


def test_a_difference_beyond_the_seed_range_is_outside_seed_noise():
    result = check(make_record(**AMD), make_record(accuracy=46.5, **INTEL))
    assert result.difference == pytest.approx(-2.2)
    assert result.verdict == OUTSIDE and result.failed


def test_any_difference_on_matching_hardware_fails():
    per_class = [*CE_SEED0[:-1], 7.0]
    result = check(make_record(**AMD), make_record(accuracy=48.75, per_class=per_class, **AMD))
    assert result.hardware == "match"
    assert result.verdict == WITHIN and result.failed
    assert "should be identical" in result.report()


def test_old_records_leave_the_hardware_unknown():
    result = check(make_record(), make_record(accuracy=48.0, **AMD))
    assert result.hardware == "unknown"
    assert {row.name: row.status for row in result.conditions}["cpu_model"] == "unknown"
    assert "cpu_model                 record - | re-run AMD EPYC  <- unknown" in result.report()
    assert result.verdict == WITHIN and not result.failed


def test_one_seed_gives_no_spread():
    result = check(make_record(**AMD), make_record(accuracy=40.0, **INTEL), seeds={0: CE_SEEDS[0]})
    assert result.seed_spread is None
    assert result.verdict == NO_SPREAD and not result.failed


def test_seed_results_take_the_same_cell_only(tmp_path):
    for seed, final in CE_SEEDS.items():
        record = make_record(seed, final["accuracy"], final["per_class_accuracy"])
        write_json_atomic(tmp_path / f"s{seed}.json", record)
    other_loss = make_record(3, 10.0)
    other_loss["config"]["loss"] = "focal"
    write_json_atomic(tmp_path / "focal.json", other_loss)
    stale = make_record(4, 10.0)
    stale["profile"]["epochs"] = 1
    write_json_atomic(tmp_path / "stale.json", stale)
    (tmp_path / "broken.json").write_text("{")
    found = seed_results(make_record(), tmp_path)
    assert {seed: final["accuracy"] for seed, final in found.items()} == {0: 48.7, 1: 47.3, 2: 46.6}
    assert found[1]["per_class_accuracy"] == CE_SEEDS[1]["per_class_accuracy"]


def test_rerun_settings_follow_the_record():
    old = make_record()
    assert recorded_threads(old) == 1
    assert execution_settings(old, torch.device("cpu")) == {
        "compile": "off",
        "channels_last": "off",
        "cuda_graph": "auto",
    }
    segment = {"device": "cuda", "threads": 4, "compile": True}
    new = {**old, "execution": [{**segment, "channels_last": False, "cuda_graph": True}]}
    assert recorded_threads(new) == 4
    assert execution_settings(new, torch.device("cuda", 0)) == {
        "compile": "on",
        "channels_last": "off",
        "cuda_graph": "on",
    }
    assert execution_settings(new, torch.device("cpu"))["cuda_graph"] == "auto"
    assert rerun_config(old).amp == "auto"
    assert rerun_config(old, amp="off").amp == "off"
    assert rerun_config(old, amp="off").run_id == "cifar10-exp100-ce-seed0"


def test_rerun_never_writes_over_the_record(tmp_path):
    source = tmp_path / "results" / "quick" / "cifar10" / "cifar10-exp100-ce-seed0.json"
    with pytest.raises(ValueError, match="would overwrite the record"):
        rerun(make_record(), source, tmp_path)
    stale = make_record()
    stale["profile"]["epochs"] = 1
    with pytest.raises(ValueError, match="another definition of profile 'quick'"):
        rerun(stale, source, tmp_path / "scratch")


def _train_ci(root: Path, seed: int) -> Path:
    args = ["train", "--dataset", "synthetic", "--ratio", "10", "--loss", "ce", "--profile", "ci"]
    args += ["--seed", str(seed), "--device", "cpu", "--no-progress"]
    assert main([*args, "--out", str(root), "--runs", str(root / "runs")]) == 0
    return root / "ci" / "synthetic" / f"synthetic-exp10-ce-seed{seed}.json"


def test_verify_a_ci_run_is_identical_and_a_forced_mismatch_fails(tmp_path, capsys):
    """Same machine: the re-run is identical. A copy whose per-class numbers were changed by
    hand, on the same hardware, is a difference where none may be: exit code 1."""
    record = _train_ci(tmp_path / "committed", 0)
    _train_ci(tmp_path / "committed", 1)
    committed = record.read_bytes()
    forced = tmp_path / "forced" / record.name
    forced.parent.mkdir()
    changed = copy.deepcopy(json.loads(committed))
    changed["final"]["per_class_accuracy"][0] -= 10.0
    changed["final"]["accuracy"] -= 1.0
    write_json_atomic(forced, changed)
    capsys.readouterr()

    scratch = tmp_path / "scratch"
    args = ["verify", str(record), "--scratch", str(scratch), "--device", "cpu", "--no-progress"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "hardware and settings: match" in out
    assert out.count("verdict: identical") == 1
    assert record.read_bytes() == committed  # the committed record is never replaced
    rerun_record = read_record(scratch / "results" / "ci" / "synthetic" / record.name)
    assert rerun_record["final"] == json.loads(committed)["final"]

    assert main(["verify", str(forced), "--device", "cpu", "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "hardware and settings: match" in out
    assert "seed spread of this cell: unknown (1 seed record(s)" in out
    assert "should be identical" in out
