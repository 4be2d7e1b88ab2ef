"""Choosing the ``quick`` profile: candidate miniatures, scored by how they order the baselines.

A miniature is faithful when it ranks the well-replicated baselines as full-size training does.
The *calibration set* is the six established methods of the paper's Table 2 on CIFAR-10-LT
(CE, Focal, CE + CB, Focal + CB, LDAM, LDAM-DRW at imbalance ratios 100 and 50): their published
ResNet-32 numbers replicate Cao et al. (2019) and Cui et al. (2019). A candidate's score is its
*pairwise order agreement*: over every pair of methods in a cell, whether the mean accuracy over
seeds orders the pair as the paper's value does (pairs the paper ties are skipped),

    agreement = #{(a, b): sign(ours_a - ours_b) = sign(paper_a - paper_b) != 0} / #{pairs compared}.

Everything else (CSL, IB and its variants, Balanced Softmax, logit adjustment, ...) is held out:
no candidate is ever scored on it. Each candidate is a :class:`~cslnb.profiles.Profile` that
differs from the first definition of ``quick`` (``quick-v1``) in a few fields; its runs are
ordinary run records under ``data/profile_search/<candidate>/``. The search chose
``r8w32-16px-e40-flip``, which is today's ``quick``.

Command line::

    python -m cslnb.profile_search run CANDIDATE --seeds 0 --ratios 100 --data-root DIR
    python -m cslnb.profile_search summary
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from cslnb.paper_tables import paper_value
from cslnb.paths import project_root, results_dir
from cslnb.profiles import PROFILES, Profile, register_profile
from cslnb.records import StaleRecordError, iter_record_paths, read_record, record_row
from cslnb.report.runs import DEFAULT_OPTIONS

if TYPE_CHECKING:
    from cslnb.train import RunConfig, TrainOptions

CALIBRATION_LOSSES = ("ce", "focal", "ce-cb", "focal-cb", "ldam", "ldam-drw")
"""The six established baselines whose order a faithful miniature must keep."""
CALIBRATION_CELLS = (("cifar10", 100.0), ("cifar10", 50.0))
"""The cells (dataset, ratio) a candidate is scored on; a profile's records on other datasets,
such as its Tiny-ImageNet-LT runs, are not calibration runs."""
SEARCH_ROOT_NAME = Path("data") / "profile_search"


QUICK_V1 = Profile(
    name="quick",
    epochs=24,
    batch_size=128,
    eval_every=4,
    image_size=16,
    cifar_depth=8,
    test_per_class=200,
    data="real",
    large_epochs=2,
    large_image_size=64,
)
"""The first definition of ``quick`` (ResNet-8 of width 16 at 16x16 pixels, 24 epochs, random
crops and flips, fp32): the starting point of the search. Its calibration records are kept under
``data/profile_search/quick-v1/``; they still carry the profile name ``quick``."""


def _candidate(name: str, **changes: object) -> Profile:
    return replace(QUICK_V1, name=name, **changes)


CANDIDATES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        _candidate("r8w16-16px-e24"),
        _candidate("r8w16-16px-e120", epochs=120, eval_every=10),
        _candidate("r8w16-16px-e120-pad1", epochs=120, eval_every=10, crop_padding=1),
        _candidate("r8w16-16px-e72-flip", epochs=72, eval_every=8, crop_padding=0),
        _candidate("r8w32-16px-e40", epochs=40, eval_every=8, cifar_width=32),
        _candidate("r8w32-16px-e40-pad1", epochs=40, eval_every=8, cifar_width=32, crop_padding=1),
        _candidate("r8w32-16px-e40-flip", epochs=40, eval_every=8, cifar_width=32, crop_padding=0),
    )
}
"""Candidate miniatures, named by model, width, image side and epochs, then what else differs:
``pad1`` random crops from a 1-pixel padding (half the recipe's relative shift), ``flip``
flips only (no random crop). ``r8w16-16px-e24`` has the sizes of ``quick-v1``: its runs
measure what bf16 autocast changes. ``r8w32-16px-e40-flip`` became today's ``quick``."""

SEARCHED: dict[str, Profile] = {"quick-v1": QUICK_V1, **CANDIDATES}
"""Every profile with a folder under the search root, by folder name."""


def candidate_definitions() -> pd.DataFrame:
    """The sizes of ``quick-v1``, of every candidate and of today's ``quick``, one row each (the
    fields they vary)."""
    fields = ("cifar_depth", "cifar_width", "image_size", "epochs", "batch_size")
    profiles = {**SEARCHED, "quick": PROFILES["quick"]}
    rows = [
        {"profile": name, **{f: getattr(p, f) for f in fields}, "augmentation": _augmentation(p)}
        for name, p in profiles.items()
    ]
    return pd.DataFrame(rows).set_index("profile")


def _augmentation(profile: Profile) -> str:
    pad = profile.image_size // 8 if profile.crop_padding is None else profile.crop_padding
    return f"crop (pad {pad} px) + flip" if pad else "flip only"


def search_root() -> Path:
    return project_root() / SEARCH_ROOT_NAME


def pairwise_agreement(ours: Mapping[str, float], paper: Mapping[str, float]) -> tuple[int, int]:
    """(pairs ordered as the paper orders them, pairs compared) over methods present in both.

    A pair the paper ties is skipped; a pair we tie counts as compared and not agreeing.
    """
    verdicts = [agrees for _, _, agrees in compared_pairs(ours, paper)]
    return sum(verdicts), len(verdicts)


def compared_pairs(
    ours: Mapping[str, float], paper: Mapping[str, float]
) -> Iterator[tuple[str, str, bool]]:
    """Each pair ``(a, b, agrees)`` of methods in both (alphabetical) that the paper does not tie,
    with whether ``sign(ours_a - ours_b) == sign(paper_a - paper_b)``."""
    methods = sorted(m for m in ours if m in paper and not math.isnan(paper[m]))
    for a, b in itertools.combinations(methods, 2):
        paper_sign = _sign(paper[a] - paper[b])
        if paper_sign != 0:
            yield a, b, _sign(ours[a] - ours[b]) == paper_sign


def disagreements(runs: pd.DataFrame) -> pd.DataFrame:
    """The pairs a profile's runs order against the paper, one row per pair and cell: the two
    methods, our difference of means over seeds ``a - b`` and the paper's."""
    rows = []
    for (dataset, ratio), cell in runs.groupby(["dataset", "ratio"]):
        ours = cell.groupby("loss")["accuracy"].mean().to_dict()
        paper = paper_calibration_values(dataset, ratio)
        for a, b, agrees in compared_pairs(ours, paper):
            if not agrees:
                rows.append(
                    {
                        "dataset": dataset,
                        "ratio": ratio,
                        "a": a,
                        "b": b,
                        "ours a - b": round(ours[a] - ours[b], 2),
                        "paper a - b": round(paper[a] - paper[b], 2),
                    }
                )
    return pd.DataFrame(rows, columns=["dataset", "ratio", "a", "b", "ours a - b", "paper a - b"])


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def paper_calibration_values(dataset: str, ratio: float) -> dict[str, float]:
    """The paper's Table 2 value of each calibration method in one cell."""
    return {loss: paper_value(2, loss, dataset, ratio) for loss in CALIBRATION_LOSSES}


def load_candidate_runs(root: Path | None = None) -> pd.DataFrame:
    """Every calibration run under the search root, one row per run, named by its folder.

    Each folder ``<root>/<name>/`` holds the records of the profile ``SEARCHED[name]``; a record
    made under another definition raises :class:`~cslnb.records.StaleRecordError`.
    """
    root = root or search_root()
    rows = []
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        if folder.name not in SEARCHED:
            raise ValueError(f"{folder} is not the folder of a searched profile")
        rows += _calibration_rows(folder, folder.name, SEARCHED[folder.name])
    return pd.DataFrame(rows)


def load_quick_runs(results_root: Path | None = None) -> pd.DataFrame:
    """The calibration runs of today's ``quick`` profile, as :func:`load_candidate_runs` does."""
    folder = (results_root or results_dir()) / "quick"
    return pd.DataFrame(_calibration_rows(folder, "quick", PROFILES["quick"]))


def _calibration_rows(folder: Path, name: str, definition: Profile) -> list[dict[str, object]]:
    """The runs of the calibration losses (default options) in the calibration cells under
    ``folder``, each with its candidate ``name``, precision and last training accuracy;
    :class:`StaleRecordError` for a record made under another definition of the profile."""
    rows = []
    for path in iter_record_paths(folder):
        record = read_record(path)
        if not definition.matches(record["profile"], record["config"]["dataset"]):
            raise StaleRecordError(f"{path.name} in {folder.name}/ was made under another profile")
        row = record_row(record)
        calibration_cell = (row["dataset"], float(row["ratio"])) in CALIBRATION_CELLS
        if (
            calibration_cell
            and row["loss"] in CALIBRATION_LOSSES
            and row["loss_options"] == DEFAULT_OPTIONS
        ):
            rows.append(
                {
                    **row,
                    "candidate": name,
                    "precision": record["precision"],
                    "train_accuracy": record["epochs"][-1]["train_accuracy"],
                }
            )
    return rows


def candidate_scores(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per candidate and cell: agreement, seeds, each method's mean ± std, run time,
    how well CE fits the training set by the last epoch (a miniature far from fitting it is in
    another regime than 200-epoch training, where CE reaches nearly 100 %), and the two gaps the
    old ``quick`` got wrong: LDAM − CE and Focal + CB − CE (both positive in the paper).

    Cells lacking a calibration method are scored on the methods they have (``methods`` says
    how many; a missing method shows as "–"), so screening runs on a few methods can be
    compared; only complete cells count towards the target.
    """
    rows: list[dict[str, object]] = []
    if runs.empty:
        return pd.DataFrame(rows)
    for (candidate, dataset, ratio), cell in runs.groupby(["candidate", "dataset", "ratio"]):
        stats = cell.groupby("loss")["accuracy"].agg(["mean", "std", "count"])
        agree, compared = pairwise_agreement(
            stats["mean"].to_dict(), paper_calibration_values(dataset, ratio)
        )
        row: dict[str, object] = {
            "candidate": candidate,
            "dataset": dataset,
            "ratio": ratio,
            "methods": len(stats),
            "seeds": int(stats["count"].min()),
            "agree": agree,
            "compared": compared,
            "median_run_s": float(cell["wall_time_s"].median()),
            "ce_train_accuracy": float(cell.loc[cell["loss"] == "ce", "train_accuracy"].mean()),
            "precision": ",".join(sorted(set(cell["precision"]))),
        }
        for loss in ("ldam", "focal-cb"):
            present = {loss, "ce"} <= set(stats.index)
            gap = stats.loc[loss, "mean"] - stats.loc["ce", "mean"] if present else math.nan
            row[f"{loss} - ce"] = round(float(gap), 2)
        for loss in CALIBRATION_LOSSES:
            row[loss] = "–"
            if loss in stats.index:
                mean, std = stats.loc[loss, "mean"], stats.loc[loss, "std"]
                row[loss] = f"{mean:.1f}" + ("" if math.isnan(std) else f" ± {std:.1f}")
        rows.append(row)
    return pd.DataFrame(rows)


def train_accuracy_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean final training accuracy (last epoch, augmented batches) of each calibration method,
    one row per candidate and imbalance ratio: how far each method got in fitting its data."""
    table = runs.pivot_table(
        index=["candidate", "ratio"], columns="loss", values="train_accuracy", aggfunc="mean"
    )
    return table.reindex(columns=[loss for loss in CALIBRATION_LOSSES if loss in table.columns])


def train_candidate_runs(
    candidate: Profile, configs: Iterable[RunConfig], options: TrainOptions
) -> None:
    """Register ``candidate`` as a profile and train each of ``configs`` under it (:func:`train`
    skips a run whose record exists), printing one line per finished run: its accuracy, shot
    groups and minutes (:func:`cslnb.train.batch.describe_record`)."""
    from cslnb.train import train
    from cslnb.train.batch import describe_record

    register_profile(candidate)
    for config in configs:
        record = train(config, options)
        if record is not None:
            print(
                f"{describe_record(record)} in {record['wall_time_s'] / 60:.1f} min "
                f"({record['precision']})",
                flush=True,
            )


def run_candidate(
    name: str,
    seeds: Sequence[int],
    ratios: Sequence[float],
    losses: Sequence[str],
    data_root: Path | None,
    results_root: Path | None = None,
) -> None:
    """Train the calibration runs of candidate ``name`` whose records are missing."""
    from cslnb.train import RunConfig, TrainOptions

    options = TrainOptions(
        results_root=results_root or search_root(),
        data_root=data_root,
        progress=sys.stderr.isatty(),
    )
    configs = (
        RunConfig(dataset="cifar10", loss=loss, ratio=ratio, seed=seed, profile=name)
        for seed, ratio, loss in itertools.product(seeds, ratios, losses)
    )
    train_candidate_runs(CANDIDATES[name], configs, options)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cslnb.profile_search", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="train a candidate's missing calibration runs")
    run.add_argument("candidate", choices=sorted(CANDIDATES))
    run.add_argument("--seeds", type=int, nargs="+", default=[0])
    run.add_argument("--ratios", type=float, nargs="+", default=[100.0, 50.0])
    run.add_argument("--losses", nargs="+", choices=CALIBRATION_LOSSES, default=CALIBRATION_LOSSES)
    run.add_argument("--data-root", type=Path, default=None)
    commands.add_parser("summary", help="print every candidate's agreement and means")
    args = parser.parse_args(argv)
    if args.command == "run":
        run_candidate(args.candidate, args.seeds, args.ratios, args.losses, args.data_root)
    else:
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            print(candidate_scores(load_candidate_runs()).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
