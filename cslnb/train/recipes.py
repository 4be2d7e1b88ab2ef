"""Training recipes as data: optimiser, learning-rate schedule and epoch counts of the paper.

A recipe is written in the paper's epochs. A profile runs it with fewer epochs; every epoch
milestone (LR steps, the DRW switch, IB's start) is then rescaled by ``epochs / recipe.epochs``
so the schedule keeps its shape (:func:`scale_epoch`).

Sources: the CIFAR recipe is the LDAM-DRW one (Cao et al. 2019, ``cifar_train.py``), also used by
the CSL paper (Sec. 4); the IB recipe is Park et al. (2021); the Tiny-ImageNet-LT and
ImageNet-LT recipes are the CSL paper's Section 4.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Literal

from cslnb.data import IN_MEMORY_DATASETS


@dataclass(frozen=True)
class Recipe:
    """SGD with momentum, an optional linear warm-up, then step decay or cosine annealing.

    Learning rate at 1-indexed epoch ``e`` (constant within an epoch, as in the references):

    * warm-up, ``e <= warmup_epochs``:  ``lr * e / warmup_epochs``
    * ``schedule="step"``: ``lr * decay ** (number of milestones m with e > m)``
    * ``schedule="cosine"``: ``lr * (1 + cos(pi * (e - 1) / epochs)) / 2``
    """

    name: str
    epochs: int
    lr: float
    momentum: float
    weight_decay: float
    batch_size: int
    warmup_epochs: int
    schedule: Literal["step", "cosine"]
    milestones: tuple[int, ...] = ()
    decay: float = 0.01
    drw_epoch: int = 160
    """0-indexed epoch from which DRW re-weights (LDAM-DRW)."""
    ib_start_epoch: int = 100
    """0-indexed epoch from which the IB losses switch on (Park et al. 2021)."""

    def scaled(self, epochs: int) -> Recipe:
        """This recipe run for ``epochs`` epochs, every milestone rescaled to keep its shape."""
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        if epochs == self.epochs:
            return self

        def scale(epoch: int) -> int:
            return scale_epoch(epoch, self.epochs, epochs)

        return replace(
            self,
            epochs=epochs,
            warmup_epochs=scale(self.warmup_epochs),
            milestones=tuple(scale(m) for m in self.milestones),
            drw_epoch=scale(self.drw_epoch),
            ib_start_epoch=scale(self.ib_start_epoch),
        )

    def lr_at(self, epoch: int) -> float:
        """Learning rate of 1-indexed epoch ``epoch``."""
        if not 1 <= epoch <= self.epochs:
            raise ValueError(f"epoch must be in 1..{self.epochs}, got {epoch}")
        if epoch <= self.warmup_epochs:
            return self.lr * epoch / self.warmup_epochs
        if self.schedule == "step":
            passed = sum(1 for m in self.milestones if epoch > m)
            return self.lr * self.decay**passed
        return self.lr * 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / self.epochs))

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def scale_epoch(epoch: int, from_epochs: int, to_epochs: int) -> int:
    """Map ``epoch`` of a ``from_epochs`` schedule onto a ``to_epochs`` schedule (rounded)."""
    return round(epoch * to_epochs / from_epochs)


CIFAR = Recipe(
    name="cifar",
    epochs=200,
    lr=0.1,
    momentum=0.9,
    weight_decay=2e-4,
    batch_size=128,
    warmup_epochs=5,
    schedule="step",
    milestones=(160, 180),
)
"""LDAM-DRW / CSL paper CIFAR recipe: 0.1 -> 1e-3 after epoch 160 -> 1e-5 after 180."""

CIFAR_IB = replace(CIFAR, name="cifar-ib", milestones=(100, 160, 180))
"""IB-Loss CIFAR recipe: 0.1 until epoch 100, then 1e-3, 1e-5 after 160, 1e-7 after 180."""

TINY_IMAGENET = Recipe(
    name="tiny-imagenet",
    epochs=200,
    lr=0.05,
    momentum=0.9,
    weight_decay=5e-4,
    batch_size=128,
    warmup_epochs=0,
    schedule="cosine",
)
"""CSL paper Sec. 4: ResNet-18, 224 px, batch 128, lr 0.05 cosine, wd 5e-4 (epochs not stated:
200 as for ImageNet-LT)."""

IMAGENET_LT = replace(TINY_IMAGENET, name="imagenet-lt", lr=0.01, batch_size=256)
"""CSL paper Sec. 4 and Table 3: ResNet-50, batch 256, lr 0.01 cosine, wd 5e-4, 200 epochs."""

RECIPES: dict[str, Recipe] = {r.name: r for r in (CIFAR, CIFAR_IB, TINY_IMAGENET, IMAGENET_LT)}

IB_LOSSES = frozenset({"ib", "ib-cb", "ib-focal"})


def recipe_for(dataset: str, loss: str) -> Recipe:
    """The paper's recipe for ``dataset`` trained with ``loss`` (IB losses use the IB recipe)."""
    if dataset in IN_MEMORY_DATASETS:
        return CIFAR_IB if loss in IB_LOSSES else CIFAR
    if dataset == "tiny-imagenet":
        return TINY_IMAGENET
    if dataset == "imagenet-lt":
        return IMAGENET_LT
    raise ValueError(f"no recipe for dataset {dataset!r}")
