"""A training process killed with SIGKILL at any moment resumes to the uninterrupted record.

Each moment is a real ``python -m cslnb train`` process that sends itself SIGKILL at a chosen
point (no clean-up handler runs, as on a preempted machine or a Colab disconnect):

1. half-way through writing its first checkpoint (a partial temporary file, no checkpoint yet);
2. after writing its second checkpoint's temporary file, before the rename that publishes it;
3. in the middle of an epoch, after one checkpoint of its own;
4. after writing the run record's temporary file, before its rename.

Each time, the same command resumes: the run's lock died with its process, the published
checkpoint is whole, and the final record equals that of a run never interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

RUN_ID = "synthetic-exp10-csl-seed0"

CHILD = r"""
import io
import os
import signal
import sys

import torch

from cslnb.cli import main
from cslnb.train import trainer


def die():
    os.kill(os.getpid(), signal.SIGKILL)


moment = os.environ["KILL_AT"]
if moment == "inside-first-checkpoint-write":
    real_save = torch.save

    def save_half(obj, handle, *args, **kwargs):
        buffer = io.BytesIO()
        real_save(obj, buffer, *args, **kwargs)
        handle.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        handle.flush()
        die()

    torch.save = save_half
elif moment in ("before-second-checkpoint-rename", "before-record-rename"):
    real_replace = os.replace
    suffix, count = (".pt", 2) if moment == "before-second-checkpoint-rename" else (".json", 1)
    seen = []

    def replace(source, target):
        if str(target).endswith(suffix):
            seen.append(target)
            if len(seen) == count:
                die()
        real_replace(source, target)

    os.replace = replace
elif moment == "mid-epoch":
    real_save, real_step = trainer.save_checkpoint, torch.optim.SGD.step
    saves, steps_after = [], []

    def save(path, state):
        real_save(path, state)
        saves.append(path)

    def step(self, *args, **kwargs):
        if saves:
            steps_after.append(1)
            if len(steps_after) == 2:
                die()
        return real_step(self, *args, **kwargs)

    trainer.save_checkpoint, torch.optim.SGD.step = save, step
sys.exit(main(sys.argv[1:]))
"""


def _train(root: Path, moment: str) -> int:
    args = ["train", "--dataset=synthetic", "--ratio=10", "--loss=csl", "--profile=ci"]
    args += ["--device=cpu", "--no-progress", f"--out={root / 'results'}", f"--runs={root}"]
    env = {**os.environ, "KILL_AT": moment, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode in (0, -signal.SIGKILL), done.stderr[-3000:]
    return done.returncode


def _epoch(run_folder: Path) -> int | None:
    path = run_folder / "last.pt"
    return torch.load(path, weights_only=True)["epoch"] if path.exists() else None


@pytest.mark.slow
def test_sigkill_at_any_moment_then_resume_gives_the_uninterrupted_record(
    tmp_path, without_timings
):
    assert _train(tmp_path / "whole", "never") == 0
    whole = json.loads(
        (tmp_path / "whole" / "results" / "ci" / "synthetic" / f"{RUN_ID}.json").read_text()
    )

    root = tmp_path / "killed"
    run_folder = root / "ci" / RUN_ID
    records = root / "results" / "ci" / "synthetic"
    assert _train(root, "inside-first-checkpoint-write") == -signal.SIGKILL
    assert _epoch(run_folder) is None
    assert [p.name.startswith(".last.pt.") for p in run_folder.iterdir()] == [True]

    assert _train(root, "before-second-checkpoint-rename") == -signal.SIGKILL
    assert _epoch(run_folder) == 1  # the second checkpoint never replaced the first

    assert _train(root, "mid-epoch") == -signal.SIGKILL
    assert _epoch(run_folder) == 2  # resumed at 1, checkpointed epoch 2, died in epoch 3

    assert _train(root, "before-record-rename") == -signal.SIGKILL
    assert _epoch(run_folder) == 4
    assert [p.name.startswith(f".{RUN_ID}.json.") for p in records.iterdir()] == [True]
    assert not list(records.glob("*.json"))  # only the unpublished temporary record

    assert _train(root, "never") == 0
    resumed = json.loads((records / f"{RUN_ID}.json").read_text())
    assert without_timings(resumed) == without_timings(whole)
    assert not run_folder.exists()
