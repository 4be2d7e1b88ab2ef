"""The paper's Tables 1-4, transcribed as long-format CSV files under ``data/paper``.

Each ``tableN.csv`` has one row per printed number, with the columns

* ``method`` -- the method name exactly as the paper prints it (``Baseline (CE)``, ``CSL Ours``);
* ``loss`` -- the name of our loss that implements the method (``ce``, ``csl``), or empty for
  methods ``cslnb`` does not run (``LDAM-DRW + SSP``, ``OLTR``, ``Decoupled-CB-CRT``, ``LFME``);
* ``dataset`` and ``ratio`` -- the cell (``ratio`` is empty for ImageNet-LT, whose fixed split
  the paper prints without a ratio);
* ``metric`` -- ``avg`` for top-1 accuracy, or a CIFAR-10 class name for Table 1's per-class
  columns (see :data:`TABLE1_CLASSES`);
* ``value`` -- the number as printed, without the ``%`` sign; the paper's ``-`` is left empty;
* ``type`` -- Table 3 only: ``CSL`` (cost-sensitive loss) or ``MI`` (module improvement).

Table 1's ``#Training Samples`` row lives in ``table1_counts.csv`` (``dataset, ratio, class,
n_train``). Numbers the book quotes from other papers live in ``literature.csv``
(:func:`load_literature`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cslnb.paths import paper_tables_dir

PAPER_TABLES = (1, 2, 3, 4)
TABLE_COLUMNS = ("method", "loss", "dataset", "ratio", "metric", "value")
TABLE3_COLUMNS = (*TABLE_COLUMNS, "type")
COUNTS_COLUMNS = ("dataset", "ratio", "class", "n_train")
LITERATURE_COLUMNS = ("source", "where", "method", "loss", "dataset", "ratio", "metric", "value")
TABLE1_CLASSES = (
    "plane",
    "car",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
"""Table 1's class columns, in CIFAR-10 label order (index i is label i)."""


def _read_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Read ``path`` keeping empty cells missing; raise naming the file if columns are lacking."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: paper table file not found")
    frame = pd.read_csv(path, dtype={"method": str, "loss": str, "type": str})
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise ValueError(f"{path}: paper table lacks column(s) {', '.join(missing)}")
    return frame


def load_paper_table(n: int, root: Path | None = None) -> pd.DataFrame:
    """Table ``n`` (1-4) of the paper in long format; ``loss`` is ``""`` where we run no method.

    ``root`` defaults to :func:`cslnb.paths.paper_tables_dir`. ``value`` and ``ratio`` are
    floats, NaN where the paper prints ``-`` (or, for ``ratio``, nothing).
    """
    if n not in PAPER_TABLES:
        raise ValueError(f"the paper has Tables 1-4, not Table {n!r}")
    required = TABLE3_COLUMNS if n == 3 else TABLE_COLUMNS
    frame = _read_csv((root or paper_tables_dir()) / f"table{n}.csv", required)
    frame["loss"] = frame["loss"].fillna("")
    frame["ratio"] = frame["ratio"].astype(float)
    frame["value"] = frame["value"].astype(float)
    return frame[list(required)]


def load_literature(root: Path | None = None) -> pd.DataFrame:
    """Numbers from other papers the book compares with, one row per number: ``source`` (the
    paper), ``where`` (its table), ``method`` (as printed), ``loss`` (ours), ``dataset, ratio,
    metric, value`` (accuracy %; where the source prints an error ``e``, ``100 - e``, with the
    printed form in ``printed``)."""
    frame = _read_csv((root or paper_tables_dir()) / "literature.csv", LITERATURE_COLUMNS)
    frame["ratio"] = frame["ratio"].astype(float)
    frame["value"] = frame["value"].astype(float)
    return frame


def load_table1_counts(root: Path | None = None) -> pd.DataFrame:
    """Table 1's ``#Training Samples`` row: training images per CIFAR-10-LT (ratio 50) class."""
    return _read_csv((root or paper_tables_dir()) / "table1_counts.csv", COUNTS_COLUMNS)


def paper_value(
    table: int,
    loss: str,
    dataset: str,
    ratio: float | None = None,
    metric: str = "avg",
    root: Path | None = None,
) -> float:
    """The number the paper prints for ``loss`` in one cell of ``table``; NaN for its ``-``.

    ``ratio=None`` matches any ratio (needed for ImageNet-LT, printed without one) and raises
    :class:`ValueError` when that leaves more than one cell. Raises :class:`KeyError` when the
    paper has no such row.
    """
    frame = load_paper_table(table, root)
    rows = frame[(frame["loss"] == loss) & (frame["dataset"] == dataset)]
    rows = rows[rows["metric"] == metric]
    if ratio is not None:
        rows = rows[rows["ratio"] == float(ratio)]
    if rows.empty:
        raise KeyError(
            f"Table {table} has no {metric!r} value for loss {loss!r} on {dataset}"
            + (f" at ratio {ratio:g}" if ratio is not None else "")
        )
    if len(rows) > 1:
        ratios = ", ".join(f"{r:g}" for r in rows["ratio"])
        raise ValueError(f"Table {table} has {loss!r} on {dataset} at ratios {ratios}; pass ratio")
    return float(rows["value"].iloc[0])
