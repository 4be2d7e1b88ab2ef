"""Classifier heads: a plain linear layer or the cosine ("normed linear") head of LDAM."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class NormedLinear(nn.Module):
    """Cosine classifier ``logits = normalize(h) @ normalize(W)^T`` without bias (Cao et al. 2019).

    ``W`` (out_features, in_features) starts uniform in (-1, 1) with each class vector then
    rescaled to unit L2 norm, as in the LDAM-DRW reference. Logits lie in [-1, 1]; LDAM
    multiplies them by its scale ``s``. The head computes in fp32 even under autocast.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        weight = torch.empty(out_features, in_features).uniform_(-1.0, 1.0)
        self.weight = nn.Parameter(F.normalize(weight, dim=1))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        # Always in fp32, also under autocast: LDAM multiplies these cosines by s = 30, and a
        # bf16 product (8-bit mantissa) would add noise of about 0.1 to every scaled logit.
        with torch.autocast(features.device.type, enabled=False):
            return F.normalize(features.float(), dim=1) @ F.normalize(self.weight, dim=1).t()

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


def make_head(in_features: int, num_classes: int, cosine: bool) -> nn.Module:
    """A cosine head when ``cosine`` is True, else a linear layer with bias."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be positive, got {num_classes}")
    if cosine:
        return NormedLinear(in_features, num_classes)
    return nn.Linear(in_features, num_classes)
