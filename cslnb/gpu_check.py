"""``python -m cslnb gpu-check``: a five-minute smoke test of the GPU path on a new machine.

Run it first on any CUDA machine (a Colab GPU runtime, a lab server), from the checkout. It
runs four checks, each timed and each recorded even when it fails, and writes one JSON summary
(``data/bench/gpu-check-<UTC timestamp>.json``, or ``--out``):

1. ``gpu_tests``: the GPU tests (``tests/test_gpu_path.py``, with ``pytest`` in a child process;
   skipped outside a checkout);
2. ``paper_runs``: two epochs of a ``paper``-profile CE run on CIFAR-10-LT (the synthetic
   stand-in where CIFAR-10 is not found) in every precision the GPU supports (fp32, fp16, and
   bf16 from compute capability 8.0), each with the step replayed as a CUDA graph and eagerly
   (fp16's gradient scaler is never captured: that pair is listed as not possible);
3. ``bench_gpu``: the bench's GPU section, shortened (one timed epoch, 1 and 4 runs at once,
   the cost of ``--deterministic``), also saved as a bench record, which later ``--time-budget``
   runs use to estimate a fresh run's first epoch;
4. ``resume_device_change``: a ``ci`` run trained one epoch here and resumed on another device
   (a second GPU, else the CPU), as the README's export/import workflow does: a precision that
   differs there is refused first, then allowed with ``allow_precision_change``.

Without CUDA it writes a summary that says so and exits with status 1.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from cslnb.paths import bench_dir, project_root
from cslnb.records import write_json_atomic
from cslnb.train.config import RunConfig, TrainOptions
from cslnb.train.device import cuda_capability, gpu_has_bf16, pick_device, pick_precision

SCHEMA_VERSION = 1
GPU_TESTS = Path("tests") / "test_gpu_path.py"
TESTS_TIMEOUT_S = 240
PAPER_EPOCHS = 2

Check = Callable[[torch.device], dict[str, Any]]


def run_gpu_check(out: Path | None = None, device: str | None = None) -> int:
    """Run the checks on ``device`` (default: the current CUDA device), write the summary to
    ``out`` (a ``.json`` file, or a folder; default ``bench_dir()``) and print where; status 0
    when every check passed, 1 otherwise (no CUDA included)."""
    summary = gpu_check_summary(device)
    path = summary_path(summary, out)
    write_json_atomic(path, summary)
    for name, check in summary.get("checks", {}).items():
        verdict = "ok" if check["ok"] else f"FAILED ({check.get('error', 'see summary')})"
        print(f"{name}: {verdict} in {check['seconds']:.0f} s")
    if "skipped" in summary:
        print(f"gpu-check skipped: {summary['skipped']}")
    print(f"summary: {path}")
    return 0 if summary["ok"] else 1


def summary_path(summary: dict[str, Any], out: Path | None) -> Path:
    """``out`` if it names a ``.json`` file, else ``gpu-check-<timestamp>.json`` in ``out``
    (default ``bench_dir()``)."""
    if out is not None and out.suffix == ".json":
        return out
    stamp = datetime.fromisoformat(summary["created_utc"]).strftime("%Y%m%dT%H%M%SZ")
    return (out or bench_dir()) / f"gpu-check-{stamp}.json"


def gpu_check_summary(device: str | None = None) -> dict[str, Any]:
    """Every check's result on ``device``, or why none ran."""
    summary: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "created_utc": datetime.now(timezone.utc).isoformat(),
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
    }
    if not torch.cuda.is_available():
        return {**summary, "ok": False, "skipped": "no CUDA device visible to torch"}
    chosen = pick_device(device or "cuda")
    if chosen.type != "cuda":
        return {**summary, "ok": False, "skipped": f"{chosen} is not a CUDA device"}
    summary["gpu"] = describe_gpu(chosen)
    checks = {name: timed(check, chosen) for name, check in CHECKS}
    return {**summary, "checks": checks, "ok": all(c["ok"] for c in checks.values())}


def describe_gpu(device: torch.device) -> dict[str, Any]:
    """The GPU's name, compute capability, memory, the visible GPU count and what
    ``amp="auto"`` picks on it."""
    major, minor = cuda_capability(device)
    return {
        "device": str(device),
        "name": torch.cuda.get_device_name(device),
        "capability": f"{major}.{minor}",
        "memory_mib": torch.cuda.get_device_properties(device).total_memory // 2**20,
        "visible_gpus": torch.cuda.device_count(),
        "auto_precision": pick_precision(device, "auto").label,
    }


def timed(check: Check, device: torch.device) -> dict[str, Any]:
    """``check(device)`` with its wall time; an exception becomes a failed result."""
    start = time.perf_counter()
    try:
        result = check(device)
    except Exception as error:
        result = {"ok": False, "error": repr(error)}
    return {**result, "seconds": round(time.perf_counter() - start, 1)}


def gpu_tests(device: torch.device) -> dict[str, Any]:
    """Run the GPU tests in a child ``pytest`` and count its outcomes from its JUnit report."""
    tests = project_root() / GPU_TESTS
    if not tests.exists():
        return {"ok": True, "skipped": f"{GPU_TESTS} not found (not run from a checkout)"}
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "junit.xml"
        env = {**os.environ, "CSLNB_PROFILE": "ci"}
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", str(tests), f"--junitxml={report}"],
            cwd=project_root(),
            env=env,
            capture_output=True,
            text=True,
            timeout=TESTS_TIMEOUT_S,
        )
        counts = junit_counts(report) if report.exists() else {}
    tail = completed.stdout.strip().splitlines()[-1:] if completed.stdout.strip() else []
    return {
        "ok": completed.returncode == 0,
        "returncode": completed.returncode,
        **counts,
        "last_line": tail[0] if tail else "",
    }


def junit_counts(report: Path) -> dict[str, int]:
    """Tests, failures, errors and skips summed over the suites of a JUnit XML report."""
    root = ElementTree.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    keys = ("tests", "failures", "errors", "skipped")
    return {key: sum(int(suite.get(key, 0)) for suite in suites) for key in keys}


def supported_amps(device: torch.device) -> list[str]:
    """The ``amp`` settings this GPU trains in: fp32 and fp16 always, bf16 from 8.0."""
    return ["off", "fp16"] + (["bf16"] if gpu_has_bf16(device) else [])


def paper_runs(device: torch.device) -> dict[str, Any]:
    """Two ``paper``-profile epochs per supported precision, with graphs on and off."""
    dataset = "cifar10"
    runs: list[dict[str, Any]] = []
    for amp in supported_amps(device):
        for graph in ("on", "off"):
            entry: dict[str, Any] = {"amp": amp, "cuda_graph": graph}
            if amp == "fp16" and graph == "on":
                runs.append({**entry, "ok": True, "skipped": "fp16's gradient scaler is eager"})
                continue
            try:
                result = paper_epochs(
                    RunConfig(dataset, "ce", profile="paper", amp=amp), device, graph
                )
            except FileNotFoundError:  # no CIFAR-10 here: the synthetic stand-in from now on
                dataset = "synthetic"
                result = paper_epochs(
                    RunConfig(dataset, "ce", profile="paper", amp=amp), device, graph
                )
            runs.append({**entry, **result})
    return {"ok": all(run["ok"] for run in runs), "runs": runs}


def scratch_options(scratch: str, device: torch.device, **settings: Any) -> TrainOptions:
    """Options of a check's run: records and checkpoints inside the temporary folder
    ``scratch``, on ``device``, without a progress bar; ``settings`` sets the rest."""
    return TrainOptions(
        results_root=Path(scratch) / "results",
        checkpoint_root=Path(scratch) / "runs",
        device=str(device),
        progress=False,
        **settings,
    )


def paper_epochs(config: RunConfig, device: torch.device, graph: str) -> dict[str, Any]:
    """Train :data:`PAPER_EPOCHS` epochs of ``config`` in a scratch folder; what its checkpoint
    says they ran with, their seconds and training losses."""
    from cslnb.train.checkpoint import load_checkpoint
    from cslnb.train.trainer import checkpoint_path, train

    epoch_ends: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        options = scratch_options(
            scratch,
            device,
            stop_after_epochs=PAPER_EPOCHS,
            cuda_graph=graph,
            on_epoch=lambda done, total: epoch_ends.append(time.perf_counter()),
        )
        train(config, options)
        saved = load_checkpoint(checkpoint_path(config, options))
    last = saved["execution"][-1]
    return {
        "ok": last["cuda_graph"] == (graph == "on"),
        "dataset": config.dataset,
        "precision": last["precision"],
        "epoch_s": [round(b - a, 2) for a, b in itertools.pairwise(epoch_ends)],
        "train_loss": [h["train_loss"] for h in saved["history"]],
    }


def bench_gpu(device: torch.device) -> dict[str, Any]:
    """The bench's GPU section, shortened; also saved as a bench record."""
    from cslnb.bench.record import save_record
    from cslnb.bench.runner import measure_record, torch_threads
    from cslnb.bench.settings import FULL

    settings = replace(FULL, gpu_epochs=1, gpu_jobs=(1, 4), gpu_deterministic=True)
    with torch_threads(settings.cpu_threads):
        record = measure_record(device, settings, ["gpu"])
    path = save_record(record)
    section = record["gpu"]
    failed = [name for name, run in section["step"].items() if "error" in run]
    failed += [f"{c['jobs']} jobs" for c in section["concurrent"] if "error" in c]
    failed += ["deterministic"] if "error" in section.get("deterministic", {}) else []
    return {"ok": not failed, "failed": failed, "record": path.name, "section": section}


def resume_device_change(device: torch.device) -> dict[str, Any]:
    """Train a ``ci`` run one epoch on ``device``, resume it on another device (a second GPU,
    else the CPU); a precision change must be refused, then go through when allowed."""
    from cslnb.train.state import PrecisionChangeError
    from cslnb.train.trainer import train

    count = torch.cuda.device_count()
    target = f"cuda:{(device.index + 1) % count}" if count > 1 else "cpu"
    config = RunConfig(dataset="synthetic", loss="csl", ratio=10, profile="ci")
    with tempfile.TemporaryDirectory() as scratch:
        options = scratch_options(scratch, device, stop_after_epochs=1)
        train(config, options)
        moved = replace(options, device=target, stop_after_epochs=None)
        refused = None
        try:
            record = train(config, moved)
        except PrecisionChangeError as error:
            refused = str(error)
            record = train(config, replace(moved, allow_precision_change=True))
    if record is None:
        raise RuntimeError(f"the resumed run on {target} did not finish")
    execution = record["execution"]
    changed = execution[0]["precision"] != execution[-1]["precision"]
    return {
        "ok": (refused is not None) == changed and execution[-1]["device"] == target.split(":")[0],
        "from": str(device),
        "to": target,
        "refused_first": refused,
        "execution": execution,
        "final_accuracy": record["final"]["accuracy"],
    }


CHECKS: tuple[tuple[str, Check], ...] = (
    ("gpu_tests", gpu_tests),
    ("paper_runs", paper_runs),
    ("bench_gpu", bench_gpu),
    ("resume_device_change", resume_device_change),
)
