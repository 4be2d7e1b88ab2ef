"""Section 2: the naive released CSL against ``CSLLoss(reading="released")``.

Both see the same simulated CIFAR-10-LT IR100 epochs: the 12,406 labels shuffled into batches
of 128 (97 per epoch), random logits. Per epoch: the mean time of a call (forward + backward),
the memory each holds at the end (naive: the stored logit history; ours: every buffer), and
the largest relative difference of their loss values. The naive part re-reads its whole
history on every call, so its time and memory grow with the calls; it stops before an epoch
that would exceed its time budget.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import torch

from cslnb.bench.settings import EPOCH_BATCH, IR100_COUNTS, BenchSettings, long_tail_labels
from cslnb.bench.timing import synchronize
from cslnb.losses.csl import CSLLoss
from cslnb.losses.csl_released_naive import NaiveReleasedCSL

LOGIT_SCALE = 2.0


def epoch_batches(
    settings: BenchSettings, gen: torch.Generator, device: torch.device
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """``(logits, labels)`` of one simulated epoch: shuffled IR100 labels, random logits."""
    labels = long_tail_labels()[torch.randperm(sum(IR100_COUNTS), generator=gen)]
    for chunk in labels.split(EPOCH_BATCH)[: settings.released_batches_per_epoch]:
        logits = torch.randn(len(chunk), len(IR100_COUNTS), generator=gen) * LOGIT_SCALE
        yield logits.to(device), chunk.to(device)


def buffer_bytes(module: torch.nn.Module) -> int:
    """Bytes of every buffer of ``module``."""
    return sum(b.numel() * b.element_size() for b in module.buffers())


def _timed_call(
    loss: NaiveReleasedCSL | CSLLoss,
    logits: torch.Tensor,
    labels: torch.Tensor,
    device: torch.device,
) -> tuple[float, float]:
    """Seconds of one forward + backward of ``loss``, and the loss value."""
    z = logits.clone().requires_grad_(True)
    synchronize(device)
    start = time.perf_counter()
    value = loss(z, labels)
    value.backward()
    synchronize(device)
    return time.perf_counter() - start, float(value.detach())


def simulate_epoch(
    epoch: int,
    batches: list[tuple[torch.Tensor, torch.Tensor]],
    naive: NaiveReleasedCSL,
    ours: CSLLoss,
    device: torch.device,
) -> dict[str, Any]:
    """Run one epoch through both; their times, memory and value agreement."""
    naive_s = ours_s = 0.0
    worst = 0.0
    ours.start_epoch(epoch)
    for logits, labels in batches:
        naive_call_s, naive_value = _timed_call(naive, logits, labels, device)
        ours_call_s, ours_value = _timed_call(ours, logits, labels, device)
        naive_s += naive_call_s
        ours_s += ours_call_s
        worst = max(worst, abs(naive_value - ours_value) / max(1.0, abs(naive_value)))
    ours.end_epoch(epoch)
    calls = len(batches)
    return {
        "epoch": epoch + 1,
        "calls": calls,
        "naive_ms_per_call": 1e3 * naive_s / calls,
        "ours_ms_per_call": 1e3 * ours_s / calls,
        "naive_bytes": naive.history_bytes(),
        "ours_bytes": buffer_bytes(ours),
        "max_rel_diff": worst,
        "naive_s": naive_s,
    }


def another_epoch(rows: list[dict[str, Any]], spent_s: float, settings: BenchSettings) -> bool:
    """Whether to simulate one more epoch: the minimum first, then while the next epoch is
    projected to fit the budget (its history, hence its time, is one epoch longer)."""
    done = len(rows)
    if done < settings.released_min_epochs:
        return True
    if done >= settings.released_max_epochs:
        return False
    projected = rows[-1]["naive_s"] * (done + 0.5) / (done - 0.5)
    return spent_s + projected <= settings.released_budget_s


def run_released(settings: BenchSettings, device: torch.device) -> dict[str, Any]:
    """Measure section 2; see the module docstring."""
    gen = torch.Generator().manual_seed(0)
    naive = NaiveReleasedCSL(len(IR100_COUNTS))
    ours = CSLLoss(IR100_COUNTS, reading="released").to(device)
    rows: list[dict[str, Any]] = []
    spent_s = 0.0
    while another_epoch(rows, spent_s, settings):
        batches = list(epoch_batches(settings, gen, device))
        rows.append(simulate_epoch(len(rows), batches, naive, ours, device))
        spent_s += rows[-1]["naive_s"]
    first, last = rows[0], rows[-1]
    return {
        "batch_size": EPOCH_BATCH,
        "batches_per_epoch": settings.released_batches_per_epoch,
        "budget_s": settings.released_budget_s,
        "epochs": rows,
        "naive_time_growth": last["naive_ms_per_call"] / first["naive_ms_per_call"],
        "ours_time_growth": last["ours_ms_per_call"] / first["ours_ms_per_call"],
        "max_rel_diff": max(row["max_rel_diff"] for row in rows),
    }
