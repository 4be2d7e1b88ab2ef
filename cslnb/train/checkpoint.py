"""Per-epoch checkpoints: written atomically, loaded with ``weights_only=True``.

A checkpoint holds everything the next epoch depends on -- model, optimiser, gradient scaler,
loss state (DRW weights, CSL statistics), the RNG states, and the metrics so far -- so a run
resumed from it continues exactly as if it had never stopped.
"""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import torch

from cslnb.atomic import write_atomic

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no fcntl; runs are then not locked
    fcntl = None


class RunInProgressError(RuntimeError):
    """Another process is training the same run right now."""


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Save ``state`` to ``path`` through a temporary file and an atomic rename."""
    write_atomic(path, lambda handle: torch.save(state, handle))


class UnreadableCheckpointError(RuntimeError):
    """A checkpoint file that is damaged or was not written by this trainer."""


def load_checkpoint(source: Path | BinaryIO) -> dict[str, Any]:
    """Load a checkpoint (a file or its bytes) safely: tensors and plain containers only, no
    pickled code. A damaged file raises :class:`UnreadableCheckpointError`, never a retry
    without ``weights_only``."""
    try:
        return torch.load(source, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
        lines = str(error).strip().splitlines()
        reason = lines[0] if isinstance(error, RuntimeError) and lines else type(error).__name__
        where = source if isinstance(source, Path) else "data"
        raise UnreadableCheckpointError(
            f"checkpoint {where} is damaged or not a cslnb checkpoint ({reason}); "
            "delete it to train the run afresh"
        ) from error


def rng_state(device: torch.device) -> dict[str, Any]:
    """The torch RNG states to store in a checkpoint: the CPU's and, for a CUDA ``device``, that
    device's only (not every visible GPU's, which another machine may not have)."""
    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng_state(state: dict[str, Any], device: torch.device) -> None:
    """Restore what :func:`rng_state` saved; the CUDA state goes to the run's ``device``.

    A checkpoint from a CPU run leaves the CUDA generator as seeded. Checkpoints written before
    this format hold a list with one state per visible GPU: the entry of ``device``'s index is
    used when the list has one, else none (the list came from another machine's numbering).
    """
    torch.set_rng_state(state["cpu"])
    saved = state.get("cuda")
    if saved is None or device.type != "cuda":
        return
    if isinstance(saved, list | tuple):
        index = device.index or 0
        if index >= len(saved):
            return
        saved = saved[index]
    torch.cuda.set_rng_state(saved, device)


def lock_file_for(checkpoint: Path) -> Path:
    """The lock file of the run whose checkpoint is ``checkpoint``: ``<run_id>.lock`` next to the
    run's folder (outside it, so that deleting the folder never deletes a held lock)."""
    return checkpoint.parent.with_name(f"{checkpoint.parent.name}.lock")


@contextlib.contextmanager
def exclusive_run_lock(path: Path) -> Iterator[None]:
    """Hold an advisory lock on ``path`` while a run trains; fail at once if it is held.

    Two processes training the same run would overwrite each other's checkpoints. The operating
    system releases the lock when its process dies, so a killed run never blocks its resume.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RunInProgressError(
                    f"another process is training this run (lock {path}); wait for it to finish"
                ) from None
        yield
