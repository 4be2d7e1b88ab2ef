"""Checkpoints stay small, and unfinished runs travel between machines as one archive."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
import torch

from cslnb.cli import main
from cslnb.records import read_record
from cslnb.reproduce import target_runs
from cslnb.train.archive import MANIFEST, ArchiveError, import_checkpoints
from cslnb.train.config import RunConfig, TrainOptions
from cslnb.train.trainer import train

RUN_ID = "cifar10-exp50-ce-seed0"
SELECTION = ["reproduce", "table1", "--profile", "ci", "--losses", "ce"]


def roots(folder: Path) -> list[str]:
    return ["--out", str(folder / "results"), "--runs", str(folder / "runs")]


@pytest.fixture(scope="module")
def unfinished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results/runs root holding run ``RUN_ID`` of ``table1`` stopped after 2 of 4 epochs."""
    folder = tmp_path_factory.mktemp("machine_a")
    config = RunConfig(dataset="cifar10", loss="ce", ratio=50, profile="ci")
    options = TrainOptions(
        results_root=folder / "results",
        checkpoint_root=folder / "runs",
        device="cpu",
        progress=False,
        stop_after_epochs=2,
    )
    assert train(config, options) is None
    return folder


def test_a_checkpoint_holds_each_part_once(unfinished):
    """Model weights, momentum buffers, loss state and RNG: about twice the model's size."""
    path = unfinished / "runs" / "ci" / RUN_ID / "last.pt"
    saved = torch.load(path, weights_only=True)
    assert set(saved) == {
        *("config", "epoch", "elapsed", "model", "optimizer", "scaler", "loss", "rng"),
        *("history", "traces", "execution", "precision"),
    }
    model_bytes = sum(t.numel() * t.element_size() for t in saved["model"].values())
    momentum_bytes = sum(
        t.numel() * t.element_size()
        for state in saved["optimizer"]["state"].values()
        for t in state.values()
        if isinstance(t, torch.Tensor)
    )
    assert momentum_bytes < model_bytes  # one buffer per parameter (BN statistics have none)
    overhead = path.stat().st_size - model_bytes - momentum_bytes
    assert 0 < overhead < 48 * 1024, overhead  # RNG state, 2 epochs of metrics, zip headers


@pytest.mark.slow
def test_export_import_round_trip_resumes_to_the_uninterrupted_record(
    unfinished, tmp_path, capsys, without_timings
):
    archive = tmp_path / "unfinished.tar.gz"
    assert main([*SELECTION, *roots(unfinished), "--export-checkpoints", str(archive)]) == 0
    assert capsys.readouterr().out == f"{RUN_ID}: exported at epoch 2/4\n"
    checkpoint = (unfinished / "runs" / "ci" / RUN_ID / "last.pt").read_bytes()
    with tarfile.open(archive, "r:gz") as tar:
        assert tar.getnames() == [MANIFEST, f"ci/{RUN_ID}/last.pt"]
        manifest = json.load(tar.extractfile(MANIFEST))
        assert tar.extractfile(f"ci/{RUN_ID}/last.pt").read() == checkpoint
    assert manifest == {
        "format": "cslnb-checkpoints",
        "version": 1,
        "runs": [
            {
                "run_id": RUN_ID,
                "profile": "ci",
                "epochs_done": 2,
                "epochs_total": 4,
                "bytes": len(checkpoint),
                "sha256": hashlib.sha256(checkpoint).hexdigest(),
            }
        ],
    }

    machine_b = tmp_path / "machine_b"
    imported = [*SELECTION, *roots(machine_b), "--import-checkpoints", str(archive)]
    assert main(imported) == 0
    assert capsys.readouterr().out == f"{RUN_ID}: restored at epoch 2/4\n"
    assert (machine_b / "runs" / "ci" / RUN_ID / "last.pt").read_bytes() == checkpoint
    assert main(imported) == 0
    assert capsys.readouterr().out == f"{RUN_ID}: kept: local checkpoint at epoch 2 >= 2\n"
    other_losses = [*SELECTION[:-1], "csl", *roots(machine_b), "--import-checkpoints"]
    assert main([*other_losses, str(archive)]) == 0
    assert capsys.readouterr().out == f"{RUN_ID}: not in this selection (ci)\n"

    assert main([*SELECTION, *roots(machine_b), "--device", "cpu", "--no-progress"]) == 0
    assert "1 resumed and finished" in capsys.readouterr().out
    assert main(imported) == 0
    assert capsys.readouterr().out == f"{RUN_ID}: kept: the run already has a record\n"

    uninterrupted = tmp_path / "uninterrupted"
    assert main([*SELECTION, *roots(uninterrupted), "--device", "cpu", "--no-progress"]) == 0
    resumed, whole = (
        read_record(folder / "results" / "ci" / "cifar10" / f"{RUN_ID}.json")
        for folder in (machine_b, uninterrupted)
    )
    assert without_timings(resumed) == without_timings(whole)


def test_exporting_a_selection_without_unfinished_runs_is_an_error(tmp_path, capsys):
    archive = tmp_path / "none.tar.gz"
    assert main([*SELECTION, *roots(tmp_path), "--export-checkpoints", str(archive)]) == 2
    assert "no unfinished run of this selection" in capsys.readouterr().err
    assert not archive.exists()


def _archive(path: Path, members: dict[str, bytes], symlink: str | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
    return path


def _manifest(run_id: str, profile: str, data: bytes, epochs: int = 2) -> bytes:
    entry = {
        "run_id": run_id,
        "profile": profile,
        "epochs_done": epochs,
        "epochs_total": 4,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return json.dumps({"format": "cslnb-checkpoints", "version": 1, "runs": [entry]}).encode()


def _bad_archives(checkpoint: bytes) -> dict[str, tuple[dict[str, bytes], str | None, str]]:
    member = f"ci/{RUN_ID}/last.pt"
    good = _manifest(RUN_ID, "ci", checkpoint)
    csl = "cifar10-exp50-csl-seed0"
    return {
        "path traversal member": (
            {MANIFEST: good, member: checkpoint, "../../escape.pt": b"x"},
            None,
            "members not in the manifest",
        ),
        "traversal in a run id": (
            {MANIFEST: _manifest("../../escape", "ci", checkpoint), member: checkpoint},
            None,
            "invalid entry",
        ),
        "unknown profile": (
            {MANIFEST: _manifest(RUN_ID, "huge", checkpoint), member: checkpoint},
            None,
            "invalid entry",
        ),
        "symlink": ({MANIFEST: good, member: checkpoint}, "ci/link", "distinct regular files"),
        "altered checkpoint": (
            {MANIFEST: good, member: checkpoint[:-1] + b"!"},
            None,
            "does not match its SHA-256",
        ),
        "another run's checkpoint": (
            {MANIFEST: _manifest(csl, "ci", checkpoint), f"ci/{csl}/last.pt": checkpoint},
            None,
            "does not hold run",
        ),
        "wrong epoch": (
            {MANIFEST: _manifest(RUN_ID, "ci", checkpoint, epochs=3), member: checkpoint},
            None,
            "does not hold run",
        ),
        "no manifest": ({member: checkpoint}, None, "not a checkpoint archive"),
        "missing member": ({MANIFEST: good}, None, "is listed but missing"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "path traversal member",
        "traversal in a run id",
        "unknown profile",
        "symlink",
        "altered checkpoint",
        "another run's checkpoint",
        "wrong epoch",
        "no manifest",
        "missing member",
    ],
)
def test_invalid_archives_are_refused_before_anything_is_written(unfinished, tmp_path, case):
    checkpoint = (unfinished / "runs" / "ci" / RUN_ID / "last.pt").read_bytes()
    members, symlink, message = _bad_archives(checkpoint)[case]
    path = _archive(tmp_path / "bad.tar.gz", members, symlink)
    target = tmp_path / "target"
    options = TrainOptions(results_root=target / "results", checkpoint_root=target / "runs")
    with pytest.raises(ArchiveError, match=message):
        import_checkpoints(path, target_runs("table1", "ci"), options)
    assert not target.exists()
    assert not (tmp_path.parent / "escape.pt").exists()


def test_a_file_that_is_not_an_archive_is_refused(tmp_path, capsys):
    path = tmp_path / "notes.tar.gz"
    path.write_text("not an archive")
    assert main([*SELECTION, *roots(tmp_path), "--import-checkpoints", str(path)]) == 2
    assert "not a readable .tar.gz archive" in capsys.readouterr().err
