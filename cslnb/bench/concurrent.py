"""Several benchmark runs at once on one GPU, each in its own process.

This is how ``python -m cslnb reproduce ... --jobs N`` trains a batch: separate processes share
the device, and their kernels interleave. Every process builds its run and trains one warm-up
epoch (graph capture included), then all wait at a barrier and train the timed epochs together.
The aggregate rate is the images of all runs over the longest run's time.
"""

from __future__ import annotations

import multiprocessing
import queue
from typing import Any

import torch

from cslnb.bench.gpu_run import MIB, build_run, train_epochs
from cslnb.bench.settings import EPOCH_IMAGES, BenchSettings

TIMEOUT_S = 900.0


def _worker(
    settings: BenchSettings,
    device_name: str,
    use_graph: bool,
    barrier: Any,
    results: Any,
) -> None:
    """One run in a child process; puts its rate and peak memory (or its error) on ``results``."""
    try:
        torch.set_num_threads(1)
        device = torch.device(device_name)
        torch.cuda.set_device(device)
        step, loader = build_run(settings.model, device, use_graph)
        train_epochs(step, loader, 1)
        barrier.wait(timeout=TIMEOUT_S)
        elapsed = train_epochs(step, loader, settings.gpu_epochs, first=1)
        results.put(
            {
                "elapsed_s": elapsed,
                "images_per_s": settings.gpu_epochs * EPOCH_IMAGES / elapsed,
                "peak_memory_mib": torch.cuda.max_memory_allocated(device) / MIB,
            }
        )
    except Exception as error:
        barrier.abort()
        results.put({"error": repr(error)})


def measure_concurrent(
    settings: BenchSettings, device: torch.device, jobs: int, use_graph: bool
) -> dict[str, Any]:
    """Aggregate and per-run training images/s of ``jobs`` runs trained at once."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(jobs)
    results = context.Queue()
    processes = [
        context.Process(
            target=_worker, args=(settings, str(device), use_graph, barrier, results), daemon=True
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
        "peak_memory_mib": max(run["peak_memory_mib"] for run in runs),
    }
