"""Run-size profiles: the one place that decides how big every run is.

Three profiles exist:

* ``ci`` -- seconds on 2 CPU cores. Trains on the synthetic long-tailed dataset in place of
  CIFAR, with a tiny ResNet at 16x16 pixels. Used by the tests and by CI's notebook runs.
* ``quick`` -- about three minutes per CIFAR-10-LT run on 2 CPU cores, on real data. It keeps
  the full long-tailed training set and the recipe's step schedule (the x0.01 steps, the DRW
  and IB switch points at the same fractions of training: after epochs 32 and 36, DRW from
  epoch 33, IB from epoch 21) but *not* its warm-up: 5 warm-up epochs of 200 scale to
  ``round(5 * 40 / 200) = 1``, and a one-epoch warm-up runs epoch 1 at the full rate 0.1
  (:meth:`cslnb.train.recipes.Recipe.lr_at`), so ``quick`` has none. It reduces the
  arithmetic: images are down-sampled to 16x16 (4x fewer operations), the CIFAR ResNet has
  depth 8 (one block per stage) and twice the paper's width, training lasts 40 epochs with
  flips but no random crops, and evaluation runs on a fixed per-class subset of the balanced
  test split (200 images per class: about ±1.1 points of binomial error on CIFAR-10's
  accuracy, ±3.5 on one class's). The sizes were chosen by :mod:`cslnb.profile_search` (the
  candidate ``r8w32-16px-e40-flip``).
* ``paper`` -- the paper's recipe: ResNet-32 at 32x32, 200 epochs, batch 128, the full test split
  evaluated every 5 epochs (:data:`PAPER_EVAL_EVERY`). About 2.3 hours per CIFAR-10-LT IR 100
  run on one CPU core with bf16, two at a time on 2 cores; minutes on a GPU.

Select one with the ``CSLNB_PROFILE`` environment variable (default ``quick``) or by name.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Literal

PROFILE_ENV_VAR = "CSLNB_PROFILE"
DEFAULT_PROFILE = "quick"
PAPER_EPOCHS = 200
PAPER_EVAL_EVERY = 5
"""The ``paper`` profile evaluates the full test split every 5 epochs (and after the last one).
On 2 CPU cores one evaluation of ResNet-32 on the 10,000 test images takes about 10 s, a fifth of
a CIFAR-10-LT IR 100 epoch; every 5 epochs it is 5 %. Training is unchanged (evaluation draws no
random numbers), the loss's per-epoch traces (CSL's S, H, gamma, N_pred) are still recorded every
epoch, and 40 points per run draw the test-accuracy curves."""


@dataclass(frozen=True)
class Profile:
    """Sizes of a run; serialised as-is into every run record."""

    name: str
    epochs: int
    """Training epochs on CIFAR; recipe milestones are rescaled by ``epochs / 200``."""
    batch_size: int
    eval_every: int
    """Evaluate on the test split every this many epochs (the last epoch is always evaluated)."""
    image_size: int
    """CIFAR images are resized once, on load, to this side length (32 = native)."""
    cifar_depth: int
    """Depth 6n+2 of the CIFAR ResNet (32 = ResNet-32 of the paper, 8 = one block per stage)."""
    test_per_class: int | None
    """Evaluate on the first this-many test images of each class (None: the whole split)."""
    data: Literal["real", "synthetic"]
    """``synthetic`` substitutes the synthetic long-tailed dataset for CIFAR (same class count)."""
    large_epochs: int
    """Training epochs for Tiny-ImageNet-LT and ImageNet-LT."""
    large_image_size: int
    """Input side for Tiny-ImageNet-LT and ImageNet-LT (the paper: 224)."""
    cifar_width: int = 16
    """Channels of the CIFAR ResNet's first stage (16 as in He et al.; stages double it)."""
    crop_padding: int | None = None
    """Zero padding (pixels) of the random-crop augmentation on CIFAR: None for the recipe's
    ``image_size // 8`` (4 px at 32x32), 0 for horizontal flips only."""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def matches(self, stored: dict[str, object]) -> bool:
        """Whether ``stored`` (a run record's ``profile``) is this very definition.

        A field missing from ``stored`` was added to :class:`Profile` after the record was
        written; the run used that field's default, so the default stands in for it.
        """
        defaults = {f.name: f.default for f in fields(self) if f.default is not MISSING}
        return {**defaults, **stored} == self.to_dict()


PROFILES: dict[str, Profile] = {
    "ci": Profile(
        name="ci",
        epochs=4,
        batch_size=64,
        eval_every=1,
        image_size=16,
        cifar_depth=8,
        test_per_class=20,
        data="synthetic",
        large_epochs=1,
        large_image_size=32,
    ),
    "quick": Profile(
        name="quick",
        epochs=40,
        batch_size=128,
        eval_every=8,
        image_size=16,
        cifar_depth=8,
        test_per_class=200,
        data="real",
        large_epochs=2,
        large_image_size=64,
        cifar_width=32,
        crop_padding=0,
    ),
    "paper": Profile(
        name="paper",
        epochs=PAPER_EPOCHS,
        batch_size=128,
        eval_every=PAPER_EVAL_EVERY,
        image_size=32,
        cifar_depth=32,
        test_per_class=None,
        data="real",
        large_epochs=200,
        large_image_size=224,
    ),
}

BUILTIN_PROFILES = frozenset(PROFILES)


def register_profile(profile: Profile) -> None:
    """Make ``profile`` known by its name in this process (for candidate profiles under study,
    see :mod:`cslnb.profile_search`); the three built-in names cannot be redefined."""
    if profile.name in BUILTIN_PROFILES:
        raise ValueError(f"the built-in profile {profile.name!r} cannot be redefined")
    PROFILES[profile.name] = profile


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``, else the one named by ``$CSLNB_PROFILE`` (default quick)."""
    chosen = name if name is not None else os.environ.get(PROFILE_ENV_VAR, DEFAULT_PROFILE)
    try:
        return PROFILES[chosen]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown profile {chosen!r}; choose one of: {known}") from None
