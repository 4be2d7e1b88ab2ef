"""Every loss by name: ``build_loss(name, class_counts, **options)``.

``drw_epoch`` and ``ib_start_epoch`` are accepted for every name (the trainer passes them
scaled to its profile) and used only by the losses with those schedules. Other options are
checked against the options of the named loss.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from cslnb.losses.balanced_softmax import BalancedSoftmaxLoss
from cslnb.losses.base import LongTailLoss
from cslnb.losses.ce import CrossEntropyLoss
from cslnb.losses.drw import DeferredReweighting
from cslnb.losses.equalization import EqualizationLoss
from cslnb.losses.focal import FocalLoss
from cslnb.losses.influence_balanced import InfluenceBalancedLoss
from cslnb.losses.ldam import LDAMLoss
from cslnb.losses.logit_adjusted import LogitAdjustedLoss
from cslnb.losses.weighted_softmax import WeightedSoftmaxLoss
from cslnb.losses.weighting import ClassWeights
from cslnb.losses.weights import class_balanced_weights, inverse_frequency_weights

CB_BETA = 0.9999


@dataclass(frozen=True)
class _Schedule:
    drw_epoch: int
    ib_start_epoch: int


def _ce(counts: Sequence[int], schedule: _Schedule) -> LongTailLoss:
    return CrossEntropyLoss(counts)


def _ce_cb(counts: Sequence[int], schedule: _Schedule, *, beta: float = CB_BETA) -> LongTailLoss:
    return CrossEntropyLoss(counts, ClassWeights(class_balanced_weights(counts, beta)))


def _ce_drw(counts: Sequence[int], schedule: _Schedule, *, beta: float = CB_BETA) -> LongTailLoss:
    return CrossEntropyLoss(counts, DeferredReweighting(counts, schedule.drw_epoch, beta))


def _focal(counts: Sequence[int], schedule: _Schedule, *, gamma: float = 1.0) -> LongTailLoss:
    return FocalLoss(counts, gamma=gamma)


def _focal_cb(
    counts: Sequence[int], schedule: _Schedule, *, gamma: float = 1.0, beta: float = CB_BETA
) -> LongTailLoss:
    return FocalLoss(counts, ClassWeights(class_balanced_weights(counts, beta)), gamma=gamma)


def _ldam(
    counts: Sequence[int], schedule: _Schedule, *, max_margin: float = 0.5, s: float = 30.0
) -> LongTailLoss:
    return LDAMLoss(counts, max_margin=max_margin, s=s)


def _ldam_drw(
    counts: Sequence[int],
    schedule: _Schedule,
    *,
    max_margin: float = 0.5,
    s: float = 30.0,
    beta: float = CB_BETA,
) -> LongTailLoss:
    weighting = DeferredReweighting(counts, schedule.drw_epoch, beta)
    return LDAMLoss(counts, weighting, max_margin=max_margin, s=s)


def _ib(
    counts: Sequence[int],
    schedule: _Schedule,
    *,
    alpha: float = 1000.0,
    detach_influence: bool = False,
) -> LongTailLoss:
    weighting = ClassWeights(inverse_frequency_weights(counts))
    return InfluenceBalancedLoss(
        counts, weighting, schedule.ib_start_epoch, alpha, detach_influence=detach_influence
    )


def _ib_cb(
    counts: Sequence[int],
    schedule: _Schedule,
    *,
    alpha: float = 1000.0,
    beta: float = CB_BETA,
    detach_influence: bool = False,
) -> LongTailLoss:
    weighting = ClassWeights(class_balanced_weights(counts, beta))
    return InfluenceBalancedLoss(
        counts, weighting, schedule.ib_start_epoch, alpha, detach_influence=detach_influence
    )


def _ib_focal(
    counts: Sequence[int],
    schedule: _Schedule,
    *,
    alpha: float = 1000.0,
    gamma: float = 1.0,
    detach_influence: bool = False,
) -> LongTailLoss:
    weighting = ClassWeights(inverse_frequency_weights(counts))
    return InfluenceBalancedLoss(
        counts, weighting, schedule.ib_start_epoch, alpha, gamma, detach_influence
    )


def _balanced_softmax(counts: Sequence[int], schedule: _Schedule) -> LongTailLoss:
    return BalancedSoftmaxLoss(counts)


def _weighted_softmax(counts: Sequence[int], schedule: _Schedule) -> LongTailLoss:
    return WeightedSoftmaxLoss(counts)


def _equalization(
    counts: Sequence[int],
    schedule: _Schedule,
    *,
    lambda_threshold: float | None = None,
    gamma_ignore: float = 0.9,
) -> LongTailLoss:
    return EqualizationLoss(counts, lambda_threshold, gamma_ignore)


def _logit_adjusted(
    counts: Sequence[int], schedule: _Schedule, *, tau: float = 1.0
) -> LongTailLoss:
    return LogitAdjustedLoss(counts, tau)


def _csl(counts: Sequence[int], schedule: _Schedule, **options: object) -> LongTailLoss:
    from cslnb.losses.csl import CSLLoss

    return CSLLoss(counts, **options)


_FACTORIES: dict[str, Callable[..., LongTailLoss]] = {
    "ce": _ce,
    "focal": _focal,
    "ce-cb": _ce_cb,
    "focal-cb": _focal_cb,
    "ce-drw": _ce_drw,
    "ldam": _ldam,
    "ldam-drw": _ldam_drw,
    "ib": _ib,
    "ib-cb": _ib_cb,
    "ib-focal": _ib_focal,
    "balanced-softmax": _balanced_softmax,
    "weighted-softmax": _weighted_softmax,
    "equalization": _equalization,
    "logit-adjusted": _logit_adjusted,
    "csl": _csl,
}
LOSS_NAMES: list[str] = list(_FACTORIES)


def loss_options(name: str) -> dict[str, object]:
    """The options of loss ``name`` with their defaults (``csl``: those of ``CSLLoss``)."""
    options_of: Callable[..., object] = _factory(name)
    if name == "csl":
        from cslnb.losses.csl import CSLLoss

        options_of = CSLLoss.__init__
    parameters = inspect.signature(options_of).parameters.values()
    return {p.name: p.default for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


def explicit_options(name: str, options: Mapping[str, object]) -> dict[str, object]:
    """``options`` without those set to their default, so that spelling out a default never
    changes what identifies a run (its run id); unknown options are kept for the error."""
    defaults = loss_options(name)
    return {
        key: value
        for key, value in options.items()
        if key not in defaults or value != defaults[key]
    }


def _factory(name: str) -> Callable[..., LongTailLoss]:
    try:
        return _FACTORIES[name]
    except KeyError:
        known = ", ".join(LOSS_NAMES)
        raise ValueError(f"unknown loss {name!r}; choose one of: {known}") from None


def build_loss(
    name: str,
    class_counts: Sequence[int],
    *,
    drw_epoch: int = 160,
    ib_start_epoch: int = 100,
    **options: object,
) -> LongTailLoss:
    """Build loss ``name`` for training counts ``class_counts``; see ``loss_options(name)``."""
    factory = _factory(name)
    accepted = loss_options(name)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        listed = ", ".join(accepted) or "none"
        raise TypeError(
            f"loss {name!r} got unknown option(s) {', '.join(unknown)}; it accepts: {listed}"
        )
    return factory(list(class_counts), _Schedule(drw_epoch, ib_start_epoch), **options)
