import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from cslnb.cli import build_parser, main
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


def test_reproduce_lists_table_runs(capsys, tmp_path):
    where = ["--out", str(tmp_path / "results"), "--runs", str(tmp_path / "runs")]
    command = ["reproduce", "table1", "--profile", "quick", "--list", "--losses", "ce", "csl"]
    assert main([*command, *where]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "cifar10-exp50-ce-seed0: not started, 40 epochs; time left unknown",
        "cifar10-exp50-csl-seed0: not started, 40 epochs; time left unknown",
        "2 runs: 0 done, 0 diverged, 0 in progress, 2 not started; about 0 min of run time left "
        "(plus 2 run(s) with no measured pace)",
    ]


def test_target_runs_cover_the_paper_tables():
    table2 = target_runs("table2", "quick", seeds=[0, 1])
    # CIFAR-10 cells: 12 baselines + Weighted Softmax + Equalization; CIFAR-100 cells: 12.
    assert len(table2) == 2 * (2 * 14 + 2 * 12)
    extra = target_runs("table2", "quick", losses=["weighted-softmax", "equalization"])
    assert [r.run_id for r in extra] == [
        "cifar10-exp100-weighted-softmax-seed0",
        "cifar10-exp100-equalization-seed0",
        "cifar10-exp50-weighted-softmax-seed0",
        "cifar10-exp50-equalization-seed0",
    ]
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


def test_table4_target_trains_csl_in_both_readings():
    runs = target_runs("table4", "quick", seeds=[0, 1, 2])
    assert len(runs) == 15
    assert [(r.loss, r.loss_options) for r in runs[:5]] == [
        ("ce", {}),
        ("focal", {}),
        ("ldam", {}),
        ("csl", {}),
        ("csl", {"reading": "released"}),
    ]
    assert {(r.dataset, r.ratio, r.profile) for r in runs} == {("tiny-imagenet", 100, "quick")}
    assert [r.seed for r in runs] == [0] * 5 + [1] * 5 + [2] * 5
    only_csl = target_runs("table4", "quick", losses=["csl"])
    assert [r.loss_options for r in only_csl] == [{}, {"reading": "released"}]
    # the CIFAR tables leave the released reading to the ablations target
    assert all(r.loss_options == {} for r in target_runs("table2", "quick"))


def test_ablation_target_switches_one_csl_term_at_a_time():
    runs = target_runs("ablations", "quick", datasets=["cifar10"])
    assert [r.loss_options for r in runs] == [
        {"reading": "released"},
        {"use_gamma": False},
        {"use_npred": False},
        {"use_reinforcement": False},
        {"use_denominator": False},
        {"npred": "epoch"},
        {"scale": 0.1},
        {"scale": 0.01},
        {"scale": 0.001},
        {"batch_mean": True},
        {"entropy_by": "prediction"},
    ]
    assert {(r.dataset, r.ratio, r.loss) for r in runs} == {("cifar10", 100, "csl")}
    assert len({r.run_id for r in runs}) == 11


def test_released_target_trains_the_released_reading_on_every_cifar_cell():
    runs = target_runs("released", "quick", seeds=[0, 1, 2], datasets=["cifar10"], ratios=[50])
    assert [(r.dataset, r.ratio, r.seed) for r in runs] == [("cifar10", 50, s) for s in (0, 1, 2)]
    assert all(r.loss == "csl" and r.loss_options == {"reading": "released"} for r in runs)
    cells = {(r.dataset, r.ratio) for r in target_runs("released", "quick")}
    assert cells == {("cifar10", 100), ("cifar10", 50), ("cifar100", 200), ("cifar100", 100)}


def _readme_commands(section: str) -> list[list[str]]:
    """The ``python -m cslnb`` command lines of a README section, as argument lists."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    text = readme.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line.strip() for line in text.splitlines()]
    return [shlex.split(line)[3:] for line in lines if line.startswith("python -m cslnb ")]


@pytest.mark.slow
def test_readme_paper_scale_commands_work_on_cpu_with_the_ci_profile(tmp_path, capsys):
    """The section's commands, ``--profile paper`` replaced by ``ci``, each restricted to the CE
    runs (2 instead of 24) and given temporary folders: a run cut off on machine A is exported,
    imported on machine B and finished there by the training command, with the other run."""
    train_cmd, export_cmd, import_cmd = (
        [("ci" if arg == "paper" else arg) for arg in command]
        for command in _readme_commands("Paper scale on one GPU")
    )
    assert train_cmd[:4] == ["reproduce", "table2", "--profile", "ci"]
    assert {"--jobs", "--time-budget"} <= set(train_cmd)
    assert export_cmd[-2] == "--export-checkpoints" and import_cmd[-2] == "--import-checkpoints"
    archive = str(tmp_path / export_cmd[-1])
    export_cmd[-1] = import_cmd[-1] = archive

    def on(machine: str) -> list[str]:
        folder = tmp_path / machine
        return ["--losses", "ce", "--out", str(folder / "results"), "--runs", str(folder / "runs")]

    cut_off = ["train", "--dataset", "cifar10", "--ratio", "100", "--loss", "ce", "--profile"]
    cut_off += ["ci", "--stop-after", "2", "--device", "cpu", "--no-progress", *on("a")[2:]]
    assert main(cut_off) == 0
    assert main([*export_cmd, *on("a")]) == 0
    assert main([*import_cmd, *on("b")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "cifar10-exp100-ce-seed0: restored at epoch 2/4"
    )
    # In a child process: its worker processes and their resource tracker end with it.
    command = [sys.executable, "-m", "cslnb", *train_cmd, *on("b"), "--device", "cpu"]
    done = subprocess.run([*command, "--no-progress"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1] == (
        "2 runs: 1 finished, 1 resumed and finished, 0 diverged (record written), "
        "0 already had a record, "
        "0 stopped with a checkpoint (time budget), 0 failed, 0 not started"
    )
    records = sorted(p.name for p in (tmp_path / "b" / "results" / "ci").rglob("*.json"))
    assert records == ["cifar10-exp100-ce-seed0.json", "cifar10-exp50-ce-seed0.json"]


def test_campaign_target_trains_29_cifar10_runs_in_campaign_order():
    runs = target_runs("campaign", "paper")
    assert len(runs) == 29
    assert {run.dataset for run in runs} == {"cifar10"}
    assert [run.ratio for run in runs] == [100] * 16 + [50] * 13
    assert [run.loss_options for run in runs[12:16]] == [
        {"reading": "released"},
        {"use_gamma": False},
        {"use_npred": False},
        {"use_reinforcement": False},
    ]
    assert runs[0].run_id == "cifar10-exp100-ce-seed0"
    assert runs[16].run_id == "cifar10-exp50-ce-seed0"
    only_csl = target_runs("campaign", "paper", seeds=[0, 1], losses=["csl"], ratios=[50])
    assert [(run.seed, run.loss_options) for run in only_csl] == [
        (0, {}),
        (0, {"reading": "released"}),
        (1, {}),
        (1, {"reading": "released"}),
    ]


def test_readme_verify_command_names_a_committed_record():
    (command,) = [c for c in _readme_commands("Using the library") if c[0] == "verify"]
    args = build_parser().parse_args(command)
    (record,) = args.records
    assert (Path(__file__).parent.parent / record).is_file()
    assert (args.scratch, args.threads, args.amp, args.no_progress) == (None, None, None, False)
