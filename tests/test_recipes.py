import math

import pytest

from cslnb.train.recipes import CIFAR, CIFAR_IB, IMAGENET_LT, recipe_for, scale_epoch


@pytest.mark.parametrize(
    ("epoch", "lr"),
    [(1, 0.02), (2, 0.04), (5, 0.1), (6, 0.1), (160, 0.1), (161, 1e-3), (180, 1e-3), (181, 1e-5)],
)
def test_cifar_schedule_matches_ldam_drw_recipe(epoch, lr):
    assert CIFAR.lr_at(epoch) == pytest.approx(lr, rel=1e-12)


@pytest.mark.parametrize(
    ("epoch", "lr"), [(5, 0.1), (100, 0.1), (101, 1e-3), (161, 1e-5), (181, 1e-7)]
)
def test_ib_schedule(epoch, lr):
    assert CIFAR_IB.lr_at(epoch) == pytest.approx(lr, rel=1e-12)


def test_cosine_schedule_endpoints():
    assert IMAGENET_LT.lr_at(1) == pytest.approx(0.01)
    mid = IMAGENET_LT.lr_at(101)
    assert mid == pytest.approx(0.01 * 0.5 * (1 + math.cos(math.pi * 100 / 200)))
    assert IMAGENET_LT.lr_at(200) < 1e-5


def test_scaled_recipe_keeps_shape():
    short = CIFAR.scaled(12)
    assert short.epochs == 12
    assert short.milestones == (10, 11)  # 160 * 12 / 200 = 9.6, 180 * 12 / 200 = 10.8
    assert short.warmup_epochs == 0
    assert short.drw_epoch == 10
    assert CIFAR_IB.scaled(20).ib_start_epoch == 10
    assert CIFAR.scaled(200) is CIFAR
    assert scale_epoch(160, 200, 4) == 3


def test_recipe_errors():
    with pytest.raises(ValueError, match=r"epoch must be in 1\.\.200"):
        CIFAR.lr_at(0)
    with pytest.raises(ValueError, match="no recipe"):
        recipe_for("mnist", "ce")
    assert recipe_for("cifar10", "ib-cb") is CIFAR_IB
