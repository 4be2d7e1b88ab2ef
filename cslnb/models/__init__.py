"""Models: CIFAR ResNets of depth 6n+2 and torchvision ResNet-18/50, built by name.

Every model's ``forward(x, return_features=False)`` returns logits, or ``(logits, features)``
with the pooled penultimate features (one forward pass); ``model.feature_dim`` is their size.
"""

from __future__ import annotations

import re

from torch import nn

from cslnb.models.cifar_resnet import BASE_WIDTH, CifarResNet, cifar_resnet
from cslnb.models.heads import NormedLinear
from cslnb.models.torchvision_resnets import TORCHVISION_NAMES, TorchvisionResNet

CIFAR_DEPTHS = (8, 20, 32, 44, 56, 110)
MODEL_NAMES: list[str] = [f"resnet{depth}" for depth in CIFAR_DEPTHS] + list(TORCHVISION_NAMES)
_CIFAR_NAME = re.compile(r"resnet(\d+)")


def build_model(
    name: str,
    num_classes: int,
    *,
    cosine_head: bool = False,
    pretrained: bool = False,
    width: int = BASE_WIDTH,
) -> nn.Module:
    """Build model ``name``: ``resnet{6n+2}`` (CIFAR family), ``resnet18`` or ``resnet50``.

    ``pretrained`` (torchvision ImageNet weights) exists only for resnet18/resnet50; ``width``
    (first-stage channels, 16 as in He et al.) only for the CIFAR family.
    """
    if name in TORCHVISION_NAMES:
        if width != BASE_WIDTH:
            raise ValueError(f"width applies to the CIFAR ResNets only, not to {name!r}")
        return TorchvisionResNet(name, num_classes, cosine_head=cosine_head, pretrained=pretrained)
    match = _CIFAR_NAME.fullmatch(name)
    depth = int(match.group(1)) if match else 0
    if depth < 8 or (depth - 2) % 6 != 0:
        known = ", ".join(MODEL_NAMES)
        raise ValueError(f"unknown model {name!r}; choose one of: {known} (or any resnet{{6n+2}})")
    if pretrained:
        raise ValueError(f"no pretrained weights exist for the CIFAR ResNet {name!r}")
    return cifar_resnet(depth=depth, num_classes=num_classes, cosine_head=cosine_head, width=width)


__all__ = [
    "MODEL_NAMES",
    "CifarResNet",
    "NormedLinear",
    "TorchvisionResNet",
    "build_model",
    "cifar_resnet",
]
