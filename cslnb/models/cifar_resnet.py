"""CIFAR ResNet of depth 6n+2 (He et al. 2016, Sec. 4.2), as used by LDAM-DRW, CB and IB-Loss.

3x3 stem to ``w`` channels, three stages of ``n`` BasicBlocks (``w``/``2w``/``4w`` channels,
strides 1/2/2) with parameter-free option-A shortcuts, global average pooling and a linear or
cosine head. ``w = 16`` is He et al.'s width; depth 32 (n = 5) is the paper's ResNet-32, depth 8
(n = 1) the fast profiles' model (which may widen it, as in wide ResNets, Zagoruyko and
Komodakis 2016).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cslnb.models.heads import make_head

BASE_WIDTH = 16
"""Channels of the stem and first stage in He et al.'s CIFAR ResNets; later stages double it."""
STAGE_STRIDES = (1, 2, 2)


class OptionAShortcut(nn.Module):
    """Identity shortcut that subsamples space by 2 and zero-pads the new channels."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        extra = out_channels - in_channels
        self.pad_before = extra // 2
        self.pad_after = extra - extra // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad_before, self.pad_after))


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a residual connection and ReLU after the sum."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        needs_projection = stride != 1 or in_channels != out_channels
        self.shortcut = (
            OptionAShortcut(in_channels, out_channels) if needs_projection else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for 32x32 inputs (any size works thanks to global pooling)."""

    def __init__(
        self,
        depth: int = 32,
        num_classes: int = 10,
        cosine_head: bool = False,
        width: int = BASE_WIDTH,
    ) -> None:
        super().__init__()
        if depth < 8 or (depth - 2) % 6 != 0:
            raise ValueError(f"CIFAR ResNet depth must be 6n+2 with n >= 1, got {depth}")
        if width < 2 or width % 2 != 0:
            raise ValueError(f"CIFAR ResNet width must be an even number >= 2, got {width}")
        blocks_per_stage = (depth - 2) // 6
        self.depth = depth
        self.width = width
        stage_channels = (width, 2 * width, 4 * width)
        self.conv1 = nn.Conv2d(3, width, 3, 1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        stages = []
        in_channels = width
        for channels, stride in zip(stage_channels, STAGE_STRIDES, strict=True):
            blocks = []
            for index in range(blocks_per_stage):
                blocks.append(BasicBlock(in_channels, channels, stride if index == 0 else 1))
                in_channels = channels
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.feature_dim = stage_channels[-1]
        self.fc = make_head(self.feature_dim, num_classes, cosine_head)
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight)

    def forward(
        self, x: torch.Tensor, return_features: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        out = F.relu(self.bn1(self.conv1(x)))
        features = self.stages(out).mean(dim=(2, 3))
        logits = self.fc(features)
        return (logits, features) if return_features else logits


def cifar_resnet(
    depth: int = 32, num_classes: int = 10, cosine_head: bool = False, width: int = BASE_WIDTH
) -> CifarResNet:
    """CIFAR ResNet of depth ``6n + 2`` and first-stage ``width``; ``cosine_head`` swaps the
    linear head for NormedLinear."""
    return CifarResNet(depth=depth, num_classes=num_classes, cosine_head=cosine_head, width=width)
