"""Section 4 (CUDA only): the trainer's own training loop on the GPU, and the paper batch.

Measured with the trainer's pieces (:class:`~cslnb.train.step.TrainStep`, ``GPULoader``,
SGD with the CIFAR recipe's momentum and weight decay, the precision ``amp="auto"`` picks) on
synthetic CIFAR-10-LT IR100 epochs (12,406 random 32×32 images, batch 128, plain
cross-entropy):

* ``step``: one ResNet-32 run, eager and with the step replayed as a CUDA graph: seconds per
  step and images/s over epochs timed once every graph exists (the warm-up trains until the
  last, smaller batch has its graph too), the first epoch's seconds (cuDNN warm-up and capture
  included: what a fresh run's first epoch costs, :mod:`cslnb.train.epoch_estimate`), and the
  memory (:func:`cslnb.bench.gpu_env.memory_use`: peak tensors, peak reserved pool, and all
  memory in use on the GPU, CUDA context included);
* ``deterministic`` (``bench --deterministic`` only): one run in a child process with
  deterministic kernels (:mod:`cslnb.train.determinism`) against one without, and the ratio;
* ``evaluation``: test-split images/s of the same model (batch 1000, no gradients);
* ``concurrent``: 1, 4, 8 and 16 runs at once, each in its own process as
  ``reproduce --jobs N`` trains them, started together: aggregate and per-run images/s and
  the largest reserved pool of a run and the memory in use on the whole GPU; whether MPS runs
  (``mps``, :func:`cslnb.bench.gpu_env.mps_status`: without it the processes take turns on the
  GPU rather than overlap);
* ``projection``: the wall time of the 28 CIFAR-10 runs of Tables 1–2 at the ``paper`` profile
  for each number of jobs (:mod:`cslnb.bench.projection`).

With ``tests/test_gpu_path.py``, this section is where the CUDA graph path of
:mod:`cslnb.train.step` runs outside a real training run (``python -m cslnb gpu-check`` runs
both); the CPU tests cover the arithmetic and the record layout.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from cslnb.bench.concurrent import measure_concurrent
from cslnb.bench.gpu_env import memory_use, mps_status
from cslnb.bench.gpu_run import build_run, synthetic_split, train_epochs, warm_up
from cslnb.bench.projection import project, table_runs
from cslnb.bench.settings import EPOCH_BATCH, EPOCH_IMAGES, IR100_COUNTS, BenchSettings
from cslnb.data import GPULoader
from cslnb.models import build_model
from cslnb.train.device import pick_precision
from cslnb.train.step import autocast

EVAL_BATCH = 1000
EVAL_IMAGES = 10_000


def measure_run(settings: BenchSettings, device: torch.device, use_graph: bool) -> dict[str, Any]:
    """One run's training loop: warm-up epochs until every graph exists
    (:func:`~cslnb.bench.gpu_run.warm_up`), then ``settings.gpu_epochs`` timed epochs."""
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    step, loader = build_run(settings.model, device, use_graph)
    warmup = warm_up(step, loader)
    elapsed = train_epochs(step, loader, settings.gpu_epochs, first=warmup["warmup_epochs"])
    steps = settings.gpu_epochs * len(loader)
    return {
        "cuda_graph": use_graph,
        "step_ms": 1000 * elapsed / steps,
        "images_per_s": settings.gpu_epochs * EPOCH_IMAGES / elapsed,
        **warmup,
        **memory_use(device),
    }


def measure_deterministic(
    settings: BenchSettings, device: torch.device, use_graph: bool
) -> dict[str, Any]:
    """The cost of ``--deterministic``: one run in a child process with deterministic kernels
    and one without (a fresh process each, since cuBLAS reads its workspace setting once)."""
    default = measure_concurrent(settings, device, 1, use_graph)
    deterministic = measure_concurrent(settings, device, 1, use_graph, deterministic=True)
    return {
        "cuda_graph": use_graph,
        "default_images_per_s": default["images_per_s"],
        "deterministic_images_per_s": deterministic["images_per_s"],
        "slowdown": default["images_per_s"] / deterministic["images_per_s"],
    }


@torch.no_grad()
def measure_evaluation(settings: BenchSettings, device: torch.device) -> dict[str, Any]:
    """Test-split images/s (eval mode, batch 1000, autocast as in training)."""
    model = build_model(settings.model, len(IR100_COUNTS)).to(device).eval()
    precision = pick_precision(device, "auto")
    loader = GPULoader(
        synthetic_split(EVAL_IMAGES, device, seed=1), EVAL_BATCH, train=False, device=device
    )

    def one_pass() -> float:
        torch.cuda.synchronize()
        start = time.perf_counter()
        for images, _ in loader:
            with autocast(device, precision):
                model(images).argmax(dim=1)
        torch.cuda.synchronize()
        return time.perf_counter() - start

    one_pass()
    return {"batch_size": EVAL_BATCH, "images_per_s": EVAL_IMAGES / one_pass()}


def _attempt(task, *args: Any) -> dict[str, Any]:
    """``task(*args)``, with a failure recorded instead of raised (so one broken mode, e.g. a
    graph capture failing on some driver, still leaves the rest of the record)."""
    try:
        return task(*args)
    except Exception as error:
        return {"error": repr(error)}


def run_gpu(settings: BenchSettings, device: torch.device) -> dict[str, Any]:
    """Measure section 4 on CUDA; ``{"skipped": reason}`` elsewhere."""
    if not torch.cuda.is_available():
        return {"skipped": "no GPU"}
    if device.type != "cuda":
        return {"skipped": f"bench device is {device.type}"}
    with torch.cuda.device(device):
        step = {
            "eager": _attempt(measure_run, settings, device, False),
            "cuda_graph": _attempt(measure_run, settings, device, True),
        }
        evaluation = _attempt(measure_evaluation, settings, device)
        use_graph = "error" not in step["cuda_graph"]
        torch.cuda.empty_cache()  # the children's memory use is measured with this process's
        concurrent = [
            {"jobs": jobs, **_attempt(measure_concurrent, settings, device, jobs, use_graph)}
            for jobs in settings.gpu_jobs
        ]
        deterministic = (
            _attempt(measure_deterministic, settings, device, use_graph)
            if settings.gpu_deterministic
            else None
        )
    machine = {
        "device": torch.cuda.get_device_name(device),
        "torch": torch.__version__,
        "precision": pick_precision(device, "auto").label,
        "mps": mps_status(),
    }
    return gpu_section(settings, machine, step, evaluation, concurrent, deterministic)


def gpu_section(
    settings: BenchSettings,
    machine: dict[str, Any],
    step: dict[str, dict[str, Any]],
    evaluation: dict[str, Any],
    concurrent: list[dict[str, Any]],
    deterministic: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The section's record (``machine``: device name, torch version, precision label, MPS), with
    the projection when the rates it needs were measured."""
    section: dict[str, Any] = {
        **machine,
        "model": settings.model,
        "batch_size": EPOCH_BATCH,
        "epoch_images": EPOCH_IMAGES,
        "timed_epochs": settings.gpu_epochs,
        "step": step,
        "evaluation": evaluation,
        "concurrent": concurrent,
    }
    if deterministic is not None:
        section["deterministic"] = deterministic
    rates = {c["jobs"]: c["images_per_s"] for c in concurrent if "error" not in c}
    if rates and "error" not in evaluation:
        section["projection"] = project(
            rates, evaluation["images_per_s"], table_runs("paper"), sorted(rates)
        )
    return section
