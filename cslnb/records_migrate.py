"""Make existing run records portable: replace the data path in ``dataset.source`` by the source
kind and a content fingerprint of the training data, without retraining.

Records written before fingerprints existed say ``"source": "image-folder (lossy JPEG copy):
/home/me/data/cifar10"``. The rewrite keeps the kind (``image-folder (lossy JPEG copy)``), adds
``dataset.fingerprint`` computed exactly as the trainer now computes it
(:mod:`cslnb.data.fingerprint`: the full decoded CIFAR training split, or the sorted training
file list with sizes for Tiny-ImageNet-LT / ImageNet-LT), and rewrites the file atomically.

Usage::

    python -m cslnb.records_migrate data/results [more folders] [--data-root DIR] [--dry-run]

``--data-root`` reads the data from ``DIR`` instead of the recorded path (for records made on
another machine). The command exits with status 1 if any record still holds an absolute path
afterwards, naming the file and the field.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from cslnb.data.cifar import load_cifar_arrays
from cslnb.data.fingerprint import fingerprint_arrays, fingerprint_files
from cslnb.data.folders import ImageNetLT, TinyImageNetLT
from cslnb.records import write_json_atomic

ABSOLUTE_PATH_MARKERS = ("/home/", "/Users/", "/work/", "/tmp/", "/root/", "C:\\")
"""Substrings that give away a machine's absolute path; no committed file may contain them."""
PATH_SEPARATOR = ": "


def find_absolute_paths(value: Any, where: str = "") -> Iterator[str]:
    """``field: text`` for every string inside ``value`` (nested dicts and lists) holding one of
    :data:`ABSOLUTE_PATH_MARKERS`; ``field`` is a dotted path such as ``dataset.source``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from find_absolute_paths(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from find_absolute_paths(item, f"{where}[{index}]")
    elif isinstance(value, str) and any(marker in value for marker in ABSOLUTE_PATH_MARKERS):
        yield f"{where}: {value}"


def split_source(source: str) -> tuple[str, Path | None]:
    """``("image-folder (lossy JPEG copy)", Path("/data/cifar10"))`` from an old source label;
    ``(source, None)`` when it names no path."""
    kind, separator, location = source.partition(PATH_SEPARATOR)
    if separator and (location.startswith("/") or location[1:3] == ":\\"):
        return kind, Path(location)
    return source, None


def training_fingerprint(record: dict[str, Any], kind: str, root: Path) -> str:
    """The fingerprint the trainer would record for ``record``'s training data read from
    ``root``; raises ``ValueError`` when ``root`` holds data of another kind."""
    config = record["config"]
    dataset = config["dataset"]
    if dataset in ("cifar10", "cifar100"):
        train, _, label = load_cifar_arrays(dataset, root=root, source="image-folder")
        if label != kind:
            raise ValueError(f"{root} is a {label!r} source, the record says {kind!r}")
        return fingerprint_arrays(train.images, train.labels)
    if dataset == "tiny-imagenet":
        data = TinyImageNetLT(
            root, "train", ratio=config["ratio"], imb_type=config["imb_type"],
            seed=config["subset_seed"],
        )  # fmt: skip
    elif dataset == "imagenet-lt":
        data = ImageNetLT(root, "train")
    else:
        raise ValueError(f"no data path to fingerprint for dataset {dataset!r}")
    return fingerprint_files([path for path, _ in data.samples])


def migrate_record(
    record: dict[str, Any], data_root: Path | None = None, cache: dict | None = None
) -> bool:
    """Rewrite ``record['dataset']`` in place (kind + fingerprint); ``True`` if it changed.

    ``cache`` maps (dataset, kind, root, training-set options) to fingerprints already computed,
    so a folder of records reads each copy of the data once.
    """
    dataset = record["dataset"]
    kind, location = split_source(str(dataset.get("source", "")))
    if location is None:
        return False
    root = data_root or location
    config = record["config"]
    key = (config["dataset"], kind, str(root), config.get("ratio"), config.get("subset_seed"))
    cache = {} if cache is None else cache
    if key not in cache:
        cache[key] = training_fingerprint(record, kind, root)
    dataset["source"] = kind
    dataset["fingerprint"] = cache[key]
    return True


def migrate_folder(folder: Path, data_root: Path | None = None, dry_run: bool = False) -> dict:
    """Migrate every ``*.json`` record under ``folder``; return counts and leftover paths."""
    cache: dict = {}
    report: dict[str, Any] = {"rewritten": 0, "unchanged": 0, "leftover": []}
    for path in sorted(folder.rglob("*.json")):
        record = json.loads(path.read_text())
        changed = isinstance(record, dict) and "dataset" in record and "config" in record
        changed = changed and migrate_record(record, data_root, cache)
        if changed and not dry_run:
            write_json_atomic(path, record)
        report["rewritten" if changed else "unchanged"] += 1
        report["leftover"] += [f"{path}: {hit}" for hit in find_absolute_paths(record)]
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cslnb.records_migrate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("folders", nargs="+", type=Path, help="folders of run records")
    parser.add_argument(
        "--data-root", type=Path, default=None, help="read the data here, not at the recorded path"
    )
    parser.add_argument("--dry-run", action="store_true", help="report, write nothing")
    args = parser.parse_args(argv)
    leftover = []
    for folder in args.folders:
        report = migrate_folder(folder, args.data_root, args.dry_run)
        verb = "would rewrite" if args.dry_run else "rewrote"
        print(f"{folder}: {verb} {report['rewritten']} records, {report['unchanged']} unchanged")
        leftover += report["leftover"]
    for line in leftover:
        print(f"absolute path left: {line}", file=sys.stderr)
    return 1 if leftover else 0


if __name__ == "__main__":
    raise SystemExit(main())
