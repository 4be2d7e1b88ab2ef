"""Section 1: what each loss adds to a training step, as a ratio to cross-entropy.

Two measurements, interleaved round-robin over the losses after a warm-up, medians reported:

* ``step``: one full training step (forward with features, loss, backward, SGD step) of the
  CIFAR ResNet on a fixed batch; one model and optimizer per loss, all initialised alike;
  LDAM gets its cosine head, as in training.
* ``loss_only``: forward + backward of the loss alone on fixed logits and features, many calls
  per timing, which isolates what the loss adds from the much larger, noisier network cost.
  ``step_ratio_from_loss_only = 1 + (loss-only time − CE loss-only time) / CE step time`` is the
  step ratio that cost implies.

Every loss runs in its steady state: schedules active from the start (DRW's weights, IB's
influence term) and one finished epoch of statistics (CSL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from cslnb.bench.settings import IR100_COUNTS, BenchSettings
from cslnb.bench.timing import medians, round_robin
from cslnb.losses import LOSS_NAMES, LongTailLoss, build_loss
from cslnb.models import build_model

CSL_STEP_TARGET = 1.03
CSL_LABEL = "csl"


@dataclass(frozen=True)
class LossVariant:
    """A row of the table: ``label`` for the loss ``name`` built with ``options``."""

    label: str
    name: str
    options: dict[str, object] = field(default_factory=dict)


def loss_variants() -> list[LossVariant]:
    """Every name of ``LOSS_NAMES`` with its defaults, plus CSL's released reading."""
    variants = [LossVariant(name, name) for name in LOSS_NAMES]
    variants.append(LossVariant("csl[released]", "csl", {"reading": "released"}))
    return variants


@dataclass(frozen=True)
class FixedBatch:
    """Random inputs of one batch: images, labels drawn from IR100 frequencies, and logits and
    features of the shapes the model produces."""

    images: torch.Tensor
    labels: torch.Tensor
    logits: torch.Tensor
    features: torch.Tensor


def fixed_batch(batch_size: int, feature_dim: int, device: torch.device) -> FixedBatch:
    """A reproducible :class:`FixedBatch` on ``device``."""
    gen = torch.Generator().manual_seed(0)
    weights = torch.tensor(IR100_COUNTS, dtype=torch.float64)
    labels = torch.multinomial(weights, batch_size, replacement=True, generator=gen)
    images = torch.randn(batch_size, 3, 32, 32, generator=gen)
    logits = torch.randn(batch_size, len(IR100_COUNTS), generator=gen) * 2
    features = torch.randn(batch_size, feature_dim, generator=gen).abs()
    return FixedBatch(*(t.to(device) for t in (images, labels, logits, features)))


def steady_loss(variant: LossVariant, batch: FixedBatch, device: torch.device) -> LongTailLoss:
    """Build the loss with every schedule active and one finished epoch of statistics."""
    loss = build_loss(
        variant.name, IR100_COUNTS, drw_epoch=0, ib_start_epoch=0, **variant.options
    ).to(device)
    loss.start_epoch(0)
    loss(batch.logits, batch.labels, batch.features if loss.needs_features else None)
    loss.end_epoch(0)
    loss.start_epoch(1)
    return loss


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """bf16 autocast on CUDA (as the trainer's ``amp=auto`` on recent GPUs), else none."""
    return torch.bfloat16 if device.type == "cuda" else None


def step_task(
    loss: LongTailLoss, settings: BenchSettings, batch: FixedBatch, device: torch.device
) -> Callable[[], None]:
    """A closure running one training step of a fresh model with ``loss``."""
    torch.manual_seed(0)
    model = build_model(settings.model, len(IR100_COUNTS), cosine_head=loss.needs_cosine_head).to(
        device
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    dtype = autocast_dtype(device)

    def step() -> None:
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            logits, features = model(batch.images, return_features=True)
            value = loss(logits, batch.labels, features if loss.needs_features else None)
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()

    return step


def loss_only_task(loss: LongTailLoss, batch: FixedBatch, calls: int) -> Callable[[], None]:
    """A closure running ``calls`` forward + backward passes of ``loss`` on fixed inputs."""
    logits = batch.logits.clone().requires_grad_(True)
    features = batch.features.clone().requires_grad_(True) if loss.needs_features else None
    inputs = [logits] if features is None else [logits, features]

    def run() -> None:
        for _ in range(calls):
            value = loss(logits, batch.labels, features)
            torch.autograd.grad(value, inputs, allow_unused=True)

    return run


def run_losses(settings: BenchSettings, device: torch.device) -> dict[str, Any]:
    """Measure section 1; see the module docstring."""
    feature_dim = build_model(settings.model, len(IR100_COUNTS)).feature_dim
    batch = fixed_batch(settings.batch_size, feature_dim, device)
    variants = loss_variants()
    losses = {v.label: steady_loss(v, batch, device) for v in variants}
    only = {
        label: loss_only_task(loss, batch, settings.loss_only_calls)
        for label, loss in losses.items()
    }
    only_times = round_robin(
        only,
        device,
        min_reps=1 + settings.loss_only_min_reps,
        max_reps=1 + settings.loss_only_max_reps,
        budget_s=settings.loss_only_budget_s,
    )
    steps = {label: step_task(loss, settings, batch, device) for label, loss in losses.items()}
    round_robin(steps, device, min_reps=settings.step_warmup, max_reps=settings.step_warmup)
    step_times = round_robin(
        steps,
        device,
        min_reps=settings.step_min_reps,
        max_reps=settings.step_max_reps,
        budget_s=settings.step_budget_s,
        seed=1,
    )
    return _summary(step_times, only_times, settings)


def _summary(
    step_times: dict[str, list[float]],
    only_times: dict[str, list[float]],
    settings: BenchSettings,
) -> dict[str, Any]:
    """Per-loss medians and ratios to CE (the first loss-only round is a warm-up, dropped)."""
    step = medians(step_times)
    only = medians({label: times[1:] for label, times in only_times.items()})
    per_call = {label: seconds / settings.loss_only_calls for label, seconds in only.items()}
    ce_step, ce_call = step["ce"], per_call["ce"]
    rows = {
        label: {
            "step_median_s": step[label],
            "step_times_s": step_times[label],
            "step_ratio": step[label] / ce_step,
            "loss_only_us": per_call[label] * 1e6,
            "loss_only_ratio": per_call[label] / ce_call,
            "step_ratio_from_loss_only": 1.0 + (per_call[label] - ce_call) / ce_step,
        }
        for label in step
    }
    csl = rows[CSL_LABEL]
    return {
        "model": settings.model,
        "batch_size": settings.batch_size,
        "step_repetitions": len(step_times["ce"]),
        "loss_only_repetitions": len(only_times["ce"]) - 1,
        "loss_only_calls_per_repetition": settings.loss_only_calls,
        "rows": rows,
        "csl_target": {
            "max_step_ratio": CSL_STEP_TARGET,
            "step_ratio": csl["step_ratio"],
            "met": csl["step_ratio"] <= CSL_STEP_TARGET,
            "met_by_loss_only_estimate": csl["step_ratio_from_loss_only"] <= CSL_STEP_TARGET,
        },
    }
