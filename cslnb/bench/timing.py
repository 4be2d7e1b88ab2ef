"""Wall-clock timing that waits for the device, and interleaved (round-robin) repetitions."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

import torch


def synchronize(device: torch.device) -> None:
    """Wait until the queued work of ``device`` has finished (no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(task: Callable[[], object], device: torch.device) -> float:
    """Seconds taken by ``task()``, including its queued device work."""
    synchronize(device)
    start = time.perf_counter()
    task()
    synchronize(device)
    return time.perf_counter() - start


def round_robin(
    tasks: dict[str, Callable[[], object]],
    device: torch.device,
    *,
    min_reps: int,
    max_reps: int,
    budget_s: float = 0.0,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Time every task once per round, in a fresh random order each round.

    Interleaving spreads slow phases of a shared machine over all tasks instead of penalising
    whichever ran at that moment. Rounds stop at ``max_reps``, or once ``min_reps`` rounds are
    done and ``budget_s`` seconds have been spent.
    """
    order = list(tasks)
    rng = random.Random(seed)
    times: dict[str, list[float]] = {name: [] for name in order}
    start = time.perf_counter()
    for rep in range(max_reps):
        if rep >= min_reps and time.perf_counter() - start >= budget_s:
            break
        rng.shuffle(order)
        for name in order:
            times[name].append(timed(tasks[name], device))
    return times


def medians(times: dict[str, list[float]]) -> dict[str, float]:
    """The median of every task's times."""
    return {name: statistics.median(values) for name, values in times.items()}
