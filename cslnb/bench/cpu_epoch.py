"""Section ``cpu_epoch``: the ``paper`` profile's epoch on this CPU, and the campaign it implies.

Without a GPU the paper-scale CIFAR-10 runs train on CPU cores, one thread per run and one run
per core (``reproduce --jobs 2`` on 2 cores). This section measures, with the trainer's own
step (:class:`~cslnb.train.step.TrainStep`, SGD with the CIFAR recipe's momentum and weight
decay, cross-entropy, batch 128 of synthetic 32×32 images) on one thread:

* ``modes``: training images/s of ResNet-32 in every execution mode of
  :mod:`cslnb.train.execution` (eager, channels_last, ``torch.compile``, both) at each precision
  (bf16 autocast where the CPU computes bf16 in hardware, and fp32), with each mode's warm-up
  (first steps, compilation included) and its ratio to eager at the same precision, all timed
  in one process, interleaved (:func:`~cslnb.bench.timing.round_robin`);
* ``evaluation``: test-split images/s (no gradients, one batch of ``cpu_eval_batch`` images),
  plain and channels_last (the trainer evaluates the uncompiled model);
* ``auto``: the mode ``--compile auto --channels-last auto`` picks for a ``paper`` run here,
  and the fastest mode measured at the same precision;
* ``projection``: hours per ``paper`` run (CIFAR-10-LT at IR 100 and 50, evaluation every
  ``PAPER_EVAL_EVERY`` epochs) in the mode ``auto`` picks, and for the whole CPU campaign
  (:data:`CAMPAIGN_RUNS`) on ``cores`` cores, one run per core. Process start, data loading and
  the extra cost of each loss over cross-entropy are left out; two runs sharing the machine are
  assumed not to slow each other (they share memory bandwidth, so the real time is somewhat
  longer).
"""

from __future__ import annotations

import os
import statistics
from typing import Any

import torch

from cslnb.bench.settings import BenchSettings
from cslnb.bench.timing import round_robin, timed
from cslnb.data.longtail import cifar_lt_counts
from cslnb.losses import build_loss
from cslnb.models import build_model
from cslnb.profiles import get_profile
from cslnb.train.device import Precision, cpu_supports_bf16
from cslnb.train.execution import Execution, choose_execution
from cslnb.train.recipes import recipe_for
from cslnb.train.step import TrainStep, autocast

CIFAR10_TEST_IMAGES = 10_000
CAMPAIGN_RUNS = {100: 13 + 3, 50: 13}
"""The CPU campaign at the ``paper`` profile, seed 0: at IR 100 the 12 methods of Tables 1–2,
CSL in the released reading and three ablations (no gamma, no N_pred, no reinforcement); at
IR 50 the 12 methods and the released reading."""
MODES = {
    "eager": Execution(compile=False, channels_last=False),
    "channels_last": Execution(compile=False, channels_last=True),
    "compile": Execution(compile=True, channels_last=False),
    "compile+channels_last": Execution(compile=True, channels_last=True),
}


def _precisions() -> dict[str, Precision]:
    precisions = {"fp32": Precision(None, False)}
    if cpu_supports_bf16():
        precisions = {"bfloat16": Precision(torch.bfloat16, False), **precisions}
    return precisions


def _step(settings: BenchSettings, execution: Execution, precision: Precision) -> TrainStep:
    """A CE training step of ``settings.model`` on CIFAR-10-LT class counts, set up as the
    trainer sets it up for ``execution`` and ``precision``."""
    torch.manual_seed(0)
    recipe = recipe_for("cifar10", "ce")
    model = build_model(settings.model, 10)
    if execution.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay
    )
    return TrainStep(
        torch.compile(model) if execution.compile else model,
        build_loss("ce", cifar_lt_counts("cifar10", 100)),
        optimizer,
        torch.amp.GradScaler("cpu", enabled=False),
        torch.device("cpu"),
        precision,
        channels_last=execution.channels_last,
    )


def _batch(settings: BenchSettings) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(settings.batch_size, 3, 32, 32, generator=generator)
    labels = torch.randint(0, 10, (settings.batch_size,), generator=generator)
    return images, labels


def measure_modes(settings: BenchSettings) -> dict[str, dict[str, dict[str, Any]]]:
    """Training images/s per precision and mode (see the module docstring)."""
    images, labels = _batch(settings)
    cpu = torch.device("cpu")
    modes = {name: mode for name, mode in MODES.items() if settings.cpu_compile or not mode.compile}
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for label, precision in _precisions().items():
        steps = {name: _step(settings, mode, precision) for name, mode in modes.items()}

        def run(step: TrainStep, count: int) -> None:
            step.start_epoch()
            for _ in range(count):
                step(images, labels)
            step.finish_epoch()

        warmups = {
            name: timed(lambda s=step: run(s, settings.cpu_warmup_steps), cpu)
            for name, step in steps.items()
        }
        times = round_robin(
            {
                name: (lambda s=step: run(s, settings.cpu_timed_steps))
                for name, step in steps.items()
            },
            cpu,
            min_reps=settings.step_min_reps,
            max_reps=settings.step_max_reps,
            budget_s=settings.step_budget_s,
        )
        rates = {
            name: settings.cpu_timed_steps * settings.batch_size / statistics.median(times[name])
            for name in steps
        }
        results[label] = {
            name: {
                "images_per_s": rates[name],
                "ratio_to_eager": rates[name] / rates["eager"],
                "warmup_s": warmups[name],
                "repetitions": len(times[name]),
            }
            for name in steps
        }
    return results


@torch.no_grad()
def measure_evaluation(settings: BenchSettings) -> dict[str, dict[str, float]]:
    """Evaluation images/s per precision, plain and channels_last."""
    cpu = torch.device("cpu")
    results: dict[str, dict[str, float]] = {}
    for label, precision in _precisions().items():
        results[label] = {}
        for name, channels_last in (("eager", False), ("channels_last", True)):
            model = build_model(settings.model, 10).eval()
            images = torch.randn(settings.cpu_eval_batch, 3, 32, 32)
            if channels_last:
                model = model.to(memory_format=torch.channels_last)
                images = images.contiguous(memory_format=torch.channels_last)

            def forward(
                m: torch.nn.Module = model, x: torch.Tensor = images, p: Precision = precision
            ) -> None:
                with autocast(cpu, p):
                    m(x).argmax(dim=1)

            forward()
            results[label][name] = len(images) / timed(forward, cpu)
    return results


def mode_name(execution: Execution) -> str:
    """The :data:`MODES` key of ``execution``."""
    return next(name for name, mode in MODES.items() if mode == execution)


def project(
    train_rate: float, eval_rate: float, cores: int, eval_every: int, epochs: int
) -> dict[str, Any]:
    """Hours per ``paper`` run and for the CPU campaign from one run's training and evaluation
    rates on one thread (images/s)::

        epoch_s(IR) = n_train(IR) / train_rate + n_test / eval_rate / eval_every
        campaign_h  = sum over runs of epochs * epoch_s(IR) / 3600 / cores
    """
    per_run_h = {}
    for ratio in CAMPAIGN_RUNS:
        epoch_s = sum(cifar_lt_counts("cifar10", ratio)) / train_rate
        epoch_s += CIFAR10_TEST_IMAGES / eval_rate / eval_every
        per_run_h[ratio] = epochs * epoch_s / 3600
    cpu_hours = sum(per_run_h[ratio] * count for ratio, count in CAMPAIGN_RUNS.items())
    return {
        "run_hours": {f"ir{ratio}": hours for ratio, hours in per_run_h.items()},
        "runs": sum(CAMPAIGN_RUNS.values()),
        "cpu_hours": cpu_hours,
        "cores": cores,
        "wall_hours": cpu_hours / cores,
    }


def run_cpu_epoch(settings: BenchSettings, device: torch.device) -> dict[str, Any]:
    """Measure the section on the CPU (whatever ``device`` the rest of the bench uses)."""
    modes = measure_modes(settings)
    evaluation = measure_evaluation(settings)
    paper = get_profile("paper")
    steps = paper.epochs * -(-sum(cifar_lt_counts("cifar10", 100)) // paper.batch_size)
    auto = choose_execution("auto", "auto", torch.device("cpu"), steps)
    precision = next(iter(modes))  # what amp="auto" picks here: bf16 where listed, else fp32
    picked = mode_name(auto)
    measured = modes[precision]
    fastest = max(measured, key=lambda name: measured[name]["images_per_s"])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    eval_mode = "channels_last" if auto.channels_last else "eager"
    return {
        "model": settings.model,
        "batch_size": settings.batch_size,
        "threads": torch.get_num_threads(),
        "modes": modes,
        "evaluation": evaluation,
        "auto": {
            "precision": precision,
            "picked": picked,
            "fastest_measured": fastest,
            "picked_measured": picked in measured,
        },
        "projection": project(
            measured.get(picked, measured[fastest])["images_per_s"],
            evaluation[precision][eval_mode],
            cores or 1,
            paper.eval_every,
            paper.epochs,
        ),
    }
