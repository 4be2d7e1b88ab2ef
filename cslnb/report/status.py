"""Which cells have records: one row per cell, profile and target, ``done`` or what is missing.

A *cell* is one dataset and imbalance ratio of a ``python -m cslnb reproduce`` target (a table
of the paper, the ablations or the released reading). Its runs are the target's runs there, one
per method (or CSL variant) and seed (:func:`cslnb.reproduce.target_runs`); a run is done when a
record with its run id exists for the profile.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cslnb.report.runs import require_columns
from cslnb.reproduce import target_runs

STATUS_TARGETS = ("table1", "table2", "table3", "table4", "ablations", "released")
DONE = "done"
MISSING = "missing"


def run_status(
    records: pd.DataFrame,
    profiles: Sequence[str] = ("quick", "paper"),
    seeds: Sequence[int] = (0, 1, 2),
    targets: Sequence[str] = STATUS_TARGETS,
) -> pd.DataFrame:
    """Cell x profile x seeds: how many of the target's runs have records.

    One row per target, cell (``dataset, ratio``) and profile: ``runs`` (methods x seeds
    expected), ``done`` (records found), ``seeds_done`` (the seeds whose every run is done, as
    ``"0 1 2"``), ``status`` (``done``, ``missing`` when no run is done, else ``n missing``) and
    ``command`` (the ``reproduce`` line that trains what is missing; ``reproduce`` skips runs
    that have records). ``records`` is :func:`cslnb.records.load_records` output of any
    profiles (only ``run_id`` and ``profile`` are read).
    """
    require_columns(records, ("run_id", "profile"))
    have = set(zip(records["profile"], records["run_id"], strict=True))
    rows = []
    for target in targets:
        for profile in profiles:
            runs = target_runs(target, profile, seeds)
            cells = dict.fromkeys((run.dataset, run.ratio) for run in runs)
            for dataset, ratio in cells:
                cell = [run for run in runs if (run.dataset, run.ratio) == (dataset, ratio)]
                done = [run for run in cell if (profile, run.run_id) in have]
                complete = [
                    seed
                    for seed in seeds
                    if all((profile, r.run_id) in have for r in cell if r.seed == seed)
                ]
                missing = len(cell) - len(done)
                status = DONE if not missing else MISSING if not done else f"{missing} missing"
                seed_list = " ".join(map(str, seeds))
                command = (
                    ""
                    if not missing
                    else f"python -m cslnb reproduce {target} --profile {profile} --seeds "
                    f"{seed_list} --datasets {dataset} --ratios {ratio:g}"
                )
                rows.append(
                    {
                        "target": target,
                        "dataset": dataset,
                        "ratio": float(ratio),
                        "profile": profile,
                        "runs": len(cell),
                        "done": len(done),
                        "seeds_done": " ".join(map(str, complete)),
                        "status": status,
                        "command": command,
                    }
                )
    return pd.DataFrame(rows)
