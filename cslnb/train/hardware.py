"""What decides a run's floating-point arithmetic on this machine, read for its run record.

Two runs of the same configuration and seed give the same numbers only when they execute the
same kernels in the same order. On a CPU that depends on the processor (its model, and which
path oneDNN takes for bf16: AMX tiles, AVX-512 BF16 or an emulation in fp32 arithmetic), the
vectorisation level PyTorch dispatches to, the thread count and the oneDNN/MKL builds; on CUDA
on the GPU model, its compute capability, the cuDNN build and cuDNN's determinism and TF32
settings. :func:`cpu_description` and :func:`cuda_description` read these; each probe that a
platform or PyTorch build lacks gives ``None`` instead of failing, so a record can always be
written. The thread count, precision and ``torch.compile``/channels-last settings are in the
record's ``execution`` list (:mod:`cslnb.train.execution`), not here.
"""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from pathlib import Path

import torch

PROC_CPUINFO = Path("/proc/cpuinfo")
BF16_PATHS = ("amx", "avx512_bf16", "emulated")
"""How oneDNN computes bf16 here: AMX tile instructions, AVX-512 BF16 dot products, or neither
(bf16 values converted to fp32 and back around fp32 arithmetic)."""


def read_cpuinfo(path: Path = PROC_CPUINFO) -> dict[str, str]:
    """The ``key : value`` fields of the first processor in a Linux ``/proc/cpuinfo`` ({} if
    there is no such file)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break  # the end of the first processor's block
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def sysctl(name: str) -> str | None:
    """``sysctl -n name`` (macOS, BSD), or ``None`` where there is no such value or command."""
    try:
        done = subprocess.run(
            ["sysctl", "-n", name], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip()
    return value if done.returncode == 0 and value else None


def cpu_identity(cpuinfo: Path = PROC_CPUINFO) -> dict[str, str | None]:
    """The CPU's model and vendor names.

    Linux: ``model name`` and ``vendor_id`` of ``/proc/cpuinfo`` (on ARM, where these are
    absent, ``Model``/``Hardware`` and the ``CPU implementer`` code). macOS: ``sysctl``'s
    ``machdep.cpu.brand_string`` and ``machdep.cpu.vendor`` (Apple silicon has no vendor entry:
    "Apple"). Elsewhere ``platform.processor()`` for the model and no vendor.
    """
    fields = read_cpuinfo(cpuinfo)
    model = fields.get("model name") or fields.get("Model") or fields.get("Hardware")
    vendor = fields.get("vendor_id") or fields.get("CPU implementer")
    if model is None and sys.platform == "darwin":
        model = sysctl("machdep.cpu.brand_string")
        apple = "Apple" if platform.machine() == "arm64" else None
        vendor = sysctl("machdep.cpu.vendor") or apple
    return {"cpu_model": model or platform.processor() or None, "cpu_vendor": vendor}


def _probe(name: str) -> bool:
    """``torch.cpu.<name>()``, False where this PyTorch build lacks the check."""
    return bool(getattr(torch.cpu, name, lambda: False)())


def bf16_path() -> str:
    """Which of :data:`BF16_PATHS` this CPU gives oneDNN, from PyTorch's CPU feature checks."""
    if _probe("_is_amx_tile_supported"):
        return "amx"
    if _probe("_is_avx512_bf16_supported"):
        return "avx512_bf16"
    return "emulated"


def cpu_capability() -> str | None:
    """The vector instruction set PyTorch's own CPU kernels dispatch to (``AVX512``, ``AVX2``,
    ``DEFAULT``, ...), or ``None`` in builds without the query."""
    query = getattr(torch.backends.cpu, "get_cpu_capability", None)
    return str(query()) if query is not None else None


def math_library_versions(build_config: str | None = None) -> dict[str, str | None]:
    """oneDNN and MKL versions compiled into PyTorch, read from ``torch.__config__.show()``
    (``None`` for a library the build does not include)."""
    text = torch.__config__.show() if build_config is None else build_config
    onednn = re.search(r"MKL-DNN v(\d[\w.]*)", text)
    mkl = re.search(r"Math Kernel Library Version (\d[\w.]*)", text)
    return {
        "onednn": onednn.group(1) if onednn else None,
        "mkl": mkl.group(1) if mkl else None,
    }


def cpu_description() -> dict[str, object]:
    """CPU model and vendor, bf16 path, kernel dispatch level, math library versions, and whether
    PyTorch was told to use deterministic algorithms only."""
    return {
        **cpu_identity(),
        "bf16_path": bf16_path(),
        "cpu_capability": cpu_capability(),
        "math_libraries": math_library_versions(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
    }


def _fp32_precision(backend: object) -> str | None:
    """The TF32 setting of a CUDA backend (``"tf32"`` or ``"ieee"``/``"none"``), if exposed."""
    value = getattr(backend, "fp32_precision", None)
    return str(value) if value is not None else None


def cuda_description(device: torch.device) -> dict[str, object]:
    """GPU name and count, compute capability, CUDA and cuDNN versions, cuDNN's determinism,
    autotuning and TF32 settings."""
    major, minor = torch.cuda.get_device_capability(device)
    cudnn = torch.backends.cudnn
    return {
        "gpu": torch.cuda.get_device_name(device),
        "gpu_count": torch.cuda.device_count(),
        "compute_capability": f"{major}.{minor}",
        "cuda_version": torch.version.cuda,
        "cudnn_version": cudnn.version() if cudnn.is_available() else None,
        "cudnn_deterministic": bool(cudnn.deterministic),
        "cudnn_benchmark": bool(cudnn.benchmark),
        "fp32_precision": {
            "matmul": _fp32_precision(getattr(torch.backends.cuda, "matmul", None)),
            "cudnn_conv": _fp32_precision(getattr(cudnn, "conv", None)),
        },
    }
