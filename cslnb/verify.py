"""``python -m cslnb verify RECORD...``: re-train the run a record describes and compare.

The re-run uses the record's configuration and seed, its thread count and its execution
settings (``torch.compile``, channels-last, CUDA graph; records without an ``execution`` list
predate the first two and ran without them). It trains into a scratch folder, never into the
folder of the record, and :func:`verify` sets side by side:

* overall and per-class accuracy of the record and of the re-run;
* what decides the arithmetic (:data:`CONDITIONS`): the hardware fields of
  :func:`cslnb.train.device.describe_hardware`, the torch version, threads, precision, execution
  settings and the training data's fingerprint. They *match* when every one is known in both
  records and equal, *differ* when one known in both is unequal, and are *unknown* otherwise
  (records older than a field lack it);
* the verdict (:class:`Verification`): **identical** (same overall and per-class accuracy),
  **within seed noise** (the difference is at most the spread of that cell's seeds: the range,
  max - min, of the final accuracies of the records of the same configuration that differ only
  in seed, in the record's folder, the record included), **outside seed noise**, or, with fewer
  than two seeds in the folder, **no seed spread** to compare with.

A verification *fails* (non-zero exit) for "outside seed noise", and for any difference when
the conditions match: the same hardware and settings must give the same numbers. The range of
three seeds is itself a rough measure (a run of another seed lands farther from the record than
it about one time in three), so a difference just beyond it is worth a look, not proof of a bug.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch

from cslnb.records import (
    RecordError,
    profile_is_current,
    read_record,
    record_path,
)
from cslnb.train.config import RunConfig, TrainOptions
from cslnb.train.device import pick_device
from cslnb.train.trainer import train

IDENTICAL = "identical"
WITHIN = "within seed noise"
OUTSIDE = "outside seed noise"
NO_SPREAD = "different, no seed spread to compare with (train more seeds of this cell)"


def _hardware(key: str) -> Callable[[dict[str, Any]], object]:
    return lambda record: record.get("hardware", {}).get(key)


def _math_library(name: str) -> Callable[[dict[str, Any]], object]:
    return lambda record: (record.get("hardware", {}).get("math_libraries") or {}).get(name)


def _execution(record: dict[str, Any]) -> object:
    segments = record.get("execution")
    if not segments:
        return None
    return "; ".join(
        f"compile {_on(s['compile'])}, channels_last {_on(s['channels_last'])}, "
        f"cuda_graph {_on(s['cuda_graph'])}"
        for s in segments
    )


def _on(flag: bool) -> str:
    return "on" if flag else "off"


CONDITIONS: dict[str, Callable[[dict[str, Any]], object]] = {
    "device": _hardware("device"),
    "cpu_vendor": _hardware("cpu_vendor"),
    "cpu_model": _hardware("cpu_model"),
    "bf16_path": _hardware("bf16_path"),
    "cpu_capability": _hardware("cpu_capability"),
    "onednn": _math_library("onednn"),
    "mkl": _math_library("mkl"),
    "deterministic_algorithms": _hardware("deterministic_algorithms"),
    "gpu": _hardware("gpu"),
    "compute_capability": _hardware("compute_capability"),
    "cuda_version": _hardware("cuda_version"),
    "cudnn_version": _hardware("cudnn_version"),
    "cudnn_deterministic": _hardware("cudnn_deterministic"),
    "cudnn_benchmark": _hardware("cudnn_benchmark"),
    "fp32_precision": _hardware("fp32_precision"),
    "torch": lambda record: record.get("versions", {}).get("torch"),
    "threads": _hardware("torch_threads"),
    "precision": lambda record: record.get("precision"),
    "execution": _execution,
    "data_fingerprint": lambda record: record.get("dataset", {}).get("fingerprint"),
}
"""What decides a run's arithmetic, each read from a run record (``None``: not recorded)."""


@dataclass(frozen=True)
class Condition:
    """One row of :data:`CONDITIONS` in the record and in the re-run."""

    name: str
    recorded: object
    rerun: object

    @property
    def status(self) -> str:
        """``same``, ``differs`` or ``unknown`` (absent from one of the two records)."""
        if self.recorded is None or self.rerun is None:
            return "unknown"
        return "same" if self.recorded == self.rerun else "differs"


def conditions(recorded: dict[str, Any], rerun: dict[str, Any]) -> list[Condition]:
    """The rows of :data:`CONDITIONS` present in either record."""
    rows = [Condition(name, read(recorded), read(rerun)) for name, read in CONDITIONS.items()]
    return [row for row in rows if row.recorded is not None or row.rerun is not None]


def seed_results(record: dict[str, Any], folder: Path) -> dict[int, dict[str, Any]]:
    """The ``final`` results of each seed of ``record``'s cell among the current records in
    ``folder``: the records whose configuration equals ``record``'s but for the seed."""
    cell = _cell(record)
    found = {}
    for path in sorted(folder.glob("*.json")):
        try:
            other = read_record(path)
        except RecordError:
            continue
        if _cell(other) == cell and profile_is_current(other):
            found[int(other["config"]["seed"])] = other["final"]
    return found


def _cell(record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    config = {key: value for key, value in record["config"].items() if key != "seed"}
    return record["profile"]["name"], config


@dataclass(frozen=True)
class Verification:
    """A record, its re-run, and the final results of the seeds of the record's cell."""

    source: Path
    recorded: dict[str, Any]
    rerun: dict[str, Any]
    seeds: dict[int, dict[str, Any]]

    @property
    def conditions(self) -> list[Condition]:
        return conditions(self.recorded, self.rerun)

    @property
    def hardware(self) -> str:
        """``match`` (every condition known and equal), ``differ`` or ``unknown``."""
        statuses = {row.status for row in self.conditions}
        if "differs" in statuses:
            return "differ"
        return "unknown" if "unknown" in statuses else "match"

    @property
    def difference(self) -> float:
        """Re-run minus record, overall accuracy in points."""
        return self.rerun["final"]["accuracy"] - self.recorded["final"]["accuracy"]

    @property
    def identical(self) -> bool:
        a, b = self.recorded["final"], self.rerun["final"]
        return (a["accuracy"], a["per_class_accuracy"]) == (b["accuracy"], b["per_class_accuracy"])

    @property
    def seed_spread(self) -> float | None:
        """max - min of the cell's seed accuracies (None with fewer than two seeds)."""
        return _range([final["accuracy"] for final in self.seeds.values()])

    @property
    def class_seed_spreads(self) -> list[float | None]:
        """max - min of each class's accuracy over the cell's seeds."""
        per_seed = [final["per_class_accuracy"] for final in self.seeds.values()]
        n_classes = len(self.recorded["final"]["per_class_accuracy"])
        return [_range([values[c] for values in per_seed]) for c in range(n_classes)]

    @property
    def verdict(self) -> str:
        if self.identical:
            return IDENTICAL
        if self.seed_spread is None:
            return NO_SPREAD
        return WITHIN if abs(self.difference) <= self.seed_spread + 1e-9 else OUTSIDE

    @property
    def failed(self) -> bool:
        """Outside seed noise, or any difference although the conditions match."""
        return self.verdict == OUTSIDE or (not self.identical and self.hardware == "match")

    def report(self) -> str:
        """The side-by-side comparison and the verdict, as printed by ``verify``."""
        recorded, rerun = self.recorded["final"], self.rerun["final"]
        names = self.recorded["dataset"]["class_names"]
        lines = [
            f"{self.recorded['run_id']} ({self.recorded['profile']['name']}): {self.source}",
            f"  {'accuracy %':<26}{'record':>10}{'re-run':>10}{'difference':>12}{'seed range':>12}",
            _accuracy_line("overall", recorded["accuracy"], rerun["accuracy"], self.seed_spread),
        ]
        lines += [
            _accuracy_line(*row)
            for row in zip(
                names,
                recorded["per_class_accuracy"],
                rerun["per_class_accuracy"],
                self.class_seed_spreads,
                strict=True,
            )
        ]
        lines.append("  what decides the numbers")
        for row in self.conditions:
            if row.status == "same":
                lines.append(f"  {row.name:<26}{_show(row.recorded)}")
            else:
                values = f"record {_show(row.recorded)} | re-run {_show(row.rerun)}"
                lines.append(f"  {row.name:<26}{values}  <- {row.status}")
        lines.append(f"hardware and settings: {self.hardware}")
        lines.append(f"seed spread of this cell: {self._spread_text()}")
        lines.append(f"verdict: {self.verdict}")
        if self.failed and self.verdict != OUTSIDE:
            lines.append("  but the hardware and settings match: the numbers should be identical")
        return "\n".join(lines)

    def _spread_text(self) -> str:
        if self.seed_spread is None:
            return f"unknown ({len(self.seeds)} seed record(s) in {self.source.parent})"
        values = ", ".join(
            f"seed {seed}: {final['accuracy']:.2f}" for seed, final in sorted(self.seeds.items())
        )
        return f"{self.seed_spread:.2f} points ({values})"


def _range(values: list[float | None]) -> float | None:
    """max - min of the known values, None with fewer than two."""
    known = [value for value in values if value is not None]
    return max(known) - min(known) if len(known) >= 2 else None


def _accuracy_line(
    name: str, recorded: float | None, rerun: float | None, seed_range: float | None
) -> str:
    spread = "-" if seed_range is None else f"{seed_range:.2f}"
    if recorded is None or rerun is None:
        return f"  {name:<26}{_show(recorded):>10}{_show(rerun):>10}{'-':>12}{spread:>12}"
    return f"  {name:<26}{recorded:>10.2f}{rerun:>10.2f}{rerun - recorded:>+12.2f}{spread:>12}"


def _show(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{key} {_show(item)}" for key, item in value.items())
    return str(value)


def rerun_config(record: dict[str, Any], amp: str | None = None) -> RunConfig:
    """The record's :class:`RunConfig`, with ``amp`` replaced if given."""
    known = {field.name for field in fields(RunConfig)}
    config = {key: value for key, value in record["config"].items() if key in known}
    if amp is not None:
        config["amp"] = amp
    return RunConfig(**config)


def recorded_threads(record: dict[str, Any]) -> int | None:
    """CPU threads of the record's first execution segment, else of its hardware field."""
    segments = record.get("execution") or [{}]
    return segments[0].get("threads") or record.get("hardware", {}).get("torch_threads")


def execution_settings(record: dict[str, Any], device: torch.device) -> dict[str, str]:
    """``compile``/``channels_last``/``cuda_graph`` as the record's first segment ran them.

    Records without an ``execution`` list predate ``--compile`` and ``--channels-last`` (both
    off); the CUDA graph setting is replayed only on the device type it was recorded on.
    """
    segments = record.get("execution")
    if not segments:
        return {"compile": "off", "channels_last": "off", "cuda_graph": "auto"}
    first = segments[0]
    same_device = first.get("device") == device.type
    return {
        "compile": _on(first["compile"]),
        "channels_last": _on(first["channels_last"]),
        "cuda_graph": _on(first["cuda_graph"]) if same_device else "auto",
    }


def rerun(
    record: dict[str, Any],
    source: Path,
    scratch: Path,
    *,
    threads: int | None = None,
    amp: str | None = None,
    device: str | None = None,
    data_root: Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train the run of ``record`` (read from ``source``) afresh under ``scratch``; return the
    new record. ``threads`` and ``amp`` replace the record's own, to measure their effect."""
    if not profile_is_current(record):
        raise ValueError(
            f"{source}: made under another definition of profile "
            f"{record['profile'].get('name')!r} than the current one; it cannot be re-run"
        )
    config = rerun_config(record, amp)
    results = scratch / "results"
    target = record_path(config.profile, config.dataset, config.run_id, results)
    if target.resolve() == source.resolve():
        raise ValueError(f"the scratch folder {scratch} would overwrite the record {source}")
    where = pick_device(device)
    options = TrainOptions(
        results_root=results,
        checkpoint_root=scratch / "runs",
        data_root=data_root,
        device=str(where),
        progress=progress,
        force=True,
        **execution_settings(record, where),
    )
    before = torch.get_num_threads()
    torch.set_num_threads(threads or recorded_threads(record) or before)
    try:
        fresh = train(config, options)
    finally:
        torch.set_num_threads(before)
    assert fresh is not None  # no stop_after_epochs or deadline: the run finishes
    return fresh


def verify(
    sources: Sequence[Path],
    scratch: Path | None = None,
    **rerun_options: Any,
) -> list[Verification]:
    """Re-run every record of ``sources`` (see :func:`rerun`) and compare it with its re-run.

    ``scratch`` keeps the re-run records (``<scratch>/results/...``); without it they go to a
    temporary folder that is removed afterwards.
    """
    with contextlib.ExitStack() as cleanup:
        if scratch is None:
            temporary = tempfile.TemporaryDirectory(prefix="cslnb-verify-")
            scratch = Path(cleanup.enter_context(temporary))
        verifications = []
        for source in sources:
            recorded = read_record(source)
            fresh = rerun(recorded, Path(source), scratch, **rerun_options)
            seeds = seed_results(recorded, Path(source).parent)
            verifications.append(Verification(Path(source), recorded, fresh, seeds))
    return verifications
