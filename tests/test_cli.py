import pytest

from cslnb.cli import main
from cslnb.reproduce import target_runs


def test_train_command_runs_end_to_end(tmp_path, capsys):
    args = ["train", "--dataset", "synthetic", "--ratio", "10", "--loss", "ce", "--profile", "ci"]
    args += ["--out", str(tmp_path), "--device", "cpu", "--no-progress"]
    assert main(args) == 0
    assert "synthetic-exp10-ce-seed0: accuracy" in capsys.readouterr().out
    assert (tmp_path / "ci" / "synthetic" / "synthetic-exp10-ce-seed0.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ratio", "0.5", "--loss", "ce"], "imbalance ratio must be >= 1"),
        (["--loss", "not-a-loss"], "not-a-loss"),
        (["--loss", "csl", "--option", "reading=dreamt"], "dreamt"),
    ],
)
def test_bad_train_input_gives_clear_errors(tmp_path, capsys, args, message):
    base = ["train", "--dataset", "synthetic", "--profile", "ci", "--out", str(tmp_path)]
    assert main(base + args + ["--no-progress", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err


def test_unknown_dataset_and_profile_are_rejected(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--dataset", "mnist", "--loss", "ce"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'mnist'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["reproduce", "table9"])


def test_malformed_option_is_rejected(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--dataset", "synthetic", "--loss", "csl", "--option", "reading"])
    assert "key=value" in capsys.readouterr().err


def test_reproduce_lists_table_runs(capsys):
    assert (
        main(["reproduce", "table1", "--profile", "quick", "--list", "--losses", "ce", "csl"]) == 0
    )
    assert capsys.readouterr().out.split() == [
        "cifar10-exp50-ce-seed0",
        "cifar10-exp50-csl-seed0",
    ]


def test_target_runs_cover_the_paper_tables():
    table2 = target_runs("table2", "quick", seeds=[0, 1])
    assert len(table2) == 2 * 4 * 12
    assert {(r.dataset, r.ratio) for r in table2} == {
        ("cifar10", 100),
        ("cifar10", 50),
        ("cifar100", 200),
        ("cifar100", 100),
    }
    only_c10 = target_runs("table2", "quick", datasets=["cifar10"], losses=["ce"])
    assert [r.run_id for r in only_c10] == ["cifar10-exp100-ce-seed0", "cifar10-exp50-ce-seed0"]
    only_50 = target_runs("table2", "quick", datasets=["cifar10"], losses=["ce"], ratios=[50])
    assert [r.run_id for r in only_50] == ["cifar10-exp50-ce-seed0"]
    with pytest.raises(ValueError, match="unknown target"):
        target_runs("table5", "quick")


def test_ablation_target_switches_one_csl_term_at_a_time():
    runs = target_runs("ablations", "quick", datasets=["cifar10"])
    assert [r.loss_options for r in runs] == [
        {"reading": "released"},
        {"use_gamma": False},
        {"use_npred": False},
        {"use_reinforcement": False},
        {"use_denominator": False},
        {"npred": "epoch"},
    ]
    assert {(r.dataset, r.ratio, r.loss) for r in runs} == {("cifar10", 100, "csl")}
    assert len({r.run_id for r in runs}) == 6
