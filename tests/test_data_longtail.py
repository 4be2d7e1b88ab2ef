"""Long-tail counts, the LDAM-DRW selection and shot groups (no pixels involved)."""

from __future__ import annotations

import numpy as np
import pytest

from cslnb.data import (
    CIFAR_CLASS_NAMES,
    cifar_lt_counts,
    long_tail_counts,
    select_long_tail_indices,
    shot_groups,
)


def test_cifar10_ir100_counts_match_ldam_drw() -> None:
    counts = cifar_lt_counts("cifar10", 100)
    assert counts == [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    assert sum(counts) == 12406


@pytest.mark.parametrize(
    ("name", "ratio", "total"),
    [
        ("cifar10", 100, 12406),
        ("cifar10", 50, 13996),
        ("cifar10", 10, 20431),
        ("cifar100", 100, 10847),
        ("cifar100", 50, 12608),
        ("cifar100", 10, 19573),
    ],
)
def test_published_totals(name: str, ratio: int, total: int) -> None:
    assert sum(cifar_lt_counts(name, ratio)) == total


def test_cifar100_ir200_counts_follow_the_formula() -> None:
    expected = [int(500 * (1 / 200) ** (c / 99)) for c in range(100)]
    counts = cifar_lt_counts("cifar100", 200)
    assert counts == expected
    assert counts[0] == 500
    assert counts[-1] == 2
    assert counts == sorted(counts, reverse=True)


def test_step_profile() -> None:
    assert cifar_lt_counts("cifar10", 100, "step") == [5000] * 5 + [50] * 5
    assert cifar_lt_counts("cifar100", 10, "step") == [500] * 50 + [50] * 50
    assert long_tail_counts(10, 5, 4, "step") == [10, 10, 2, 2, 2]


def test_ratio_one_is_balanced() -> None:
    assert long_tail_counts(7, 4, 1) == [7, 7, 7, 7]


@pytest.mark.parametrize("ratio", [0.5, 0, -3, float("nan")])
def test_ratio_below_one_is_rejected(ratio: float) -> None:
    with pytest.raises(ValueError, match="ratio must be >= 1"):
        long_tail_counts(5000, 10, ratio)


def test_unknown_imbalance_type_and_dataset() -> None:
    with pytest.raises(ValueError, match=r"unknown imb_type 'linear'.*exp, step"):
        long_tail_counts(5000, 10, 100, "linear")
    with pytest.raises(ValueError, match=r"unknown CIFAR dataset 'cifar11'.*cifar10, cifar100"):
        cifar_lt_counts("cifar11", 100)


def test_class_names_in_torchvision_order() -> None:
    assert CIFAR_CLASS_NAMES["cifar10"][:3] == ["airplane", "automobile", "bird"]
    assert CIFAR_CLASS_NAMES["cifar10"][-1] == "truck"
    names100 = CIFAR_CLASS_NAMES["cifar100"]
    assert len(names100) == 100
    assert len(set(names100)) == 100
    assert names100 == sorted(names100)  # CIFAR-100 fine labels are alphabetical
    assert names100[0] == "apple"
    assert names100[-1] == "worm"


def _cifar_like_labels() -> np.ndarray:
    labels = np.arange(50000) % 10
    np.random.default_rng(123).shuffle(labels)
    return labels


def _ldam_drw_reference(labels: np.ndarray, counts: list[int]) -> np.ndarray:
    """Transcription of LDAM-DRW's ``gen_imbalanced_data`` (global numpy RNG, seeded once)."""
    np.random.seed(0)  # noqa: NPY002 -- the reference uses the legacy global state on purpose
    kept = []
    for the_class, the_img_num in zip(np.unique(labels), counts, strict=True):
        idx = np.where(labels == the_class)[0]
        np.random.shuffle(idx)  # noqa: NPY002
        kept.append(idx[:the_img_num])
    return np.concatenate(kept)


@pytest.mark.parametrize("ratio", [100, 10])
def test_selection_equals_ldam_drw_reference(ratio: int) -> None:
    labels = _cifar_like_labels()
    counts = cifar_lt_counts("cifar10", ratio)
    chosen = select_long_tail_indices(labels, counts, seed=0)
    np.testing.assert_array_equal(chosen, _ldam_drw_reference(labels, counts))
    assert chosen.dtype == np.int64
    assert np.bincount(labels[chosen]).tolist() == counts
    assert len(np.unique(chosen)) == len(chosen)


def test_selection_is_nested_across_ratios() -> None:
    """Each class's shuffle is the same whatever n_c is, so smaller subsets are prefixes."""
    labels = _cifar_like_labels()
    per_ratio = {}
    for ratio in (10, 50, 100):
        counts = cifar_lt_counts("cifar10", ratio)
        chosen = select_long_tail_indices(labels, counts, seed=0)
        per_ratio[ratio] = np.split(chosen, np.cumsum(counts)[:-1])
    for c in range(10):
        ir10, ir50, ir100 = per_ratio[10][c], per_ratio[50][c], per_ratio[100][c]
        np.testing.assert_array_equal(ir50, ir10[: len(ir50)])
        np.testing.assert_array_equal(ir100, ir50[: len(ir100)])
        assert set(ir100) <= set(ir50) <= set(ir10)


def test_selection_is_deterministic_and_depends_on_seed() -> None:
    labels = _cifar_like_labels()
    counts = cifar_lt_counts("cifar10", 100)
    first = select_long_tail_indices(labels, counts, seed=0)
    np.testing.assert_array_equal(first, select_long_tail_indices(labels, counts, seed=0))
    other = select_long_tail_indices(labels, counts, seed=1)
    assert np.bincount(labels[other]).tolist() == counts
    assert not np.array_equal(first, other)


def test_selection_leaves_global_numpy_state_alone() -> None:
    np.random.seed(5)  # noqa: NPY002
    expected = np.random.random_sample()  # noqa: NPY002
    np.random.seed(5)  # noqa: NPY002
    select_long_tail_indices(_cifar_like_labels(), cifar_lt_counts("cifar10", 100))
    assert np.random.random_sample() == expected  # noqa: NPY002


def test_selection_rejects_counts_above_class_size() -> None:
    with pytest.raises(ValueError, match="class 1 has 2 samples, fewer than the 3"):
        select_long_tail_indices(np.array([0, 0, 0, 1, 1]), [3, 3])


def test_shot_groups_thresholds() -> None:
    assert shot_groups([101, 100, 20, 19, 5]) == ["many", "medium", "medium", "few", "few"]
    groups = shot_groups(cifar_lt_counts("cifar100", 100))
    assert (groups.count("many"), groups.count("medium"), groups.count("few")) == (35, 35, 30)
