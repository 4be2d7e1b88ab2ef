"""One training step without host synchronisation, run eagerly or replayed as a CUDA graph.

A step is: forward through the model (under autocast), the loss, backward, the optimiser step,
and the epoch's running tallies. Nothing in it reads a device value back to the host: the loss
sum, the number of correct predictions and the first non-finite loss (its step index and value)
are kept in device tensors updated in place (:class:`EpochTally`) and read once per epoch, so
the host can queue steps ahead of the device.

**CUDA graphs** (``use_graph=True``, CUDA only). A graph records the kernels of one whole step
(forward + loss + backward + SGD step + tallies) and replays them with a single launch, which
removes the per-kernel launch and Python cost that dominates a small model such as ResNet-32 at
batch 128. A graph replays exactly the kernels recorded, with the addresses recorded, so:

* every batch is copied into static input tensors before a replay;
* one graph is kept per batch shape (the full batch and the epoch's last, smaller one) for the
  current *phase*: the learning rates (SGD bakes them in as scalars) and the loss's
  ``step_signature()`` (Python-side state such as IB's switch at its start epoch). The first
  batch of a shape in a phase runs eagerly (on a side stream, which also warms up cuDNN/cuBLAS
  and creates the momentum buffers), the second is captured, later ones replay the graph. A new
  phase (about eight per run in the paper's recipe) drops the graphs and starts again;
* the capture runs with the run's device current (a run on ``cuda:1`` must not record on
  ``cuda:0``'s stream) and in ``thread_local`` error mode (:data:`CAPTURE_ERROR_MODE`), so a
  data loader's pin-memory thread may keep working meanwhile;
* loss state that changes per batch (CSL's statistics, DRW's weights) lives in buffers updated in
  place, which a graph keeps updating; random numbers (Equalization loss) come from the CUDA
  generator, whose offset advances on every replay.

A graph replays the same kernels as the eager step, so it changes speed, not arithmetic; this is
why the choice is a :class:`~cslnb.train.config.TrainOptions` setting rather than part of
the run's configuration. Not captured: the fp16 gradient scaler (it reads an inf check back to
the host every step), ``torchrun`` runs (DDP's gradient hooks) and a ``torch.compile``'d model
(``TrainOptions.compile``, which has its own graph machinery). This module's graph path only
runs on a GPU: it is exercised by ``tests/test_gpu_path.py`` (skipped without CUDA) and by
``python -m cslnb bench`` (section ``gpu``), which times the same step eagerly and as a graph,
both run by ``python -m cslnb gpu-check``; the CPU tests cover the eager step, the choice and the
capture's device and error mode (with the CUDA calls mocked).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from cslnb.losses import LongTailLoss
from cslnb.train.device import Precision

GraphSetting = Literal["auto", "on", "off"]
GRAPH_SETTINGS: tuple[GraphSetting, ...] = ("auto", "on", "off")
MIN_GRAPH_STEPS = 1000
"""``auto`` captures the step when a run has at least this many training steps. Capturing costs
one eager warm-up step plus the recording (milliseconds for ResNet-32; no compilation) each time
the learning rate or loss phase changes (about eight times in the paper's recipe), and saves
the launch overhead of a few hundred kernels on every step: far more than it costs over a
200-epoch run (about 19,000 steps on CIFAR-10-LT), not worth a new code path for a 2-epoch
smoke run (about 200 steps), which then checks the plain eager step."""


def use_step_graph(
    setting: str,
    device: torch.device,
    precision: Precision,
    *,
    distributed: bool,
    total_steps: int,
    compiled: bool = False,
) -> bool:
    """Whether to capture the training step as a CUDA graph.

    ``"off"``: never. ``"on"``: always; raises ``ValueError`` where a graph cannot be captured
    (not CUDA, the fp16 gradient scaler, ``torchrun``, a ``torch.compile``'d model). ``"auto"``:
    on CUDA, without any of those, for runs of at least :data:`MIN_GRAPH_STEPS` steps.
    """
    if setting not in GRAPH_SETTINGS:
        raise ValueError(f"cuda_graph must be one of {', '.join(GRAPH_SETTINGS)}, got {setting!r}")
    if setting == "off":
        return False
    obstacle = None
    if device.type != "cuda":
        obstacle = f"CUDA graphs need a CUDA device, not {device.type}"
    elif precision.use_scaler:
        obstacle = "the fp16 gradient scaler reads a value back every step (use --amp bf16/off)"
    elif distributed:
        obstacle = "torchrun (DDP) steps are not captured"
    elif compiled:
        obstacle = "a torch.compile'd model (--compile) is not captured"
    if setting == "on":
        if obstacle is not None:
            raise ValueError(f"cuda_graph='on' is not possible here: {obstacle}")
        return True
    return obstacle is None and total_steps >= MIN_GRAPH_STEPS


CAPTURE_ERROR_MODE = "thread_local"
"""What a capture forbids: only this thread's unsafe CUDA calls (not ``"global"``, every
thread's). The folder datasets' ``DataLoader`` pins memory in a thread of its own, which keeps
allocating pinned buffers while a step is captured mid-epoch; under ``"global"`` any such call
invalidates the capture. The step itself makes no such call, and the loader's buffers are not
part of the graph (each batch is copied into the graph's static inputs), so ``"thread_local"``
loses no check that concerns the step."""


@dataclass(frozen=True)
class EpochTotals:
    """What :class:`EpochTally` holds at the end of an epoch, on the host."""

    loss_sum: float
    """Σ over steps of loss × batch size."""
    correct: int
    samples: int
    first_nonfinite_step: int | None
    """0-indexed step whose loss was first NaN or infinite; None if none was."""
    first_nonfinite_loss: float | None

    @property
    def mean_loss(self) -> float:
        return self.loss_sum / max(self.samples, 1)

    @property
    def accuracy(self) -> float:
        """Training accuracy in percent."""
        return 100.0 * self.correct / max(self.samples, 1)


class EpochTally:
    """Device-side running sums of one epoch, updated in place (a graph keeps updating them)."""

    def __init__(self, device: torch.device) -> None:
        self.loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.steps = torch.zeros((), dtype=torch.int64, device=device)
        self.bad_step = torch.full((), -1, dtype=torch.int64, device=device)
        self.bad_loss = torch.zeros((), dtype=torch.float64, device=device)

    @torch.no_grad()
    def reset(self) -> None:
        for tensor in (self.loss_sum, self.correct, self.steps, self.bad_loss):
            tensor.zero_()
        self.bad_step.fill_(-1)

    @torch.no_grad()
    def add(self, loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
        """Add one step: its loss × batch size, its correct predictions and, for the first
        non-finite loss of the epoch, the step index and the value."""
        loss = loss.detach().double()
        first_bad = ~torch.isfinite(loss) & (self.bad_step < 0)
        self.bad_step.copy_(torch.where(first_bad, self.steps, self.bad_step))
        self.bad_loss.copy_(torch.where(first_bad, loss, self.bad_loss))
        self.steps.add_(1)
        self.loss_sum.add_(loss * labels.numel())
        self.correct.add_((logits.detach().argmax(dim=1) == labels).sum())

    def read(self, samples: int) -> EpochTotals:
        """The totals, read back in one transfer (the epoch's only synchronisation here)."""
        packed = torch.stack(
            [self.loss_sum, self.correct.double(), self.bad_step.double(), self.bad_loss]
        )
        loss_sum, correct, bad_step, bad_loss = packed.tolist()
        failed = bad_step >= 0
        return EpochTotals(
            loss_sum=loss_sum,
            correct=int(correct),
            samples=samples,
            first_nonfinite_step=int(bad_step) if failed else None,
            first_nonfinite_loss=bad_loss if failed else None,
        )


def autocast(
    device: torch.device, precision: Precision, *, cache: bool = True
) -> contextlib.AbstractContextManager:
    """Autocast to ``precision`` (nothing for full precision). ``cache=False`` for graph
    capture: cached casts of the weights would otherwise outlive the recording."""
    if precision.dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=precision.dtype, cache_enabled=cache)


@dataclass
class _CapturedStep:
    graph: torch.cuda.CUDAGraph
    images: torch.Tensor
    labels: torch.Tensor


class TrainStep:
    """Call with each training batch; :meth:`start_epoch` / :meth:`finish_epoch` around them.

    ``model`` is what batches go through (possibly DDP- or ``torch.compile``-wrapped); it must
    accept ``return_features=True``. ``use_graph`` replays the step as a CUDA graph (see the
    module docstring); decide it with :func:`use_step_graph`.
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn: LongTailLoss,
        optimizer: torch.optim.Optimizer,
        scaler: torch.amp.GradScaler,
        device: torch.device,
        precision: Precision,
        *,
        channels_last: bool = False,
        use_graph: bool = False,
    ) -> None:
        self.model, self.loss_fn, self.optimizer, self.scaler = model, loss_fn, optimizer, scaler
        self.device, self.precision = device, precision
        self.channels_last = channels_last
        self.use_graph = use_graph
        self.tally = EpochTally(device)
        self.samples = 0
        self._phase: tuple[object, ...] | None = None
        self._graphs: dict[tuple[object, ...], _CapturedStep] = {}
        self._warm_shapes: set[tuple[object, ...]] = set()
        self._side_stream: torch.cuda.Stream | None = None

    def start_epoch(self) -> None:
        self.tally.reset()
        self.samples = 0

    def finish_epoch(self) -> EpochTotals:
        return self.tally.read(self.samples)

    @property
    def captured_batch_sizes(self) -> frozenset[int]:
        """Batch sizes that replay a graph in the current phase (empty without graphs)."""
        return frozenset(shapes[1][0] for shapes in self._graphs)

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        self.samples += labels.numel()
        if not self.use_graph:
            self._run(images, labels)
            return
        phase = self._phase_key()
        if phase != self._phase:
            self._phase = phase
            self._graphs.clear()  # releases their memory pools
            self._warm_shapes.clear()
        shapes = (tuple(images.shape), tuple(labels.shape))
        if shapes in self._graphs:
            self._replay(self._graphs[shapes], images, labels)
        elif shapes in self._warm_shapes:
            self._graphs[shapes] = self._capture(images, labels)
        else:
            self._run_on_side_stream(images, labels)
            self._warm_shapes.add(shapes)

    def _run(self, images: torch.Tensor, labels: torch.Tensor, *, cache: bool = True) -> None:
        """The step itself, eagerly (or being recorded into a graph)."""
        loss_fn = self.loss_fn
        with autocast(self.device, self.precision, cache=cache):
            logits, features = self.model(images, return_features=True)
            loss = loss_fn(logits, labels, features if loss_fn.needs_features else None)
        self.tally.add(loss, logits, labels)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()

    def _phase_key(self) -> tuple[object, ...]:
        """What recorded kernels depend on besides the batch shape (see the module docstring)."""
        lrs = tuple(group["lr"] for group in self.optimizer.param_groups)
        return (lrs, self.loss_fn.step_signature())

    def _run_on_side_stream(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if self._side_stream is None:
            self._side_stream = torch.cuda.Stream(self.device)
        stream = self._side_stream
        main = torch.cuda.current_stream(self.device)
        stream.wait_stream(main)
        with torch.cuda.stream(stream):
            self._run(images, labels)
        main.wait_stream(stream)

    def _capture(self, images: torch.Tensor, labels: torch.Tensor) -> _CapturedStep:
        """Record the step on copies of this batch, then replay it once for this batch."""
        static_images, static_labels = images.clone(), labels.clone()
        self.optimizer.zero_grad(set_to_none=True)
        graph = torch.cuda.CUDAGraph()
        with (
            torch.cuda.device(self.device),
            torch.cuda.graph(graph, capture_error_mode=CAPTURE_ERROR_MODE),
        ):
            self._run(static_images, static_labels, cache=False)
        graph.replay()
        return _CapturedStep(graph, static_images, static_labels)

    @staticmethod
    def _replay(captured: _CapturedStep, images: torch.Tensor, labels: torch.Tensor) -> None:
        captured.images.copy_(images)
        captured.labels.copy_(labels)
        captured.graph.replay()
