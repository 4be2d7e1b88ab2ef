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

On Tiny-ImageNet-LT and ImageNet-LT (the ``large_*`` fields; batch size and learning rate are the
recipe's, :mod:`cslnb.train.recipes`) ``paper`` keeps the paper's ResNet-18 / ResNet-50 at
224 px with random resized crops for 200 epochs, a GPU setting (about 40 CPU-hours per Tiny run
here). ``quick`` on Tiny-ImageNet-LT at ratio 100 (21,549 training images, the full 10,000-image
val split as test split) is sized for one core of the 2-core machine, two runs side by side, as
the CIFAR ``quick`` runs are (the same fields size ImageNet-LT under ``quick``, which is not meant
for a CPU):

* **network:** the paper's ResNet-18 (torchvision's, with its ImageNet stem: 7x7 stride-2 conv
  and 3x3 stride-2 max-pool);
* **input:** the 64x64 images resized once to 32x32;
* **augmentation:** horizontal flips only (``large_augmentation="flip"``), evaluation on the whole
  image;
* **epochs:** 12 of the paper's Tiny recipe (batch 128, lr 0.05 with cosine decay, weight decay
  5e-4), test accuracy at epochs 8 and 12 (``eval_every``), CSL's traces every epoch.

How it was chosen (:mod:`cslnb.tiny_search`, shown in the book's appendix; 2026-12-06, one
Intel Xeon with AMX): the step times of ResNet-18 at 64 px, of ResNet-18 at 32 px and of the
paper's CIFAR ResNet-32 at 32 px (one thread, two processes side by side on idle cores) project
47, 19 and 15 minutes for runs of 15, 12 and 15 epochs, so the native 64 px is out. Screening
runs of CE (seed 0, one thread each, the two 32 px candidates side by side) then took 26.7 and
25.2 minutes: the trainer's data loading, evaluation and bookkeeping add about 40 % to the bare
steps. ResNet-18 at 32 px for 12 epochs ended at 60.3 % training accuracy and 12.47 % test
accuracy, with 52 of the 200 classes never predicted on the val split; ResNet-32 at 32 px for 15
epochs at 39.7 % and 14.45 %, with 78 classes never predicted. The first fits its training set
far better, on the paper's own network, so it is ``quick``; its seed-0 Table 4 runs (CE and the
paper reading side by side) took 19.5 and 19.3 minutes, so the screening run paid about 7 minutes
to a busier machine. No CPU setting of about 20 minutes
lets CE fit most of its training set here (CE on CIFAR ``quick`` ends at 98 %): a Tiny
``quick`` run is an early-training snapshot, in which many small classes are not yet predicted
at all by any method. ``--channels-last on`` is needed because ``auto`` enables it only from
5,000 steps (a 12-epoch Tiny run has 2,028).

Select one with the ``CSLNB_PROFILE`` environment variable (default ``quick``) or by name.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, Literal

PROFILE_ENV_VAR = "CSLNB_PROFILE"
DEFAULT_PROFILE = "quick"
PAPER_EPOCHS = 200
PAPER_EVAL_EVERY = 5
"""The ``paper`` profile evaluates the full test split every 5 epochs (and after the last one).
On 2 CPU cores one evaluation of ResNet-32 on the 10,000 test images takes about 10 s, a fifth of
a CIFAR-10-LT IR 100 epoch; every 5 epochs it is 5 %. Training is unchanged (evaluation draws no
random numbers), the loss's per-epoch traces (CSL's S, H, gamma, N_pred) are still recorded every
epoch, and 40 points per run draw the test-accuracy curves."""


PAPER_LARGE_MODELS = {"tiny-imagenet": "resnet18", "imagenet-lt": "resnet50"}
"""The paper's network on each large dataset (its Section 4.1)."""

IN_MEMORY, FOLDER = "in-memory", "folder"
"""The two families of datasets a profile sizes: the in-memory ones (CIFAR-10/100-LT and the
synthetic stand-in) and the folder ones (Tiny-ImageNet-LT, ImageNet-LT)."""
FOLDER_DATASETS = ("tiny-imagenet", "imagenet-lt")


def dataset_family(dataset: str) -> str:
    """``folder`` for Tiny-ImageNet-LT and ImageNet-LT, ``in-memory`` for every other dataset."""
    return FOLDER if dataset in FOLDER_DATASETS else IN_MEMORY


def _for(family: str, **kwargs: object) -> Any:
    """A dataclass field that sizes only the runs of ``family`` (``metadata["family"]``)."""
    return field(metadata={"family": family}, **kwargs)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Profile:
    """Sizes of a run; serialised as-is into every run record.

    Most fields size one family of datasets only (:func:`dataset_family`): ``epochs``,
    ``image_size``, ``cifar_*``, ``test_per_class``, ``data``, ``crop_padding`` and
    ``batch_size`` the in-memory ones, ``large_*`` the folder ones (whose batch size is the
    recipe's); ``name`` and ``eval_every`` apply to both. :meth:`matches` compares only the
    fields that apply to a record's dataset, so redefining ``quick`` for Tiny-ImageNet-LT leaves
    its CIFAR records current, and the other way round.
    """

    name: str
    epochs: int = _for(IN_MEMORY)
    """Training epochs on CIFAR; recipe milestones are rescaled by ``epochs / 200``."""
    batch_size: int = _for(IN_MEMORY)
    """Batch size on CIFAR (the large datasets use their recipe's)."""
    eval_every: int
    """Evaluate on the test split every this many epochs (the last epoch is always evaluated)."""
    image_size: int = _for(IN_MEMORY)
    """CIFAR images are resized once, on load, to this side length (32 = native)."""
    cifar_depth: int = _for(IN_MEMORY)
    """Depth 6n+2 of the CIFAR ResNet (32 = ResNet-32 of the paper, 8 = one block per stage)."""
    test_per_class: int | None = _for(IN_MEMORY)
    """Evaluate on the first this-many test images of each class (None: the whole split)."""
    data: Literal["real", "synthetic"] = _for(IN_MEMORY)
    """``synthetic`` substitutes the synthetic long-tailed dataset for CIFAR (same class count)."""
    large_epochs: int = _for(FOLDER)
    """Training epochs for Tiny-ImageNet-LT and ImageNet-LT."""
    large_image_size: int = _for(FOLDER)
    """Input side for Tiny-ImageNet-LT and ImageNet-LT (the paper: 224)."""
    cifar_width: int = _for(IN_MEMORY, default=16)
    """Channels of the CIFAR ResNet's first stage (16 as in He et al.; stages double it)."""
    crop_padding: int | None = _for(IN_MEMORY, default=None)
    """Zero padding (pixels) of the random-crop augmentation on CIFAR: None for the recipe's
    ``image_size // 8`` (4 px at 32x32), 0 for horizontal flips only."""
    large_model: str | None = _for(FOLDER, default=None)
    """Network on Tiny-ImageNet-LT and ImageNet-LT: None for the paper's (ResNet-18 and
    ResNet-50, :data:`PAPER_LARGE_MODELS`), or a CIFAR ResNet name (``resnet32``: the paper's
    CIFAR network, stride-1 stem, width 16) trained on the large dataset's images."""
    large_augmentation: Literal["resized-crop", "flip"] = _for(FOLDER, default="resized-crop")
    """Augmentation on Tiny-ImageNet-LT and ImageNet-LT (:mod:`cslnb.data.transforms`):
    ``resized-crop`` the ImageNet recipe's random resized crops and flips, ``flip`` the whole
    image, flipped at random."""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def fields_for(self, dataset: str) -> list[str]:
        """Names of the fields that size runs on ``dataset`` (those of its family and the
        shared ones)."""
        family = dataset_family(dataset)
        return [f.name for f in fields(self) if f.metadata.get("family", family) == family]

    def matches(self, stored: dict[str, object], dataset: str) -> bool:
        """Whether ``stored`` (the ``profile`` of a run record on ``dataset``) is this very
        definition, as far as it sizes runs on ``dataset``.

        A field missing from ``stored`` was added to :class:`Profile` after the record was
        written; the run used that field's default, so the default stands in for it.
        """
        defaults = {f.name: f.default for f in fields(self) if f.default is not MISSING}
        stored = {**defaults, **stored}
        current = self.to_dict()
        return all(
            name in stored and stored[name] == current[name] for name in self.fields_for(dataset)
        )


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
        large_epochs=12,
        large_image_size=32,
        cifar_width=32,
        crop_padding=0,
        large_augmentation="flip",
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
