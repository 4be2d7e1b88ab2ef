"""Train a list of runs, several at once on one device, each in its own process.

``python -m cslnb reproduce TARGET --jobs N`` hands its runs to :func:`run_batch`:

* **order** -- seed 0 of every cell first, then the further seeds (:func:`schedule`), so that a
  time budget spent part-way still covers every cell once;
* **isolation** -- with ``jobs > 1`` every run trains in its own process (``spawn`` start method,
  safe with CUDA), at most ``jobs`` at a time, each using ``cores // jobs`` CPU threads. A run that
  raises, or whose process dies, is reported as failed; the others go on;
* **time budget** -- ``options.deadline`` stops running runs at an epoch boundary
  (:mod:`cslnb.train.budget`) and keeps runs that have not started from starting;
* **one display** -- a single progress line for the batch (runs done / running / left and each
  running run's epochs); the runs' own progress bars are off.

Every run ends as one :class:`RunOutcome`; :func:`summarize` turns them into the closing summary.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import torch
from tqdm.auto import tqdm

from cslnb.records import record_path, record_status
from cslnb.train import budget
from cslnb.train.config import RunConfig, TrainOptions
from cslnb.train.trainer import checkpoint_path, train

Status = Literal[
    "finished", "resumed", "diverged", "had record", "stopped", "failed", "not started"
]
STATUS_LABELS: dict[Status, str] = {
    "finished": "finished",
    "resumed": "resumed and finished",
    "diverged": "diverged (record written)",
    "had record": "already had a record",
    "stopped": "stopped with a checkpoint (time budget)",
    "failed": "failed",
    "not started": "not started",
}
"""Every way a run of a batch can end, in the order of the summary."""


@dataclass(frozen=True)
class RunOutcome:
    """How one run of a batch ended."""

    run_id: str
    status: Status
    epochs_done: int = 0
    epochs_total: int | None = None
    error: str | None = None
    """``ExceptionType: message`` of a failed run."""
    record: dict[str, Any] | None = None
    """The run record of a finished run."""

    def describe(self) -> str:
        """One line for the log: accuracy of a finished run, else where the run stands."""
        if self.record is not None:
            return describe_record(self.record)
        if self.status == "stopped":
            return (
                f"{self.run_id}: stopped after epoch {self.epochs_done} of {self.epochs_total}, "
                "checkpoint kept; the same command resumes it"
            )
        if self.status == "failed":
            return f"{self.run_id}: failed: {self.error}"
        return f"{self.run_id}: {STATUS_LABELS[self.status]}"


def describe_record(record: dict[str, Any]) -> str:
    """``run_id: accuracy 71.23% (many .., medium .., few ..; profile ..)``, or for a diverged
    run ``run_id: diverged at epoch k, batch b (last evaluated: x% at epoch j; profile ..)``."""
    if record_status(record) == "diverged":
        where, final = record["divergence"], record["final"]
        return (
            f"{record['run_id']}: diverged at epoch {where['epoch']}, batch {where['batch']} "
            f"(last evaluated: {_fmt(final['accuracy'])}% at epoch {final.get('epoch', 0)}; "
            f"profile {record['profile']['name']})"
        )
    groups = record["final"]["group_accuracy"]
    return (
        f"{record['run_id']}: accuracy {record['final']['accuracy']:.2f}% "
        f"(many {_fmt(groups.get('many'))}, medium {_fmt(groups.get('medium'))}, "
        f"few {_fmt(groups.get('few'))}; profile {record['profile']['name']})"
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def schedule(configs: Sequence[RunConfig]) -> list[RunConfig]:
    """Seed 0 of every cell first, then seed 1 of every cell, ...; otherwise the given order."""
    return sorted(configs, key=lambda config: config.seed)


def threads_per_job(jobs: int) -> int:
    """CPU threads each of ``jobs`` concurrent runs may use: the available cores, shared out."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // jobs)


def train_tracked(
    config: RunConfig, options: TrainOptions, on_epoch: Callable[[int, int], None] | None = None
) -> RunOutcome:
    """Train ``config`` (errors propagate) and say how it ended: finished, resumed or stopped."""
    progress = [0, 0]

    def track(done: int, total: int) -> None:
        progress[:] = [done, total]
        if on_epoch is not None:
            on_epoch(done, total)

    resumed = not options.force and checkpoint_path(config, options).exists()
    record = train(config, replace(options, on_epoch=track))
    done, total = progress
    if record is None:
        # a fresh run whose first epoch would overrun the time budget never starts
        started = resumed or done > 0
        return RunOutcome(config.run_id, "stopped" if started else "not started", done, total)
    status: Status = "resumed" if resumed else "finished"
    if record_status(record) == "diverged":
        status = "diverged"
    epochs = len(record["epochs"])
    return RunOutcome(config.run_id, status, epochs, epochs, record=record)


def run_one(
    config: RunConfig, options: TrainOptions, on_epoch: Callable[[int, int], None] | None = None
) -> RunOutcome:
    """:func:`train_tracked`, with any error turned into a ``failed`` outcome."""
    try:
        return train_tracked(config, options, on_epoch)
    except Exception as error:  # a failing run must not stop the batch
        return RunOutcome(config.run_id, "failed", error=f"{type(error).__name__}: {error}")


def _worker(config: RunConfig, options: TrainOptions, threads: int, events: Any) -> None:
    """Body of a run's process: train, reporting epochs and the outcome through ``events``."""
    torch.set_num_threads(threads)

    def report_epoch(done: int, total: int) -> None:
        events.put(("epoch", config.run_id, done, total))

    events.put(("outcome", run_one(config, options, report_epoch)))


class BatchProgress:
    """The batch's one progress line: runs done of all, running and left, running runs' epochs."""

    def __init__(self, total: int, enabled: bool) -> None:
        self._bar = tqdm(total=total, unit="run", desc="runs", disable=not enabled)
        self._epochs: dict[str, tuple[int, int]] = {}
        self._left = total

    def started(self, run_id: str) -> None:
        self._epochs[run_id] = (0, 0)
        self._left -= 1
        self._refresh()

    def epoch(self, run_id: str, done: int, total: int) -> None:
        self._epochs[run_id] = (done, total)
        self._refresh()

    def ended(self, outcome: RunOutcome, skipped: bool = False) -> None:
        """Count a run as done; ``skipped`` runs never started (record existed, no time left)."""
        self._epochs.pop(outcome.run_id, None)
        if skipped:
            self._left -= 1
        else:
            self.write(outcome.describe())
        self._bar.update(1)
        self._refresh()

    def write(self, line: str) -> None:
        tqdm.write(line)

    def close(self) -> None:
        self._bar.close()

    def _refresh(self) -> None:
        epochs = ", ".join(f"{run} {d}/{t or '?'}" for run, (d, t) in self._epochs.items())
        self._bar.set_postfix_str(
            f"running {len(self._epochs)}, left {self._left}" + (f": {epochs}" if epochs else "")
        )


def run_batch(
    configs: Sequence[RunConfig], options: TrainOptions, jobs: int = 1, progress: bool = True
) -> list[RunOutcome]:
    """Train every run of ``configs`` lacking a record, ``jobs`` at a time; see the module doc.

    With ``jobs == 1`` the runs train one after another in this process (same outcomes, no
    process start-up). Returns one outcome per run, in schedule order.
    """
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    ordered = schedule(configs)
    batch = _Batch(replace(options, progress=False), BatchProgress(len(ordered), progress))
    try:
        for config in ordered:
            if not options.force and has_record(config, options):
                batch.end(RunOutcome(config.run_id, "had record"), skipped=True)
            else:
                batch.pending.append(config)
        if jobs == 1:
            batch.run_here()
        else:
            batch.run_in_processes(jobs)
    finally:
        batch.display.close()
    return [batch.outcomes[config.run_id] for config in ordered]


def has_record(config: RunConfig, options: TrainOptions) -> bool:
    """Whether the run's record exists (the run is finished)."""
    return record_path(config.profile, config.dataset, config.run_id, options.results_root).exists()


class _Batch:
    """The runs of one :func:`run_batch` call: those waiting, and how each one ended."""

    def __init__(self, options: TrainOptions, display: BatchProgress) -> None:
        self.options = options
        self.display = display
        self.pending: deque[RunConfig] = deque()
        self.outcomes: dict[str, RunOutcome] = {}

    def end(self, outcome: RunOutcome, skipped: bool = False) -> None:
        self.outcomes[outcome.run_id] = outcome
        self.display.ended(outcome, skipped)

    def out_of_time(self) -> bool:
        """Past the deadline: the runs still waiting end as ``not started``."""
        if self.options.deadline is None or budget.clock() < self.options.deadline:
            return False
        while self.pending:
            self.end(RunOutcome(self.pending.popleft().run_id, "not started"), skipped=True)
        return True

    def run_here(self) -> None:
        """One run after another in this process."""
        while self.pending and not self.out_of_time():
            config = self.pending.popleft()
            self.display.started(config.run_id)
            self.end(
                run_one(
                    config,
                    self.options,
                    lambda done, total, run=config.run_id: self.display.epoch(run, done, total),
                )
            )

    def run_in_processes(self, jobs: int) -> None:
        """Keep up to ``jobs`` worker processes busy; collect their events until all have ended."""
        if not self.pending or self.out_of_time():
            return  # nothing to start: no processes, no queue
        context = multiprocessing.get_context("spawn")
        events = context.Queue()
        threads = threads_per_job(jobs)
        running: dict[str, multiprocessing.process.BaseProcess] = {}

        def handle(event: tuple[Any, ...]) -> None:
            if event[0] == "epoch":
                self.display.epoch(*event[1:])
            else:
                running.pop(event[1].run_id).join()
                self.end(event[1])

        try:
            while self.pending or running:
                while self.pending and len(running) < jobs and not self.out_of_time():
                    config = self.pending.popleft()
                    process = context.Process(
                        target=_worker,
                        args=(config, self.options, threads, events),
                        name=config.run_id,
                    )
                    process.start()
                    running[config.run_id] = process
                    self.display.started(config.run_id)
                with contextlib.suppress(queue.Empty):
                    handle(events.get(timeout=0.5))
                for run_id, process in list(running.items()):
                    # A worker that exited: read what it sent; if no outcome came, it failed.
                    while run_id in running and not process.is_alive():
                        try:
                            handle(events.get(timeout=1.0))
                        except queue.Empty:
                            running.pop(run_id)
                            error = f"its process exited with code {process.exitcode}"
                            self.end(
                                RunOutcome(run_id, "failed", error=error + " before reporting")
                            )
        finally:
            for process in running.values():
                process.join(timeout=30)
                if process.is_alive():
                    process.terminate()
            events.close()


def summarize(outcomes: Sequence[RunOutcome]) -> str:
    """The closing summary: how many runs ended each way, then every run that did not finish."""
    counts = {status: sum(o.status == status for o in outcomes) for status in STATUS_LABELS}
    lines = [
        f"{len(outcomes)} runs: "
        + ", ".join(f"{counts[status]} {label}" for status, label in STATUS_LABELS.items())
    ]
    for outcome in outcomes:
        if outcome.status in ("diverged", "failed", "stopped", "not started"):
            lines.append(f"  {outcome.describe()}")
    return "\n".join(lines)
