"""Section 4 (CUDA only): ResNet training throughput with bf16 autocast.

Four configurations: eager or ``torch.compile``, one model or ``gpu_models`` models trained
at once. Several models are stepped in the same loop, each on its own CUDA stream, so their
kernels can overlap; every model sees the same fixed batch. Plain cross-entropy (section 1
measures what the other losses add). Reported per configuration: aggregate images/s, the
seconds one 200-epoch CIFAR-10-LT IR100 run takes at that rate (``s_per_run``; with n models
at once, n runs finish together after ``n × s_per_run``) and the warm-up (compile) time.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cslnb.bench.settings import EPOCH_BATCH, EPOCH_IMAGES, IR100_COUNTS, RUN_EPOCHS, BenchSettings
from cslnb.models import build_model


def _step_all(
    models: list[nn.Module],
    optimizers: list[torch.optim.Optimizer],
    streams: list[torch.cuda.Stream],
    images: torch.Tensor,
    labels: torch.Tensor,
) -> None:
    """One SGD step of every model, model ``i`` on ``streams[i]``; joins the streams after."""
    main = torch.cuda.current_stream()
    for model, optimizer, stream in zip(models, optimizers, streams, strict=True):
        stream.wait_stream(main)
        with torch.cuda.stream(stream):
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    for stream in streams:
        main.wait_stream(stream)


def _timed_steps(steps: int, *step_args: Any) -> float:
    """Seconds for ``steps`` calls of :func:`_step_all`, device work included."""
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        _step_all(*step_args)
    torch.cuda.synchronize()
    return time.perf_counter() - start


def measure(
    settings: BenchSettings, device: torch.device, n_models: int, compiled: bool
) -> dict[str, Any]:
    """Throughput of ``n_models`` models trained at once, eager or compiled."""
    torch.manual_seed(0)
    models = [
        build_model(settings.model, len(IR100_COUNTS)).to(device, memory_format=torch.channels_last)
        for _ in range(n_models)
    ]
    optimizers = [
        torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4) for m in models
    ]
    runners = [torch.compile(m) for m in models] if compiled else models
    streams = [torch.cuda.Stream(device) for _ in models]
    images = torch.randn(EPOCH_BATCH, 3, 32, 32, device=device)
    images = images.contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, len(IR100_COUNTS), (EPOCH_BATCH,), device=device)
    args = (runners, optimizers, streams, images, labels)
    warmup_s = _timed_steps(settings.gpu_warmup, *args)
    elapsed = _timed_steps(settings.gpu_steps, *args)
    images_per_s = n_models * settings.gpu_steps * EPOCH_BATCH / elapsed
    return {
        "models": n_models,
        "compile": compiled,
        "images_per_s": images_per_s,
        "s_per_run": RUN_EPOCHS * EPOCH_IMAGES / images_per_s,
        "warmup_s": warmup_s,
    }


def _measure_or_error(
    settings: BenchSettings, device: torch.device, n_models: int, compiled: bool
) -> dict[str, Any]:
    """:func:`measure`, with a failure of ``torch.compile`` (e.g. no working Triton toolchain)
    recorded instead of raised; eager failures propagate."""
    try:
        return measure(settings, device, n_models, compiled)
    except Exception as error:
        if not compiled:
            raise
        return {"models": n_models, "compile": True, "error": repr(error)}


def run_gpu(settings: BenchSettings, device: torch.device) -> dict[str, Any]:
    """Measure section 4 on CUDA; ``{"skipped": reason}`` elsewhere."""
    if not torch.cuda.is_available():
        return {"skipped": "no GPU"}
    if device.type != "cuda":
        return {"skipped": f"bench device is {device.type}"}
    configs = []
    with torch.cuda.device(device):
        for compiled in (False, True):
            for n_models in (1, settings.gpu_models):
                configs.append(_measure_or_error(settings, device, n_models, compiled))
    return {
        "model": settings.model,
        "batch_size": EPOCH_BATCH,
        "amp": "bf16",
        "run_epochs": RUN_EPOCHS,
        "epoch_images": EPOCH_IMAGES,
        "steps": settings.gpu_steps,
        "configs": configs,
    }
