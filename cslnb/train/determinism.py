"""Deterministic GPU kernels on request (``--deterministic``).

On a CPU a run is bit-reproducible as it is: the same seed, thread count and ``torch`` build
give the same numbers, and a resumed run equals an uninterrupted one. On a GPU it is not, by
default: cuDNN picks convolution algorithms by timing them and some of them accumulate in a
varying order, and CSL's statistics are sums by class (``index_add_`` in float64) done with
atomic additions whose order varies from run to run. Both change the last bits of a step, and
200 epochs of training can let such differences grow into different final accuracies, and a
resumed run no longer equals an uninterrupted one bit for bit.

:func:`deterministic_mode` asks ``torch`` for deterministic algorithms everywhere (an op that
has none raises instead of running), cuDNN's deterministic convolutions without autotuning,
and a fixed cuBLAS workspace (``CUBLAS_WORKSPACE_CONFIG``, which cuBLAS reads when the process
first uses it: set it in the environment before starting Python for it to be sure to apply).
The cost is measured by ``python -m cslnb bench --only gpu --deterministic``. Even so, the
numbers are reproducible only on the same GPU model, driver and ``torch`` build.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

CUBLAS_WORKSPACE = ":4096:8"
"""``CUBLAS_WORKSPACE_CONFIG`` value that makes cuBLAS deterministic (CUDA 10.2 and later)."""


@contextlib.contextmanager
def deterministic_mode(enabled: bool) -> Iterator[None]:
    """Within the block, deterministic algorithms if ``enabled`` (nothing changes otherwise);
    the previous settings come back afterwards."""
    if not enabled:
        yield
        return
    before = (
        torch.are_deterministic_algorithms_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[1:]
