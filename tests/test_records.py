import json

import pytest

from cslnb.records import (
    RECORD_COLUMNS,
    RecordError,
    load_records,
    read_record,
    record_path,
    record_row,
    write_json_atomic,
)

RECORD = {
    "schema_version": 1,
    "run_id": "cifar10-exp100-ce-seed0",
    "config": {"dataset": "cifar10", "ratio": 100, "imb_type": "exp", "loss": "ce", "seed": 0},
    "profile": {"name": "quick"},
    "dataset": {"class_counts": [5, 1], "source": "synthetic"},
    "final": {
        "accuracy": 75.0,
        "per_class_accuracy": [100.0, 50.0],
        "group_accuracy": {"many": None, "medium": None, "few": 75.0},
    },
    "best": {"epoch": 3, "accuracy": 80.0},
    "epochs": [],
}


def test_atomic_write_leaves_only_the_record(tmp_path):
    path = record_path("quick", "cifar10", "cifar10-exp100-ce-seed0", tmp_path)
    write_json_atomic(path, RECORD)
    assert [p.name for p in path.parent.iterdir()] == ["cifar10-exp100-ce-seed0.json"]
    assert read_record(path) == RECORD


def test_failed_write_keeps_the_old_record(tmp_path):
    path = tmp_path / "r.json"
    write_json_atomic(path, RECORD)
    with pytest.raises(TypeError):
        write_json_atomic(path, {**RECORD, "bad": object()})
    assert json.loads(path.read_text()) == RECORD
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_load_records_gives_one_row_per_run(tmp_path):
    write_json_atomic(record_path("quick", "cifar10", "a", tmp_path), RECORD)
    write_json_atomic(record_path("quick", "cifar10", "b", tmp_path), {**RECORD, "run_id": "b"})
    frame = load_records(tmp_path)
    assert list(frame["run_id"]) == ["cifar10-exp100-ce-seed0", "b"]
    assert frame.loc[0, "few"] == 75.0 and frame.loc[0, "best_epoch"] == 3
    assert tuple(record_row(RECORD)) == RECORD_COLUMNS
    assert load_records(tmp_path / "nothing").empty


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.pop("final"), "lacks final"),
        (lambda r: r["final"].pop("group_accuracy"), "'final' lacks group_accuracy"),
        (lambda r: r["final"]["per_class_accuracy"].pop(), "1 per-class accuracies for 2 classes"),
    ],
)
def test_malformed_records_fail_loudly(tmp_path, mutate, message):
    record = json.loads(json.dumps(RECORD))
    mutate(record)
    path = tmp_path / "quick" / "cifar10" / "bad.json"
    write_json_atomic(path, record)
    with pytest.raises(RecordError, match=message) as error:
        load_records(tmp_path)
    assert "bad.json" in str(error.value)


def test_unreadable_json_is_named(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(RecordError, match=r"broken\.json"):
        read_record(path)
