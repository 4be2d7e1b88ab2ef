"""Models: exact ResNet-32 size, output shapes, features, cosine head, names."""

from __future__ import annotations

import pytest
import torch

from cslnb.models import MODEL_NAMES, NormedLinear, build_model, cifar_resnet


def conv3x3(cin: int, cout: int) -> int:
    return cin * cout * 9


def bn(channels: int) -> int:
    return 2 * channels


def cifar_resnet_param_count(n: int, num_classes: int) -> int:
    """Parameters of ResNet-(6n+2) from the architecture: convs have no bias, shortcuts none."""
    total = conv3x3(3, 16) + bn(16)
    cin = 16
    for channels in (16, 32, 64):
        for _ in range(n):
            total += conv3x3(cin, channels) + bn(channels) + conv3x3(channels, channels)
            total += bn(channels)
            cin = channels
    return total + 64 * num_classes + num_classes


def test_resnet32_parameter_count_is_exact():
    model = cifar_resnet(depth=32, num_classes=10)
    count = sum(p.numel() for p in model.parameters())
    assert count == cifar_resnet_param_count(5, 10) == 464_154


def test_resnet8_parameter_count_and_cosine_head_has_no_bias():
    model = build_model("resnet8", 10, cosine_head=True)
    count = sum(p.numel() for p in model.parameters())
    assert count == cifar_resnet_param_count(1, 10) - 10


@pytest.mark.parametrize("cosine_head", [False, True])
def test_cifar_resnet_outputs_and_features_in_one_pass(cosine_head):
    torch.manual_seed(0)
    model = build_model("resnet8", 7, cosine_head=cosine_head).eval()
    x = torch.randn(4, 3, 16, 16)
    logits = model(x)
    logits_again, features = model(x, return_features=True)
    assert logits.shape == (4, 7)
    assert features.shape == (4, 64) == (4, model.feature_dim)
    torch.testing.assert_close(logits, logits_again)
    torch.testing.assert_close(model.fc(features), logits)
    assert bool((features >= 0).all())  # pooled after a ReLU


def test_cosine_head_logits_are_cosines():
    torch.manual_seed(0)
    head = NormedLinear(5, 3)
    torch.testing.assert_close(head.weight.norm(dim=1), torch.ones(3))
    with torch.no_grad():
        logits = head(100 * torch.randn(16, 5))
        assert float(logits.abs().max()) <= 1.0 + 1e-6
        x = torch.tensor([[3.0, 0.0, 0.0, 0.0, 0.0]])
        expected = head.weight[:, 0] / head.weight.norm(dim=1)
        torch.testing.assert_close(head(x)[0], expected)


def test_option_a_shortcut_subsamples_and_zero_pads():
    model = cifar_resnet(depth=8)
    shortcut = model.stages[1][0].shortcut
    x = torch.arange(2 * 16 * 4 * 4, dtype=torch.float32).reshape(2, 16, 4, 4)
    out = shortcut(x)
    assert out.shape == (2, 32, 2, 2)
    torch.testing.assert_close(out[:, 8:24], x[:, :, ::2, ::2])
    assert float(out[:, :8].abs().sum() + out[:, 24:].abs().sum()) == 0.0


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_torchvision_resnets_replace_the_head(name):
    torch.manual_seed(0)
    model = build_model(name, 5).eval()
    assert model.feature_dim == {"resnet18": 512, "resnet50": 2048}[name]
    with torch.no_grad():
        logits, features = model(torch.randn(2, 3, 32, 32), return_features=True)
    assert logits.shape == (2, 5)
    assert features.shape == (2, model.feature_dim)


def test_torchvision_cosine_head_is_bounded():
    model = build_model("resnet18", 4, cosine_head=True).eval()
    assert isinstance(model.fc, NormedLinear)
    with torch.no_grad():
        assert float(model(torch.randn(2, 3, 32, 32)).abs().max()) <= 1.0 + 1e-6


def test_names():
    assert {"resnet8", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110"} <= set(
        MODEL_NAMES
    )
    assert {"resnet18", "resnet50"} <= set(MODEL_NAMES)
    assert build_model("resnet14", 3).depth == 14  # any 6n+2
    for bad in ("resnet9", "vgg16", "resnet2"):
        with pytest.raises(ValueError, match="resnet32"):
            build_model(bad, 10)
    with pytest.raises(ValueError, match="pretrained"):
        build_model("resnet32", 10, pretrained=True)


@pytest.mark.parametrize("width", [16, 32])
def test_cifar_resnet_width_sets_every_stage(width):
    model = build_model("resnet8", num_classes=10, width=width)
    assert model.feature_dim == 4 * width
    convs = [m.out_channels for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    # stem, then two 3x3 convs in each of the three one-block stages
    assert convs == [width, width, width, 2 * width, 2 * width, 4 * width, 4 * width]
    logits, features = model(torch.zeros(2, 3, 16, 16), return_features=True)
    assert logits.shape == (2, 10) and features.shape == (2, 4 * width)


def test_width_is_for_cifar_resnets_only():
    with pytest.raises(ValueError, match="CIFAR ResNets only"):
        build_model("resnet18", num_classes=10, width=32)
    with pytest.raises(ValueError, match="even number"):
        build_model("resnet8", num_classes=10, width=3)


def test_cosine_head_stays_in_fp32_under_bf16_autocast():
    torch.manual_seed(0)
    head = NormedLinear(64, 10)
    features = torch.randn(32, 64)
    exact = head(features)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        autocast = head(features.bfloat16())
    assert autocast.dtype == torch.float32
    # the bf16 input is the only rounding left: far below bf16 matmul noise (~1e-2)
    torch.testing.assert_close(autocast, head(features.bfloat16().float()), rtol=0, atol=1e-6)
    assert (autocast - exact).abs().max() < 1e-2
