"""What the GPU measurements need to know about the device besides time: memory and MPS."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

MIB = 2**20
MPS_PIPE_DEFAULT = "/tmp/nvidia-mps"
MPS_DAEMON_PREFIX = "nvidia-cuda-mps"


def memory_use(device: torch.device) -> dict[str, float]:
    """Memory of the run measured in this process, in MiB.

    ``peak_allocated_mib``: tensors at their peak; ``peak_reserved_mib``: the caching
    allocator's pool at its peak (graph pools included), what the process actually holds for
    tensors; ``device_used_mib``: everything in use on the whole GPU now (every process's CUDA
    context, cuDNN/cuBLAS workspaces and pools), which is what ``--jobs N`` runs must fit
    together.
    """
    free, total = torch.cuda.mem_get_info(device)
    return {
        "peak_allocated_mib": torch.cuda.max_memory_allocated(device) / MIB,
        "peak_reserved_mib": torch.cuda.max_memory_reserved(device) / MIB,
        "device_used_mib": (total - free) / MIB,
    }


def mps_status(proc: Path = Path("/proc")) -> dict[str, Any]:
    """Whether NVIDIA's Multi-Process Service runs: its control pipe exists
    (``$CUDA_MPS_PIPE_DIRECTORY``, default ``/tmp/nvidia-mps``) or an ``nvidia-cuda-mps-*``
    process is listed under ``proc``. Without MPS, kernels of separate processes do not run at
    the same time on the GPU: ``--jobs N`` processes take turns (time-slicing)."""
    pipe = Path(os.environ.get("CUDA_MPS_PIPE_DIRECTORY", MPS_PIPE_DEFAULT)) / "control"
    daemons = []
    for comm in proc.glob("[0-9]*/comm"):
        try:
            name = comm.read_text().strip()
        except OSError:  # the process ended meanwhile
            continue
        if name.startswith(MPS_DAEMON_PREFIX):
            daemons.append(name)
    return {"active": pipe.exists() or bool(daemons), "pipe": pipe.exists(), "daemons": daemons}
