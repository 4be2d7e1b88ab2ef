"""The report's input: checking run records and choosing which of them a table compares.

Every check raises :class:`cslnb.records.RecordError` naming the run (or the file it came from)
instead of skipping the record, so a broken record never silently drops out of a table.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from cslnb.profiles import get_profile
from cslnb.records import RecordError

DATASET_TITLES = {
    "cifar10": "CIFAR-10-LT",
    "cifar100": "CIFAR-100-LT",
    "tiny-imagenet": "Tiny-ImageNet-LT",
    "imagenet-lt": "ImageNet-LT",
    "synthetic": "synthetic LT",
}
"""How tables, sentences and figures name a dataset."""
DEFAULT_OPTIONS = "{}"
"""``loss_options`` of a run with the loss's default options (the runs behind the tables)."""


def options_key(options: Mapping[str, object]) -> str:
    """``loss_options`` as :func:`cslnb.records.record_row` stores them (sorted JSON)."""
    return json.dumps(dict(options), sort_keys=True)


def require_columns(records: pd.DataFrame, columns: Iterable[str]) -> None:
    """Raise :class:`RecordError` if the records DataFrame lacks any of ``columns``."""
    missing = [column for column in columns if column not in records.columns]
    if missing:
        raise RecordError(f"run records lack column(s) {', '.join(missing)}")


def check_accuracy(row: Mapping[str, Any], column: str = "accuracy") -> float:
    """The run's ``column`` value as a float; :class:`RecordError` naming the run if missing."""
    value = row[column]
    if not isinstance(value, numbers.Real) or math.isnan(value):
        raise RecordError(f"run {row['run_id']}: {column} is missing or not a number ({value!r})")
    return float(value)


def check_per_class(row: Mapping[str, Any], n_classes: int) -> list[float]:
    """The run's per-class accuracies; :class:`RecordError` naming the run unless ``n_classes``."""
    values = row["per_class_accuracy"]
    if not isinstance(values, list | tuple | np.ndarray) or len(values) != n_classes:
        length = len(values) if isinstance(values, list | tuple | np.ndarray) else "no"
        raise RecordError(
            f"run {row['run_id']}: {length} per-class accuracies, expected {n_classes}"
        )
    return [float(v) for v in values]


def select_profile(records: pd.DataFrame, profile: str | None) -> tuple[pd.DataFrame, str]:
    """Keep one profile's runs with default loss options; return them and the profile's name.

    With ``profile=None`` the records must hold a single profile (else :class:`ValueError`:
    numbers of different run sizes are never mixed); empty records fall back to the default
    profile (``$CSLNB_PROFILE``).
    """
    require_columns(records, ("run_id", "profile", "loss_options"))
    profiles = sorted(set(records["profile"]))
    if profile is None:
        if len(profiles) > 1:
            raise ValueError(
                f"the records mix profiles {', '.join(profiles)}; choose one with profile=..."
            )
        profile = profiles[0] if profiles else get_profile(None).name
    chosen = records[(records["profile"] == profile) & (records["loss_options"] == DEFAULT_OPTIONS)]
    return chosen.reset_index(drop=True), profile


DIVERGED = "diverged"
"""``status`` of a run whose loss became NaN or infinite (:func:`cslnb.records.record_status`)."""


def split_diverged(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(finished runs, diverged runs) of ``runs``: a diverged run is a result to show, never a
    value to average with finished seeds. Without a ``status`` column every run is finished."""
    if "status" not in runs.columns:
        return runs, runs.iloc[0:0]
    diverged = runs["status"] == DIVERGED
    return runs[~diverged], runs[diverged]


def diverged_note(diverged: pd.DataFrame) -> str:
    """``seed 1 diverged at epoch 7 (last 23.40 %)`` for each diverged run, joined by ``; ``
    (``last``: the accuracy of the last evaluation before the loss became non-finite, ``no
    finite epoch`` when there was none); empty when ``diverged`` is."""
    notes = []
    for row in diverged.sort_values("seed").to_dict("records"):
        last = row.get("accuracy")
        known = isinstance(last, numbers.Real) and not math.isnan(last)
        where = f"last {last:.2f} %" if known else "no finite epoch"
        epoch = int(row["diverged_epoch"])  # a float where pandas filled finished runs with NaN
        notes.append(f"seed {int(row['seed'])} diverged at epoch {epoch} ({where})")
    return "; ".join(notes)


def variant_runs(records: pd.DataFrame, profile: str, loss: str, options: str) -> pd.DataFrame:
    """One profile's runs of ``loss`` with ``loss_options`` equal to ``options`` (as records
    store them, e.g. ``'{"reading": "released"}'``), e.g. a reading of CSL beside the defaults
    that :func:`select_profile` keeps."""
    return records[
        (records["profile"] == profile)
        & (records["loss"] == loss)
        & (records["loss_options"] == options)
    ]


def classes_by_size(class_counts: Iterable[int]) -> np.ndarray:
    """Class labels from the most training images to the fewest, ties in label order."""
    return np.argsort(-np.asarray(list(class_counts)), kind="stable")


def source_name(record: Mapping[str, Any], source: object | None) -> str:
    """How error messages name a record: its file when known, else its run id."""
    return str(source) if source is not None else f"run {record.get('run_id', '<no run_id>')}"


def trace_matrix(
    record: Mapping[str, Any], key: str, source: object | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The epochs and the ``(epochs, classes)`` matrix of ``loss_trace[*][key]`` of a CSL record.

    Raises :class:`RecordError` naming ``source`` (or the run) when the record has no trace,
    an entry lacks ``epoch`` or ``key``, or an entry's length differs from the class count.
    """
    where = source_name(record, source)
    try:
        n_classes = len(record["dataset"]["class_counts"])
    except (KeyError, TypeError) as error:
        raise RecordError(f"{where}: record lacks dataset.class_counts") from error
    trace = record.get("loss_trace")
    if not trace:
        raise RecordError(f"{where}: record has no loss_trace (only CSL runs record one)")
    epochs, rows = [], []
    for index, entry in enumerate(trace):
        missing = [name for name in ("epoch", key) if name not in entry]
        if missing:
            raise RecordError(f"{where}: loss_trace entry {index} lacks {', '.join(missing)}")
        if len(entry[key]) != n_classes:
            raise RecordError(
                f"{where}: loss_trace entry {index} has {len(entry[key])} {key} values "
                f"for {n_classes} classes"
            )
        epochs.append(entry["epoch"])
        rows.append(entry[key])
    return np.asarray(epochs, dtype=int), np.asarray(rows, dtype=float)
