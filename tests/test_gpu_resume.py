"""Resuming on another machine: the run device's RNG state only, and no silent precision change.

The CUDA RNG calls are mocked where a GPU would be needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from cslnb.cli import main
from cslnb.losses import build_loss
from cslnb.train import RunConfig, trainer
from cslnb.train.checkpoint import load_checkpoint, restore_rng_state, rng_state, save_checkpoint
from cslnb.train.device import Precision
from cslnb.train.state import PrecisionChangeError, TrainingState

COUNTS = [50, 20, 5]
CONFIG = RunConfig(dataset="synthetic", loss="ce", ratio=10, profile="ci")


@pytest.fixture
def cuda_rng(monkeypatch: pytest.MonkeyPatch) -> list[tuple[torch.Tensor, torch.device]]:
    """Record ``torch.cuda.set_rng_state`` calls; ``get_rng_state(device)`` answers a state
    made of the device index; ``set_rng_state_all`` must not be used."""
    restored: list[tuple[torch.Tensor, torch.device]] = []
    monkeypatch.setattr(
        torch.cuda, "set_rng_state", lambda state, device: restored.append((state, device))
    )
    monkeypatch.setattr(
        torch.cuda,
        "get_rng_state",
        lambda device: torch.full((4,), device.index, dtype=torch.uint8),
    )
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", lambda states: pytest.fail("by position"))
    return restored


CPU = torch.device("cpu")


def _state(precision: str, device: torch.device = CPU) -> TrainingState:
    torch.manual_seed(0)
    model = nn.Linear(4, len(COUNTS))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", enabled=precision == "float16")
    loss_fn = build_loss("ce", COUNTS)
    return TrainingState(
        CONFIG, model, loss_fn, optimizer, scaler, device=device, precision=precision
    )


def test_a_checkpoint_keeps_the_run_devices_cuda_state_only(cuda_rng):
    assert set(rng_state(torch.device("cpu"))) == {"cpu"}
    state = rng_state(torch.device("cuda", 1))
    assert set(state) == {"cpu", "cuda"}
    assert state["cuda"].tolist() == [1, 1, 1, 1]  # cuda:1's, not a list of every GPU's


def test_two_saved_gpu_states_restore_on_a_one_gpu_machine(tmp_path: Path, cuda_rng):
    """An older checkpoint from a 2-GPU machine: its list of 2 states, loaded where cuda:0 is
    the only GPU, restores entry 0 to cuda:0 (set_rng_state_all would raise IndexError)."""
    saved = _state("fp32").checkpoint()
    saved["rng"]["cuda"] = [
        torch.full((4,), 7, dtype=torch.uint8),
        torch.full((4,), 8, dtype=torch.uint8),
    ]
    save_checkpoint(tmp_path / "last.pt", saved)
    loaded = load_checkpoint(tmp_path / "last.pt")  # weights_only=True

    _state("fp32", torch.device("cuda", 0)).restore(loaded, tmp_path / "last.pt")

    ((state, device),) = cuda_rng
    assert state.tolist() == [7, 7, 7, 7] and device == torch.device("cuda", 0)


def test_a_saved_state_goes_to_the_runs_device_and_a_short_list_is_skipped(cuda_rng):
    cpu_state = torch.get_rng_state()
    restore_rng_state(
        {"cpu": cpu_state, "cuda": torch.full((4,), 3, dtype=torch.uint8)}, torch.device("cuda", 1)
    )
    restore_rng_state(
        {"cpu": cpu_state, "cuda": [torch.zeros(4, dtype=torch.uint8)]}, torch.device("cuda", 1)
    )
    restore_rng_state({"cpu": cpu_state}, torch.device("cuda", 0))  # a CPU run's checkpoint
    assert [(s.tolist(), d) for s, d in cuda_rng] == [([3, 3, 3, 3], torch.device("cuda", 1))]


def test_a_precision_change_is_refused_unless_allowed_and_then_recorded(tmp_path: Path):
    """A bf16 checkpoint (A100) resumed where ``auto`` gives fp16 (T4): refused by default;
    allowed, the fp16 scaler starts fresh (the bf16 run had none) and the next execution entry
    names the change."""
    source = tmp_path / "last.pt"
    save_checkpoint(source, _state("bfloat16").checkpoint())
    saved = load_checkpoint(source)
    assert saved["precision"] == "bfloat16"

    with pytest.raises(
        PrecisionChangeError, match=r"trained in bfloat16, but this call trains in float16"
    ):
        _state("float16").restore(saved, source)

    resumed = _state("float16")
    resumed.restore(saved, source, allow_precision_change=True)
    assert resumed.scaler.get_scale() == 65536.0  # a fresh scaler's initial scale
    resumed.note_execution({"from_epoch": 1, "precision": "float16"})
    resumed.note_execution({"from_epoch": 2, "precision": "float16"})
    assert resumed.execution == [
        {"from_epoch": 1, "precision": "float16", "forced_precision_change": "bfloat16 -> float16"}
    ]


def test_an_older_checkpoint_names_its_precision_in_its_execution_list(tmp_path: Path):
    saved = _state("bfloat16").checkpoint()
    del saved["precision"]
    saved["execution"] = [{"from_epoch": 1, "precision": "bfloat16"}]
    with pytest.raises(PrecisionChangeError):
        _state("fp32").restore(saved, tmp_path / "last.pt")


def test_the_train_command_refuses_then_records_a_forced_precision_change(
    tmp_path: Path, monkeypatch, capsys
):
    """Epoch 1 in fp32; the resume picks bf16 (as on a machine where ``auto`` differs)."""
    args = ["train", "--dataset", "synthetic", "--ratio", "10", "--loss", "ce", "--profile", "ci"]
    args += ["--out", str(tmp_path), "--runs", str(tmp_path), "--device", "cpu", "--no-progress"]
    args += ["--amp", "off"]
    assert main([*args, "--stop-after", "1"]) == 0
    monkeypatch.setattr(
        trainer, "pick_precision", lambda device, amp: Precision(torch.bfloat16, False)
    )
    capsys.readouterr()

    assert main(args) == 2
    error = capsys.readouterr().err
    assert "trained in fp32, but this call trains in bfloat16" in error
    assert "--allow-precision-change" in error

    assert main([*args, "--allow-precision-change"]) == 0
    record = trainer.read_record(tmp_path / "ci" / "synthetic" / "synthetic-exp10-ce-seed0.json")
    assert [(e["from_epoch"], e["precision"]) for e in record["execution"]] == [
        (1, "fp32"),
        (2, "bfloat16"),
    ]
    assert record["execution"][1]["forced_precision_change"] == "fp32 -> bfloat16"
    assert "forced_precision_change" not in record["execution"][0]
