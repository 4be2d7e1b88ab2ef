"""Device choice, mixed precision and a description of the hardware for run records."""

from __future__ import annotations

import functools
import os
import platform
from dataclasses import dataclass

import torch

from cslnb.train.hardware import cpu_description, cuda_description


def pick_device(requested: str | None = None) -> torch.device:
    """``requested`` if given, else CUDA, then Apple MPS, then CPU."""
    if requested:
        device = torch.device(requested)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {requested!r} requested but CUDA is not available")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass(frozen=True)
class Precision:
    """Autocast dtype (None: full precision) and whether a gradient scaler is needed."""

    dtype: torch.dtype | None
    use_scaler: bool

    @property
    def label(self) -> str:
        return "fp32" if self.dtype is None else str(self.dtype).removeprefix("torch.")


@functools.cache
def cpu_supports_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX-512 BF16 or AMX tiles), probed once.

    Without either, oneDNN emulates bf16 and autocast is slower than fp32, so ``amp="auto"``
    stays in fp32 there. The probe uses PyTorch's own CPU feature checks; a build that lacks
    them counts as unsupported.
    """
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, check, lambda: False)()) for check in checks)


def pick_precision(device: torch.device, amp: str) -> Precision:
    """``auto``: bf16 on GPUs that support it, else fp16 with a grad scaler; bf16 on CPUs that
    compute it in hardware (:func:`cpu_supports_bf16`), else fp32; fp32 on MPS."""
    if amp == "off":
        return Precision(None, False)
    if amp == "bf16":
        return Precision(torch.bfloat16, False)
    if amp == "fp16":
        return Precision(torch.float16, device.type == "cuda")
    if device.type == "cpu":
        return Precision(torch.bfloat16, False) if cpu_supports_bf16() else Precision(None, False)
    if device.type != "cuda":
        return Precision(None, False)
    if torch.cuda.is_bf16_supported():
        return Precision(torch.bfloat16, False)
    return Precision(torch.float16, True)


def describe_hardware(device: torch.device) -> dict[str, object]:
    """What the run ran on, for the record: the machine, the CPU and the arithmetic it gives
    (:func:`~cslnb.train.hardware.cpu_description`) and on CUDA the GPU and cuDNN
    (:func:`~cslnb.train.hardware.cuda_description`). Records written before these fields
    existed lack them."""
    info: dict[str, object] = {
        "device": str(device),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        **cpu_description(),
    }
    if device.type == "cuda":
        info.update(cuda_description(device))
    return info
