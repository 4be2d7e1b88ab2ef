"""The GPU path on a real GPU: skipped without CUDA (``cuda:1`` tests below two GPUs).

``python -m cslnb gpu-check`` runs this file first on a new GPU machine.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from cslnb.losses import build_loss
from cslnb.models import build_model
from cslnb.train import RunConfig, trainer
from cslnb.train.config import TrainOptions
from cslnb.train.determinism import deterministic_mode
from cslnb.train.device import Precision, gpu_has_bf16, pick_precision
from cslnb.train.step import TrainStep

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
COUNTS = [40, 20, 10, 5]
BATCH = 16


def _devices() -> list:
    two = pytest.mark.skipif(
        not torch.cuda.is_available() or torch.cuda.device_count() < 2, reason="needs 2 GPUs"
    )
    return ["cuda:0", pytest.param("cuda:1", marks=two)]


def _precisions(device: torch.device) -> list[Precision]:
    """fp32, and bf16 where the GPU has it (fp16's scaler is never captured)."""
    return [Precision(None, False)] + (
        [Precision(torch.bfloat16, False)] if gpu_has_bf16(device) else []
    )


def test_auto_precision_matches_the_gpus_capability():
    device = torch.device("cuda", 0)
    expected = "bfloat16" if torch.cuda.get_device_capability(device) >= (8, 0) else "float16"
    assert pick_precision(device, "auto").label == expected


@pytest.mark.parametrize("name", _devices())
def test_replayed_graphs_train_on_the_runs_device(name: str):
    """Step 1 runs eagerly, 2 is captured, 3 and 4 replay: a replay must change the weights
    (an empty graph, captured on another device's stream, would not) and count its step."""
    device = torch.device(name)
    for precision in _precisions(device):
        torch.manual_seed(0)
        model = build_model("resnet8", len(COUNTS)).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        scaler = torch.amp.GradScaler("cuda", enabled=False)
        loss_fn = build_loss("csl", COUNTS).to(device)
        step = TrainStep(model, loss_fn, optimizer, scaler, device, precision, use_graph=True)
        images = torch.randn(BATCH, 3, 16, 16, device=device)
        labels = torch.arange(BATCH, device=device) % len(COUNTS)
        step.start_epoch()
        for _ in range(3):
            step(images, labels)
        assert step.captured_batch_sizes == {BATCH}
        before = [p.detach().clone() for p in model.parameters()]
        step(images, labels)
        torch.cuda.synchronize(device)
        assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
        totals = step.finish_epoch()
        assert totals.samples == 4 * BATCH and totals.first_nonfinite_step is None
        assert int(step.tally.steps) == 4


@pytest.fixture
def tiny_root(tmp_path: Path, write_image) -> Path:
    """A Tiny-ImageNet folder of 4 classes of 24 training images of 16x16 (the long-tailed
    selection at ratio 5 keeps 50 of them) and 8 validation images."""
    root = tmp_path / "tiny-imagenet-200"
    wnids = ["n01", "n02", "n03", "n04"]
    root.mkdir()
    (root / "wnids.txt").write_text("\n".join(wnids) + "\n")
    rng = np.random.default_rng(0)
    for wnid in wnids:
        for i in range(24):
            pixels = rng.integers(0, 256, (16, 16, 3))
            write_image(root / "train" / wnid / "images" / f"{wnid}_{i}.JPEG", pixels)
    lines = []
    for k in range(8):
        write_image(root / "val" / "images" / f"val_{k}.JPEG", rng.integers(0, 256, (16, 16, 3)))
        lines.append(f"val_{k}.JPEG\t{wnids[k % 4]}\t0\t0\t15\t15")
    (root / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    return root


def test_folder_pipeline_with_pinned_workers_under_graphs(
    tmp_path: Path, tiny_root: Path, monkeypatch
):
    """Tiny-ImageNet-LT through the DataLoader (2 workers, pinned memory: a pin-memory thread
    making CUDA calls) with every step after the first two replayed as a graph."""
    monkeypatch.setattr(torch, "get_num_threads", lambda: 3)  # the pipeline starts 2 workers
    config = RunConfig(dataset="tiny-imagenet", loss="ce", ratio=5, profile="ci", amp="off")
    options = TrainOptions(
        results_root=tmp_path / "results",
        checkpoint_root=tmp_path / "runs",
        data_root=tiny_root.parent,
        device="cuda",
        progress=False,
        cuda_graph="on",
    )
    monkeypatch.setattr(trainer, "recipe_for", _small_batches(trainer.recipe_for))
    record = trainer.train(config, options)
    assert record["cuda_graph"] is True
    assert record["execution"][-1]["cuda_graph"] is True
    assert all(np.isfinite(epoch["train_loss"]) for epoch in record["epochs"])


def _small_batches(recipe_for):
    """The recipe with batch size 4, so that an epoch of the tiny folder has several batches
    (hence captures and replays mid-epoch while the loader's threads work)."""

    def small(dataset: str, loss: str):
        return replace(recipe_for(dataset, loss), batch_size=4)

    return small


@pytest.mark.parametrize("use_graph", [False, True], ids=["eager", "graph"])
def test_deterministic_mode_repeats_a_csl_run_bit_for_bit(use_graph: bool):
    """Two seeded CSL runs of 5 steps under --deterministic give equal weights (the losses'
    index_add_ and the convolutions have deterministic kernels; none raises, and with graphs
    none breaks the capture)."""
    device = torch.device("cuda", 0)

    def run() -> list[torch.Tensor]:
        torch.manual_seed(0)
        model = build_model("resnet8", len(COUNTS)).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        scaler = torch.amp.GradScaler("cuda", enabled=False)
        step = TrainStep(
            model,
            build_loss("csl", COUNTS).to(device),
            optimizer,
            scaler,
            device,
            Precision(None, False),
            use_graph=use_graph,
        )
        generator = torch.Generator(device=device).manual_seed(1)
        step.start_epoch()
        for _ in range(5):
            images = torch.randn(BATCH, 3, 16, 16, device=device, generator=generator)
            step(images, torch.arange(BATCH, device=device) % len(COUNTS))
        return [p.detach().clone() for p in model.parameters()]

    with deterministic_mode(True):
        first, second = run(), run()
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
