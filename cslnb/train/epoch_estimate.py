"""How long a fresh run's first epoch will take, from a bench record of this GPU.

A run resumed from a checkpoint knows its mean epoch time; a fresh one does not, and without an
estimate ``--time-budget`` would start it however close the deadline is, then overrun by a
whole epoch. The bench's ``gpu`` section (:mod:`cslnb.bench.gpu`) times exactly what the first
epoch of a ``paper``-profile CIFAR run does: the trainer's step on ResNet-32 at 32×32, batch
128, the first epoch including cuDNN's warm-up and the graph capture, plus the test split's
evaluation rate. Scaled to the run's numbers of images::

    first epoch ≈ first_epoch_s × n_train / bench epoch images  (+ n_test / evaluation rate,
                                                                 if the run evaluates then)

The estimate is used only where it applies: a CUDA run of the bench's model and image size on
CIFAR, and a bench record of the same GPU model (not ``--quick``). It is a single run's time;
with ``--jobs N`` the runs share the GPU and an epoch takes longer, so a run may still start
that cannot finish its first epoch in time (it then stops at the deadline's next check, with no
checkpoint yet, and starts over on the next call).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from cslnb.profiles import Profile

BENCH_DATASETS = ("cifar10", "cifar100")
"""Datasets whose runs train what the bench measures (32×32 images in GPU memory)."""
BENCH_IMAGE_SIZE = 32


def first_epoch_estimate(
    dataset: str,
    profile: Profile,
    model: str,
    train_images: int,
    test_images: int,
    device: torch.device,
    cuda_graph: bool,
    *,
    bench_root: Path | None = None,
) -> float | None:
    """Seconds the first epoch of this run should take, or ``None`` when no bench record of
    this GPU measured this kind of run (see the module docstring)."""
    if device.type != "cuda" or dataset not in BENCH_DATASETS:
        return None
    if profile.image_size != BENCH_IMAGE_SIZE:
        return None
    from cslnb.bench.record import load_latest_bench  # the bench package imports the trainer's

    record = load_latest_bench("cuda", root=bench_root, section="gpu")
    if record is None or record.get("settings", {}).get("quick", True):
        return None
    return estimate_from_section(
        record["gpu"],
        torch.cuda.get_device_name(device),
        model,
        train_images,
        test_images if profile.eval_every == 1 else 0,
        cuda_graph,
    )


def estimate_from_section(
    section: dict[str, Any],
    gpu_name: str,
    model: str,
    train_images: int,
    test_images: int,
    cuda_graph: bool,
) -> float | None:
    """The formula of the module docstring on a bench ``gpu`` section; ``None`` when the section
    is of another GPU or model, or lacks the measurement (``test_images=0``: no evaluation)."""
    if section.get("device") != gpu_name or section.get("model") != model:
        return None
    run = section.get("step", {}).get("cuda_graph" if cuda_graph else "eager", {})
    evaluation = section.get("evaluation", {})
    if "first_epoch_s" not in run or (test_images and "images_per_s" not in evaluation):
        return None
    seconds = run["first_epoch_s"] * train_images / section["epoch_images"]
    if test_images:
        seconds += test_images / evaluation["images_per_s"]
    return seconds
