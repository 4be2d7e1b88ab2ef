"""Check a run's whole configuration before any data is read.

Decoding CIFAR takes a minute and a large dataset much longer, so a typo in a loss name or option
must not cost that: :func:`check_run_config` builds the loss on stand-in class counts of the
right class count (the loss factories check names, options and option values) and checks the
data source, so every configuration error surfaces first.
"""

from __future__ import annotations

import math

from cslnb.data.cifar import SOURCES
from cslnb.data.longtail import long_tail_counts
from cslnb.losses import build_loss
from cslnb.profiles import get_profile
from cslnb.train.config import FOLDER_DATASETS, RunConfig

NUM_CLASSES = {
    "cifar10": 10,
    "cifar100": 100,
    "synthetic": 10,
    "tiny-imagenet": 200,
    "imagenet-lt": 1000,
}
"""Class count of each dataset (the shape of the stand-in counts the loss is built on)."""
STAND_IN_N_MAX = 1000


def stand_in_counts(config: RunConfig) -> list[int]:
    """Long-tailed class counts with the dataset's class count and the run's ratio (every class
    keeps at least one image), for building the loss before the real counts are known."""
    n_max = max(STAND_IN_N_MAX, math.ceil(config.ratio))
    return long_tail_counts(n_max, NUM_CLASSES[config.dataset], config.ratio, config.imb_type)


def check_run_config(config: RunConfig) -> None:
    """Raise ``ValueError`` / ``TypeError`` for any configuration error of ``config``, reading
    no data.

    ``RunConfig`` itself checks the dataset, ratio, imbalance type and precision; here: the
    profile exists, the source is known (in-memory datasets), and the loss builds with its
    options.
    """
    get_profile(config.profile)
    if config.dataset not in FOLDER_DATASETS and config.source not in SOURCES:
        raise ValueError(f"unknown source {config.source!r}; choose one of: {', '.join(SOURCES)}")
    build_loss(config.loss, stand_in_counts(config), **config.loss_options)
