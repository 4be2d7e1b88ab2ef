"""A wall-clock time budget checked at epoch boundaries.

A run given a deadline (a Unix time) starts epoch ``e`` only when the epoch is expected to end by
the deadline: ``now + estimate <= deadline``, where ``estimate`` is the duration of the last epoch
this process trained (evaluation and checkpoint included), or, before the first one, the mean
epoch time stored in the run's checkpoint. A fresh run has none of its own: the trainer passes the
first-epoch time a bench record of the same GPU predicts (:mod:`cslnb.train.epoch_estimate`), and
without one the run starts its first epoch whenever the deadline has not passed. Because every
finished epoch is checkpointed, stopping at a boundary loses no work: the same command later
resumes the run.

Under ``torchrun`` every rank must stop at the same epoch, so the ranks agree (one all-reduce per
epoch, only when a deadline is set): an epoch starts only when every rank allows it.
"""

from __future__ import annotations

import time

import torch

from cslnb.train import distributed


def clock() -> float:
    """Seconds since the epoch; the one clock behind deadlines (tests replace it)."""
    return time.time()


class EpochBudget:
    """Decides, before each epoch, whether it fits in the time left before ``deadline``."""

    def __init__(
        self,
        deadline: float | None,
        estimate: float | None = None,
        dist_info: distributed.DistInfo | None = None,
        device: torch.device | None = None,
    ) -> None:
        self.deadline = deadline
        self.estimate = estimate
        """Expected seconds per epoch, ``None`` until one is known."""
        self._dist_info = dist_info or distributed.DistInfo()
        self._device = device or torch.device("cpu")
        self._started: float | None = None

    def allows_epoch(self) -> bool:
        """Whether to start the next epoch; marks its start for :meth:`epoch_done`."""
        if self.deadline is None:
            return True
        self._started = clock()
        fits = self._started + (self.estimate or 0.0) <= self.deadline
        if self._dist_info.enabled:
            agreed = distributed.mean_across_ranks(float(fits), self._dist_info, self._device)
            fits = agreed == 1.0
        return fits

    def epoch_done(self) -> None:
        """Take the epoch that just ended as the estimate for the next one."""
        if self._started is not None:
            self.estimate = clock() - self._started
