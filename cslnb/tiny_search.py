"""Sizing ``quick`` on Tiny-ImageNet-LT: candidate settings, screened by run time and CE's fit.

A ``quick`` run on Tiny-ImageNet-LT (ratio 100: 21,549 training images, the 10,000-image val
split as test split) should take at most about 20 minutes on one core of the 2-core machine,
two runs side by side as the campaign trains them, and CE should fit most of its training set
(CE on CIFAR ``quick`` ends at 98 % training accuracy). Two measurements screen a candidate:

* :func:`time_training_step` -- seconds per bf16 training step (batch 128, channels_last, one
  thread) on random inputs, for each candidate network and input side, two processes side by
  side on otherwise idle cores. ``python -m cslnb.tiny_search time`` writes them to
  ``data/tiny_search/step_times.json``. A run takes about ``epochs * 169`` such steps (169
  batches of 128 per epoch) plus two evaluations of the val split.
* ordinary run records of CE (and of CSL) under ``data/tiny_search/<candidate>/``:
  ``python -m cslnb.tiny_search run CANDIDATE --losses ce``. :func:`screening_table` lists their
  wall time, last-epoch training accuracy, test accuracy and silenced classes.

Candidates differ from today's ``quick`` only in the fields that size the large datasets
(``large_model``, ``large_image_size``, ``large_epochs``), named by network, input side and
epochs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from cslnb.paths import project_root
from cslnb.profile_search import train_candidate_runs
from cslnb.profiles import PAPER_LARGE_MODELS, PROFILES, Profile
from cslnb.records import iter_record_paths, read_record, record_row, write_json_atomic

TINY = "tiny-imagenet"
TINY_CLASSES = 200
STEP_BATCH = 128
SEARCH_ROOT_NAME = Path("data") / "tiny_search"
TINY_STEPS_PER_EPOCH = 169
"""Batches of 128 in an epoch of the ratio-100 training split: ceil(21,549 / 128)."""
TINY_VAL_BATCHES = 79
"""Batches of 128 in the 10,000-image val split: ceil(10,000 / 128)."""


def _candidate(name: str, **changes: object) -> Profile:
    return replace(PROFILES["quick"], name=name, **changes)


TINY_CANDIDATES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        _candidate("r18-64px-e15", large_model=None, large_image_size=64, large_epochs=15),
        _candidate("r18-32px-e12", large_model=None, large_image_size=32, large_epochs=12),
        _candidate("r32-32px-e15", large_model="resnet32", large_image_size=32, large_epochs=15),
    )
}
"""Candidate Tiny settings: ``r18`` torchvision's ResNet-18 with its ImageNet stem (7x7 stride-2
conv, max-pool), ``r32`` the paper's CIFAR ResNet-32 (3x3 stride-1 stem, width 16); then the
input side (native 64 px, or 32 px resized once per image) and the epochs. All train with
horizontal flips only and the Tiny recipe (batch 128, lr 0.05, cosine decay)."""


def search_root() -> Path:
    return project_root() / SEARCH_ROOT_NAME


def candidate_network(profile: Profile) -> str:
    """The network a candidate trains on Tiny-ImageNet-LT."""
    return profile.large_model or PAPER_LARGE_MODELS[TINY]


def time_training_step(network: str, side: int, steps: int) -> dict[str, float]:
    """Seconds per bf16 training step and per evaluation batch of ``network`` on random
    ``side`` x ``side`` inputs (batch 128, 200 classes, channels_last, SGD with momentum, one
    thread, restored afterwards), after two warm-up steps: ``{"train_s": ..., "eval_s": ...}``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _step_times(network, side, steps)
    finally:
        torch.set_num_threads(threads)


def _step_times(network: str, side: int, steps: int) -> dict[str, float]:
    import torch

    from cslnb.models import build_model

    model = build_model(network, TINY_CLASSES).to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    images = torch.randn(STEP_BATCH, 3, side, side).contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, TINY_CLASSES, (STEP_BATCH,))

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            step_loss = torch.nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        step_loss.backward()
        optimizer.step()

    for _ in range(2):
        step()
    tic = time.perf_counter()
    for _ in range(steps):
        step()
    train_s = (time.perf_counter() - tic) / steps
    model.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        tic = time.perf_counter()
        for _ in range(2):
            model(images)
    return {"train_s": train_s, "eval_s": (time.perf_counter() - tic) / 2}


def _time_side_by_side(network: str, side: int, steps: int) -> list[dict[str, float]]:
    """:func:`time_training_step` in two processes at once, as two campaign runs share cores."""
    code = (
        "import json; from cslnb.tiny_search import time_training_step; "
        f"print(json.dumps(time_training_step({network!r}, {side}, {steps})))"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    return [json.loads(worker.communicate()[0]) for worker in workers]


def time_candidates(steps: int = 10) -> dict[str, object]:
    """Step times of every candidate's network and side (two processes side by side), with the
    machine they were measured on."""
    import torch

    from cslnb.train.device import describe_hardware

    settings = sorted(
        {(candidate_network(p), p.large_image_size) for p in TINY_CANDIDATES.values()}
    )
    timings = []
    for network, side in settings:
        for process, result in enumerate(_time_side_by_side(network, side, steps)):
            timings.append({"network": network, "side": side, "process": process, **result})
    return {
        "what": f"seconds per bf16 training step (batch {STEP_BATCH}, channels_last, 1 thread, "
        f"{steps} steps after 2 warm-up) and per evaluation batch, two processes side by side",
        "hardware": describe_hardware(torch.device("cpu")),
        "torch": torch.__version__,
        "timings": timings,
    }


def step_time_table(measured: dict[str, object]) -> pd.DataFrame:
    """One row per network and side: mean step times of the two processes, and the minutes a
    run of each candidate using it would take (``epochs * steps_per_epoch`` training steps and
    two evaluations of the val split)."""
    timings = pd.DataFrame(measured["timings"]).groupby(["network", "side"])
    means = timings[["train_s", "eval_s"]].mean()
    rows = []
    for name, profile in TINY_CANDIDATES.items():
        train_s, eval_s = means.loc[(candidate_network(profile), profile.large_image_size)]
        steps = profile.large_epochs * TINY_STEPS_PER_EPOCH
        evaluations = 2 * TINY_VAL_BATCHES * eval_s
        rows.append(
            {
                "candidate": name,
                "network": candidate_network(profile),
                "side": profile.large_image_size,
                "epochs": profile.large_epochs,
                "train s/step": train_s,
                "img/s": STEP_BATCH / train_s,
                "projected minutes": (steps * train_s + evaluations) / 60,
            }
        )
    return pd.DataFrame(rows)


def screening_table(root: Path | None = None) -> pd.DataFrame:
    """Every screening record under ``root`` (default ``data/tiny_search``), candidate by
    candidate in :data:`TINY_CANDIDATES` order: candidate, loss,
    wall minutes, last-epoch training accuracy (augmented batches), test accuracy, the
    many / medium / few accuracies and the classes never predicted on the val split."""
    root = root or search_root()
    rows = []
    for path in (path for name in TINY_CANDIDATES for path in iter_record_paths(root / name)):
        record = read_record(path)
        row = record_row(record)
        rows.append(
            {
                "candidate": record["profile"]["name"],
                "loss": row["loss"],
                "options": row["loss_options"],
                "seed": row["seed"],
                "minutes": row["wall_time_s"] / 60,
                "train accuracy": record["epochs"][-1]["train_accuracy"],
                "test accuracy": row["accuracy"],
                "many": row["many"],
                "medium": row["medium"],
                "few": row["few"],
                "never predicted": row["never_predicted"],
            }
        )
    return pd.DataFrame(rows)


def run_candidate(
    name: str,
    losses: Sequence[str],
    data_root: Path | None,
    channels_last: str = "on",
    results_root: Path | None = None,
    threads: int = 1,
) -> None:
    """Train candidate ``name``'s screening runs (seed 0, ratio 100) whose records are missing,
    on ``threads`` threads (one: two screening runs share the 2 cores, as campaign runs do)."""
    import torch

    from cslnb.train import RunConfig, TrainOptions

    torch.set_num_threads(threads)
    options = TrainOptions(
        results_root=results_root or search_root(),
        data_root=data_root,
        progress=sys.stderr.isatty(),
        channels_last=channels_last,
    )
    configs = (
        RunConfig(dataset=TINY, loss=loss, ratio=100, seed=0, profile=name) for loss in losses
    )
    train_candidate_runs(TINY_CANDIDATES[name], configs, options)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cslnb.tiny_search", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="train a candidate's missing screening runs")
    run.add_argument("candidate", choices=sorted(TINY_CANDIDATES))
    run.add_argument("--losses", nargs="+", default=["ce"])
    run.add_argument("--data-root", type=Path, default=None)
    run.add_argument("--threads", type=int, default=1)
    timing = commands.add_parser("time", help="time each candidate's training step")
    timing.add_argument("--steps", type=int, default=10)
    commands.add_parser("summary", help="print the step times and the screening runs")
    args = parser.parse_args(argv)
    step_times = search_root() / "step_times.json"
    if args.command == "run":
        run_candidate(args.candidate, args.losses, args.data_root, threads=args.threads)
    elif args.command == "time":
        write_json_atomic(step_times, time_candidates(args.steps))
        print(f"wrote {step_times}")
    else:
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            if step_times.exists():
                print(step_time_table(json.loads(step_times.read_text())).round(2).to_string())
            print(screening_table().round(2).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
