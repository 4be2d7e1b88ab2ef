"""A CSL run's per-class traces summarised by shot group, for datasets with many classes.

With 200 classes (Tiny-ImageNet-LT) one line per class, as in Figures 1-2, is unreadable.
:func:`shot_group_traces` reduces ``loss_trace[*][key]`` to one value per shot group and epoch:
the median over the group's classes (a median, because one class's ``gamma_i`` at the epsilon
cap, about 1e6, would decide a mean). The groups are the record's ``dataset.groups``, the
ImageNet-LT thresholds (many: over 100 training images, medium: 20 to 100, few: under 20; Liu
et al. 2019). :func:`predicted_share` gives the share of each group's classes that are predicted
at all in an epoch (``n_pred > 0``): the collapse the paper reading shows on CIFAR-10 appears
there as a group falling to 0. :func:`plot_shot_group_traces` draws both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cslnb.records import RecordError
from cslnb.report.figures import (
    LOG_SPAN,
    TRACE_LABELS,
    record_and_source,
    record_title,
    report_style,
)
from cslnb.report.runs import source_name, trace_matrix

SHOT_GROUPS = ("many", "medium", "few")
SHOWN_KEYS = ("semantic_scale", "gamma", "n_pred")
"""The traced quantities :func:`plot_shot_group_traces` draws, one panel each (Figures 1-2 and
the predictions that drive them)."""


def _groups(record: Mapping[str, Any], n_classes: int, source: object | None) -> np.ndarray:
    """The record's shot group of each class; :class:`RecordError` if it lacks them."""
    groups = record.get("dataset", {}).get("groups")
    if not groups or len(groups) != n_classes:
        raise RecordError(
            f"{source_name(record, source)}: record lacks dataset.groups for {n_classes} classes"
        )
    return np.asarray(groups)


def _by_group(
    record: Mapping[str, Any], values: np.ndarray, source: object | None, reduce: Any
) -> dict[str, np.ndarray]:
    """``reduce(values[:, group], axis=1)`` for each non-empty shot group, in group order."""
    groups = _groups(record, values.shape[1], source)
    return {g: reduce(values[:, groups == g], axis=1) for g in SHOT_GROUPS if (groups == g).any()}


def shot_group_traces(
    record: Mapping[str, Any] | str | Path, key: str, epochs: int | None = None
) -> pd.DataFrame:
    """Median of ``loss_trace[*][key]`` over each shot group's classes; one row per traced
    epoch (index ``epoch``, up to ``epochs`` when given), one column per non-empty group."""
    record, source = record_and_source(record)
    epoch_numbers, values = trace_matrix(record, key, source)
    keep = epoch_numbers <= epochs if epochs is not None else np.ones_like(epoch_numbers, bool)
    medians = _by_group(record, values[keep], source, np.median)
    return pd.DataFrame(medians, index=pd.Index(epoch_numbers[keep], name="epoch"))


def predicted_share(
    record: Mapping[str, Any] | str | Path, epochs: int | None = None
) -> pd.DataFrame:
    """Percentage of each shot group's classes with ``n_pred > 0`` in each traced epoch (the
    class is the argmax of at least one training image that epoch); rows and columns as in
    :func:`shot_group_traces`."""
    record, source = record_and_source(record)
    epoch_numbers, values = trace_matrix(record, "n_pred", source)
    keep = epoch_numbers <= epochs if epochs is not None else np.ones_like(epoch_numbers, bool)
    shares = _by_group(record, 100.0 * (values[keep] > 0), source, np.mean)
    return pd.DataFrame(shares, index=pd.Index(epoch_numbers[keep], name="epoch"))


def _log_scale_pays(frame: pd.DataFrame) -> bool:
    """Whether the positive values of ``frame`` span more than :data:`LOG_SPAN`."""
    positive = frame.to_numpy()[frame.to_numpy() > 0]
    return bool(positive.size) and positive.max() / positive.min() > LOG_SPAN


def plot_shot_group_traces(
    record: Mapping[str, Any] | str | Path,
    keys: Sequence[str] = SHOWN_KEYS,
    epochs: int | None = None,
) -> Figure:
    """One panel per traced ``key`` (the median of each shot group over epochs, a log axis
    where the values span over :data:`LOG_SPAN`) and a last panel with
    :func:`predicted_share`."""
    record, _ = record_and_source(record)
    panels = [(TRACE_LABELS.get(k, k), shot_group_traces(record, k, epochs)) for k in keys]
    panels.append(("classes predicted (%)", predicted_share(record, epochs)))
    with report_style():
        fig = Figure(figsize=(3.2 * len(panels), 3.6), layout="constrained")
        axes = fig.subplots(1, len(panels), sharex=True)
        for ax, (label, frame) in zip(axes, panels, strict=True):
            for group in frame.columns:
                ax.plot(frame.index, frame[group], label=group)
            if _log_scale_pays(frame):
                ax.set_yscale("log")
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
            ax.set_xlabel("epoch")
            ax.set_title(label, fontsize=9)
        axes[0].set_ylabel("median over the group's classes")
        axes[-1].set_ylim(-5, 105)
        axes[-1].legend(title="shot group", loc="best")
        fig.suptitle(record_title(record, "CSL's per-class traces by shot group"), fontsize=10)
    return fig
