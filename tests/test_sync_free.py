"""The training step never synchronises with the host: the count of device-to-host reads made
while an epoch trains does not grow with the number of steps.

Counted: the Python-level reads (``Tensor.item``, ``bool()``, ``float()``, ``int()``,
``operator.index`` and ``tolist``) and, through a dispatch mode, the operators that read a
device value back or size their output from the data (``_local_scalar_dense``, which every
Python-level read ends in, ``nonzero``, ``bincount``, ``unique``, ``masked_select``, ...). The
dispatch mode also catches reads made inside composite operators (``F.one_hot`` checks its
labels' range that way on CPU). Each loss trains a ``ci`` run twice, at batch 64 and at batch
16 (four times the steps); every epoch must read the same, small number of values.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from cslnb.profiles import get_profile
from cslnb.train import trainer
from cslnb.train.config import RunConfig, TrainOptions

PYTHON_READS = ("item", "tolist", "__bool__", "__float__", "__int__", "__index__")
SYNCING_OPS = (
    "_local_scalar_dense",
    "nonzero",
    "bincount",
    "unique",
    "masked_select",
    "is_nonzero",
    "repeat_interleave",
    "histc",
)


class _SyncingOps(TorchDispatchMode):
    """Counts every call of an operator in :data:`SYNCING_OPS`."""

    def __init__(self, counts: collections.Counter) -> None:
        super().__init__()
        self.counts = counts

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func._schema.name.split("::")[-1]
        if any(name.startswith(op) for op in SYNCING_OPS):
            self.counts[f"aten.{name}"] += 1
        return func(*args, **(kwargs or {}))


@contextmanager
def count_syncs(monkeypatch: pytest.MonkeyPatch) -> Iterator[collections.Counter]:
    """Count host reads (by kind) made inside the block."""
    counts: collections.Counter = collections.Counter()
    with monkeypatch.context() as patch:
        for name in PYTHON_READS:
            original = getattr(torch.Tensor, name)

            def counted(self, *args, _name=name, _original=original, **kwargs):
                counts[f"Tensor.{_name}"] += 1
                return _original(self, *args, **kwargs)

            patch.setattr(torch.Tensor, name, counted)
        with _SyncingOps(counts):
            yield counts


def syncs_per_epoch(
    tmp_path, monkeypatch: pytest.MonkeyPatch, config: RunConfig, batch_size: int
) -> tuple[list[collections.Counter], int]:
    """Train ``config`` at ``batch_size``; the host reads of each ``_train_epoch`` call and the
    number of training steps per epoch."""
    profile = dataclasses.replace(get_profile("ci"), batch_size=batch_size)
    monkeypatch.setattr(trainer, "get_profile", lambda name=None: profile)
    per_epoch: list[collections.Counter] = []
    real_epoch = trainer._train_epoch

    @functools.wraps(real_epoch)
    def counted_epoch(*args, **kwargs):
        with count_syncs(monkeypatch) as counts:
            result = real_epoch(*args, **kwargs)
        per_epoch.append(counts)
        return result

    monkeypatch.setattr(trainer, "_train_epoch", counted_epoch)
    options = TrainOptions(
        results_root=tmp_path / "results",
        checkpoint_root=tmp_path / "runs",
        device="cpu",
        progress=False,
    )
    record = trainer.train(config, options)
    monkeypatch.undo()
    steps = -(-record["dataset"]["num_train"] // batch_size)
    return per_epoch, steps


LOSSES = [
    ("ce", {}),
    ("ldam-drw", {}),
    ("ib", {}),
    ("equalization", {}),
    ("csl", {}),
    ("csl", {"reading": "released"}),
]
ONE_PACKED_READ = {"Tensor.tolist": 1}
"""An epoch's only read: the packed totals (loss sum, correct, first non-finite step and loss)."""


def ci_config(loss: str, loss_options: dict) -> RunConfig:
    return RunConfig(
        dataset="synthetic", loss=loss, ratio=10, profile="ci", loss_options=loss_options
    )


@pytest.mark.slow
@pytest.mark.parametrize(("loss", "loss_options"), LOSSES, ids=lambda v: str(v))
def test_every_epoch_reads_once_whatever_its_steps(tmp_path, monkeypatch, loss, loss_options):
    """One read per epoch with several steps per epoch: a per-step read would count once per
    step. The four epochs span the schedule switches (IB from epoch 3, DRW in epoch 4)."""
    per_epoch, steps = syncs_per_epoch(tmp_path, monkeypatch, ci_config(loss, loss_options), 32)
    assert steps >= 4 and len(per_epoch) == 4
    assert all(epoch == ONE_PACKED_READ for epoch in per_epoch), per_epoch


@pytest.mark.slow
def test_reads_per_epoch_are_the_same_with_twice_the_steps(tmp_path, monkeypatch):
    config = ci_config("csl", {})
    large, large_steps = syncs_per_epoch(tmp_path / "b64", monkeypatch, config, 64)
    small, small_steps = syncs_per_epoch(tmp_path / "b32", monkeypatch, config, 32)
    assert small_steps >= 2 * large_steps - 1
    assert small == large == [ONE_PACKED_READ] * 4


def test_counter_sees_reads_in_a_step(monkeypatch):
    """The counter is not blind: a per-step ``bincount`` or ``bool`` would be caught."""
    labels = torch.tensor([0, 2, 2])
    with count_syncs(monkeypatch) as counts:
        torch.bincount(labels, minlength=3)
        bool(labels.any())
        torch.nn.functional.one_hot(labels, 3)
    assert counts["aten.bincount"] == 1
    assert counts["Tensor.__bool__"] == 1
    assert counts["aten._local_scalar_dense"] >= 2
