"""Device choice, mixed precision and a description of the hardware for run records."""

from __future__ import annotations

import functools
import os
import platform
from dataclasses import dataclass

import torch

from cslnb.train.hardware import cpu_description, cuda_description


def pick_device(requested: str | None = None) -> torch.device:
    """``requested`` if given, else CUDA, then Apple MPS, then CPU.

    A CUDA device always comes back with its index (``cuda`` becomes ``cuda:<current>``): the
    graph capture, the RNG state stored in checkpoints and the bench's worker processes all
    name one device, and ``torch.cuda.set_device`` refuses a device without an index.
    """
    if requested:
        device = torch.device(requested)
        if device.type != "cuda":
            return device
        if not torch.cuda.is_available():
            raise RuntimeError(f"device {requested!r} requested but CUDA is not available")
        if device.index is None:
            return torch.device("cuda", torch.cuda.current_device())
        if device.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"device {requested!r} requested but only {torch.cuda.device_count()} CUDA "
                "device(s) are visible"
            )
        return device
    if torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def use_device(device: torch.device) -> None:
    """Make a CUDA ``device`` this process's current one (nothing for other devices).

    Work that names no device (``torch.cuda.graph``'s capture stream, a new ``torch.cuda.Stream``,
    cuBLAS handles) goes to the current device, which is ``cuda:0`` until this is called: a run
    on ``cuda:1`` would otherwise capture on the wrong device's stream.
    """
    if device.type == "cuda":
        torch.cuda.set_device(device)


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


MIN_BF16_CAPABILITY = (8, 0)
"""Compute capability from which a GPU has bf16 tensor cores and cuDNN bf16 convolutions
(Ampere: A100, RTX 30xx, and later). Below it (T4: 7.5, V100: 7.0) ``amp="auto"`` uses fp16."""


def cuda_capability(device: torch.device) -> tuple[int, int]:
    """(major, minor) compute capability of the CUDA ``device`` itself (not the current one)."""
    major, minor = torch.cuda.get_device_capability(device)
    return int(major), int(minor)


def gpu_has_bf16(device: torch.device) -> bool:
    """Whether the CUDA ``device`` computes bf16 natively (:data:`MIN_BF16_CAPABILITY`).

    Not ``torch.cuda.is_bf16_supported()``: by default it also answers True where bf16 is only
    emulated (T4, V100), and it asks about the current device, not the run's.
    """
    return cuda_capability(device) >= MIN_BF16_CAPABILITY


def pick_precision(device: torch.device, amp: str) -> Precision:
    """``auto``: bf16 on GPUs of compute capability 8.0 or more (:func:`gpu_has_bf16`), else
    fp16 with a grad scaler; bf16 on CPUs that compute it in hardware (:func:`cpu_supports_bf16`),
    else fp32; fp32 on MPS. An explicit ``bf16`` on an older GPU raises ``ValueError``."""
    if amp == "off":
        return Precision(None, False)
    if amp == "bf16":
        if device.type == "cuda" and not gpu_has_bf16(device):
            major, minor = cuda_capability(device)
            raise ValueError(
                f"amp='bf16' needs a GPU of compute capability 8.0 or more; {device} has "
                f"{major}.{minor} (use amp='fp16' or 'auto')"
            )
        return Precision(torch.bfloat16, False)
    if amp == "fp16":
        return Precision(torch.float16, device.type == "cuda")
    if device.type == "cpu":
        return Precision(torch.bfloat16, False) if cpu_supports_bf16() else Precision(None, False)
    if device.type != "cuda":
        return Precision(None, False)
    if gpu_has_bf16(device):
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
