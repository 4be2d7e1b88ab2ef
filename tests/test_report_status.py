"""The status table: which cells of each target have records, per profile and seed."""

from __future__ import annotations

import pandas as pd

from cslnb.report.status import run_status
from cslnb.reproduce import CIFAR10_LOSSES, target_runs


def _records(run_ids: list[str], profile: str = "quick") -> pd.DataFrame:
    return pd.DataFrame({"run_id": run_ids, "profile": [profile] * len(run_ids)})


def test_status_counts_runs_per_cell_profile_and_seed() -> None:
    # Table 1 (CIFAR-10-LT ratio 50): 14 losses x 3 seeds = 42 runs. Seeds 0 and 1 complete,
    # seed 2 lacks one loss (41 of 42 done under quick); nothing under paper.
    runs = target_runs("table1", "quick", seeds=(0, 1, 2))
    records = _records([run.run_id for run in runs if run.run_id != runs[-1].run_id])
    status = run_status(records, targets=("table1",)).set_index("profile")
    assert len(CIFAR10_LOSSES) == 14
    quick, paper = status.loc["quick"], status.loc["paper"]
    assert (quick["runs"], quick["done"], quick["seeds_done"]) == (42, 41, "0 1")
    assert quick["status"] == "1 missing"
    assert quick["command"] == (
        "python -m cslnb reproduce table1 --profile quick --seeds 0 1 2 --datasets cifar10 "
        "--ratios 50"
    )
    assert (paper["done"], paper["status"], paper["seeds_done"]) == (0, "missing", "")
    everything = _records([run.run_id for run in runs])
    done = run_status(everything, profiles=("quick",), targets=("table1",)).iloc[0]
    assert (done["status"], done["command"], done["seeds_done"]) == ("done", "", "0 1 2")


def test_status_lists_every_cell_of_the_variant_targets() -> None:
    status = run_status(_records([]), profiles=("quick",), seeds=(0,))
    released = status[status["target"] == "released"]
    assert list(zip(released["dataset"], released["ratio"], strict=True)) == [
        ("cifar10", 100.0),
        ("cifar10", 50.0),
        ("cifar100", 200.0),
        ("cifar100", 100.0),
    ]
    ablations = status[status["target"] == "ablations"]
    assert list(ablations["runs"]) == [11, 11]  # 11 CSL variants, one seed, two cells
    assert set(status["target"]) == {
        "table1",
        "table2",
        "table3",
        "table4",
        "ablations",
        "released",
    }
