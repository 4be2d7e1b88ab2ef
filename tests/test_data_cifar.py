"""CIFAR sources (image-folder trees, the torchvision folder), the decode cache and CIFAR-LT."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

import cslnb.data.cifar as cifar
from cslnb.data import (
    CIFAR_CLASS_NAMES,
    ImageArrays,
    build_cifar_lt,
    cifar_lt_counts,
    load_cifar_arrays,
    select_long_tail_indices,
)

PER_CLASS = {"train": 3, "test": 2}


def _pixels(split: str, c: int, i: int) -> np.ndarray:
    """A 32x32 image encoding (split, class, index) in flat colours: exact through PNG."""
    pixels = np.zeros((32, 32, 3), dtype=np.uint8)
    pixels[..., 0] = 10 * c
    pixels[..., 1] = 10 * i
    pixels[..., 2] = 100 if split == "train" else 200
    return pixels


@pytest.fixture
def fake_tree(tmp_path: Path, write_image) -> Path:
    """``<tmp>/data/cifar10/{train,test}/<class>/NNNN.png``, written in shuffled order."""
    root = tmp_path / "data"
    for split, n in PER_CLASS.items():
        for c, class_name in enumerate(CIFAR_CLASS_NAMES["cifar10"]):
            for i in reversed(range(n)):
                write_image(
                    root / "cifar10" / split / class_name / f"{i:04d}.png", _pixels(split, c, i)
                )
    return root


def _expected(split: str) -> tuple[np.ndarray, np.ndarray]:
    n = PER_CLASS[split]
    images = np.stack([_pixels(split, c, i) for c in range(10) for i in range(n)])
    return images.transpose(0, 3, 1, 2), np.repeat(np.arange(10), n)


def _recording_reader(calls: list) -> Callable[[str, Path, bool], dict[str, np.ndarray]]:
    """A stand-in for ``read_torchvision`` that records its calls and returns the test images."""

    def fake_read(name: str, root: Path, download: bool) -> dict[str, np.ndarray]:
        calls.append((name, root, download))
        images, labels = _expected("test")
        return {"train_images": images, "train_labels": labels,
                "test_images": images, "test_labels": labels}  # fmt: skip

    return fake_read


def test_image_folder_source_labels_and_order(fake_tree: Path, isolated_cache: Path) -> None:
    train, test, label = load_cifar_arrays("cifar10", root=fake_tree)
    for split, arrays in (("train", train), ("test", test)):
        images, labels = _expected(split)
        assert arrays.images.dtype == torch.uint8
        np.testing.assert_array_equal(arrays.labels.numpy(), labels)
        np.testing.assert_array_equal(arrays.images.numpy(), images)
    assert label == "image-folder"  # the kind only: records never name a machine's path


def test_root_may_be_the_tree_itself_or_come_from_env(
    fake_tree: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct, _, label = load_cifar_arrays(
        "cifar10", root=fake_tree / "cifar10", source="image-folder"
    )
    assert label == "image-folder"
    monkeypatch.setenv("CSLNB_DATA_DIR", str(fake_tree))
    from_env, _, _ = load_cifar_arrays("cifar10")
    assert torch.equal(direct.images, from_env.images)


def test_jpeg_tree_is_labelled_lossy(tmp_path: Path, isolated_cache: Path, write_image) -> None:
    for split in ("train", "test"):
        for c, class_name in enumerate(CIFAR_CLASS_NAMES["cifar10"]):
            write_image(tmp_path / split / class_name / "0000.jpg", _pixels(split, c, 0))
    train, _, label = load_cifar_arrays("cifar10", root=tmp_path)
    assert label == "image-folder (lossy JPEG copy)"
    assert train.labels.tolist() == list(range(10))


def test_decode_cache_is_hit_the_second_time(
    fake_tree: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _, _ = load_cifar_arrays("cifar10", root=fake_tree)
    cached = list(isolated_cache.glob("cifar10-image-folder-*.npz"))
    assert len(cached) == 1
    assert not [p for p in isolated_cache.iterdir() if p.suffix == ".tmp"]

    def no_decoding(*args: object) -> None:
        raise AssertionError("decoded again instead of reading the cache")

    monkeypatch.setattr(cifar, "decode_image_folder", no_decoding)
    second, _, _ = load_cifar_arrays("cifar10", root=fake_tree)
    assert torch.equal(first.images, second.images)
    assert torch.equal(first.labels, second.labels)


def test_decoding_shows_progress_only_when_asked(
    fake_tree: Path, isolated_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quiet, _, _ = load_cifar_arrays("cifar10", root=fake_tree, progress=False)
    assert capsys.readouterr().err == ""
    for cached in isolated_cache.iterdir():
        cached.unlink()
    shown, _, _ = load_cifar_arrays("cifar10", root=fake_tree)
    err = capsys.readouterr().err
    assert "decoding cifar10 train" in err and "decoding cifar10 test" in err
    assert torch.equal(quiet.images, shown.images)


def test_missing_class_folder_is_named(fake_tree: Path, isolated_cache: Path) -> None:
    (fake_tree / "cifar10" / "test" / "truck").rename(fake_tree / "cifar10" / "test" / "lorry")
    with pytest.raises(FileNotFoundError, match="class folder test/truck/"):
        load_cifar_arrays("cifar10", root=fake_tree)


def test_missing_dataset_explains_the_fix(tmp_path: Path, isolated_cache: Path) -> None:
    with pytest.raises(FileNotFoundError) as excinfo:
        load_cifar_arrays("cifar100", root=tmp_path)
    message = str(excinfo.value)
    assert "cifar-100-python" in message
    assert "download=True" in message
    assert "CSLNB_DOWNLOAD=1" in message
    assert "CSLNB_DATA_DIR" in message
    assert "cifar100/train" in message
    assert not isolated_cache.exists()


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown CIFAR dataset 'mnist'.*cifar10, cifar100"):
        load_cifar_arrays("mnist", root=tmp_path)
    with pytest.raises(ValueError, match="unknown source 'web'"):
        load_cifar_arrays("cifar10", root=tmp_path, source="web")
    with pytest.raises(ValueError, match="download=True"):
        load_cifar_arrays("cifar10", root=tmp_path, source="image-folder", download=True)
    with pytest.raises(ValueError, match="ratio must be >= 1"):
        build_cifar_lt("cifar10", ratio=0.5, root=tmp_path)


def test_auto_prefers_the_torchvision_folder(
    fake_tree: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (fake_tree / "cifar-10-batches-py").mkdir()
    calls: list = []
    monkeypatch.setattr(cifar, "read_torchvision", _recording_reader(calls))
    _, _, label = load_cifar_arrays("cifar10", root=fake_tree)
    assert label == "torchvision"
    assert calls == [("cifar10", fake_tree, False)]
    _, _, label = load_cifar_arrays("cifar10", root=fake_tree, source="image-folder")
    assert label.startswith("image-folder")


def test_download_env_var_fetches_only_what_is_missing(
    fake_tree: Path, tmp_path: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list = []
    monkeypatch.setattr(cifar, "read_torchvision", _recording_reader(calls))
    empty = tmp_path / "empty"
    empty.mkdir()

    monkeypatch.setenv("CSLNB_DOWNLOAD", "0")
    with pytest.raises(FileNotFoundError):
        load_cifar_arrays("cifar10", root=empty)
    assert calls == []

    monkeypatch.setenv("CSLNB_DOWNLOAD", "1")
    _, _, label = load_cifar_arrays("cifar10", root=empty)
    assert (label, calls) == ("torchvision", [("cifar10", empty, True)])
    _, _, label = load_cifar_arrays("cifar10", root=fake_tree)
    assert label.startswith("image-folder")
    assert len(calls) == 1, "a local image-folder copy must be used, not downloaded over"
    with pytest.raises(FileNotFoundError):
        load_cifar_arrays("cifar10", root=empty / "elsewhere", source="image-folder")
    assert len(calls) == 1


def test_build_cifar_lt_selects_ldam_drw_subset(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a CIFAR-shaped label vector with 1x1 images encoding each sample's index."""
    labels = np.arange(50000) % 10
    np.random.default_rng(7).shuffle(labels)
    index = np.arange(50000)
    codes = np.stack([index % 256, index // 256 % 256, index // 65536], axis=1)
    train = ImageArrays(
        torch.from_numpy(codes.astype(np.uint8)).view(-1, 3, 1, 1), torch.from_numpy(labels)
    )
    test = ImageArrays(torch.zeros(20, 3, 1, 1, dtype=torch.uint8), torch.arange(20) % 10)
    monkeypatch.setattr(cifar, "load_cifar_arrays", lambda *a, **k: (train, test, "fake"))

    data = build_cifar_lt("cifar10", ratio=50, seed=3)
    counts = cifar_lt_counts("cifar10", 50)
    expected = select_long_tail_indices(labels, counts, seed=3)
    got = data.train.images.view(-1, 3).long()
    decoded = got[:, 0] + 256 * got[:, 1] + 65536 * got[:, 2]
    np.testing.assert_array_equal(decoded.numpy(), expected)
    np.testing.assert_array_equal(data.train.labels.numpy(), labels[expected])
    assert data.class_counts == counts
    assert data.class_names == CIFAR_CLASS_NAMES["cifar10"]
    assert data.test is test
    assert data.source == "fake"
    assert data.meta == {"ratio": 50, "imb_type": "exp", "seed": 3}


def _real_cifar10() -> Path:
    override = os.environ.get("CSLNB_CIFAR10_FOLDER")
    return Path(override) if override else Path(__file__).parents[2] / "shared" / "data" / "cifar10"


@pytest.mark.slow
@pytest.mark.realdata
def test_real_copy_selects_the_ldam_drw_files(isolated_cache: Path) -> None:
    folder = _real_cifar10()
    if not (folder / "train").is_dir():
        pytest.skip(f"offline CIFAR-10 copy not found at {folder} (set CSLNB_CIFAR10_FOLDER)")
    from PIL import Image

    data = build_cifar_lt("cifar10", ratio=100, seed=0, root=folder)
    assert data.source == "image-folder (lossy JPEG copy)"
    # The committed quick records name this fingerprint: they were trained on this copy.
    assert data.fingerprint == (
        "sha256:1b85ea14a6ec6155c5ab9c4d5520788d09fc7bafbe268d330795b77a02215b13"
    )
    assert data.class_counts == [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    assert len(data.test) == 10000
    assert np.bincount(data.test.labels.numpy()).tolist() == [1000] * 10

    rng = np.random.RandomState(0)  # LDAM-DRW: one seed, one shuffle per class in label order
    start = 0
    for c, (name, n_c) in enumerate(zip(data.class_names, data.class_counts, strict=True)):
        order = np.arange(5000)
        rng.shuffle(order)
        assert (data.train.labels[start : start + n_c] == c).all()
        for j in (0, 1, n_c - 1):  # spot-check pixels against the expected files
            with Image.open(folder / "train" / name / f"{order[j]:04d}.jpg") as im:
                expected = torch.from_numpy(np.array(im.convert("RGB"))).permute(2, 0, 1)
            assert torch.equal(data.train.images[start + j], expected), (name, j)
        start += n_c
    assert start == len(data.train) == 12406
