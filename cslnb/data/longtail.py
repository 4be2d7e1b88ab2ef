"""The long-tailed subsampling of a balanced dataset, as defined by LDAM-DRW.

Cao et al., *Learning Imbalanced Datasets with Label-Distribution-Aware Margin Loss*, NeurIPS
2019 (reference code ``kaidic/LDAM-DRW``, ``imbalance_cifar.py``) define CIFAR-10-LT and
CIFAR-100-LT; the same profile is used for Tiny-ImageNet-LT. Everything here works on counts and
label vectors only, so counts, class names and shot groups are available without any pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

IMBALANCE_TYPES = ("exp", "step")

CIFAR10_CLASS_NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]

CIFAR100_CLASS_NAMES = [
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle",
    "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle",
    "caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch",
    "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox",
    "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion",
    "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse", "mushroom",
    "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
    "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road",
    "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake",
    "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank",
    "telephone", "television", "tiger", "tractor", "train", "trout", "tulip", "turtle",
    "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
]  # fmt: skip

CIFAR_CLASS_NAMES: dict[str, list[str]] = {
    "cifar10": CIFAR10_CLASS_NAMES,
    "cifar100": CIFAR100_CLASS_NAMES,
}
"""Class names of each CIFAR dataset in label order (torchvision's ``classes``)."""

CIFAR_TRAIN_PER_CLASS: dict[str, int] = {"cifar10": 5000, "cifar100": 500}
"""Training images per class of the balanced CIFAR datasets: ``n_max`` of the long tail."""


def check_cifar_name(name: str) -> str:
    """Return ``name`` if it is a known CIFAR dataset, else raise ``ValueError`` listing them."""
    if name not in CIFAR_CLASS_NAMES:
        known = ", ".join(sorted(CIFAR_CLASS_NAMES))
        raise ValueError(f"unknown CIFAR dataset {name!r}; choose one of: {known}")
    return name


def long_tail_counts(
    n_max: int, num_classes: int, ratio: float, imb_type: str = "exp"
) -> list[int]:
    """Training images per class of a long-tailed profile with imbalance ratio ``ratio``.

    * ``exp`` (Cao et al. 2019): ``n_c = int(n_max * (1 / ratio) ** (c / (C - 1)))`` for class
      ``c = 0..C-1``, so the head keeps ``n_max`` and the tail ``int(n_max / ratio)``.
    * ``step`` (Cao et al. 2019): the first ``C // 2`` classes keep ``n_max``, the others get
      ``int(n_max * (1 / ratio))``.

    ``int`` truncates, exactly as in LDAM-DRW. ``ratio`` is ``n_max / n_min`` and must be >= 1.
    """
    if not ratio >= 1:
        raise ValueError(
            f"imbalance ratio must be >= 1 (it is n_max / n_min, e.g. 100), got {ratio!r}"
        )
    if n_max < 1 or num_classes < 1:
        raise ValueError(f"n_max and num_classes must be >= 1, got {n_max} and {num_classes}")
    if imb_type == "exp":
        if num_classes == 1:
            return [int(n_max)]
        return [int(n_max * (1 / ratio) ** (c / (num_classes - 1))) for c in range(num_classes)]
    if imb_type == "step":
        head = num_classes // 2
        return [int(n_max)] * head + [int(n_max * (1 / ratio))] * (num_classes - head)
    raise ValueError(f"unknown imb_type {imb_type!r}; choose one of: {', '.join(IMBALANCE_TYPES)}")


def cifar_lt_counts(name: str, ratio: float, imb_type: str = "exp") -> list[int]:
    """Per-class training counts of CIFAR-10-LT / CIFAR-100-LT (``n_max`` = 5000 / 500)."""
    check_cifar_name(name)
    return long_tail_counts(
        CIFAR_TRAIN_PER_CLASS[name], len(CIFAR_CLASS_NAMES[name]), ratio, imb_type
    )


def select_long_tail_indices(
    labels: np.ndarray, counts: Sequence[int], seed: int = 0
) -> np.ndarray:
    """Indices of the long-tailed subset of a dataset with labels ``labels``, as LDAM-DRW draws it.

    One ``RandomState(seed)`` (the same stream as ``np.random.seed(seed)``) is used for all
    classes: for ``c = 0..C-1`` the indices with ``labels == c`` (in dataset order) are shuffled
    and the first ``counts[c]`` kept; the result concatenates the classes in label order.
    Since every class's shuffle consumes the same randomness whatever ``counts`` is, the subsets
    of smaller counts are prefixes of those of larger ones (nested across ratios).
    """
    labels = np.asarray(labels)
    rng = np.random.RandomState(seed)
    chosen = []
    for c, n_c in enumerate(counts):
        idx = np.flatnonzero(labels == c)
        if n_c > len(idx):
            raise ValueError(f"class {c} has {len(idx)} samples, fewer than the {n_c} requested")
        rng.shuffle(idx)
        chosen.append(idx[:n_c])
    return np.concatenate(chosen).astype(np.int64) if chosen else np.zeros(0, dtype=np.int64)


def shot_groups(counts: Sequence[int], many_above: int = 100, few_below: int = 20) -> list[str]:
    """``"many"`` / ``"medium"`` / ``"few"`` per class from its training count.

    Thresholds of ImageNet-LT (Liu et al., *Large-Scale Long-Tailed Recognition in an Open World*,
    CVPR 2019): many-shot ``n > 100``, few-shot ``n < 20``, medium-shot ``20 <= n <= 100``.
    """
    return ["many" if n > many_above else "few" if n < few_below else "medium" for n in counts]
