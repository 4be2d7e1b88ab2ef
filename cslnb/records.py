"""Run records: one plain JSON file per ended run, written atomically, read into pandas.

A run ends ``finished`` or ``diverged`` (:func:`record_status`): a diverged run is a result that
tables show as such, never averaged with finished seeds.

Layout: ``<results root>/<profile>/<dataset>/<run_id>.json``. A record is written only after the
last epoch, by writing a temporary file in the same folder and renaming it over the target, so a
crashed or killed run never leaves a partial record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from cslnb.atomic import write_atomic
from cslnb.paths import results_dir
from cslnb.profiles import PROFILES

SCHEMA_VERSION = 1
REQUIRED_KEYS = ("schema_version", "run_id", "config", "profile", "dataset", "final", "epochs")
REQUIRED_FINAL_KEYS = ("accuracy", "per_class_accuracy", "group_accuracy")
RECORD_COLUMNS = (
    "run_id",
    "profile",
    "dataset",
    "ratio",
    "imb_type",
    "loss",
    "loss_options",
    "seed",
    "status",
    "diverged_epoch",
    "accuracy",
    "many",
    "medium",
    "few",
    "per_class_accuracy",
    "never_predicted",
    "best_accuracy",
    "best_epoch",
    "source",
    "wall_time_s",
    "device",
)


class RecordError(ValueError):
    """A run record that is missing fields or is not valid JSON."""


class StaleRecordError(RecordError):
    """Run records made under an earlier (or unknown) definition of their profile."""


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` as JSON to ``path`` via a temporary file and an atomic rename."""
    text = json.dumps(payload, indent=1, sort_keys=True) + "\n"
    write_atomic(path, lambda handle: handle.write(text.encode()))


def record_path(profile: str, dataset: str, run_id: str, root: Path | None = None) -> Path:
    """Where the record of run ``run_id`` lives."""
    return (root or results_dir()) / profile / dataset / f"{run_id}.json"


def read_record(path: Path) -> dict[str, Any]:
    """Load and validate one record; raise :class:`RecordError` naming the file if malformed."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise RecordError(f"{path}: not a readable JSON run record ({error})") from error
    if not isinstance(record, dict):
        raise RecordError(f"{path}: a run record must be a JSON object")
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        raise RecordError(f"{path}: run record lacks {', '.join(missing)}")
    final = record["final"]
    missing_final = [key for key in REQUIRED_FINAL_KEYS if key not in final]
    if missing_final:
        raise RecordError(f"{path}: run record's 'final' lacks {', '.join(missing_final)}")
    n_classes = len(record["dataset"].get("class_counts", []))
    if len(final["per_class_accuracy"]) != n_classes:
        raise RecordError(
            f"{path}: {len(final['per_class_accuracy'])} per-class accuracies for "
            f"{n_classes} classes"
        )
    return record


def iter_record_paths(root: Path | None = None, profile: str | None = None) -> Iterable[Path]:
    """Every record file under ``root`` (optionally one profile's), sorted."""
    base = (root or results_dir()) / profile if profile else (root or results_dir())
    return sorted(p for p in base.rglob("*.json") if not p.name.startswith("."))


def record_status(record: dict[str, Any]) -> str:
    """``finished``, or ``diverged`` for a run whose loss became NaN or infinite; there
    ``final`` is the last finite epoch's accuracy (None when it diverged in its first epoch) and
    ``divergence`` says where. Records written before the field existed are finished runs."""
    return record.get("status", "finished")


def never_predicted(final: dict[str, Any]) -> int | None:
    """How many classes the model predicts for no test sample at its ``final`` evaluation
    (``per_class_predicted`` equal to 0); None for records written before the counts were
    stored."""
    counts = final.get("per_class_predicted")
    return None if counts is None else sum(1 for count in counts if count == 0)


def record_row(record: dict[str, Any]) -> dict[str, Any]:
    """One flat DataFrame row of a record: the fields tables and plots group and compare by."""
    config, final, best = record["config"], record["final"], record.get("best", {})
    groups = final["group_accuracy"]
    return {
        "run_id": record["run_id"],
        "profile": record["profile"]["name"],
        "dataset": config["dataset"],
        "ratio": config["ratio"],
        "imb_type": config["imb_type"],
        "loss": config["loss"],
        "loss_options": json.dumps(config.get("loss_options", {}), sort_keys=True),
        "seed": config["seed"],
        "status": record_status(record),
        "diverged_epoch": record.get("divergence", {}).get("epoch"),
        "accuracy": final["accuracy"],
        "many": groups.get("many"),
        "medium": groups.get("medium"),
        "few": groups.get("few"),
        "per_class_accuracy": final["per_class_accuracy"],
        "never_predicted": never_predicted(final),
        "best_accuracy": best.get("accuracy"),
        "best_epoch": best.get("epoch"),
        "source": record["dataset"].get("source"),
        "wall_time_s": record.get("wall_time_s"),
        "device": record.get("hardware", {}).get("device"),
    }


def profile_is_current(record: dict[str, Any]) -> bool:
    """Whether ``record`` was made under the current definition of its profile.

    A profile name keeps its meaning only while its sizes stay the same: a record made before
    ``quick`` was redefined is not a ``quick`` record any more. Only the sizes that apply to the
    record's dataset count (:meth:`Profile.matches`): a CIFAR record stays current when the
    Tiny-ImageNet sizes change. Unknown profile names are not current either.
    """
    stored = record["profile"]
    current = PROFILES.get(stored.get("name"))
    return current is not None and current.matches(stored, record["config"]["dataset"])


def load_records(
    root: Path | None = None, profile: str | None = None, *, include_stale: bool = False
) -> pd.DataFrame:
    """All run records under ``root`` as a DataFrame, one row per run (see :func:`record_row`).

    A malformed record raises :class:`RecordError` instead of being skipped silently, and so
    does a record whose profile definition is not the current one (:func:`profile_is_current`),
    so that no table shows an old definition's numbers under the profile's name. With
    ``include_stale=True`` such records are returned too, flagged by a ``profile_current``
    column.
    """
    rows, stale = [], []
    for path in iter_record_paths(root, profile):
        record = read_record(path)
        current = profile_is_current(record)
        if not current:
            stale.append(path)
        rows.append({**record_row(record), "profile_current": current})
    if stale and not include_stale:
        listed = "\n  ".join(str(path) for path in stale[:5])
        more = f"\n  ... and {len(stale) - 5} more" if len(stale) > 5 else ""
        raise StaleRecordError(
            f"{len(stale)} run record(s) were made under another definition of their profile "
            f"than the one in cslnb/profiles.py; retrain them or move them out of the results "
            f"folder:\n  {listed}{more}"
        )
    columns = [*RECORD_COLUMNS, "profile_current"] if include_stale else list(RECORD_COLUMNS)
    return pd.DataFrame(rows, columns=columns)
