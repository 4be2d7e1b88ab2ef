"""A run's configuration is checked in full before any data is read."""

from __future__ import annotations

import pytest

import cslnb.train.pipeline as pipeline
from cslnb.cli import main
from cslnb.train import RunConfig
from cslnb.train.validation import check_run_config, stand_in_counts


@pytest.fixture
def no_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any data builder of the training pipeline is called."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("data was read before the configuration was checked")

    for name in ("build_in_memory_dataset", "TinyImageNetLT", "ImageNetLT"):
        monkeypatch.setattr(pipeline, name, forbidden)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dataset", "cifar10", "--loss", "nope"], "unknown loss 'nope'; choose one of: ce,"),
        (
            ["--dataset", "cifar10", "--loss", "ldam-drw", "--option", "margin=0.5"],
            "loss 'ldam-drw' got unknown option(s) margin; it accepts: ",
        ),
        (
            ["--dataset", "cifar100", "--loss", "csl", "--option", "readin=released"],
            "loss 'csl' got unknown option(s) readin; it accepts: reading, k,",
        ),
        (
            ["--dataset", "cifar10", "--loss", "ce", "--source", "tape"],
            "unknown source 'tape'; choose one of: auto, torchvision, image-folder",
        ),
        (["--dataset", "imagenet-lt", "--loss", "bogus"], "unknown loss 'bogus'"),
    ],
)
def test_cli_reports_configuration_errors_before_reading_data(
    argv: list[str], message: str, no_data: None, tmp_path, capsys: pytest.CaptureFixture
) -> None:
    code = main(["train", *argv, "--profile", "quick", "--out", str(tmp_path), "--no-progress"])
    assert code == 2
    assert message in capsys.readouterr().err


def test_unknown_profile_is_reported() -> None:
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        check_run_config(RunConfig(dataset="cifar10", loss="ce", profile="huge"))


def test_valid_configurations_pass() -> None:
    check_run_config(RunConfig(dataset="cifar10", loss="csl", loss_options={"reading": "released"}))
    check_run_config(RunConfig(dataset="imagenet-lt", loss="ldam-drw", profile="paper"))


def test_stand_in_counts_have_the_dataset_shape() -> None:
    counts = stand_in_counts(RunConfig(dataset="cifar100", loss="ce", ratio=200))
    assert len(counts) == 100
    assert counts[0] == 1000 and counts[-1] == 5  # int(1000 / 200)
    huge = stand_in_counts(RunConfig(dataset="cifar10", loss="ce", ratio=5000))
    assert huge[0] == 5000 and huge[-1] == 1
