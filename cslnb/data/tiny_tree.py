"""Which Tiny-ImageNet training tree is on disk, and the long-tailed training samples it gives.

Two kinds of ``train/`` tree are accepted:

* ``full`` -- every class folder holds all ``n_max`` images of the standard release (500). The
  long tail is drawn from it as LDAM-DRW draws CIFAR-LT (:func:`select_long_tail_indices` over
  each class's files sorted by name), so any ratio and subset seed can be had.
* ``long-tail`` -- each class folder already holds only the ``n_c`` images of one long tail (the
  offline archive ``tiny-imagenet-200-lt-r100-s0``). Its counts must equal the requested profile
  ``long_tail_counts(n_max, C, ratio, imb_type)`` and its files must be the very ones the
  requested subset seed draws from the full set; nothing is drawn a second time.

The second check relies on the release's file names, ``<wnid>_<k>.JPEG`` for ``k = 0..n_max-1``:
the full class is rebuilt from those names, the draw is replayed on it, and the files it keeps
are compared with those present. Samples of both kinds come in the draw's order, so a run on the
long-tail tree sees the same images in the same order as a run on the full tree.

Any other tree (missing classes, a ratio or seed it was not cut for, a partial copy) raises
:class:`TinyTreeError` saying what was found and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from cslnb.data.longtail import long_tail_counts, select_long_tail_indices

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")
TINY_TRAIN_PER_CLASS = 500
"""Training images per class of the standard Tiny-ImageNet-200 release: ``n_max`` of its tail."""
FULL, LONG_TAIL = "full", "long-tail"
TREE_KINDS = (FULL, LONG_TAIL)
TREE_HINT = (
    "A full tiny-imagenet-200 tree (downloaded where there is internet) serves every ratio and "
    "subset seed; the offline archive tiny-imagenet-200-lt-r100-s0 serves only ratio 100 (exp), "
    "subset seed 0"
)


class TinyTreeError(ValueError):
    """The Tiny-ImageNet tree on disk cannot give the requested long-tailed split."""


@dataclass(frozen=True)
class TinyTrainSplit:
    """The long-tailed training samples read from a tree of kind ``kind`` (``full`` or
    ``long-tail``), in the draw's order, with the per-class counts ``counts``."""

    kind: str
    samples: list[tuple[Path, int]]
    counts: list[int]


def brief(items: list[str], limit: int = 5) -> str:
    """The first ``limit`` of ``items``, comma-separated, with the total when some are left out."""
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def list_class_files(train_dir: Path, classes: list[str]) -> list[list[Path]]:
    """Image files of ``train_dir/<wnid>/images/`` per class, sorted by name; raises when class
    folders are missing (naming them) or when ``train_dir`` has folders of unknown classes."""
    if not train_dir.is_dir():
        raise FileNotFoundError(f"missing Tiny-ImageNet training folder {train_dir}")
    present = {p.name for p in train_dir.iterdir() if p.is_dir()}
    missing = [wnid for wnid in classes if not (train_dir / wnid / "images").is_dir()]
    extra = sorted(present - set(classes))
    problems = []
    if missing:
        problems.append(f"no <wnid>/images/ folder for {brief(missing)}")
    if extra:
        problems.append(f"folders of classes absent from wnids.txt: {brief(extra)}")
    if problems:
        raise TinyTreeError(
            f"{train_dir} does not hold the {len(classes)} classes of wnids.txt (a partial "
            f"tree?): {'; '.join(problems)}. {TREE_HINT}"
        )
    return [
        sorted(
            p for p in (train_dir / wnid / "images").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
        )
        for wnid in classes
    ]


def read_train_split(
    train_dir: Path,
    classes: list[str],
    ratio: float,
    imb_type: str,
    seed: int,
    n_max: int,
) -> TinyTrainSplit:
    """The long-tailed training split (profile ``long_tail_counts(n_max, C, ratio, imb_type)``,
    subset ``seed``) of the tree ``train_dir``, whichever kind it is (see the module docstring)."""
    per_class = list_class_files(train_dir, classes)
    found = [len(files) for files in per_class]
    expected = long_tail_counts(n_max, len(classes), ratio, imb_type)
    if all(n == n_max for n in found):
        flat = [(path, c) for c, files in enumerate(per_class) for path in files]
        labels = np.array([c for _, c in flat], dtype=np.int64)
        chosen = select_long_tail_indices(labels, expected, seed)
        return TinyTrainSplit(FULL, [flat[i] for i in chosen], expected)
    if found != expected:
        raise TinyTreeError(_count_mismatch(train_dir, classes, found, expected, ratio, imb_type))
    samples = _replay_draw(train_dir, classes, per_class, expected, seed, n_max, ratio)
    return TinyTrainSplit(LONG_TAIL, samples, expected)


def _count_mismatch(
    train_dir: Path,
    classes: list[str],
    found: list[int],
    expected: list[int],
    ratio: float,
    imb_type: str,
) -> str:
    n_max = expected[0]
    first = next(c for c, (a, b) in enumerate(zip(found, expected, strict=True)) if a != b)
    falling = all(a >= b for a, b in pairwise(found)) and found[-1] > 0
    guess = (
        f" Its counts fall from {found[0]} to {found[-1]}: a long tail cut for ratio "
        f"{found[0] / found[-1]:g} or for another imb_type?"
        if falling and found[0] != found[-1]
        else ""
    )
    return (
        f"{train_dir} is neither a full Tiny-ImageNet training tree ({n_max} images in each of "
        f"the {len(classes)} classes) nor the {imb_type!r} long tail at ratio {ratio:g} "
        f"({expected[0]} ... {expected[-1]} images per class, {sum(expected)} in all): it holds "
        f"{sum(found)} images, {min(found)} to {max(found)} per class, and class {classes[first]} "
        f"(label {first}) has {found[first]} where that profile has "
        f"{expected[first]}.{guess} {TREE_HINT}"
    )


def _replay_draw(
    train_dir: Path,
    classes: list[str],
    per_class: list[list[Path]],
    counts: list[int],
    seed: int,
    n_max: int,
    ratio: float,
) -> list[tuple[Path, int]]:
    """The present files in the order the draw of ``seed`` keeps them from the full class
    (rebuilt from the release's names ``<wnid>_<k><suffix>``); raises when other files are
    present."""
    suffixes = {p.suffix for files in per_class for p in files}
    suffix = suffixes.pop() if len(suffixes) == 1 else ".JPEG"
    full = [sorted(f"{wnid}_{k}{suffix}" for k in range(n_max)) for wnid in classes]
    labels = np.repeat(np.arange(len(classes), dtype=np.int64), n_max)
    chosen = select_long_tail_indices(labels, counts, seed)
    drawn: list[list[str]] = [[] for _ in classes]
    for index in chosen.tolist():
        drawn[index // n_max].append(full[index // n_max][index % n_max])
    for c, files in enumerate(per_class):
        strays = sorted({path.name for path in files} - set(drawn[c]))
        if strays:
            raise TinyTreeError(
                f"{train_dir} holds the counts of the ratio-{ratio:g} long tail, but not the "
                f"images that subset seed {seed} draws from the full set: class {classes[c]} has "
                f"{len(strays)} of its {len(files)} files outside that draw (e.g. {strays[0]}). "
                f"The tree was cut for another subset seed, or its files are not named "
                f"<wnid>_<k>{suffix} as in the release. {TREE_HINT}"
            )
    return [
        (train_dir / wnid / "images" / name, c)
        for c, (wnid, names) in enumerate(zip(classes, drawn, strict=True))
        for name in names
    ]
