"""The hardware description of run records: CPU identity, bf16 path, libraries, CUDA (mocked)."""

import pytest
import torch

from cslnb.train import hardware
from cslnb.train.device import describe_hardware

X86_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu amx_tile avx512_bf16

processor\t: 1
vendor_id\t: OtherVendor
model name\t: Not the first processor
"""
ARM_CPUINFO = """processor\t: 0
BogoMIPS\t: 108.00
CPU implementer\t: 0x41

Hardware\t: BCM2835
Model\t\t: Raspberry Pi 4 Model B Rev 1.4
"""
BUILD_CONFIG = """PyTorch built with:
  - Intel(R) oneAPI Math Kernel Library Version 2024.2-Product Build 20240605 for Intel(R) 64
  - Intel(R) MKL-DNN v3.12.0 (Git Hash 80afa71049cd69a3df32adcccb623b12cd7baa22)
"""


def test_linux_cpuinfo_gives_the_first_processors_model_and_vendor(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(X86_CPUINFO)
    assert hardware.cpu_identity(cpuinfo) == {
        "cpu_model": "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz",
        "cpu_vendor": "GenuineIntel",
    }


def test_arm_cpuinfo_falls_back_to_implementer_code(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(ARM_CPUINFO)
    # the board's Model line sits after a blank line: only the first block is read
    assert hardware.cpu_identity(cpuinfo) == {"cpu_model": None, "cpu_vendor": "0x41"}
    cpuinfo.write_text(ARM_CPUINFO.replace("\n\nHardware", "\nHardware"))
    assert hardware.cpu_identity(cpuinfo) == {
        "cpu_model": "Raspberry Pi 4 Model B Rev 1.4",
        "cpu_vendor": "0x41",
    }


def test_macos_reads_sysctl(tmp_path, monkeypatch):
    values = {"machdep.cpu.brand_string": "Apple M2 Pro"}
    monkeypatch.setattr(hardware.sys, "platform", "darwin")
    monkeypatch.setattr(hardware, "sysctl", values.get)
    monkeypatch.setattr(hardware.platform, "machine", lambda: "arm64")
    assert hardware.cpu_identity(tmp_path / "absent") == {
        "cpu_model": "Apple M2 Pro",
        "cpu_vendor": "Apple",
    }
    values.update({"machdep.cpu.brand_string": "Intel(R) Core(TM) i7", "machdep.cpu.vendor": "X"})
    monkeypatch.setattr(hardware.platform, "machine", lambda: "x86_64")
    assert hardware.cpu_identity(tmp_path / "absent") == {
        "cpu_model": "Intel(R) Core(TM) i7",
        "cpu_vendor": "X",
    }


def test_other_systems_fall_back_to_platform_processor(tmp_path, monkeypatch):
    monkeypatch.setattr(hardware.sys, "platform", "win32")
    monkeypatch.setattr(hardware.platform, "processor", lambda: "Intel64 Family 6 Model 85")
    assert hardware.cpu_identity(tmp_path / "absent") == {
        "cpu_model": "Intel64 Family 6 Model 85",
        "cpu_vendor": None,
    }
    monkeypatch.setattr(hardware.platform, "processor", lambda: "")
    assert hardware.cpu_identity(tmp_path / "absent") == {"cpu_model": None, "cpu_vendor": None}


def test_missing_sysctl_command_gives_none(monkeypatch):
    def absent(*args, **kwargs):
        raise FileNotFoundError("sysctl")

    monkeypatch.setattr(hardware.subprocess, "run", absent)
    assert hardware.sysctl("machdep.cpu.brand_string") is None


@pytest.mark.parametrize(
    ("amx", "avx512_bf16", "expected"),
    [(True, True, "amx"), (False, True, "avx512_bf16"), (False, False, "emulated")],
)
def test_bf16_path_follows_the_cpu_feature_checks(monkeypatch, amx, avx512_bf16, expected):
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16, raising=False)
    assert hardware.bf16_path() == expected


def test_bf16_path_without_the_checks_is_emulated(monkeypatch):
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported", raising=False)
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported", raising=False)
    assert hardware.bf16_path() == "emulated"


def test_library_versions_are_read_from_the_build_configuration():
    assert hardware.math_library_versions(BUILD_CONFIG) == {"onednn": "3.12.0", "mkl": "2024.2"}
    assert hardware.math_library_versions("PyTorch built with:\n  - GCC 13.3\n") == {
        "onednn": None,
        "mkl": None,
    }


def test_cpu_record_names_cpu_and_arithmetic(monkeypatch):
    identity = {"cpu_model": "Intel(R) Xeon(R) Platinum 8481C", "cpu_vendor": "GenuineIntel"}
    monkeypatch.setattr(hardware, "cpu_identity", lambda: identity)
    monkeypatch.setattr(hardware, "bf16_path", lambda: "amx")
    monkeypatch.setattr(hardware, "cpu_capability", lambda: "AVX512")
    monkeypatch.setattr(torch.__config__, "show", lambda: BUILD_CONFIG)
    info = describe_hardware(torch.device("cpu"))
    assert info["cpu_model"] == "Intel(R) Xeon(R) Platinum 8481C"
    assert info["cpu_vendor"] == "GenuineIntel"
    assert info["bf16_path"] == "amx"
    assert info["cpu_capability"] == "AVX512"
    assert info["math_libraries"] == {"onednn": "3.12.0", "mkl": "2024.2"}
    assert info["deterministic_algorithms"] is False
    assert info["torch_threads"] == torch.get_num_threads()
    assert "gpu" not in info and "cudnn_version" not in info


def test_cuda_record_names_gpu_and_cudnn(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100 80GB HBM3")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    monkeypatch.setattr(torch.backends.cudnn, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 92400)
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)
    info = describe_hardware(torch.device("cuda", 0))
    assert info["device"] == "cuda:0"
    assert info["gpu"] == "NVIDIA H100 80GB HBM3"
    assert info["gpu_count"] == 1
    assert info["compute_capability"] == "9.0"
    assert info["cuda_version"] == "13.0"
    assert info["cudnn_version"] == 92400
    assert info["cudnn_deterministic"] is True
    assert info["cudnn_benchmark"] is False
    assert set(info["fp32_precision"]) == {"matmul", "cudnn_conv"}
    assert "bf16_path" in info  # the host CPU is described too


def test_a_trained_record_carries_the_fields(tmp_path):
    from cslnb.train.config import RunConfig, TrainOptions
    from cslnb.train.trainer import train

    options = TrainOptions(
        results_root=tmp_path, checkpoint_root=tmp_path, device="cpu", progress=False
    )
    config = RunConfig(dataset="synthetic", loss="ce", ratio=10, profile="ci")
    record = train(config, options)
    assert record["hardware"] == describe_hardware(torch.device("cpu"))
    assert record["hardware"]["bf16_path"] in hardware.BF16_PATHS
    assert record["execution"][0]["threads"] == record["hardware"]["torch_threads"]
