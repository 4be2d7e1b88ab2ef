import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

import cslnb.data.cifar as cifar
from cslnb import records_migrate
from cslnb.data import CIFAR_CLASS_NAMES, build_cifar_lt, load_cifar_arrays
from cslnb.data.fingerprint import fingerprint_files
from cslnb.profiles import PROFILES
from cslnb.records import (
    RECORD_COLUMNS,
    RecordError,
    load_records,
    never_predicted,
    read_record,
    record_path,
    record_row,
    write_json_atomic,
)
from cslnb.records_migrate import ABSOLUTE_PATH_MARKERS

RECORD = {
    "schema_version": 1,
    "run_id": "cifar10-exp100-ce-seed0",
    "config": {"dataset": "cifar10", "ratio": 100, "imb_type": "exp", "loss": "ce", "seed": 0},
    "profile": PROFILES["quick"].to_dict(),
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
    assert frame.loc[0, "never_predicted"] is None  # written before the counts were stored
    assert tuple(record_row(RECORD)) == RECORD_COLUMNS
    assert load_records(tmp_path / "nothing").empty


def test_never_predicted_counts_the_classes_no_test_sample_is_given():
    final = {**RECORD["final"], "per_class_predicted": [0, 7, 0, 3]}
    assert never_predicted(final) == 2
    assert never_predicted(RECORD["final"]) is None


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


# --- portable records: source kind + fingerprint, no machine paths --------------------------

REPO = Path(__file__).resolve().parents[1]
RECORD_FOLDERS = [REPO / "data" / name for name in ("results", "profile_search", "verify")]


def test_committed_records_hold_no_absolute_path():
    files = [path for folder in RECORD_FOLDERS if folder.is_dir() for path in folder.rglob("*")]
    assert files, "no committed records found"
    leaks = [
        f"{path.relative_to(REPO)}: {line.strip()[:120]}"
        for path in files
        if path.is_file()
        for line in path.read_text(errors="replace").splitlines()
        if any(marker in line for marker in ABSOLUTE_PATH_MARKERS)
    ]
    assert not leaks, "absolute machine paths in records (python -m cslnb.records_migrate):\n" + (
        "\n".join(leaks[:20])
    )


def test_committed_cifar_records_name_kind_and_fingerprint():
    for path in (REPO / "data" / "results").rglob("*.json"):
        dataset = json.loads(path.read_text())["dataset"]
        assert ":" not in dataset["source"], path
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", dataset["fingerprint"]), path


def _jpeg_cifar_tree(root: Path, write_image) -> Path:
    """``root/cifar10/{train,test}/<class>/NNNN.jpg``: two training and one test image a class."""
    for split, per_class in (("train", 2), ("test", 1)):
        for c, name in enumerate(CIFAR_CLASS_NAMES["cifar10"]):
            for i in range(per_class):
                pixels = np.full((32, 32, 3), 20 * c + 7 * i, dtype=np.uint8)
                write_image(root / "cifar10" / split / name / f"{i:04d}.jpg", pixels)
    return root / "cifar10"


def _old_record(source: str) -> dict:
    record = json.loads(json.dumps(RECORD))
    record["dataset"]["source"] = source
    record["config"]["subset_seed"] = 0
    return record


def test_migration_writes_the_fingerprint_the_trainer_computes(
    tmp_path, write_image, isolated_cache, monkeypatch
):
    tree = _jpeg_cifar_tree(tmp_path / "data", write_image)
    folder = tmp_path / "records"
    write_json_atomic(folder / "a.json", _old_record(f"image-folder (lossy JPEG copy): {tree}"))
    write_json_atomic(folder / "b.json", _old_record("torchvision"))

    assert records_migrate.main([str(folder)]) == 0
    migrated = json.loads((folder / "a.json").read_text())["dataset"]
    assert migrated["source"] == "image-folder (lossy JPEG copy)"
    monkeypatch.setattr(cifar, "cifar_lt_counts", lambda *args: [2] * 5 + [1] * 5)
    trained_on = build_cifar_lt("cifar10", ratio=2, root=tree.parent)
    assert trained_on.class_counts == [2] * 5 + [1] * 5
    assert migrated["fingerprint"] == trained_on.fingerprint
    assert trained_on.source == "image-folder (lossy JPEG copy)"
    # The definition: sha256 of the full training split's uint8 bytes, then int64 labels.
    train, _, _ = load_cifar_arrays("cifar10", root=tree.parent)
    assert train.images.shape == (20, 3, 32, 32)
    by_hand = hashlib.sha256(
        train.images.numpy().tobytes() + train.labels.numpy().astype("<i8").tobytes()
    )
    assert migrated["fingerprint"] == f"sha256:{by_hand.hexdigest()}"
    assert json.loads((folder / "b.json").read_text())["dataset"] == {
        "class_counts": [5, 1],
        "source": "torchvision",
    }


def test_migration_reads_moved_data_from_data_root(tmp_path, write_image, isolated_cache):
    tree = _jpeg_cifar_tree(tmp_path / "moved", write_image)
    folder = tmp_path / "records"
    old = "image-folder (lossy JPEG copy): /home/someone/cifar10"
    write_json_atomic(folder / "a.json", _old_record(old))
    with pytest.raises(FileNotFoundError, match="/home/someone/cifar10"):
        records_migrate.main([str(folder)])
    assert records_migrate.main([str(folder), "--data-root", str(tree)]) == 0
    assert json.loads((folder / "a.json").read_text())["dataset"]["fingerprint"].startswith(
        "sha256:"
    )


def test_migration_fails_on_paths_it_cannot_rewrite(tmp_path, capsys):
    record = _old_record("synthetic")
    record["config"]["note"] = "trained from /Users/me/runs"
    write_json_atomic(tmp_path / "r.json", record)
    assert records_migrate.main([str(tmp_path), "--dry-run"]) == 1
    assert "config.note: trained from /Users/me/runs" in capsys.readouterr().err


def test_absolute_path_finder_and_source_split():
    found = list(records_migrate.find_absolute_paths({"a": [{"b": "C:\\data"}], "c": "/data/x"}))
    assert found == ["a[0].b: C:\\data"]
    assert records_migrate.split_source("image folders: /srv/tiny") == (
        "image folders",
        Path("/srv/tiny"),
    )
    assert records_migrate.split_source("image-folder") == ("image-folder", None)


def test_file_fingerprint_ignores_where_the_copy_lives(tmp_path):
    for base in ("one/data", "two/elsewhere/data"):
        (tmp_path / base / "a").mkdir(parents=True)
        (tmp_path / base / "a" / "x.jpg").write_bytes(b"12345")
        (tmp_path / base / "b.jpg").write_bytes(b"1")
    first = fingerprint_files(sorted((tmp_path / "one").rglob("*.jpg")))
    second = fingerprint_files(sorted((tmp_path / "two").rglob("*.jpg"), reverse=True))
    lines = "a/x.jpg\t5\nb.jpg\t1\n"
    assert first == second == f"sha256:{hashlib.sha256(lines.encode()).hexdigest()}"
