"""The configuration of one training run, serialised as-is into its run record."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from cslnb.data import IN_MEMORY_DATASETS
from cslnb.losses.registry import LOSS_NAMES, explicit_options
from cslnb.profiles import FOLDER_DATASETS

DATASETS = IN_MEMORY_DATASETS + FOLDER_DATASETS


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides what a run computes (not where it writes or how it shows progress).

    ``loss_options`` are extra keyword arguments of :func:`cslnb.losses.build_loss`, e.g.
    ``{"reading": "released"}`` for CSL; options set to their default are dropped, so
    ``{"reading": "paper"}`` names the same run as ``{}``. ``amp="auto"`` uses bf16 autocast on
    GPUs of compute capability 8.0 or more and CPUs that compute bf16 in hardware, fp16 with a
    gradient scaler on older GPUs (T4, V100), and full precision on other CPUs; it is resolved on
    each machine, and a resume that would change it is refused
    (:class:`~cslnb.train.state.PrecisionChangeError`).
    """

    dataset: str
    loss: str
    ratio: float = 100.0
    imb_type: Literal["exp", "step"] = "exp"
    seed: int = 0
    """Seeds model initialisation, batch order and augmentation."""
    subset_seed: int = 0
    """Seeds which images the long-tailed subset keeps (0: the LDAM-DRW subset)."""
    profile: str = "quick"
    loss_options: dict[str, object] = field(default_factory=dict)
    source: str = "auto"
    amp: Literal["auto", "off", "bf16", "fp16"] = "auto"
    pretrained: bool = False
    """ImageNet-pretrained torchvision weights (Tiny-ImageNet-LT only; off by default, see book)."""

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(
                f"unknown dataset {self.dataset!r}; choose one of: {', '.join(DATASETS)}"
            )
        if self.ratio < 1:
            raise ValueError(f"imbalance ratio must be >= 1, got {self.ratio}")
        if self.imb_type not in ("exp", "step"):
            raise ValueError(f"imb_type must be 'exp' or 'step', got {self.imb_type!r}")
        if self.amp not in ("auto", "off", "bf16", "fp16"):
            raise ValueError(f"amp must be auto, off, bf16 or fp16, got {self.amp!r}")
        if self.loss in LOSS_NAMES:
            object.__setattr__(self, "loss_options", explicit_options(self.loss, self.loss_options))

    @property
    def run_id(self) -> str:
        """A readable, unique name: ``cifar10-exp100-ce-seed0`` (+ a hash of loss options)."""
        ratio = f"{self.ratio:g}"
        name = f"{self.dataset}-{self.imb_type}{ratio}-{self.loss}-seed{self.seed}"
        if self.subset_seed:
            name += f"-subset{self.subset_seed}"
        if self.loss_options:
            digest = hashlib.sha1(
                json.dumps(self.loss_options, sort_keys=True).encode()
            ).hexdigest()[:8]
            name += f"-{digest}"
        return name

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class TrainOptions:
    """How a run is carried out, as opposed to what it computes (:class:`RunConfig`)."""

    results_root: Path | None = None
    """Root of the run records (default ``cslnb.paths.results_dir()``)."""
    checkpoint_root: Path | None = None
    """Root of the per-run checkpoint folders (default ``<project>/runs``)."""
    data_root: Path | None = None
    download: bool = False
    """Let torchvision download CIFAR when no local copy is found (needs internet)."""
    device: str | None = None
    progress: bool = True
    force: bool = False
    """Train even if the run's record exists (the record is replaced)."""
    stop_after_epochs: int | None = None
    """Train at most this many epochs in this call, then return with the checkpoint kept
    (for time-limited sessions such as Colab); the next call resumes."""
    keep_checkpoint: bool = False
    """Keep the checkpoint folder after the record is written (default: delete it)."""
    cuda_graph: Literal["auto", "on", "off"] = "auto"
    """Replay the training step as a CUDA graph (:mod:`cslnb.train.step`): ``auto`` does on CUDA
    for runs long enough to repay the capture. Same kernels as the eager step, so it changes
    speed, not what a run computes: hence an option here, not a :class:`RunConfig` field."""
    compile: Literal["auto", "on", "off"] = "auto"
    """``torch.compile`` the model: ``auto`` does for long runs on CPUs with AMX tiles
    (:mod:`cslnb.train.execution`). Recorded in the run record's ``execution`` list."""
    channels_last: Literal["auto", "on", "off"] = "auto"
    """Channels-last weights and inputs: ``auto`` for long CPU runs (:mod:`cslnb.train.execution`).
    Recorded in the run record's ``execution`` list."""
    deterministic: bool = False
    """Deterministic GPU kernels (:mod:`cslnb.train.determinism`); slower. CPU runs are
    reproducible either way. Recorded in the run record's ``execution`` list."""
    allow_precision_change: bool = False
    """Resume a checkpoint trained in another precision than this call's (``amp="auto"``
    resolves per machine) instead of refusing; the run record's ``execution`` list says so."""
    deadline: float | None = None
    """Unix time by which this call should end: an epoch starts only when it is expected to
    finish by then (:mod:`cslnb.train.budget`); the run stops at an epoch boundary with its
    checkpoint kept, and the next call resumes."""
    on_epoch: Callable[[int, int], None] | None = None
    """Called with (epochs done, epochs of the run) when the run starts or resumes and after
    each checkpointed epoch."""
