"""Registry, input checks, and every loss through a ResNet-8 training step."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from cslnb.losses import LOSS_NAMES, LongTailLoss, build_loss, loss_options
from cslnb.losses.registry import explicit_options
from cslnb.models import build_model
from cslnb.train import RunConfig

COUNTS = [40, 20, 10, 5]
HAS_CSL = importlib.util.find_spec("cslnb.losses.csl") is not None
NAMES = [name for name in LOSS_NAMES if name != "csl"] + [
    pytest.param("csl", marks=pytest.mark.skipif(not HAS_CSL, reason="csl loss not written yet"))
]


def test_loss_names():
    assert set(LOSS_NAMES) >= {
        "ce", "focal", "ce-cb", "focal-cb", "ldam", "ldam-drw", "ib", "ib-cb", "ib-focal",
        "balanced-softmax", "weighted-softmax", "equalization", "logit-adjusted", "csl", "ce-drw",
    }  # fmt: skip


def test_unknown_name_and_option():
    with pytest.raises(ValueError, match="ldam-drw"):
        build_loss("ldam-dwr", COUNTS)
    with pytest.raises(TypeError, match="gama"):
        build_loss("focal", COUNTS, gama=2.0)
    assert loss_options("focal-cb") == {"gamma": 1.0, "beta": 0.9999}
    assert build_loss("focal", COUNTS, gamma=2.0).gamma == 2.0


def test_csl_options_are_those_of_the_csl_loss():
    assert loss_options("csl") == {
        "reading": "paper",
        "k": 2.0,
        "eps": 1e-6,
        "npred": "batch",
        "use_gamma": True,
        "use_npred": True,
        "use_reinforcement": True,
        "use_denominator": True,
        "scale": 1.0,
        "batch_mean": False,
        "entropy_by": "label",
    }
    with pytest.raises(TypeError, match="use_gama"):
        build_loss("csl", COUNTS, use_gama=False)


def test_options_at_their_default_do_not_name_another_run():
    assert explicit_options("csl", {"reading": "paper", "use_gamma": False}) == {"use_gamma": False}
    assert explicit_options("focal-cb", {"gamma": 1, "beta": 0.999}) == {"beta": 0.999}
    assert explicit_options("ce", {"typo": 1}) == {"typo": 1}
    plain = RunConfig(dataset="cifar10", loss="csl")
    spelled_out = RunConfig(dataset="cifar10", loss="csl", loss_options={"reading": "paper"})
    assert spelled_out.run_id == plain.run_id == "cifar10-exp100-csl-seed0"
    assert spelled_out.to_dict()["loss_options"] == {}
    ablation = RunConfig(
        dataset="cifar10", loss="csl", loss_options={"reading": "paper", "use_gamma": False}
    )
    assert (
        ablation.run_id
        == RunConfig(dataset="cifar10", loss="csl", loss_options={"use_gamma": False}).run_id
    )


def test_bad_shapes_raise_clear_errors():
    loss = build_loss("ce", COUNTS)
    with pytest.raises(ValueError, match="logits"):
        loss(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="labels"):
        loss(torch.zeros(2, 4), torch.zeros(3, dtype=torch.long))
    with pytest.raises(TypeError, match="integer"):
        loss(torch.zeros(2, 4), torch.zeros(2))


def features_for(loss: LongTailLoss, features: torch.Tensor) -> torch.Tensor | None:
    return features if loss.needs_features else None


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("autocast", [False, True])
def test_training_step_on_resnet8(name, autocast):
    torch.manual_seed(0)
    loss = build_loss(name, COUNTS, drw_epoch=1, ib_start_epoch=1)
    loss.start_epoch(1)
    model = build_model("resnet8", len(COUNTS), cosine_head=loss.needs_cosine_head)
    images = torch.randn(8, 3, 16, 16)
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 3, 0])
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        logits, features = model(images, return_features=True)
        value = loss(logits, labels, features_for(loss, features))
    assert value.dtype == torch.float32
    assert value.ndim == 0 and bool(torch.isfinite(value))
    value.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(bool(torch.isfinite(g).all()) for g in grads)
    loss.end_epoch(1)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_empty_class_one_class_batch_low_precision(name, dtype):
    torch.manual_seed(0)
    loss = build_loss(name, [50, 0, 5], drw_epoch=0, ib_start_epoch=0)
    loss.start_epoch(0)
    logits = (3 * torch.randn(4, 3)).to(dtype).requires_grad_(True)
    features = torch.rand(4, 6).to(dtype)
    labels = torch.zeros(4, dtype=torch.long)
    value = loss(logits, labels, features_for(loss, features))
    assert bool(torch.isfinite(value))
    value.backward()
    assert logits.grad.dtype == dtype
    assert bool(torch.isfinite(logits.grad).all())
