"""ResNet-18 / ResNet-50 (He et al. 2016) from torchvision with a linear or cosine head.

Randomly initialised unless ``pretrained=True``, which loads torchvision's ImageNet weights
(a download on first use) for the backbone; the head is always new.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision import models

from cslnb.models.heads import make_head

_BACKBONES = {
    "resnet18": (models.resnet18, models.ResNet18_Weights.DEFAULT),
    "resnet50": (models.resnet50, models.ResNet50_Weights.DEFAULT),
}
TORCHVISION_NAMES = tuple(_BACKBONES)


class TorchvisionResNet(nn.Module):
    """A torchvision ResNet whose ``fc`` is replaced by ``make_head``; features are pooled."""

    def __init__(
        self, arch: str, num_classes: int, cosine_head: bool = False, pretrained: bool = False
    ) -> None:
        super().__init__()
        if arch not in _BACKBONES:
            known = ", ".join(TORCHVISION_NAMES)
            raise ValueError(f"unknown torchvision ResNet {arch!r}; choose one of: {known}")
        constructor, weights = _BACKBONES[arch]
        self.backbone = constructor(weights=weights if pretrained else None)
        self.feature_dim = self.backbone.fc.in_features
        self.backbone.fc = nn.Identity()
        self.fc = make_head(self.feature_dim, num_classes, cosine_head)

    def forward(
        self, x: torch.Tensor, return_features: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        features = self.backbone(x)
        logits = self.fc(features)
        return (logits, features) if return_features else logits


def resnet18(num_classes: int, cosine_head: bool = False, pretrained: bool = False) -> nn.Module:
    return TorchvisionResNet("resnet18", num_classes, cosine_head, pretrained)


def resnet50(num_classes: int, cosine_head: bool = False, pretrained: bool = False) -> nn.Module:
    return TorchvisionResNet("resnet50", num_classes, cosine_head, pretrained)
