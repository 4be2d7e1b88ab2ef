"""Where each run of a campaign stands, and how long the rest will take.

``python -m cslnb reproduce TARGET ... --list`` prints one line per run: done (its accuracy),
diverged (where), at epoch k of n in a checkpoint, or not started, with the time each
unfinished run still needs, then the total. The time left is projected from seconds per epoch
that were measured, the most specific first:

1. the run's own checkpoint (time spent / epochs done);
2. the other runs of the same profile, dataset and imbalance ratio (checkpoints and records);
3. the same profile and dataset at any ratio;
4. for the ``paper`` profile on CIFAR-10, the newest CPU bench (section ``cpu_epoch``, hours per
   run at IR 100 or 50, one thread per run).

A run whose epochs were timed under other conditions (another machine, other concurrent runs)
projects those conditions: the line says where its estimate comes from.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cslnb.bench.record import load_latest_bench
from cslnb.profiles import get_profile
from cslnb.records import read_record, record_path, record_status
from cslnb.train.checkpoint import load_checkpoint
from cslnb.train.config import RunConfig, TrainOptions
from cslnb.train.trainer import checkpoint_path, run_epochs


@dataclass(frozen=True)
class RunStatus:
    """One run of a campaign: its state, how far it got, and its measured pace (if any)."""

    config: RunConfig
    state: str
    """``done``, ``diverged``, ``in progress`` (a checkpoint exists) or ``not started``."""
    epochs_done: int
    epochs_total: int
    seconds_per_epoch: float | None
    """Measured on this run (checkpoint or record); None when it has not trained yet."""
    detail: str = ""

    @property
    def epochs_left(self) -> int:
        return 0 if self.state in ("done", "diverged") else self.epochs_total - self.epochs_done


def run_status(config: RunConfig, options: TrainOptions) -> RunStatus:
    """The state of one run, read from its record or checkpoint."""
    total = run_epochs(config, get_profile(config.profile))
    path = record_path(config.profile, config.dataset, config.run_id, options.results_root)
    if path.exists():
        record = read_record(path)
        epochs = len(record["epochs"])
        pace = record.get("wall_time_s", 0) / epochs if epochs else None
        if record_status(record) == "diverged":
            where = record["divergence"]
            detail = f"diverged at epoch {where['epoch']}, batch {where['batch']}"
            return RunStatus(config, "diverged", epochs, total, pace, detail)
        return RunStatus(config, "done", epochs, total, pace, f"{record['final']['accuracy']:.2f}%")
    ckpt = checkpoint_path(config, options)
    if ckpt.exists():
        saved = load_checkpoint(ckpt)
        done = int(saved["epoch"])
        pace = float(saved["elapsed"]) / done if done else None
        return RunStatus(config, "in progress", done, total, pace)
    return RunStatus(config, "not started", 0, total, None)


def _bench_pace(config: RunConfig) -> float | None:
    """Seconds per ``paper`` CIFAR-10 epoch at this ratio from the newest CPU bench, if any."""
    if config.profile != "paper" or config.dataset != "cifar10":
        return None
    bench = load_latest_bench("cpu", section="cpu_epoch")
    if bench is None:
        return None
    hours = bench["cpu_epoch"]["projection"]["run_hours"].get(f"ir{config.ratio:g}")
    return None if hours is None else 3600 * hours / get_profile("paper").epochs


def estimate_pace(status: RunStatus, others: Sequence[RunStatus]) -> tuple[float | None, str]:
    """Seconds per epoch for ``status`` and where the number comes from (module docstring)."""
    if status.seconds_per_epoch is not None:
        return status.seconds_per_epoch, "this run"
    config = status.config

    def median_of(same: Any) -> float | None:
        paces = [o.seconds_per_epoch for o in others if o.seconds_per_epoch and same(o.config)]
        return statistics.median(paces) if paces else None

    key = (config.profile, config.dataset)
    for source, same in (
        ("same cell", lambda c: (c.profile, c.dataset, c.ratio) == (*key, config.ratio)),
        ("same dataset", lambda c: (c.profile, c.dataset) == key),
    ):
        if (pace := median_of(same)) is not None:
            return pace, source
    pace = _bench_pace(config)
    return (pace, "bench") if pace is not None else (None, "unknown")


def _duration(seconds: float) -> str:
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def format_status(statuses: Sequence[RunStatus], jobs: int = 1) -> str:
    """One line per run, then the totals: runs per state and the time left with ``jobs`` runs
    training at once (the CPU time left divided by ``jobs``: each run keeps its measured pace)."""
    lines, left_s, unknown = [], 0.0, 0
    for status in statuses:
        name = status.config.run_id
        if status.state in ("done", "diverged"):
            lines.append(f"{name}: {status.state} ({status.detail})")
            continue
        pace, source = estimate_pace(status, statuses)
        where = (
            f"at epoch {status.epochs_done} of {status.epochs_total}"
            if status.state == "in progress"
            else f"not started, {status.epochs_total} epochs"
        )
        if pace is None:
            unknown += 1
            lines.append(f"{name}: {where}; time left unknown")
        else:
            left_s += status.epochs_left * pace
            lines.append(
                f"{name}: {where}; about {_duration(status.epochs_left * pace)} left "
                f"({pace:.0f} s/epoch, {source})"
            )
    counts = {
        state: sum(s.state == state for s in statuses)
        for state in ("done", "diverged", "in progress", "not started")
    }
    summary = ", ".join(f"{n} {state}" for state, n in counts.items())
    total = f"{len(statuses)} runs: {summary}; about {_duration(left_s)} of run time left"
    if jobs > 1:
        total += f", {_duration(left_s / jobs)} with --jobs {jobs}"
    if unknown:
        total += f" (plus {unknown} run(s) with no measured pace)"
    lines.append(total)
    return "\n".join(lines)
