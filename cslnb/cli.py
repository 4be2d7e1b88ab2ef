"""Command line: ``python -m cslnb train | reproduce | verify | bench | gpu-check``.

Examples::

    python -m cslnb train --dataset cifar10 --ratio 100 --loss ldam-drw --profile quick
    python -m cslnb train --dataset cifar10 --loss csl --option reading=released
    python -m cslnb reproduce table2 --profile quick --seeds 0 1 2 --datasets cifar10
    python -m cslnb reproduce table2 --profile paper --datasets cifar10 --jobs 8 --time-budget 50
    python -m cslnb verify data/results/quick/cifar10/cifar10-exp100-ce-seed0.json
    python -m cslnb bench
    python -m cslnb gpu-check
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from cslnb.profiles import PROFILES, get_profile
from cslnb.reproduce import TARGETS, target_runs
from cslnb.train import budget
from cslnb.train.checkpoint import RunInProgressError, UnreadableCheckpointError
from cslnb.train.config import DATASETS, RunConfig


def _parse_option(text: str) -> tuple[str, object]:
    """``key=value`` with value read as JSON when it parses (numbers, true/false), else a string."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"loss option must look like key=value, got {text!r}")
    key, raw = text.split("=", 1)
    try:
        value: object = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key, value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=None,
        help="run size (default: $CSLNB_PROFILE, else quick)",
    )
    parser.add_argument(
        "--data-root", type=Path, default=None, help="dataset root ($CSLNB_DATA_DIR)"
    )
    parser.add_argument("--out", type=Path, default=None, help="results root ($CSLNB_RESULTS_DIR)")
    parser.add_argument(
        "--runs", type=Path, default=None, help="checkpoint root (default: runs/ in the project)"
    )
    parser.add_argument("--device", default=None, help="cuda, cuda:1, mps or cpu (default: auto)")
    parser.add_argument(
        "--download", action="store_true", help="let torchvision download CIFAR (needs internet)"
    )
    parser.add_argument("--force", action="store_true", help="retrain even if the record exists")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    for flag, what in (
        ("--cuda-graph", "replay the training step as a CUDA graph (auto: on CUDA, for long runs)"),
        ("--compile", "torch.compile the model (auto: for long runs on CPUs with AMX)"),
        ("--channels-last", "channels-last memory format (auto: for long CPU runs)"),
    ):
        parser.add_argument(flag, choices=("auto", "on", "off"), default="auto", help=what)
    parser.add_argument(
        "--deterministic",
        action="store_true",
        help="deterministic GPU kernels (slower; CPU runs are reproducible anyway)",
    )
    parser.add_argument(
        "--allow-precision-change",
        action="store_true",
        help="resume a checkpoint trained in another precision (recorded in the run record)",
    )
    parser.add_argument(
        "--time-budget",
        type=_positive_float,
        default=None,
        metavar="MINUTES",
        help="stop at the epoch boundary that would overrun MINUTES (rerun to resume)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cslnb", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train one run and write its record")
    train.add_argument("--dataset", choices=DATASETS, required=True)
    train.add_argument("--loss", required=True, help="loss name, e.g. ce, ldam-drw, csl")
    train.add_argument("--ratio", type=float, default=100.0, help="imbalance ratio (>= 1)")
    train.add_argument("--imb-type", choices=("exp", "step"), default="exp")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--subset-seed", type=int, default=0)
    train.add_argument("--source", default="auto", help="auto, torchvision or image-folder")
    train.add_argument(
        "--option",
        type=_parse_option,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="loss option, e.g. reading=released (repeatable)",
    )
    train.add_argument("--amp", choices=("auto", "off", "bf16", "fp16"), default="auto")
    train.add_argument("--pretrained", action="store_true", help="ImageNet weights (Tiny only)")
    train.add_argument(
        "--stop-after", type=int, default=None, help="train at most N epochs now, resume later"
    )
    _add_common(train)

    reproduce = commands.add_parser("reproduce", help="train every missing run of a table")
    reproduce.add_argument("target", choices=TARGETS)
    reproduce.add_argument("--seeds", type=int, nargs="+", default=[0])
    reproduce.add_argument("--datasets", nargs="+", default=None, help="only these datasets")
    reproduce.add_argument("--losses", nargs="+", default=None, help="only these losses")
    reproduce.add_argument(
        "--ratios", type=float, nargs="+", default=None, help="only these imbalance ratios"
    )
    reproduce.add_argument(
        "--jobs",
        type=_positive_int,
        default=1,
        metavar="N",
        help="train N runs at once, each in its own process on the same device (default 1)",
    )
    action = reproduce.add_mutually_exclusive_group()
    action.add_argument(
        "--list",
        action="store_true",
        help="print each run's state (done, at epoch k, not started) and the time left",
    )
    action.add_argument(
        "--export-checkpoints",
        type=Path,
        metavar="FILE",
        help="pack the unfinished runs' checkpoints into FILE (.tar.gz), train nothing",
    )
    action.add_argument(
        "--import-checkpoints",
        type=Path,
        metavar="FILE",
        help="restore the checkpoints packed in FILE (newer local ones kept unless --force)",
    )
    _add_common(reproduce)

    verify = commands.add_parser(
        "verify", help="re-train the runs of records in a scratch folder and compare"
    )
    verify.add_argument("records", type=Path, nargs="+", metavar="RECORD")
    verify.add_argument(
        "--scratch",
        type=Path,
        default=None,
        help="keep the re-runs' records and checkpoints here (default: a temporary folder)",
    )
    verify.add_argument(
        "--threads", type=_positive_int, default=None, help="CPU threads (default: the record's)"
    )
    verify.add_argument(
        "--amp",
        choices=("auto", "off", "bf16", "fp16"),
        default=None,
        help="precision of the re-run (default: the record's)",
    )
    verify.add_argument("--device", default=None, help="cuda, cuda:1, mps or cpu (default: auto)")
    verify.add_argument(
        "--data-root", type=Path, default=None, help="dataset root ($CSLNB_DATA_DIR)"
    )
    verify.add_argument("--no-progress", action="store_true", help="hide progress bars")

    bench = commands.add_parser("bench", help="measure losses, data path and (on GPU) training")
    bench.add_argument("--out", type=Path, default=None, help="bench record folder")
    bench.add_argument("--device", default=None)
    bench.add_argument("--quick", action="store_true", help="fewer repetitions (for tests)")
    bench.add_argument(
        "--only",
        nargs="+",
        choices=("losses", "released_csl", "loader", "gpu", "cpu_epoch"),
        default=None,
        help="measure only these sections (e.g. --only gpu on a GPU machine)",
    )
    bench.add_argument(
        "--deterministic",
        action="store_true",
        help="also time the GPU step with deterministic kernels (section gpu)",
    )

    gpu_check = commands.add_parser(
        "gpu-check", help="smoke-test the GPU path here (about 5 minutes) and write a summary"
    )
    gpu_check.add_argument("--out", type=Path, default=None, help="summary file or folder")
    gpu_check.add_argument("--device", default=None, help="CUDA device (default: current)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "bench":
        from cslnb.bench import run_bench

        run_bench(
            out_dir=args.out,
            device=args.device,
            quick=args.quick,
            only=args.only,
            deterministic=args.deterministic,
        )
        return 0
    if args.command == "gpu-check":
        from cslnb.gpu_check import run_gpu_check

        return run_gpu_check(out=args.out, device=args.device)
    if args.command == "verify":
        return _verify(args)

    from cslnb.train.archive import export_checkpoints, import_checkpoints
    from cslnb.train.batch import run_batch, summarize, train_tracked
    from cslnb.train.trainer import TrainOptions

    deadline = budget.clock() + 60 * args.time_budget if args.time_budget else None
    profile = get_profile(args.profile).name
    options = TrainOptions(
        results_root=args.out,
        checkpoint_root=args.runs,
        data_root=args.data_root,
        download=args.download,
        device=args.device,
        progress=not args.no_progress,
        force=args.force,
        stop_after_epochs=getattr(args, "stop_after", None),
        cuda_graph=args.cuda_graph,
        compile=args.compile,
        channels_last=args.channels_last,
        deterministic=args.deterministic,
        allow_precision_change=args.allow_precision_change,
        deadline=deadline,
    )
    try:
        if args.command == "train":
            config = RunConfig(
                dataset=args.dataset,
                loss=args.loss,
                ratio=args.ratio,
                imb_type=args.imb_type,
                seed=args.seed,
                subset_seed=args.subset_seed,
                profile=profile,
                loss_options=dict(args.option),
                source=args.source,
                amp=args.amp,
                pretrained=args.pretrained,
            )
            print(train_tracked(config, options).describe())
            return 0
        configs = target_runs(
            args.target, profile, args.seeds, args.datasets, args.losses, args.ratios
        )
        if args.list:
            from cslnb.train.status import format_status, run_status

            print(format_status([run_status(c, options) for c in configs], args.jobs))
            return 0
        if args.export_checkpoints:
            for run in export_checkpoints(configs, options, args.export_checkpoints):
                print(f"{run.run_id}: exported at epoch {run.epochs_done}/{run.epochs_total}")
            return 0
        if args.import_checkpoints:
            for result in import_checkpoints(
                args.import_checkpoints, configs, options, force=args.force
            ):
                print(f"{result.run_id}: {result.action}")
            return 0
        outcomes = run_batch(configs, options, jobs=args.jobs, progress=not args.no_progress)
        print(summarize(outcomes))
        return 1 if any(outcome.status == "failed" for outcome in outcomes) else 0
    except (
        ValueError,
        TypeError,
        FileNotFoundError,
        FloatingPointError,
        RunInProgressError,
        UnreadableCheckpointError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _verify(args: argparse.Namespace) -> int:
    """``verify``: 1 if a re-run failed its verification (:mod:`cslnb.verify`), 2 on errors."""
    from cslnb.verify import verify

    try:
        verifications = verify(
            args.records,
            args.scratch,
            threads=args.threads,
            amp=args.amp,
            device=args.device,
            data_root=args.data_root,
            progress=not args.no_progress,
        )
    except (ValueError, FileNotFoundError, RunInProgressError) as error:  # RecordError too
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n\n".join(verification.report() for verification in verifications))
    if args.scratch:
        print(f"\nre-run records: {args.scratch / 'results'}")
    return 1 if any(verification.failed for verification in verifications) else 0
