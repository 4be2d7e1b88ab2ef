"""How a step is captured as a CUDA graph: on the run's device, in thread-local error mode.

No GPU here: ``torch.cuda.device``, ``torch.cuda.graph`` and ``torch.cuda.CUDAGraph`` are
replaced by recorders, and the recorded step itself runs on the CPU.
"""

from __future__ import annotations

import contextlib

import pytest
import torch
from torch import nn

from cslnb.losses import build_loss
from cslnb.train.device import Precision
from cslnb.train.step import CAPTURE_ERROR_MODE, TrainStep

COUNTS = [30, 10, 5]


class Model(nn.Module):
    """A linear classifier that notes which (fake) CUDA contexts were open at each forward."""

    def __init__(self, contexts: list[str]) -> None:
        super().__init__()
        self.linear = nn.Linear(4, len(COUNTS))
        self.contexts, self.seen = contexts, []

    def forward(self, x: torch.Tensor, return_features: bool = False):
        self.seen.append(list(self.contexts))
        logits = self.linear(x)
        return (logits, x) if return_features else logits


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """Replace the CUDA context managers and graph by recorders of what was opened, with which
    arguments, and of the replays."""
    log: dict[str, list] = {"open": [], "graph_kwargs": [], "replays": []}

    @contextlib.contextmanager
    def device(which):
        log["open"].append(f"device {torch.device(which)}")
        yield
        log["open"].pop()

    @contextlib.contextmanager
    def graph(cuda_graph, **kwargs):
        log["graph_kwargs"].append(kwargs)
        log["open"].append("graph")
        yield
        log["open"].pop()

    class FakeGraph:
        def replay(self) -> None:
            log["replays"].append(list(log["open"]))

    monkeypatch.setattr(torch.cuda, "device", device)
    monkeypatch.setattr(torch.cuda, "graph", graph)
    monkeypatch.setattr(torch.cuda, "CUDAGraph", FakeGraph)
    return log


def test_the_capture_names_the_runs_device_and_the_thread_local_mode(recorded):
    model = Model(recorded["open"])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    step = TrainStep(
        model,
        build_loss("ce", COUNTS),
        optimizer,
        scaler,
        torch.device("cpu"),
        Precision(None, False),
    )
    step.device = torch.device("cuda", 1)  # the run's device; the tensors stay on the CPU here
    images, labels = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 0, 1])

    captured = step._capture(images, labels)

    assert model.seen == [["device cuda:1", "graph"]]  # recorded inside both, device first
    assert recorded["graph_kwargs"] == [{"capture_error_mode": "thread_local"}]
    assert CAPTURE_ERROR_MODE == "thread_local"
    assert recorded["replays"] == [[]]  # replayed once, after the capture closed
    assert torch.equal(captured.images, images) and captured.images is not images
