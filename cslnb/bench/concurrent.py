"""Several benchmark runs at once on one GPU, each in its own process.

This is how ``python -m cslnb reproduce ... --jobs N`` trains a batch: separate processes share
the device, and their kernels interleave. Every process builds its run and trains its warm-up
epochs (:func:`~cslnb.bench.gpu_run.warm_up`: two with graphs, the second capturing the last,
smaller batch), then all wait at a barrier and train the timed epochs together. The aggregate
rate is the images of all runs over the longest run's time.
"""

from __future__ import annotations

import multiprocessing
import queue
from typing import Any

import torch

from cslnb.bench.gpu_env import memory_use
from cslnb.bench.gpu_run import build_run, train_epochs, warm_up
from cslnb.bench.settings import EPOCH_IMAGES, BenchSettings
from cslnb.train.determinism import deterministic_mode

TIMEOUT_S = 900.0


def _worker(
    settings: BenchSettings,
    device_name: str,
    use_graph: bool,
    deterministic: bool,
    barrier: Any,
    results: Any,
) -> None:
    """One run in a child process; puts its rate and memory (or its error) on ``results``."""
    try:
        torch.set_num_threads(1)
        device = torch.device(device_name)
        torch.cuda.set_device(device)
        with deterministic_mode(deterministic):
            step, loader = build_run(settings.model, device, use_graph)
            warmup = warm_up(step, loader)
            barrier.wait(timeout=TIMEOUT_S)
            first = warmup["warmup_epochs"]
            elapsed = train_epochs(step, loader, settings.gpu_epochs, first=first)
        results.put(
            {
                "elapsed_s": elapsed,
                "images_per_s": settings.gpu_epochs * EPOCH_IMAGES / elapsed,
                **memory_use(device),
            }
        )
    except Exception as error:
        barrier.abort()
        results.put({"error": repr(error)})


def measure_concurrent(
    settings: BenchSettings,
    device: torch.device,
    jobs: int,
    use_graph: bool,
    *,
    deterministic: bool = False,
) -> dict[str, Any]:
    """Aggregate and per-run training images/s of ``jobs`` runs trained at once, the largest
    pool a run reserved and the memory in use on the whole GPU at the end (the most any run
    saw: every run's CUDA context and pool, and the bench's own process)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(jobs)
    results = context.Queue()
    processes = [
        context.Process(
            target=_worker,
            args=(settings, str(device), use_graph, deterministic, barrier, results),
            daemon=True,
        )
        for _ in range(jobs)
    ]
    for process in processes:
        process.start()
    try:
        runs = [results.get(timeout=TIMEOUT_S) for _ in processes]
    except queue.Empty:
        runs = [{"error": f"no result within {TIMEOUT_S:.0f} s"}]
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
    errors = [run["error"] for run in runs if "error" in run]
    if errors:
        raise RuntimeError(f"{len(errors)} of {jobs} runs failed; first: {errors[0]}")
    longest = max(run["elapsed_s"] for run in runs)
    return {
        "cuda_graph": use_graph,
        "images_per_s": jobs * settings.gpu_epochs * EPOCH_IMAGES / longest,
        "per_run_images_per_s": sorted(run["images_per_s"] for run in runs),
        "peak_reserved_mib": max(run["peak_reserved_mib"] for run in runs),
        "device_used_mib": max(run["device_used_mib"] for run in runs),
    }
