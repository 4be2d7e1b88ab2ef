"""The training step (:mod:`cslnb.train.step`): when it is captured as a CUDA graph, which
batches replay, capture or run eagerly, and the device-side epoch tallies.

The graph itself needs a GPU (``python -m cslnb bench`` runs it); here the capture, replay and
side-stream runs are replaced by recorders so that the choice between them is tested on CPU.
"""

from __future__ import annotations

import math

import pytest
import torch

from cslnb.losses import build_loss
from cslnb.models import build_model
from cslnb.train.device import Precision
from cslnb.train.step import (
    MIN_GRAPH_STEPS,
    EpochTally,
    TrainStep,
    use_step_graph,
)

CUDA = torch.device("cuda", 0)
CPU = torch.device("cpu")
BF16 = Precision(torch.bfloat16, use_scaler=False)
FP16_SCALED = Precision(torch.float16, use_scaler=True)
PAPER_RUN_STEPS = 200 * math.ceil(12406 / 128)
SMOKE_RUN_STEPS = 2 * math.ceil(12406 / 128)


@pytest.mark.parametrize(
    ("setting", "device", "precision", "distributed", "steps", "expected"),
    [
        ("auto", CUDA, BF16, False, PAPER_RUN_STEPS, True),
        ("auto", CUDA, BF16, False, SMOKE_RUN_STEPS, False),
        ("auto", CUDA, BF16, False, MIN_GRAPH_STEPS, True),
        ("auto", CUDA, BF16, False, MIN_GRAPH_STEPS - 1, False),
        ("auto", CPU, Precision(None, False), False, PAPER_RUN_STEPS, False),
        ("auto", CUDA, FP16_SCALED, False, PAPER_RUN_STEPS, False),
        ("auto", CUDA, BF16, True, PAPER_RUN_STEPS, False),
        ("on", CUDA, BF16, False, SMOKE_RUN_STEPS, True),
        ("on", CUDA, Precision(None, False), False, 1, True),
        ("off", CUDA, BF16, False, PAPER_RUN_STEPS, False),
        ("off", CPU, Precision(None, False), False, PAPER_RUN_STEPS, False),
    ],
)
def test_graph_choice(setting, device, precision, distributed, steps, expected):
    chosen = use_step_graph(setting, device, precision, distributed=distributed, total_steps=steps)
    assert chosen is expected


@pytest.mark.parametrize(
    ("device", "precision", "distributed", "compiled", "reason"),
    [
        (CPU, Precision(None, False), False, False, "need a CUDA device"),
        (CUDA, FP16_SCALED, False, False, "gradient scaler"),
        (CUDA, BF16, True, False, "torchrun"),
        (CUDA, BF16, False, True, "torch.compile"),
    ],
)
def test_graph_on_where_impossible_says_why(device, precision, distributed, compiled, reason):
    kwargs = {"distributed": distributed, "total_steps": 10**6, "compiled": compiled}
    with pytest.raises(ValueError, match=reason):
        use_step_graph("on", device, precision, **kwargs)
    assert use_step_graph("auto", device, precision, **kwargs) is False


def test_cli_passes_the_graph_setting_to_train_and_reproduce():
    from cslnb.cli import build_parser

    parser = build_parser()
    train_args = ["train", "--dataset", "synthetic", "--loss", "ce"]
    assert parser.parse_args(train_args).cuda_graph == "auto"
    assert parser.parse_args([*train_args, "--cuda-graph", "off"]).cuda_graph == "off"
    assert parser.parse_args(["reproduce", "table2", "--cuda-graph", "on"]).cuda_graph == "on"


def test_unknown_graph_setting_is_rejected():
    with pytest.raises(ValueError, match="auto, on, off"):
        use_step_graph("yes", CUDA, BF16, distributed=False, total_steps=10**6)


def test_tally_keeps_sums_and_the_first_non_finite_loss():
    tally = EpochTally(CPU)
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
    labels = torch.tensor([0, 0, 0])
    for loss in (0.5, 1.5, math.inf, math.nan, 2.0):
        tally.add(torch.tensor(loss), logits, labels)
    totals = tally.read(samples=15)
    assert totals.first_nonfinite_step == 2
    assert totals.first_nonfinite_loss == math.inf
    assert totals.correct == 5 * 2
    assert math.isnan(totals.loss_sum)
    tally.reset()
    tally.add(torch.tensor(0.25), logits, labels)
    tally.add(torch.tensor(0.75), logits, labels)
    totals = tally.read(samples=6)
    assert totals.first_nonfinite_step is None and totals.first_nonfinite_loss is None
    assert totals.loss_sum == 3.0  # (0.25 + 0.75) x 3 samples per batch
    assert totals.mean_loss == 0.5
    assert totals.accuracy == pytest.approx(100 * 4 / 6)


def _step(loss_name: str = "ce", use_graph: bool = False) -> TrainStep:
    torch.manual_seed(0)
    loss_fn = build_loss(loss_name, [20, 10, 5, 5], ib_start_epoch=1)
    model = build_model("resnet8", 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    return TrainStep(
        model, loss_fn, optimizer, scaler, CPU, Precision(None, False), use_graph=use_graph
    )


def _batch(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(size, 3, 16, 16), torch.arange(size) % 4


def test_eager_step_trains_and_tallies_the_epoch():
    step = _step()
    before = [p.detach().clone() for p in step.model.parameters()]
    step.start_epoch()
    for size in (8, 8, 5):
        step(*_batch(size))
    totals = step.finish_epoch()
    assert totals.samples == 21
    assert 0 <= totals.correct <= 21
    assert math.isfinite(totals.mean_loss) and totals.mean_loss > 0
    changed = [not torch.equal(a, b) for a, b in zip(before, step.model.parameters(), strict=True)]
    assert all(changed)


def test_graph_policy_warms_captures_replays_and_recaptures(monkeypatch):
    """Per batch shape: first batch eagerly (side stream), second captured, then replayed; a new
    learning rate or loss phase (IB's start) drops the graphs and starts again."""
    step = _step("ib", use_graph=True)
    actions: list[str] = []

    def capture(images, labels):
        actions.append(f"capture {len(labels)}")
        return object()

    monkeypatch.setattr(
        step, "_run_on_side_stream", lambda images, labels: actions.append(f"eager {len(labels)}")
    )
    monkeypatch.setattr(step, "_capture", capture)
    monkeypatch.setattr(
        step, "_replay", lambda c, images, labels: actions.append(f"replay {len(labels)}")
    )

    def epoch(epoch: int, lr: float, sizes: tuple[int, ...]) -> list[str]:
        actions.clear()
        step.optimizer.param_groups[0]["lr"] = lr
        step.loss_fn.start_epoch(epoch)
        step.start_epoch()
        for size in sizes:
            step(*_batch(size))
        return list(actions)

    assert epoch(0, 0.1, (8, 8, 8, 5)) == ["eager 8", "capture 8", "replay 8", "eager 5"]
    assert epoch(0, 0.1, (8, 8, 5)) == ["replay 8", "replay 8", "capture 5"]
    assert epoch(0, 0.1, (8, 5)) == ["replay 8", "replay 5"]
    assert epoch(0, 0.2, (8, 8, 8)) == ["eager 8", "capture 8", "replay 8"]
    assert epoch(1, 0.2, (8, 8, 8)) == ["eager 8", "capture 8", "replay 8"]  # IB becomes active
    assert epoch(1, 0.2, (8,)) == ["replay 8"]
    assert step.finish_epoch().samples == 8


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")
@pytest.mark.parametrize("loss_name", ["ce", "ib", "equalization", "csl", "ldam-drw"])
def test_graph_step_matches_the_eager_step_on_cuda(loss_name):
    """On a GPU: the replayed graph trains like the eager step (same batches, same results up
    to float reordering), across a phase change and an odd-sized last batch."""
    torch.manual_seed(0)
    batches = [_batch(size) for size in (8, 8, 8, 8, 5)]
    results = {}
    for use_graph in (False, True):
        torch.manual_seed(1)
        loss_fn = build_loss(loss_name, [20, 10, 5, 5], ib_start_epoch=1, drw_epoch=1).cuda()
        model = build_model("resnet8", 4, cosine_head=loss_fn.needs_cosine_head).cuda()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        scaler = torch.amp.GradScaler("cuda", enabled=False)
        step = TrainStep(
            model, loss_fn, optimizer, scaler, CUDA, Precision(None, False), use_graph=use_graph
        )
        totals = []
        for epoch in range(3):
            loss_fn.start_epoch(epoch)
            step.start_epoch()
            for images, labels in batches:
                step(images.cuda(), labels.cuda())
            totals.append(step.finish_epoch())
            loss_fn.end_epoch(epoch)
        results[use_graph] = (totals, [p.detach().cpu() for p in model.parameters()])
    (eager_totals, eager_params), (graph_totals, graph_params) = results[False], results[True]
    for eager, graph in zip(eager_totals, graph_totals, strict=True):
        assert graph.samples == eager.samples
        assert graph.first_nonfinite_step is None and eager.first_nonfinite_step is None
        if loss_name != "equalization":  # its random draws differ between eager and graph
            assert graph.mean_loss == pytest.approx(eager.mean_loss, rel=1e-4)
    if loss_name != "equalization":
        for eager, graph in zip(eager_params, graph_params, strict=True):
            torch.testing.assert_close(graph, eager, rtol=1e-4, atol=1e-5)
