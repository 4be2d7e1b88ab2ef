"""How a run executes its steps on this machine: ``torch.compile`` and channels_last.

Both change speed, not the experiment (the same model, data order and recipe), so they are
:class:`~cslnb.train.config.TrainOptions` settings, chosen per call and written into the run
record (:func:`segment`), not part of the run's :class:`~cslnb.train.config.RunConfig`. They
do change the floating-point arithmetic slightly (other kernels, other fusion), which is why the
record names them.

``"auto"`` decides from what ``python -m cslnb bench --only cpu`` measured for a ``paper``
ResNet-32 step (bf16 autocast, batch 128, one thread per run):

* **channels_last** pays on every CPU measured (2-core AMD EPYC with AVX-512 BF16: 298 → 316
  img/s in bf16, 163 → 205 in fp32; 2-core Intel Xeon with AMX: 868 → 1,073 img/s in bf16), so
  ``auto`` turns it on for CPU runs of at least :data:`MIN_FAST_STEPS` steps;
* **torch.compile** pays only where oneDNN has AMX tiles (Intel Xeon with AMX: 1,073 → 1,356
  img/s with channels_last), and not with AVX-512 BF16 alone (AMD EPYC: 316 → 280 img/s), while
  its warm-up costs 20-55 s per process; ``auto`` compiles long CPU runs on CPUs with AMX.

On CUDA ``auto`` keeps both off: the step is replayed as a CUDA graph there
(:mod:`cslnb.train.step`), which a compiled model would rule out. Short runs (the ``ci``
profile, the tests) stay eager, where a compile warm-up is not repaid.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

import torch

from cslnb.train.device import Precision

Setting = Literal["auto", "on", "off"]
SETTINGS: tuple[Setting, ...] = ("auto", "on", "off")
MIN_FAST_STEPS = 5000
"""``auto`` speeds up CPU runs of at least this many training steps: a ``paper`` CIFAR-10-LT
run has about 19,400 (200 epochs of 97 batches at IR 100), a ``quick`` one about 3,900, a ``ci``
one a few dozen."""


@functools.cache
def cpu_has_amx() -> bool:
    """Whether this CPU has AMX tiles, where oneDNN's bf16 kernels gain most from compilation."""
    return bool(getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)())


@dataclass(frozen=True)
class Execution:
    """Whether the model is ``torch.compile``'d and its inputs and weights are channels_last."""

    compile: bool
    channels_last: bool


def _validate(name: str, setting: str) -> None:
    if setting not in SETTINGS:
        raise ValueError(f"{name} must be one of {', '.join(SETTINGS)}, got {setting!r}")


def choose_execution(
    compile_setting: str,
    channels_last_setting: str,
    device: torch.device,
    total_steps: int,
    *,
    amx: bool | None = None,
) -> Execution:
    """Resolve the two settings (``"on"``, ``"off"`` or ``"auto"``, see the module docstring).

    ``amx`` overrides the CPU probe :func:`cpu_has_amx` (for tests).
    """
    _validate("compile", compile_setting)
    _validate("channels_last", channels_last_setting)
    long_cpu_run = device.type == "cpu" and total_steps >= MIN_FAST_STEPS
    has_amx = cpu_has_amx() if amx is None else amx
    return Execution(
        compile=_resolve(compile_setting, long_cpu_run and has_amx),
        channels_last=_resolve(channels_last_setting, long_cpu_run),
    )


def _resolve(setting: str, auto: bool) -> bool:
    return auto if setting == "auto" else setting == "on"


def segment(
    first_epoch: int,
    execution: Execution,
    device: torch.device,
    precision: Precision,
    cuda_graph: bool,
    *,
    deterministic: bool = False,
) -> dict[str, Any]:
    """What one call of the trainer executed with, from epoch ``first_epoch`` (1-based) on.

    A run resumed on another machine or with other settings gets one such entry per change,
    in the record's ``execution`` list. ``deterministic``: whether deterministic GPU kernels
    were enforced (:mod:`cslnb.train.determinism`).
    """
    return {
        "from_epoch": first_epoch,
        "device": device.type,
        "precision": precision.label,
        "threads": torch.get_num_threads(),
        "compile": execution.compile,
        "channels_last": execution.channels_last,
        "cuda_graph": cuda_graph,
        "deterministic": deterministic,
    }


START_KEYS = ("from_epoch", "forced_precision_change")
"""Entry fields about how a segment started, not how it executes."""


def same_execution(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two :func:`segment` entries differ only in how they started (:data:`START_KEYS`:
    the first epoch, and a precision change forced at that resume)."""

    def how(entry: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in entry.items() if key not in START_KEYS}

    return how(a) == how(b)
