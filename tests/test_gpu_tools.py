"""The GPU tooling that must work before a GPU is there: bench warm-up and memory fields, MPS
detection, the first-epoch estimate behind ``--time-budget``, ``--deterministic``, the
``gpu-check`` summary and the book's accelerator lines (CUDA queries mocked)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import torch

from cslnb import gpu_check
from cslnb.bench import gpu_run
from cslnb.bench.gpu_env import mps_status
from cslnb.book import accelerator_lines, paper_run_minutes
from cslnb.cli import build_parser
from cslnb.profiles import get_profile
from cslnb.train import RunConfig, trainer
from cslnb.train.checkpoint import load_checkpoint
from cslnb.train.config import TrainOptions
from cslnb.train.determinism import deterministic_mode
from cslnb.train.epoch_estimate import estimate_from_section, first_epoch_estimate

CUDA0 = torch.device("cuda", 0)


def test_an_epoch_of_12406_images_at_batch_128_has_two_batch_sizes():
    assert gpu_run.epoch_batch_sizes() == {128, 118}
    assert gpu_run.epoch_batch_sizes(256, 128) == {128}


class FakeStep:
    """What ``warm_up`` reads of a TrainStep: whether it uses graphs and which exist."""

    def __init__(self, use_graph: bool, captures_per_epoch: list[set[int]]) -> None:
        self.use_graph = use_graph
        self.captured_batch_sizes: frozenset[int] = frozenset()
        self.captures = captures_per_epoch


@pytest.fixture
def two_second_epochs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """``train_epochs`` replaced: each epoch takes 2 s and adds that epoch's captures."""
    firsts: list[int] = []

    def train_epochs(step: FakeStep, loader: object, epochs: int, first: int = 0) -> float:
        firsts.append(first)
        step.captured_batch_sizes |= step.captures[first] if step.captures else set()
        return 2.0 * epochs

    monkeypatch.setattr(gpu_run, "train_epochs", train_epochs)
    return firsts


def test_graph_warm_up_lasts_until_the_last_batch_has_its_graph(two_second_epochs):
    """Epoch 1 captures the full batch only (the last one is warmed up); epoch 2 captures it."""
    step = FakeStep(True, [{128}, {118}, set()])
    result = gpu_run.warm_up(step, loader=None)
    assert result == {"warmup_epochs": 2, "first_epoch_s": 2.0, "warmup_s": 4.0}
    assert two_second_epochs == [0, 1]


def test_eager_warm_up_is_one_epoch_and_a_missing_capture_is_an_error(two_second_epochs):
    assert gpu_run.warm_up(FakeStep(False, []), None)["warmup_epochs"] == 1
    with pytest.raises(
        RuntimeError, match=r"after 3 warm-up epochs graphs exist for batch sizes \[128\]"
    ):
        gpu_run.warm_up(FakeStep(True, [{128}, set(), set()]), None)


def test_mps_is_seen_by_its_daemon_or_its_control_pipe(tmp_path: Path, monkeypatch):
    proc, pipe = tmp_path / "proc", tmp_path / "mps"
    (proc / "42").mkdir(parents=True)
    (proc / "42" / "comm").write_text("python\n")
    pipe.mkdir()
    monkeypatch.setenv("CUDA_MPS_PIPE_DIRECTORY", str(pipe))
    assert mps_status(proc) == {"active": False, "pipe": False, "daemons": []}
    (proc / "7").mkdir()
    (proc / "7" / "comm").write_text("nvidia-cuda-mps\n")  # comm keeps 15 characters
    assert mps_status(proc) == {"active": True, "pipe": False, "daemons": ["nvidia-cuda-mps"]}
    (pipe / "control").touch()
    assert mps_status(tmp_path / "empty")["active"]


SECTION = {
    "device": "Fake GPU",
    "model": "resnet32",
    "epoch_images": 12406,
    "step": {"cuda_graph": {"first_epoch_s": 4.0}, "eager": {"error": "boom"}},
    "evaluation": {"images_per_s": 20000.0},
}


def test_first_epoch_estimate_scales_the_bench_epoch_by_hand():
    # 4 s for 12,406 images -> 2 s for 6,203; 10,000 test images at 20,000/s: 0.5 s
    assert estimate_from_section(SECTION, "Fake GPU", "resnet32", 6203, 10000, True) == 2.5
    assert estimate_from_section(SECTION, "Fake GPU", "resnet32", 6203, 0, True) == 2.0
    assert estimate_from_section(SECTION, "Other GPU", "resnet32", 6203, 0, True) is None
    assert estimate_from_section(SECTION, "Fake GPU", "resnet8", 6203, 0, True) is None
    assert estimate_from_section(SECTION, "Fake GPU", "resnet32", 6203, 0, False) is None


def _write_bench(root: Path, quick: bool) -> None:
    record = {
        "kind": "cuda",
        "created_utc": "2026-01-01T00:00:00+00:00",
        "settings": {"quick": quick},
        "gpu": SECTION,
    }
    (root / "bench-cuda-1.json").write_text(json.dumps(record))


def test_first_epoch_estimate_reads_a_bench_record_of_this_gpu_only(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: "Fake GPU")
    paper = get_profile("paper")  # evaluates every 5 epochs: not in the first

    def estimate(dataset="cifar10", profile=paper, device=CUDA0):
        return first_epoch_estimate(
            dataset, profile, "resnet32", 6203, 10000, device, True, bench_root=tmp_path
        )

    assert estimate() is None  # no bench record yet
    _write_bench(tmp_path, quick=True)
    assert estimate() is None  # a --quick bench measures another model
    _write_bench(tmp_path, quick=False)
    assert estimate() == 2.0
    assert estimate(dataset="tiny-imagenet") is None
    assert estimate(profile=get_profile("ci")) is None  # 16x16 images
    assert estimate(device=torch.device("cpu")) is None


def test_a_fresh_run_that_cannot_finish_its_first_epoch_is_not_started(tmp_path, monkeypatch):
    calls = []

    def long_first_epoch(*args):
        calls.append(args)
        return 3600.0

    monkeypatch.setattr(trainer, "first_epoch_estimate", long_first_epoch)
    config = RunConfig(dataset="synthetic", loss="ce", ratio=10, profile="ci")
    options = TrainOptions(
        results_root=tmp_path,
        checkpoint_root=tmp_path,
        device="cpu",
        progress=False,
        deadline=time.time() + 600,
    )
    assert trainer.train(config, options) is None
    assert not trainer.checkpoint_path(config, options).exists()
    ((dataset, profile, model, train_images, test_images, device, graph),) = calls
    assert (dataset, profile.name, model, device, graph) == (
        "synthetic",
        "ci",
        "resnet8",
        torch.device("cpu"),
        False,
    )
    # floor(200 x 10^(-i/9)), i = 0..9: 200, 154, 119, 92, 71, 55, 43, 33, 25, 20; 20 test each
    assert (train_images, test_images) == (812, 200)


def test_deterministic_mode_sets_and_restores_the_flags(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    before = torch.are_deterministic_algorithms_enabled()
    with deterministic_mode(True):
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert torch.are_deterministic_algorithms_enabled() == before
    with deterministic_mode(False):
        assert torch.are_deterministic_algorithms_enabled() == before


def test_the_execution_entry_says_whether_kernels_were_deterministic(tmp_path):
    config = RunConfig(dataset="synthetic", loss="csl", ratio=10, profile="ci")
    options = TrainOptions(
        results_root=tmp_path,
        checkpoint_root=tmp_path,
        device="cpu",
        progress=False,
        stop_after_epochs=1,
        keep_checkpoint=True,
        deterministic=True,
    )
    assert trainer.train(config, options) is None
    (entry,) = load_checkpoint(trainer.checkpoint_path(config, options))["execution"]
    assert entry["deterministic"] is True
    assert not torch.are_deterministic_algorithms_enabled()  # restored after the call


def test_gpu_check_without_cuda_writes_a_summary_that_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.run_gpu_check(out=tmp_path) == 1
    (path,) = tmp_path.glob("gpu-check-*.json")
    summary = json.loads(path.read_text())
    assert {k: summary[k] for k in ("cuda_available", "ok", "skipped")} == {
        "cuda_available": False,
        "ok": False,
        "skipped": "no CUDA device visible to torch",
    }
    assert "checks" not in summary
    assert "gpu-check skipped: no CUDA device" in capsys.readouterr().out


def test_gpu_check_summary_layout_with_the_checks_mocked(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(gpu_check, "pick_device", lambda name: torch.device("cuda", 0))
    monkeypatch.setattr(gpu_check, "describe_gpu", lambda device: {"name": "Fake GPU"})

    def boom(device):
        raise RuntimeError("boom")

    checks = (("passes", lambda device: {"ok": True, "device": str(device)}), ("fails", boom))
    monkeypatch.setattr(gpu_check, "CHECKS", checks)
    out = tmp_path / "summary.json"
    assert gpu_check.run_gpu_check(out=out) == 1
    summary = json.loads(out.read_text())
    assert summary["gpu"] == {"name": "Fake GPU"} and summary["ok"] is False
    assert set(summary["checks"]) == {"passes", "fails"}
    passes, fails = summary["checks"]["passes"], summary["checks"]["fails"]
    assert (passes["ok"], passes["device"]) == (True, "cuda:0")
    assert (fails["ok"], fails["error"]) == (False, "RuntimeError('boom')")
    assert all(isinstance(check["seconds"], float) for check in (passes, fails))
    printed = capsys.readouterr().out
    assert "passes: ok in 0 s" in printed and "fails: FAILED (RuntimeError('boom'))" in printed


def test_gpu_check_precisions_follow_the_capability(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device: (7, 5))
    assert gpu_check.supported_amps(CUDA0) == ["off", "fp16"]
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device: (8, 6))
    assert gpu_check.supported_amps(CUDA0) == ["off", "fp16", "bf16"]


def test_junit_counts_sum_the_suites(tmp_path: Path):
    report = tmp_path / "junit.xml"
    report.write_text(
        '<testsuites><testsuite tests="5" failures="1" errors="0" skipped="2"/>'
        '<testsuite tests="1" failures="0" errors="1" skipped="0"/></testsuites>'
    )
    assert gpu_check.junit_counts(report) == {"tests": 6, "failures": 1, "errors": 1, "skipped": 2}


def test_the_command_line_takes_the_new_options():
    parser = build_parser()
    args = parser.parse_args(["gpu-check", "--out", "x.json", "--device", "cuda:1"])
    assert (args.command, args.out, args.device) == ("gpu-check", Path("x.json"), "cuda:1")
    assert parser.parse_args(["bench", "--only", "gpu", "--deterministic"]).deterministic
    train = ["train", "--dataset", "synthetic", "--loss", "ce"]
    args = parser.parse_args([*train, "--deterministic", "--allow-precision-change"])
    assert args.deterministic and args.allow_precision_change


@pytest.fixture
def fake_t4(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: "Tesla T4")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device: (7, 5))


def test_the_book_labels_the_t4_time_as_an_estimate(fake_t4):
    lines = accelerator_lines(CUDA0, None)
    assert lines[0] == "accelerator: Tesla T4 (cuda:0, compute capability 7.5)"
    assert lines[1] == (
        "  amp='auto' trains in float16 with a gradient scaler here "
        "(bf16 from compute capability 8.0)"
    )
    assert lines[2].startswith("  one paper CIFAR-10-LT run: about 5-15 min (an estimate")


def test_the_book_uses_a_measured_time_when_the_bench_has_one(fake_t4):
    """IR100: 200 epochs x 12,406 images at 12,406/s is 200 s; 40 evaluations of 10,000 images
    at 10,000/s are 40 s: 4 minutes. fp16 trains eagerly, so the eager rate counts."""
    section = {
        "step": {"eager": {"images_per_s": 12406.0}, "cuda_graph": {"error": "scaler"}},
        "evaluation": {"images_per_s": 10000.0},
    }
    assert paper_run_minutes(section, "float16") == pytest.approx(4.0)
    assert paper_run_minutes(section, "bfloat16") is None
    assert (
        accelerator_lines(CUDA0, section)[2]
        == "  one paper CIFAR-10-LT run: about 4 min (measured by the bench)"
    )


def test_the_book_on_a_cpu_points_to_a_gpu_runtime(monkeypatch):
    monkeypatch.setattr("cslnb.train.device.cpu_supports_bf16", lambda: False)
    assert accelerator_lines(torch.device("cpu"), None) == [
        "accelerator: cpu (no CUDA GPU); amp='auto' trains in fp32",
        "  a paper run takes hours here (README: 'Paper scale without a GPU'); on Colab choose a "
        "GPU (Runtime > Change runtime type)",
    ]


def test_the_gpu_checks_paper_epochs_also_run_on_the_cpu():
    # The GPU check's training part, on a ci run: two epochs in a scratch folder, eager (no
    # CUDA graph), each with its training loss and its seconds.
    config = RunConfig(dataset="synthetic", loss="ce", ratio=10, profile="ci")
    summary = gpu_check.paper_epochs(config, torch.device("cpu"), "off")
    assert summary["ok"] is True
    assert summary["dataset"] == "synthetic"
    assert len(summary["train_loss"]) == gpu_check.PAPER_EPOCHS
    assert all(loss > 0 for loss in summary["train_loss"])
    # on_epoch is also called before the first epoch, so each epoch has its seconds
    assert len(summary["epoch_s"]) == gpu_check.PAPER_EPOCHS
    assert all(seconds > 0 for seconds in summary["epoch_s"])
