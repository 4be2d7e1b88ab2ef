"""How far a re-run lands from its committed record, next to the spread of the cell's seeds.

:func:`rerun_table` turns :class:`cslnb.verify.Verification` objects (a committed record, a
re-run of it and the final results of the cell's seeds) into one plain table, a row per re-run:

* the setting changed: each of :data:`cslnb.verify.CONDITIONS` known in both records and
  unequal, written ``name record → re-run`` (``none`` when nothing known differs);
* the re-run's hardware (CPU model or GPU, bf16 path, threads, precision);
* its overall accuracy and the difference ``re-run - record`` in points;
* the largest per-class difference (signed, of the class whose ``|re-run - record|`` is
  largest; no class when every class is equal);
* the seed spread of the committed cell: range ``max - min`` and sample standard deviation
  ``sqrt(sum (a_s - mean)^2 / (n - 1))`` of the final accuracies of seeds ``s`` in the
  committed record's folder;
* the verdict of :class:`cslnb.verify.Verification` (identical, within or outside seed noise).

A re-run known only from a report, without its record, enters as a :class:`ReportedRerun`
(its overall accuracy and the per-class accuracies it states); its row reads "as reported".
:func:`load_reruns` pairs every record of a folder of re-runs (``data/verify/``) with the
committed record of the same run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cslnb.records import read_record, record_path
from cslnb.report.seed_statistics import seed_std
from cslnb.verify import Verification, seed_results

COLUMNS = [
    "re-run",
    "setting changed",
    "hardware",
    "overall %",
    "difference",
    "largest class difference",
    "class",
    "seed range",
    "seed sd",
    "verdict",
]


@dataclass(frozen=True)
class ReportedRerun:
    """A re-run known only from what a reader reported, without its record.

    ``setting`` says what differed from the committed run, ``per_class`` holds the per-class
    accuracies (%) the report states, by class name; the others are unknown.
    """

    setting: str
    hardware: str
    accuracy: float
    per_class: Mapping[str, float] = field(default_factory=dict)


def load_reruns(folder: Path, results_root: Path) -> list[Verification]:
    """Each re-run record in ``folder`` with the committed record of its run under
    ``results_root`` and the final results of that cell's seeds, in file-name order."""
    verifications = []
    for path in sorted(folder.glob("*.json")):
        fresh = read_record(path)
        source = record_path(
            fresh["profile"]["name"], fresh["config"]["dataset"], fresh["run_id"], results_root
        )
        recorded = read_record(source)
        verifications.append(
            Verification(source, recorded, fresh, seed_results(recorded, source.parent))
        )
    return verifications


def setting_changed(verification: Verification) -> str:
    """The conditions known in both records that differ, ``name record → re-run``."""
    changed = [
        f"{row.name} {row.recorded} → {row.rerun}"
        for row in verification.conditions
        if row.status == "differs"
    ]
    return "; ".join(changed) or "none"


def hardware_text(record: dict[str, Any]) -> str:
    """CPU model (or GPU), bf16 path, threads and precision of ``record``, as far as known."""
    hardware = record.get("hardware", {})
    parts = [
        hardware.get("gpu") or hardware.get("cpu_model") or hardware.get("device"),
        hardware.get("bf16_path") and f"bf16 path {hardware['bf16_path']}",
        hardware.get("torch_threads") and f"{hardware['torch_threads']} thread(s)",
        record.get("precision"),
    ]
    return ", ".join(str(part) for part in parts if part)


def seed_sd(verification: Verification) -> float | None:
    """Sample standard deviation of the cell's seed accuracies (None with fewer than two)."""
    values = [final["accuracy"] for final in verification.seeds.values()]
    return seed_std(values) if len(values) >= 2 else None


def _largest(
    recorded: Sequence[float | None], rerun: Sequence[float | None], names: Sequence[str]
) -> tuple[float | None, str | None]:
    """The signed per-class difference of largest size and its class (class None if all zero)."""
    known = [
        (b - a, name)
        for a, b, name in zip(recorded, rerun, names, strict=True)
        if a is not None and b is not None
    ]
    if not known:
        return None, None
    difference, name = max(known, key=lambda pair: abs(pair[0]))
    return difference, name if difference else None


def _row(verification: Verification, label: str, setting: str, hardware: str) -> dict[str, Any]:
    recorded, rerun = verification.recorded["final"], verification.rerun["final"]
    difference, name = _largest(
        recorded["per_class_accuracy"],
        rerun["per_class_accuracy"],
        verification.recorded["dataset"]["class_names"],
    )
    return {
        "re-run": label,
        "setting changed": setting,
        "hardware": hardware,
        "overall %": rerun["accuracy"],
        "difference": verification.difference,
        "largest class difference": difference,
        "class": name,
        "seed range": verification.seed_spread,
        "seed sd": seed_sd(verification),
        "verdict": verification.verdict,
    }


def rerun_table(
    verifications: Sequence[Verification],
    reported: Sequence[tuple[Verification, ReportedRerun]] = (),
) -> pd.DataFrame:
    """One row per re-run (:data:`COLUMNS`; accuracies and differences in points).

    ``reported`` pairs a :class:`ReportedRerun` with a verification of the same committed
    record: its record and seeds are compared with what the report states (its own re-run is
    not used).
    """
    rows = [
        _row(v, v.rerun["run_id"], setting_changed(v), hardware_text(v.rerun))
        for v in verifications
    ]
    for base, report in reported:
        names = base.recorded["dataset"]["class_names"]
        final = {
            "accuracy": report.accuracy,
            "per_class_accuracy": [report.per_class.get(name) for name in names],
        }
        as_reported = Verification(base.source, base.recorded, {"final": final}, base.seeds)
        label = f"{base.recorded['run_id']}, as reported"
        rows.append(_row(as_reported, label, report.setting, report.hardware))
    return pd.DataFrame(rows, columns=COLUMNS)
