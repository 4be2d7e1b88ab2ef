"""Device and precision choice for GPUs, with the CUDA queries mocked (no GPU needed)."""

from __future__ import annotations

import pytest
import torch

from cslnb.train import device as device_module
from cslnb.train.device import pick_device, pick_precision, use_device

T4, V100, A100, H100 = (7, 5), (7, 0), (8, 0), (9, 0)


@pytest.fixture
def fake_gpus(monkeypatch: pytest.MonkeyPatch):
    """Pretend CUDA is there with GPUs of the given compute capabilities (by index); the
    devices asked about are recorded."""
    asked: list[torch.device] = []

    def install(*capabilities: tuple[int, int], current: int = 0) -> list[torch.device]:
        def capability(device: torch.device) -> tuple[int, int]:
            asked.append(device)
            return capabilities[device.index]

        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: len(capabilities))
        monkeypatch.setattr(torch.cuda, "current_device", lambda: current)
        monkeypatch.setattr(torch.cuda, "get_device_capability", capability)
        monkeypatch.setattr(
            torch.cuda, "is_bf16_supported", lambda *args, **kwargs: pytest.fail("not asked")
        )
        return asked

    return install


@pytest.mark.parametrize(
    ("capability", "dtype", "scaler"),
    [
        (T4, torch.float16, True),
        (V100, torch.float16, True),
        (A100, torch.bfloat16, False),
        (H100, torch.bfloat16, False),
    ],
    ids=["T4", "V100", "A100", "H100"],
)
def test_auto_precision_follows_the_runs_own_gpu(fake_gpus, capability, dtype, scaler):
    asked = fake_gpus(capability)
    precision = pick_precision(torch.device("cuda", 0), "auto")
    assert (precision.dtype, precision.use_scaler) == (dtype, scaler)
    assert asked == [torch.device("cuda", 0)]


def test_a_second_gpu_of_another_kind_decides_for_a_run_on_it(fake_gpus):
    asked = fake_gpus(H100, T4, current=0)  # the current device is bf16-capable, cuda:1 is not
    precision = pick_precision(torch.device("cuda", 1), "auto")
    assert precision.label == "float16" and precision.use_scaler
    assert asked == [torch.device("cuda", 1)]


def test_explicit_bf16_on_a_t4_is_refused_and_fp16_or_off_are_kept(fake_gpus):
    fake_gpus(T4)
    cuda = torch.device("cuda", 0)
    with pytest.raises(ValueError, match=r"compute capability 8.0 or more; cuda:0 has 7.5"):
        pick_precision(cuda, "bf16")
    assert pick_precision(cuda, "fp16").use_scaler
    assert pick_precision(cuda, "off").dtype is None


@pytest.mark.parametrize(("hardware_bf16", "label"), [(True, "bfloat16"), (False, "fp32")])
def test_auto_precision_on_cpu_with_and_without_bf16_hardware(monkeypatch, hardware_bf16, label):
    monkeypatch.setattr(device_module, "cpu_supports_bf16", lambda: hardware_bf16)
    monkeypatch.setattr(
        torch.cuda, "get_device_capability", lambda *a: pytest.fail("a CPU run asks no GPU")
    )
    precision = pick_precision(torch.device("cpu"), "auto")
    assert (precision.label, precision.use_scaler) == (label, False)


def test_cuda_without_an_index_resolves_to_the_current_device(fake_gpus):
    fake_gpus(A100, A100, current=1)
    assert pick_device("cuda") == torch.device("cuda", 1)
    assert pick_device() == torch.device("cuda", 1)
    assert pick_device("cuda:0") == torch.device("cuda", 0)
    with pytest.raises(RuntimeError, match="only 2 CUDA device"):
        pick_device("cuda:2")


def test_cuda_requested_without_cuda_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        pick_device("cuda:1")
    assert pick_device("cpu") == torch.device("cpu")


def test_use_device_makes_a_cuda_device_current_and_leaves_others(monkeypatch):
    calls: list[torch.device] = []
    monkeypatch.setattr(torch.cuda, "set_device", calls.append)
    use_device(torch.device("cpu"))
    use_device(torch.device("cuda", 1))
    assert calls == [torch.device("cuda", 1)]
