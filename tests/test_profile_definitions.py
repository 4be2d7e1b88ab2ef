"""Profiles keep their meaning: bf16 on capable CPUs, and no record of an old definition."""

from dataclasses import replace

import pytest
import torch

from cslnb.profile_search import QUICK_V1
from cslnb.profiles import PROFILES, get_profile, register_profile
from cslnb.records import (
    StaleRecordError,
    load_records,
    profile_is_current,
    record_path,
    write_json_atomic,
)
from cslnb.train import device as device_module
from cslnb.train.device import cpu_supports_bf16, pick_precision

CPU = torch.device("cpu")


@pytest.fixture
def cpu_features(monkeypatch):
    """Set what the CPU feature probes answer; the cached probe runs again afterwards."""

    def set_features(avx512_bf16: bool, amx: bool) -> None:
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
        cpu_supports_bf16.cache_clear()

    yield set_features
    cpu_supports_bf16.cache_clear()


@pytest.mark.parametrize(
    ("avx512_bf16", "amx", "expected"),
    [(True, False, torch.bfloat16), (False, True, torch.bfloat16), (False, False, None)],
)
def test_auto_precision_on_cpu_follows_the_hardware(cpu_features, avx512_bf16, amx, expected):
    cpu_features(avx512_bf16, amx)
    precision = pick_precision(CPU, "auto")
    assert precision.dtype == expected
    assert not precision.use_scaler
    assert precision.label == ("bfloat16" if expected else "fp32")


def test_explicit_precision_on_cpu_ignores_the_probe(cpu_features):
    cpu_features(True, True)
    assert pick_precision(CPU, "off").dtype is None
    cpu_features(False, False)
    assert pick_precision(CPU, "bf16").dtype == torch.bfloat16


def test_a_build_without_the_probes_falls_back_to_fp32(monkeypatch):
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported")
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported")
    cpu_supports_bf16.cache_clear()
    try:
        assert pick_precision(CPU, "auto").dtype is None
    finally:
        monkeypatch.undo()
        cpu_supports_bf16.cache_clear()


def test_the_probe_runs_once(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: calls.append(1) or True)
    cpu_supports_bf16.cache_clear()
    try:
        for _ in range(3):
            device_module.pick_precision(CPU, "auto")
        assert calls == [1]
    finally:
        cpu_supports_bf16.cache_clear()


def test_a_stored_profile_matches_only_its_own_definition():
    ci = get_profile("ci")
    stored = ci.to_dict()
    assert ci.matches(stored, "cifar10")
    # a record written before cifar_width existed used its default, 16
    older = {k: v for k, v in stored.items() if k != "cifar_width"}
    assert ci.matches(older, "cifar10")
    assert not ci.matches({**stored, "epochs": ci.epochs + 1}, "cifar10")
    assert not ci.matches({**older, "cifar_width": 32}, "cifar10")
    assert not get_profile("paper").matches(stored, "cifar10")
    # the records of quick's first definition (written before cifar_width and crop_padding)
    first_quick = {
        key: value
        for key, value in QUICK_V1.to_dict().items()
        if key not in ("cifar_width", "crop_padding")
    }
    assert QUICK_V1.matches(first_quick, "cifar10")
    assert not get_profile("quick").matches(first_quick, "cifar10")


def test_each_dataset_family_is_sized_by_its_own_fields():
    quick = get_profile("quick")
    assert quick.fields_for("cifar10") == quick.fields_for("synthetic") == [
        "name", "epochs", "batch_size", "eval_every", "image_size", "cifar_depth",
        "test_per_class", "data", "cifar_width", "crop_padding",
    ]  # fmt: skip
    assert quick.fields_for("tiny-imagenet") == quick.fields_for("imagenet-lt") == [
        "name", "eval_every", "large_epochs", "large_image_size", "large_model",
        "large_augmentation",
    ]  # fmt: skip
    stored = quick.to_dict()
    new_large = {**stored, "large_epochs": quick.large_epochs + 10, "large_image_size": 32}
    new_cifar = {**stored, "epochs": quick.epochs + 1, "cifar_width": 16, "crop_padding": 4}
    # records of one family stay current whatever the other family's sizes were
    assert quick.matches(new_large, "cifar100")
    assert not quick.matches(new_large, "tiny-imagenet")
    assert quick.matches(new_cifar, "tiny-imagenet")
    assert not quick.matches(new_cifar, "cifar10")
    # shared fields count for both
    for dataset in ("cifar10", "tiny-imagenet"):
        assert not quick.matches({**stored, "eval_every": quick.eval_every + 1}, dataset)
        assert not quick.matches({**stored, "name": "paper"}, dataset)


def test_built_in_profiles_cannot_be_redefined():
    with pytest.raises(ValueError, match="cannot be redefined"):
        register_profile(replace(PROFILES["quick"], epochs=1))


def _record(profile: dict, run_id: str, dataset: str = "cifar10") -> dict:
    return {
        "schema_version": 1,
        "run_id": run_id,
        "config": {"dataset": dataset, "ratio": 100, "imb_type": "exp", "loss": "ce", "seed": 0},
        "profile": profile,
        "dataset": {"class_counts": [5, 1], "source": "synthetic"},
        "final": {
            "accuracy": 75.0,
            "per_class_accuracy": [100.0, 50.0],
            "group_accuracy": {"many": None, "medium": None, "few": 75.0},
        },
        "epochs": [],
    }


def test_records_of_an_old_definition_are_refused_or_flagged(tmp_path):
    current = PROFILES["quick"].to_dict()
    old = {**current, "epochs": 24 if current["epochs"] != 24 else 12}
    write_json_atomic(record_path("quick", "cifar10", "new", tmp_path), _record(current, "new"))
    write_json_atomic(record_path("quick", "cifar10", "old", tmp_path), _record(old, "old"))
    assert profile_is_current(_record(current, "new"))
    assert not profile_is_current(_record(old, "old"))
    assert not profile_is_current(_record({**current, "name": "no-such"}, "x"))

    with pytest.raises(StaleRecordError, match=r"(?s)1 run record\(s\).*old\.json"):
        load_records(tmp_path)
    flagged = load_records(tmp_path, include_stale=True)
    assert dict(zip(flagged["run_id"], flagged["profile_current"], strict=True)) == {
        "new": True,
        "old": False,
    }
    stale_path = record_path("quick", "cifar10", "old", tmp_path)
    stale_path.unlink()
    assert list(load_records(tmp_path)["run_id"]) == ["new"]
    assert "profile_current" not in load_records(tmp_path).columns


def test_a_redefined_tiny_setting_leaves_the_cifar_records_current(tmp_path):
    current = PROFILES["quick"].to_dict()
    before = {**current, "large_epochs": current["large_epochs"] + 14, "large_image_size": 32}
    write_json_atomic(
        record_path("quick", "cifar10", "c10", tmp_path), _record(before, "c10", "cifar10")
    )
    write_json_atomic(
        record_path("quick", "tiny-imagenet", "tiny", tmp_path),
        _record(before, "tiny", "tiny-imagenet"),
    )
    flagged = load_records(tmp_path, include_stale=True)
    assert dict(zip(flagged["run_id"], flagged["profile_current"], strict=True)) == {
        "c10": True,
        "tiny": False,
    }
    with pytest.raises(StaleRecordError, match=r"(?s)1 run record\(s\).*tiny\.json"):
        load_records(tmp_path)


def test_quick_keeps_the_step_schedule_but_has_no_warm_up():
    """What README, profiles.py and chapter 6 say ``quick`` keeps of the CIFAR recipe."""
    from cslnb.train.recipes import CIFAR, CIFAR_IB

    epochs = get_profile("quick").epochs
    step, ib = CIFAR.scaled(epochs), CIFAR_IB.scaled(epochs)
    # 5 warm-up epochs of 200 -> round(1.0) = 1, and a one-epoch warm-up is lr * 1/1: none.
    assert step.warmup_epochs == 1 and step.lr_at(1) == CIFAR.lr == 0.1
    assert step.milestones == (32, 36) and step.drw_epoch == 32  # DRW from (1-indexed) epoch 33
    assert ib.milestones == (20, 32, 36) and ib.ib_start_epoch == 20
    assert CIFAR.scaled(QUICK_V1.epochs).lr_at(1) == 0.1  # the first quick had none either
