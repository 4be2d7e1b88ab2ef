"""The sizes of a bench run: the full one (about 4 minutes on 2 CPU cores) and a quick one."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cslnb.data.longtail import cifar_lt_counts

#: CIFAR-10-LT with imbalance ratio 100: 12,406 training images per epoch.
IR100_COUNTS: list[int] = cifar_lt_counts("cifar10", 100)
EPOCH_IMAGES = sum(IR100_COUNTS)
RUN_EPOCHS = 200
#: Batch size of the simulated CIFAR-10-LT epochs (97 batches per epoch).
EPOCH_BATCH = 128


@dataclass(frozen=True)
class BenchSettings:
    """Every size and repetition count of one bench run (recorded with its results).

    ``*_budget_s`` are soft time budgets: the training-step and loss-only rounds stop once
    theirs is spent (after the minimum number of rounds); the naive released CSL stops before
    an epoch that would exceed its budget (after ``released_min_epochs`` epochs).

    ``cpu_threads``: torch intra-op threads during the run (restored afterwards). 1, because
    on a small CPU shared with other jobs a multi-threaded op waits for any descheduled thread:
    measured on the 2-core development machine under load, a ResNet-32 step at batch 128 took
    1.6 s on 1 thread against 2.4 s on 2, and a tiny loss call 20 ms instead of 40 µs. The
    ratios between losses, which are what the bench compares, stay meaningful.
    """

    quick: bool
    cpu_threads: int
    model: str
    batch_size: int
    step_warmup: int
    step_min_reps: int
    step_max_reps: int
    step_budget_s: float
    loss_only_calls: int
    loss_only_min_reps: int
    loss_only_max_reps: int
    loss_only_budget_s: float
    released_batches_per_epoch: int
    released_min_epochs: int
    released_max_epochs: int
    released_budget_s: float
    loader_images: int
    loader_epochs: int
    loader_workers: tuple[int, ...]
    gpu_epochs: int
    """Timed training epochs per GPU measurement (after the warm-up epochs)."""
    gpu_jobs: tuple[int, ...]
    """Numbers of runs trained at once, each in its own process."""
    cpu_warmup_steps: int
    """Untimed first steps of each execution mode in section ``cpu_epoch`` (compilation)."""
    cpu_timed_steps: int
    """Steps per timed repetition of each mode in section ``cpu_epoch``."""
    cpu_compile: bool
    """Whether section ``cpu_epoch`` measures the ``torch.compile`` modes (tens of seconds of
    compilation each)."""
    cpu_eval_batch: int
    """Images per timed evaluation batch in section ``cpu_epoch``."""
    gpu_deterministic: bool = False
    """Also time one run with deterministic kernels (``bench --deterministic``)."""


FULL = BenchSettings(
    quick=False,
    cpu_threads=1,
    model="resnet32",
    batch_size=128,
    step_warmup=1,
    step_min_reps=2,
    step_max_reps=8,
    step_budget_s=100.0,
    loss_only_calls=50,
    loss_only_min_reps=2,
    loss_only_max_reps=8,
    loss_only_budget_s=25.0,
    released_batches_per_epoch=97,
    released_min_epochs=2,
    released_max_epochs=10,
    released_budget_s=35.0,
    loader_images=EPOCH_IMAGES,
    loader_epochs=3,
    loader_workers=(0, 2),
    gpu_epochs=3,
    gpu_jobs=(1, 4, 8, 16),
    cpu_warmup_steps=3,
    cpu_timed_steps=6,
    cpu_compile=True,
    cpu_eval_batch=500,
)

QUICK = BenchSettings(
    quick=True,
    cpu_threads=1,
    model="resnet8",
    batch_size=16,
    step_warmup=1,
    step_min_reps=2,
    step_max_reps=2,
    step_budget_s=0.0,
    loss_only_calls=5,
    loss_only_min_reps=2,
    loss_only_max_reps=2,
    loss_only_budget_s=0.0,
    released_batches_per_epoch=6,
    released_min_epochs=3,
    released_max_epochs=3,
    released_budget_s=0.0,
    loader_images=512,
    loader_epochs=1,
    loader_workers=(0,),
    gpu_epochs=1,
    gpu_jobs=(1, 2),
    cpu_warmup_steps=1,
    cpu_timed_steps=1,
    cpu_compile=False,
    cpu_eval_batch=32,
)


def long_tail_labels() -> torch.Tensor:
    """The 12,406 labels of one CIFAR-10-LT IR100 epoch, in class order."""
    counts = torch.tensor(IR100_COUNTS)
    return torch.repeat_interleave(torch.arange(len(IR100_COUNTS)), counts)
