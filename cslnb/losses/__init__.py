"""Losses for long-tailed classification, all behind the ``LongTailLoss`` interface.

``build_loss(name, class_counts, **options)`` builds any of ``LOSS_NAMES``. The CSL loss is
``CSLLoss`` (readings ``paper`` and ``released``).
"""

from cslnb.losses.balanced_softmax import BalancedSoftmaxLoss
from cslnb.losses.base import LongTailLoss
from cslnb.losses.ce import CrossEntropyLoss
from cslnb.losses.csl import CSLLoss
from cslnb.losses.drw import DeferredReweighting
from cslnb.losses.equalization import EqualizationLoss
from cslnb.losses.focal import FocalLoss
from cslnb.losses.influence_balanced import InfluenceBalancedLoss
from cslnb.losses.ldam import LDAMLoss, ldam_margins
from cslnb.losses.logit_adjusted import LogitAdjustedLoss
from cslnb.losses.registry import LOSS_NAMES, build_loss, loss_options
from cslnb.losses.weighted_softmax import WeightedSoftmaxLoss, weighted_softmax_weights
from cslnb.losses.weighting import ClassWeights, WeightedLongTailLoss
from cslnb.losses.weights import class_balanced_weights, inverse_frequency_weights

__all__ = [
    "LOSS_NAMES",
    "BalancedSoftmaxLoss",
    "CSLLoss",
    "ClassWeights",
    "CrossEntropyLoss",
    "DeferredReweighting",
    "EqualizationLoss",
    "FocalLoss",
    "InfluenceBalancedLoss",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "LongTailLoss",
    "WeightedLongTailLoss",
    "WeightedSoftmaxLoss",
    "build_loss",
    "class_balanced_weights",
    "inverse_frequency_weights",
    "ldam_margins",
    "loss_options",
    "weighted_softmax_weights",
]
