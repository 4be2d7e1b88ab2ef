"""The trainer under the ``ci`` profile (synthetic data, CPU, seconds per run)."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from cslnb.data import long_tail_counts, tiny_tree
from cslnb.profiles import PROFILES
from cslnb.records import read_record
from cslnb.train import trainer
from cslnb.train.checkpoint import RunInProgressError, exclusive_run_lock
from cslnb.train.config import RunConfig
from cslnb.train.trainer import TrainOptions, checkpoint_path, model_name, train


def options(tmp_path: Path, **kwargs) -> TrainOptions:
    return TrainOptions(
        results_root=tmp_path / "results",
        checkpoint_root=tmp_path / "runs",
        device="cpu",
        progress=False,
        **kwargs,
    )


def config(loss: str = "ce", **kwargs) -> RunConfig:
    return RunConfig(dataset="synthetic", loss=loss, ratio=10, profile="ci", **kwargs)


def test_run_writes_a_complete_record(tmp_path):
    record = train(config("ce"), options(tmp_path))
    path = tmp_path / "results" / "ci" / "synthetic" / "synthetic-exp10-ce-seed0.json"
    assert read_record(path) == json.loads(path.read_text())
    assert record["profile"]["name"] == "ci"
    assert record["dataset"]["source"] == "synthetic"
    assert [e["epoch"] for e in record["epochs"]] == [1, 2, 3, 4]
    assert len(record["final"]["per_class_accuracy"]) == 10
    assert record["final"]["epoch"] == 4
    assert record["final"]["accuracy"] == record["epochs"][-1]["test_accuracy"]
    # every one of the 10 x 20 test images is predicted as exactly one class, and a class is
    # predicted at least as often as it is predicted correctly (20 test images per class)
    predicted = record["final"]["per_class_predicted"]
    assert predicted == record["epochs"][-1]["per_class_predicted"]
    assert sum(predicted) == 200
    correct = [round(acc * 20 / 100) for acc in record["final"]["per_class_accuracy"]]
    assert all(p >= c for p, c in zip(predicted, correct, strict=True))
    assert "optimistic" in record["best"]["note"]
    assert record["versions"]["torch"] == torch.__version__
    assert record["cuda_graph"] is False  # "auto" on CPU: the eager step
    # the synthetic classes are learnable: far above the 10% of chance after 4 short epochs
    assert record["final"]["accuracy"] > 30
    assert not checkpoint_path(config("ce"), options(tmp_path)).parent.exists()


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (65.523456789, 65.523457),  # six decimals
        (0.0123456789, 0.012346),  # six decimals keep five significant digits
        (1e-7, 1e-7),  # IB's last learning rate: four significant digits, not 0
        (1.23456789e-9, 1.235e-9),
        (0.0, 0.0),
        (float("inf"), float("inf")),
        (float("nan"), None),
    ],
)
def test_record_floats_keep_six_decimals_and_small_values(value, rounded):
    assert trainer._round_floats({"epochs": [{"lr": value}]}) == {"epochs": [{"lr": rounded}]}


def test_existing_record_is_not_retrained(tmp_path, monkeypatch):
    first = train(config("ce"), options(tmp_path))
    monkeypatch.setattr(trainer, "_train", lambda *a, **k: pytest.fail("retrained"))
    assert train(config("ce"), options(tmp_path)) == first


def test_same_seed_gives_identical_records(tmp_path, without_timings):
    a = train(config("ldam-drw"), options(tmp_path / "a"))
    b = train(config("ldam-drw"), options(tmp_path / "b"))
    assert without_timings(a) == without_timings(b)
    c = train(config("ldam-drw", seed=1), options(tmp_path / "c"))
    assert c["epochs"][0]["train_loss"] != a["epochs"][0]["train_loss"]


@pytest.mark.parametrize("loss", ["csl", "equalization", "ldam-drw"])
def test_resume_equals_uninterrupted(tmp_path, loss, without_timings):
    whole = train(config(loss), options(tmp_path / "whole"))
    sliced_options = options(tmp_path / "sliced", stop_after_epochs=1)
    for _ in range(3):
        assert train(config(loss), sliced_options) is None
        assert not (tmp_path / "sliced" / "results").exists()
    resumed = train(config(loss), options(tmp_path / "sliced"))
    assert without_timings(resumed) == without_timings(whole)


def test_crash_leaves_no_record_and_resume_is_exact(tmp_path, monkeypatch, without_timings):
    whole = train(config("csl"), options(tmp_path / "whole"))
    real_epoch = trainer._train_epoch
    calls = {"n": 0}

    def crash_in_third_epoch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(trainer, "_train_epoch", crash_in_third_epoch)
    with pytest.raises(KeyboardInterrupt):
        train(config("csl"), options(tmp_path / "crash"))
    assert not list((tmp_path / "crash").rglob("*.json"))
    ckpt = checkpoint_path(config("csl"), options(tmp_path / "crash"))
    assert torch.load(ckpt, weights_only=True)["epoch"] == 2
    monkeypatch.setattr(trainer, "_train_epoch", real_epoch)
    resumed = train(config("csl"), options(tmp_path / "crash"))
    assert without_timings(resumed) == without_timings(whole)


def test_schedule_switch_epochs_follow_the_profile(tmp_path):
    record = train(config("ldam-drw"), options(tmp_path))
    assert record["recipe"]["drw_epoch"] == 3  # 160 of 200 epochs -> 3 of 4
    assert [e["lr"] for e in record["epochs"]] == pytest.approx([0.1, 0.1, 0.1, 0.001])
    ib = train(config("ib"), options(tmp_path))
    assert ib["recipe"]["ib_start_epoch"] == 2  # 100 of 200 epochs -> 2 of 4
    assert [e["lr"] for e in ib["epochs"]] == pytest.approx([0.1, 0.1, 0.001, 1e-5])


def test_csl_record_carries_per_class_traces(tmp_path):
    record = train(config("csl"), options(tmp_path))
    traces = record["loss_trace"]
    assert [t["epoch"] for t in traces] == [1, 2, 3, 4]
    for key in ("semantic_scale", "entropy", "gamma", "n_pred", "reinforcement"):
        assert len(traces[-1][key]) == 10
    assert sum(traces[0]["n_pred"]) == record["dataset"]["num_train"]


def test_nan_loss_in_the_first_epoch_writes_a_diverged_record(tmp_path, monkeypatch):
    from cslnb.losses.ce import CrossEntropyLoss

    monkeypatch.setattr(CrossEntropyLoss, "forward", lambda self, z, y, f=None: z.sum() * torch.nan)
    record = train(config("ce"), options(tmp_path))
    assert record["status"] == "diverged"
    assert record["divergence"]["epoch"] == 1
    assert record["divergence"]["batch"] == 1
    assert record["divergence"]["loss"] is None  # NaN
    assert record["epochs"] == []
    assert record["final"]["accuracy"] is None  # no finite epoch to evaluate
    assert record["final"]["per_class_accuracy"] == [None] * 10
    path = tmp_path / "results" / "ci" / "synthetic" / "synthetic-exp10-ce-seed0.json"
    assert read_record(path) == json.loads(path.read_text())


def test_divergence_keeps_the_last_finite_epoch_and_is_not_retrained(tmp_path, monkeypatch):
    """The non-finite check runs once per epoch on device-side flags, yet names the first bad
    batch and its value; the record carries the last finite epoch's history and accuracy (that
    epoch's checkpoint, evaluated again, gives the same numbers), and a rerun does not retrain."""
    from cslnb.losses.ce import CrossEntropyLoss

    assert train(config("ce"), options(tmp_path, stop_after_epochs=1)) is None
    ckpt = checkpoint_path(config("ce"), options(tmp_path))
    after_one = torch.load(ckpt, weights_only=True)
    real_forward = CrossEntropyLoss.forward
    calls = {"n": 0}

    def infinite_from_third_batch(self, z, y, f=None):
        calls["n"] += 1
        loss = real_forward(self, z, y, f)
        return loss * torch.inf if calls["n"] >= 3 else loss

    monkeypatch.setattr(CrossEntropyLoss, "forward", infinite_from_third_batch)
    record = train(config("ce"), options(tmp_path))
    assert calls["n"] > 3  # the epoch ran to its end before the check
    assert record["status"] == "diverged"
    assert record["divergence"] == {
        "epoch": 2,
        "batch": 3,
        "loss": "inf",
        "note": "loss non-finite at epoch 2, batch 3; history, traces and accuracy are those of "
        "the last finite epoch",
    }
    assert [e["epoch"] for e in record["epochs"]] == [1]
    first = after_one["history"][0]
    assert record["final"]["epoch"] == 1
    assert record["final"]["accuracy"] == pytest.approx(first["test_accuracy"], abs=1e-6)
    assert record["final"]["per_class_accuracy"] == pytest.approx(first["per_class_accuracy"])
    assert not ckpt.exists()  # ended like a finished run
    calls["n"] = 0
    assert train(config("ce"), options(tmp_path)) == record
    assert calls["n"] == 0


def test_a_diverged_run_is_reported_as_such_by_batches_and_records(tmp_path, monkeypatch):
    from cslnb.losses.ce import CrossEntropyLoss
    from cslnb.records import load_records
    from cslnb.train.batch import run_batch, summarize

    monkeypatch.setattr(CrossEntropyLoss, "forward", lambda self, z, y, f=None: z.sum() * torch.inf)
    (outcome,) = run_batch([config("ce")], options(tmp_path), progress=False)
    assert outcome.status == "diverged"
    assert outcome.describe() == (
        "synthetic-exp10-ce-seed0: diverged at epoch 1, batch 1 (last evaluated: -% at epoch 0; "
        "profile ci)"
    )
    assert "  synthetic-exp10-ce-seed0: diverged at epoch 1" in summarize([outcome])
    (again,) = run_batch([config("ce")], options(tmp_path), progress=False)
    assert again.status == "had record"
    rows = load_records(tmp_path / "results")
    assert rows[["run_id", "status", "diverged_epoch"]].values.tolist() == [
        ["synthetic-exp10-ce-seed0", "diverged", 1]
    ]


def test_two_process_gloo_ddp_run_completes(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CSLNB_RESULTS_DIR": str(tmp_path / "results")}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "cslnb",
        "train",
        "--dataset=synthetic",
        "--ratio=10",
        "--loss=csl",
        "--profile=ci",
        "--device=cpu",
        "--no-progress",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    record = read_record(
        tmp_path / "results" / "ci" / "synthetic" / "synthetic-exp10-csl-seed0.json"
    )
    assert len(record["epochs"]) == 4
    assert record["final"]["accuracy"] > 20
    # CSL's statistics are summed over both ranks: every sample of the shared batches counts.
    n = sum(long_tail_counts(200, 10, 10))
    batches = -(-n // 64)
    shared = batches - batches % 2
    trained = n if shared == batches else shared * 64
    assert sum(record["loss_trace"][0]["n_pred"]) == trained


def test_a_run_cannot_train_twice_at_once(tmp_path):
    opts = options(tmp_path)
    lock = checkpoint_path(config("ce"), opts).parent.with_name("synthetic-exp10-ce-seed0.lock")
    with exclusive_run_lock(lock), pytest.raises(RunInProgressError, match="another process"):
        train(config("ce"), opts)
    assert train(config("ce"), opts)["final"]["epoch"] == 4


def test_the_profile_chooses_the_large_network_and_cifar_keeps_its_depth():
    tiny = RunConfig(dataset="tiny-imagenet", loss="ce", ratio=100, profile="ci")
    cifar = RunConfig(dataset="cifar10", loss="ce", ratio=100, profile="ci")
    assert model_name(tiny, PROFILES["paper"]) == "resnet18"  # large_model None: the paper's
    resnet32 = replace(PROFILES["paper"], large_model="resnet32")
    assert model_name(tiny, resnet32) == "resnet32"
    assert model_name(cifar, replace(PROFILES["quick"], large_model="resnet50")) == "resnet8"


def test_tiny_imagenet_lt_trains_end_to_end_on_a_fake_tree(tmp_path, write_image, monkeypatch):
    monkeypatch.setattr(tiny_tree, "TINY_TRAIN_PER_CLASS", 4)  # a full tree of 4 per class
    root = tmp_path / "tiny-imagenet-200"
    wnids = ["n01", "n02"]
    (root / "val" / "images").mkdir(parents=True)
    (root / "wnids.txt").write_text("\n".join(wnids))
    lines = []
    for c, wnid in enumerate(wnids):
        for i in range(4):
            image = root / "train" / wnid / "images" / f"{wnid}_{i}.JPEG"
            write_image(image, torch.full((8, 8, 3), c))
        write_image(root / "val" / "images" / f"v{c}.JPEG", torch.full((8, 8, 3), c))
        lines.append(f"v{c}.JPEG\t{wnid}\t0\t0\t7\t7")
    (root / "val" / "val_annotations.txt").write_text("\n".join(lines))
    run = RunConfig(dataset="tiny-imagenet", loss="csl", ratio=4, profile="ci")
    record = train(run, options(tmp_path, data_root=tmp_path))
    assert record["model"] == "resnet18"
    assert record["dataset"]["class_counts"] == [4, 1]
    assert record["dataset"]["num_test"] == 2
    assert record["dataset"]["source"] == "image folders (full tree)"
    assert record["dataset"]["fingerprint"].startswith("sha256:")
    assert record["recipe"]["name"] == "tiny-imagenet" and len(record["epochs"]) == 1
