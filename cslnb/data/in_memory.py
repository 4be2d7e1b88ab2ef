"""The in-memory dataset of a run, sized by its :class:`~cslnb.profiles.Profile`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cslnb.data.cifar import build_cifar_lt
from cslnb.data.longtail import CIFAR_CLASS_NAMES
from cslnb.data.preprocess import resize_images, take_per_class
from cslnb.data.synthetic import make_synthetic_lt
from cslnb.data.types import ImageArrays, LongTailArrays
from cslnb.profiles import Profile

IN_MEMORY_DATASETS = ("cifar10", "cifar100", "synthetic")
SYNTHETIC_N_MAX = {10: 200, 100: 50}
"""Head-class size of the synthetic stand-in, by class count (small: seconds per epoch on CPU)."""
SYNTHETIC_TEST_PER_CLASS = 20


def build_in_memory_dataset(
    name: str,
    ratio: float,
    imb_type: str,
    seed: int,
    profile: Profile,
    root: str | Path | None = None,
    source: str = "auto",
    download: bool = False,
    progress: bool = True,
) -> LongTailArrays:
    """``name`` ("cifar10", "cifar100" or "synthetic") long-tailed with ``ratio``, as ``profile``
    sizes it.

    ``profile.data == "synthetic"`` (or ``name == "synthetic"``) gives :func:`make_synthetic_lt`
    with the class count of the named CIFAR (10 for "synthetic"). Otherwise CIFAR-LT from
    :func:`build_cifar_lt`, resized once to ``profile.image_size`` and with the test split cut to
    the first ``profile.test_per_class`` images of each class. ``download=True`` lets
    torchvision fetch CIFAR when no local copy is found (needs internet); ``progress`` shows the
    progress of decoding an image-folder copy.
    """
    if name not in IN_MEMORY_DATASETS:
        raise ValueError(
            f"unknown in-memory dataset {name!r}; choose one of: {', '.join(IN_MEMORY_DATASETS)}"
        )
    if name == "synthetic" or profile.data == "synthetic":
        num_classes = len(CIFAR_CLASS_NAMES.get(name, CIFAR_CLASS_NAMES["cifar10"]))
        return make_synthetic_lt(
            num_classes=num_classes,
            n_max=SYNTHETIC_N_MAX[num_classes],
            ratio=ratio,
            image_size=profile.image_size,
            test_per_class=profile.test_per_class or SYNTHETIC_TEST_PER_CLASS,
            seed=seed,
            imb_type=imb_type,
        )
    data = build_cifar_lt(
        name,
        ratio=ratio,
        imb_type=imb_type,
        seed=seed,
        root=root,
        source=source,
        download=download,
        progress=progress,
    )
    test = take_per_class(data.test, profile.test_per_class)
    return replace(
        data,
        train=ImageArrays(resize_images(data.train.images, profile.image_size), data.train.labels),
        test=ImageArrays(resize_images(test.images, profile.image_size), test.labels),
        meta={
            **data.meta,
            "image_size": profile.image_size,
            "test_per_class": profile.test_per_class,
        },
    )
