"""Projected wall time of the CIFAR-10 runs of Tables 1–2 at the ``paper`` profile on one GPU.

The batch is the 28 runs ``python -m cslnb reproduce table2 --datasets cifar10 --profile paper``
trains (14 losses × imbalance ratio 100 and 50, seed 0), ``jobs`` of them at a time. Each run
trains ``epochs`` epochs on its long-tailed training set and evaluates the full test split every
``eval_every`` epochs of its profile (and after the last). Its work, in training-image
equivalents, is::

    work = epochs × n_train + evaluations × n_test × (train rate / evaluation rate)

(an evaluated image costs the ratio of the two single-run rates measured by the bench). With k
runs active, every active run progresses at ``R(k) / k`` images/s, where ``R(k)`` is the
aggregate training rate measured with k concurrent runs (interpolated linearly between measured
k, constant beyond the largest). Runs start in order as slots free up; the projected wall time
is when the last one finishes. Not included: process start, data loading and model set-up per
run (seconds), and the extra cost of the losses over plain cross-entropy (the bench trains CE).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from cslnb.data.longtail import cifar_lt_counts
from cslnb.profiles import get_profile
from cslnb.reproduce import target_runs

CIFAR10_TEST_IMAGES = 10_000


@dataclass(frozen=True)
class PlannedRun:
    """One run of the batch: its id and the images it trains on and evaluates, in total."""

    run_id: str
    train_images: int
    test_images: int


def table_runs(profile_name: str = "paper") -> list[PlannedRun]:
    """The CIFAR-10 runs of Tables 1–2 (seed 0) with their image totals under ``profile_name``."""
    profile = get_profile(profile_name)
    evaluations = profile.epochs // profile.eval_every + (profile.epochs % profile.eval_every > 0)
    per_class = profile.test_per_class
    test_split = CIFAR10_TEST_IMAGES if per_class is None else 10 * per_class
    return [
        PlannedRun(
            run_id=config.run_id,
            train_images=profile.epochs * sum(cifar_lt_counts("cifar10", config.ratio)),
            test_images=evaluations * test_split,
        )
        for config in target_runs("table2", profile_name, [0], ["cifar10"])
    ]


def aggregate_rate(measured: Mapping[int, float]) -> Callable[[int], float]:
    """``R(k)`` from rates measured at some concurrencies: linear between measured points,
    ``k × R(1)``-shaped below the smallest (proportional), constant above the largest."""
    points = sorted(measured.items())
    if not points or any(k < 1 or rate <= 0 for k, rate in points):
        raise ValueError(f"need positive rates at concurrencies >= 1, got {dict(measured)}")

    def rate(k: int) -> float:
        if k <= points[0][0]:
            return points[0][1] * k / points[0][0]
        for (k0, r0), (k1, r1) in itertools.pairwise(points):
            if k <= k1:
                return r0 + (r1 - r0) * (k - k0) / (k1 - k0)
        return points[-1][1]

    return rate


def makespan(work: Sequence[float], jobs: int, rate: Callable[[int], float]) -> float:
    """Seconds until the last of ``work`` (images each) finishes with at most ``jobs`` runs
    at once, started in order, each of k active runs progressing at ``rate(k) / k``."""
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    pending = list(work)
    active: list[float] = []
    elapsed = 0.0
    while pending or active:
        while pending and len(active) < jobs:
            active.append(pending.pop(0))
        per_run = rate(len(active)) / len(active)
        step = min(active) / per_run
        elapsed += step
        active = [left - step * per_run for left in active]
        active = [left for left in active if left > 1e-9 * max(work)]
    return elapsed


def project(
    train_rates: Mapping[int, float],
    eval_rate: float,
    runs: Sequence[PlannedRun],
    jobs: Sequence[int],
) -> dict[str, object]:
    """Projected wall time of ``runs`` for each number of ``jobs``, from the measured aggregate
    training rates ``train_rates`` (images/s by concurrency) and the single-run evaluation rate.
    """
    rate = aggregate_rate(train_rates)
    eval_cost = rate(1) / eval_rate
    work = [run.train_images + run.test_images * eval_cost for run in runs]
    by_jobs = {str(n): makespan(work, n, rate) for n in jobs}
    best = min(by_jobs, key=by_jobs.__getitem__)
    return {
        "runs": len(runs),
        "train_images": sum(run.train_images for run in runs),
        "test_images": sum(run.test_images for run in runs),
        "eval_cost_in_train_images": eval_cost,
        "wall_s_by_jobs": by_jobs,
        "best_jobs": int(best),
        "best_wall_s": by_jobs[best],
    }
