"""One benchmark training run on the GPU, set up with the trainer's own pieces."""

from __future__ import annotations

import time
from typing import Any

import torch

from cslnb.bench.settings import EPOCH_BATCH, EPOCH_IMAGES, IR100_COUNTS
from cslnb.data import CIFAR_MEAN, CIFAR_STD, GPULoader
from cslnb.data.types import ImageArrays
from cslnb.losses import build_loss
from cslnb.models import build_model
from cslnb.train.device import pick_precision
from cslnb.train.recipes import recipe_for
from cslnb.train.step import TrainStep, use_step_graph

MAX_WARMUP_EPOCHS = 3
"""A graph per batch size needs two epochs when the last batch is smaller (it is warmed up in
the first, captured in the second); a third would mean the capture is not happening."""


def synthetic_split(images: int, device: torch.device, seed: int = 0) -> ImageArrays:
    """``images`` random uint8 32×32 images with CIFAR-10-LT IR100 label frequencies."""
    generator = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 256, (images, 3, 32, 32), dtype=torch.uint8, generator=generator)
    counts = torch.tensor(IR100_COUNTS, dtype=torch.float64)
    labels = torch.multinomial(counts, images, replacement=True, generator=generator)
    return ImageArrays(pixels.to(device), labels.to(device))


def build_run(
    model_name: str, device: torch.device, use_graph: bool
) -> tuple[TrainStep, GPULoader]:
    """A training step and training loader set up as the trainer does for a CE run."""
    torch.manual_seed(0)
    recipe = recipe_for("cifar10", "ce")
    precision = pick_precision(device, "auto")
    loss_fn = build_loss("ce", IR100_COUNTS).to(device)
    model = build_model(model_name, len(IR100_COUNTS)).to(device)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay
    )
    scaler = torch.amp.GradScaler(device.type, enabled=precision.use_scaler)
    if use_graph:
        use_step_graph("on", device, precision, distributed=False, total_steps=0)
    step = TrainStep(model, loss_fn, optimizer, scaler, device, precision, use_graph=use_graph)
    loader = GPULoader(
        synthetic_split(EPOCH_IMAGES, device),
        EPOCH_BATCH,
        train=True,
        device=device,
        mean=CIFAR_MEAN,
        std=CIFAR_STD,
    )
    return step, loader


def train_epochs(step: TrainStep, loader: GPULoader, epochs: int, first: int = 0) -> float:
    """Seconds for ``epochs`` training epochs, device work included."""
    torch.cuda.synchronize()
    start = time.perf_counter()
    for epoch in range(first, first + epochs):
        loader.set_epoch(epoch)
        step.model.train()
        step.start_epoch()
        for images, labels in loader:
            step(images, labels)
        step.finish_epoch()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def epoch_batch_sizes(images: int = EPOCH_IMAGES, batch: int = EPOCH_BATCH) -> frozenset[int]:
    """The batch sizes of one epoch: the full one and, if ``batch`` does not divide ``images``,
    the smaller last one (12,406 images at batch 128: 128 and 118)."""
    return frozenset({batch, images % batch} - {0})


def warm_up(step: TrainStep, loader: GPULoader) -> dict[str, Any]:
    """Train until nothing remains to warm up: one epoch eagerly; with graphs, until every batch
    size of an epoch replays a graph (so no capture happens in the timed epochs).

    Returns the epochs this took, the first epoch's seconds (what a fresh run's first epoch
    costs) and the total seconds.
    """
    needed = epoch_batch_sizes() if step.use_graph else frozenset()
    first = train_epochs(step, loader, 1)
    epochs, total = 1, first
    while not needed <= step.captured_batch_sizes:
        if epochs == MAX_WARMUP_EPOCHS:
            raise RuntimeError(
                f"after {epochs} warm-up epochs graphs exist for batch sizes "
                f"{sorted(step.captured_batch_sizes)}, not {sorted(needed)}"
            )
        total += train_epochs(step, loader, 1, first=epochs)
        epochs += 1
    return {"warmup_epochs": epochs, "first_epoch_s": first, "warmup_s": total}
