"""The transcribed Tables 1-4 against numbers read off the paper, and the loader's errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cslnb.paper_tables import (
    TABLE1_CLASSES,
    load_literature,
    load_paper_table,
    load_table1_counts,
    paper_value,
)


def test_table1_cells_match_the_paper() -> None:
    assert paper_value(1, "csl", "cifar10", 50, "cat") == 87.64
    assert paper_value(1, "csl", "cifar10", 50) == 82.31
    assert paper_value(1, "ce", "cifar10", 50, "truck") == 52.0
    assert paper_value(1, "ib", "cifar10", 50) == 81.7
    assert paper_value(1, "ce-cb", "cifar10", 50, "plane") == 92.9
    table = load_paper_table(1)
    assert len(table) == 9 * (len(TABLE1_CLASSES) + 1)
    assert table.loc[table["loss"] == "csl", "method"].unique().tolist() == ["CSL.Ours"]


def test_table1_counts_row() -> None:
    counts = load_table1_counts()
    assert counts["class"].tolist() == list(TABLE1_CLASSES)
    assert counts["n_train"].tolist() == [5000, 3237, 2096, 1357, 878, 568, 368, 238, 154, 100]


def test_table2_cells_and_missing_values() -> None:
    assert paper_value(2, "ce", "cifar100", 200) == 34.84
    assert paper_value(2, "csl", "cifar10", 100) == 78.0
    assert paper_value(2, "focal-cb", "cifar100", 100) == 39.6
    assert math.isnan(paper_value(2, "ldam-drw", "cifar100", 200))
    table = load_paper_table(2)
    ssp = table[table["method"] == "LDAM-DRW + SSP"]
    assert ssp["loss"].eq("").all()
    assert ssp["value"].tolist()[:2] == [77.83, 82.13]


def test_table3_and_table4_cells() -> None:
    assert paper_value(3, "weighted-softmax", "imagenet-lt") == 49.1
    assert paper_value(3, "equalization", "imagenet-lt") == 48.0
    table3 = load_paper_table(3)
    assert dict(zip(table3["method"], table3["type"], strict=True))["LFME"] == "MI"
    assert table3["ratio"].isna().all()
    assert paper_value(4, "ldam", "tiny-imagenet", 100) == 37.47
    assert paper_value(4, "csl", "tiny-imagenet") == 39.47


def test_unknown_rows_and_tables_raise() -> None:
    with pytest.raises(KeyError, match="balanced-softmax"):
        paper_value(2, "balanced-softmax", "cifar10", 100)
    with pytest.raises(ValueError, match="pass ratio"):
        paper_value(2, "ce", "cifar10")
    with pytest.raises(ValueError, match="Tables 1-4"):
        load_paper_table(5)


def test_missing_file_or_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"table2\.csv"):
        load_paper_table(2, root=tmp_path)
    (tmp_path / "table2.csv").write_text(
        "method,dataset,ratio,metric,value\nCE,cifar10,100,avg,1\n"
    )
    with pytest.raises(ValueError, match=r"table2\.csv.*loss"):
        load_paper_table(2, root=tmp_path)


def test_literature_holds_caos_erm_as_an_accuracy() -> None:
    literature = load_literature()
    erm = literature[(literature["loss"] == "ce") & (literature["dataset"] == "cifar10")]
    assert len(erm) == 1
    row = erm.iloc[0]
    assert (row["ratio"], row["metric"], row["value"]) == (100.0, "avg", 70.36)
    assert row["printed"] == "top-1 validation error 29.64"
    assert row["value"] == pytest.approx(100 - 29.64)
