"""Figures 1-2 of the paper from a CSL run's ``loss_trace``, a clearer heat-map, and the numbers.

Figure 1 plots each class's semantic scale ``S_i`` and Figure 2 its weight ``gamma_i`` over the
first 80 epochs of a CIFAR-100-LT (ratio 100) run, following class 91. :func:`plot_semantic_scale`
and :func:`plot_gamma` draw every class faintly and a few highlighted;
:func:`plot_trace_heatmap` shows any traced quantity as class x epoch, classes sorted by
training count. All return :class:`matplotlib.figure.Figure` objects (no pyplot state), drawn
under :func:`report_style`. :func:`trace_snapshot` lists every class's traced statistics at one
epoch next to its training count and test accuracy, and :func:`count_correlation` gives the
rank correlation between training counts and one traced statistic, with its p-value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy.stats import spearmanr

from cslnb.losses.csl import TRACE_KEYS
from cslnb.records import RecordError, read_record
from cslnb.report.runs import DATASET_TITLES, classes_by_size, source_name, trace_matrix

PAPER_EPOCHS_SHOWN = 80
PAPER_CLASS = 91
"""The CIFAR-100 class the paper follows in Figures 1-2."""
TRACE_LABELS = {
    "semantic_scale": "semantic scale $S_i$",
    "entropy": "entropy $H_i$",
    "gamma": r"class weight $\gamma_i$",
    "n_pred": r"predictions $N_{pred,i}$ (argmax, right or wrong)",
    "reinforcement": "reinforcement term",
}
STYLE = {
    "figure.figsize": (7.0, 4.2),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "image.cmap": "viridis",
}
FAINT = {"color": "0.6", "linewidth": 0.6, "alpha": 0.35}
HIGHLIGHT_WIDTH = 2.0
LOG_SPAN = 100.0
"""The heat-map switches to a log colour scale when positive values span more than this factor."""


@contextmanager
def report_style() -> Iterator[None]:
    """The rcParams every report figure is drawn under (create and draw inside the block)."""
    with mpl.rc_context(STYLE):
        yield


def record_and_source(
    record: Mapping[str, Any] | str | Path,
) -> tuple[Mapping[str, Any], Path | None]:
    """The record and its file (None for an in-memory record); files are validated on read."""
    if isinstance(record, str | Path):
        return read_record(Path(record)), Path(record)
    return record, None


def record_title(record: Mapping[str, Any], what: str) -> str:
    """``what``; on a second line the run's dataset, ratio, profile (and synthetic stand-in)."""
    config = record.get("config", {})
    dataset = config.get("dataset", "?")
    name = DATASET_TITLES.get(dataset, dataset)
    if record.get("dataset", {}).get("source") == "synthetic" and dataset != "synthetic":
        name += " (synthetic stand-in)"
    ratio = config.get("ratio")
    ratio_text = f"ratio {ratio:g}" if isinstance(ratio, int | float) else "ratio ?"
    profile = record.get("profile", {}).get("name", "?")
    return f"{what}\n{name}, {ratio_text}, profile {profile}"


def _class_label(record: Mapping[str, Any], index: int) -> str:
    info = record["dataset"]
    names = info.get("class_names") or []
    name = names[index] if index < len(names) else ""
    shown = f" {name}" if name and name != f"class{index}" else ""
    return f"class {index}{shown} (n={info['class_counts'][index]})"


def _color_norm(values: np.ndarray) -> Normalize:
    """A log norm for positive values spanning over :data:`LOG_SPAN`, else a linear one."""
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > LOG_SPAN:
        return LogNorm(vmin=finite.min(), vmax=finite.max())
    return Normalize()


def default_highlight(record: Mapping[str, Any]) -> tuple[int, ...]:
    """Head, middle and tail class by training count; plus class 91 on CIFAR-100 (the paper's)."""
    counts = record["dataset"]["class_counts"]
    order = classes_by_size(counts)
    chosen = {int(order[0]), int(order[len(order) // 2]), int(order[-1])}
    if record.get("config", {}).get("dataset") == "cifar100" and len(counts) > PAPER_CLASS:
        chosen.add(PAPER_CLASS)
    return tuple(sorted(chosen))


def plot_trace_lines(
    record: Mapping[str, Any] | str | Path,
    key: str,
    highlight: Sequence[int] | None = None,
    epochs: int = PAPER_EPOCHS_SHOWN,
    what: str | None = None,
) -> Figure:
    """``loss_trace[*][key]`` per class over the first ``epochs`` epochs.

    Every class is one faint line; the ``highlight`` classes (default
    :func:`default_highlight`) are drawn again on top, in colour and labelled, so the axes hold
    ``classes + len(highlight)`` lines. ``record`` is a record dict or a record file; a record
    without a usable trace raises :class:`cslnb.records.RecordError` naming it.
    """
    record, source = record_and_source(record)
    epoch_numbers, values = trace_matrix(record, key, source)
    n_classes = values.shape[1]
    chosen = tuple(default_highlight(record) if highlight is None else highlight)
    outside = [c for c in chosen if not 0 <= c < n_classes]
    if outside:
        raise ValueError(f"highlight classes {outside} outside 0..{n_classes - 1}")
    shown = epoch_numbers <= epochs
    x, y = epoch_numbers[shown], values[shown]
    label = TRACE_LABELS.get(key, key)
    with report_style():
        fig = Figure(layout="constrained")
        ax = fig.subplots()
        for c in range(n_classes):
            ax.plot(x, y[:, c], **FAINT)
        for c in chosen:
            ax.plot(x, y[:, c], linewidth=HIGHLIGHT_WIDTH, label=_class_label(record, c))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(record_title(record, what or f"{label} per class, first {epochs} epochs"))
        if chosen:
            ax.legend(loc="best")
    return fig


def plot_semantic_scale(
    record: Mapping[str, Any] | str | Path,
    highlight: Sequence[int] | None = None,
    epochs: int = PAPER_EPOCHS_SHOWN,
) -> Figure:
    """Figure 1: each class's semantic scale ``S_i`` per epoch (see :func:`plot_trace_lines`)."""
    return plot_trace_lines(
        record, "semantic_scale", highlight, epochs, what="Figure 1, semantic scale $S_i$"
    )


def plot_gamma(
    record: Mapping[str, Any] | str | Path,
    highlight: Sequence[int] | None = None,
    epochs: int = PAPER_EPOCHS_SHOWN,
) -> Figure:
    """Figure 2: each class's weight ``gamma_i`` per epoch (see :func:`plot_trace_lines`)."""
    return plot_trace_lines(record, "gamma", highlight, epochs, what=r"Figure 2, $\gamma_i$")


def plot_trace_heatmap(
    record: Mapping[str, Any] | str | Path, key: str, epochs: int | None = None
) -> Figure:
    """``loss_trace[*][key]`` as a class x epoch heat-map, head classes on top, tail at bottom.

    Classes are sorted by training count (descending, ties in label order); the y ticks name a
    few of them with their counts. Positive values spanning over :data:`LOG_SPAN` get a log
    colour scale. ``epochs`` limits the epochs shown (default: all).
    """
    record, source = record_and_source(record)
    epoch_numbers, values = trace_matrix(record, key, source)
    if epochs is not None:
        keep = epoch_numbers <= epochs
        epoch_numbers, values = epoch_numbers[keep], values[keep]
    if not epoch_numbers.size:
        raise ValueError(f"no traced epoch at or before epoch {epochs}")
    return _class_epoch_heatmap(record, epoch_numbers, values, TRACE_LABELS.get(key, key))


def plot_class_accuracy(
    record: Mapping[str, Any] | str | Path, epochs: int | None = None
) -> Figure:
    """Each class's test accuracy at every evaluated epoch, as a class x epoch heat-map (head
    classes on top), from the record's ``epochs`` entries that carry ``per_class_accuracy``.
    ``epochs`` limits the epochs shown (default: all)."""
    record, source = record_and_source(record)
    evaluated = [
        entry
        for entry in record["epochs"]
        if "per_class_accuracy" in entry and (epochs is None or entry["epoch"] <= epochs)
    ]
    if not evaluated:
        raise RecordError(
            f"{source_name(record, source)}: no evaluated epoch with per-class accuracy"
        )
    epoch_numbers = np.asarray([entry["epoch"] for entry in evaluated], dtype=int)
    values = np.asarray([entry["per_class_accuracy"] for entry in evaluated], dtype=float)
    return _class_epoch_heatmap(record, epoch_numbers, values, "test accuracy (%)")


def _class_epoch_heatmap(
    record: Mapping[str, Any], epoch_numbers: np.ndarray, values: np.ndarray, label: str
) -> Figure:
    """``values`` (epochs x classes) as a heat-map: classes sorted by training count (head on
    top), a few named on the y axis, a log colour scale past :data:`LOG_SPAN`."""
    order = classes_by_size(record["dataset"]["class_counts"])
    norm = _color_norm(values)
    with report_style():
        fig = Figure(layout="constrained")
        ax = fig.subplots()
        image = ax.imshow(
            values[:, order].T,
            aspect="auto",
            interpolation="nearest",
            norm=norm,
            extent=(
                epoch_numbers.min() - 0.5,
                epoch_numbers.max() + 0.5,
                len(order) - 0.5,
                -0.5,
            ),
        )
        ticks = np.unique(
            np.linspace(0, len(order) - 1, num=min(len(order), 10)).round().astype(int)
        )
        ax.set_yticks(ticks, [_class_label(record, int(order[t])) for t in ticks])
        ax.grid(False)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel("class, by training count (head → tail)")
        ax.set_title(record_title(record, f"{label}, class × epoch"))
        scale = " (log scale)" if isinstance(norm, LogNorm) else ""
        fig.colorbar(image, ax=ax, label=label + scale)
    return fig


def _trace_row(record: Mapping[str, Any], epoch: int | None, source: Path | None) -> int:
    """The index into ``loss_trace`` of traced ``epoch`` (default: the last traced epoch)."""
    epoch_numbers, _ = trace_matrix(record, TRACE_KEYS[0], source)
    if epoch is None:
        return len(epoch_numbers) - 1
    found = np.flatnonzero(epoch_numbers == epoch)
    if not found.size:
        raise ValueError(
            f"{source_name(record, source)}: epoch {epoch} not traced "
            f"(traced: {epoch_numbers.min()}..{epoch_numbers.max()})"
        )
    return int(found[0])


def trace_snapshot(
    record: Mapping[str, Any] | str | Path, epoch: int | None = None
) -> pd.DataFrame:
    """Every class's traced CSL statistics at one epoch, beside its training count and accuracy.

    One row per class, indexed by class, sorted by class index, with columns

    * ``name`` and ``n_train`` (training images);
    * the traced values at the end of ``epoch`` (default: the last traced one), as defined in
      :mod:`cslnb.losses.csl_paper` after the CSL paper's Equation 2 and Algorithm 1:
      ``semantic_scale`` ``S_i = ((1/N_i) Σ_j ‖f_ij‖)²``; ``entropy``
      ``H_i = (1/N_i) Σ_j H(p_j)``, averaged over the samples *labelled* i;
      ``gamma`` ``γ_i = S_i / (H_i · max_j S_j)``; ``n_pred``, the argmax predictions of
      class i in the epoch's training batches, right or wrong; ``reinforcement`` ``r_i``;
    * ``pred_share`` ``= n_pred_i / Σ_j n_pred_j`` and ``train_share`` ``= N_i / Σ_j N_j``;
    * ``test_accuracy``: the record's final per-class test accuracy (%).

    A record without a usable trace or with the wrong number of per-class accuracies raises
    :class:`cslnb.records.RecordError` naming it; an epoch that was not traced, ValueError.
    """
    record, source = record_and_source(record)
    row = _trace_row(record, epoch, source)
    counts = np.asarray(record["dataset"]["class_counts"], dtype=int)
    names = list(record["dataset"].get("class_names") or [])
    names += [f"class{c}" for c in range(len(names), len(counts))]
    table = pd.DataFrame({"name": names[: len(counts)], "n_train": counts})
    for key in TRACE_KEYS:
        table[key] = trace_matrix(record, key, source)[1][row]
    total = table["n_pred"].sum()
    table["pred_share"] = table["n_pred"] / total if total > 0 else np.nan
    table["train_share"] = counts / counts.sum()
    accuracy = record.get("final", {}).get("per_class_accuracy")
    if not isinstance(accuracy, list) or len(accuracy) != len(counts):
        raise RecordError(
            f"{source_name(record, source)}: final.per_class_accuracy missing or not "
            f"{len(counts)} values"
        )
    table["test_accuracy"] = np.asarray(accuracy, dtype=float)
    table.index.name = "class"
    return table


def count_correlation(
    record: Mapping[str, Any] | str | Path, key: str, epoch: int | None = None
) -> tuple[float, float]:
    """Spearman's rank correlation between training counts and one traced statistic, and its p.

    ``ρ`` is the Pearson correlation of the ranks (ties get their mean rank) of the classes'
    training counts ``N_i`` and ``loss_trace[epoch][key]`` (default: the last traced epoch); the
    p-value is two-sided, for the null hypothesis of no monotone association, from
    :func:`scipy.stats.spearmanr` (Student-t approximation with ``C - 2`` degrees of freedom, so
    a rough one for few classes). Returns ``(nan, nan)`` when either side is constant (no ranks
    to correlate, e.g. the counts of a balanced dataset) or a traced value is not finite.
    """
    record, source = record_and_source(record)
    row = _trace_row(record, epoch, source)
    counts = np.asarray(record["dataset"]["class_counts"], dtype=float)
    values = trace_matrix(record, key, source)[1][row]
    if np.ptp(counts) == 0 or not np.all(np.isfinite(values)) or np.ptp(values) == 0:
        return float("nan"), float("nan")
    result = spearmanr(counts, values)
    return float(result.statistic), float(result.pvalue)


def _epoch_ranges(epochs: np.ndarray) -> str:
    """Sorted epoch numbers as ranges: ``[2, 3, 4, 5, 9]`` -> ``"2–5, 9"`` (``""`` if none)."""
    parts: list[str] = []
    start = previous = None
    for epoch in (int(e) for e in epochs):
        if previous is not None and epoch == previous + 1:
            previous = epoch
            continue
        if start is not None:
            parts.append(f"{start}" if start == previous else f"{start}–{previous}")
        start = previous = epoch
    if start is not None:
        parts.append(f"{start}" if start == previous else f"{start}–{previous}")
    return ", ".join(parts)


def prediction_gaps(record: Mapping[str, Any] | str | Path) -> pd.DataFrame:
    """When each class went without a single argmax prediction in an epoch's training batches.

    One row per class (indexed by class): ``name``, ``n_train``; ``zero_epochs`` (traced epochs
    with ``N_pred,i = 0``), ``zero_in`` (those epochs as ranges, ``"2–5, 9"``), ``last_zero``
    (the last of them, 0 if none), ``predicted_last``
    (whether the class is predicted in the last traced epoch: ``False`` means it never
    recovered) and ``test_accuracy`` (final, %). Compare a CSL run with its control, the run
    without the denominator (identical to cross-entropy, chapter 9), to see which gaps CSL adds.
    """
    record, source = record_and_source(record)
    epochs, n_pred = trace_matrix(record, "n_pred", source)
    snapshot = trace_snapshot(record)
    zero = n_pred == 0
    return pd.DataFrame(
        {
            "name": snapshot["name"],
            "n_train": snapshot["n_train"],
            "zero_epochs": zero.sum(axis=0),
            "zero_in": [_epoch_ranges(epochs[zero[:, c]]) for c in range(n_pred.shape[1])],
            "last_zero": [int(epochs[zero[:, c]].max(initial=0)) for c in range(n_pred.shape[1])],
            "predicted_last": ~zero[-1],
            "test_accuracy": snapshot["test_accuracy"],
        },
        index=snapshot.index,
    )
