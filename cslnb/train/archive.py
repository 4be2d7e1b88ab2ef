"""Unfinished runs packed into one archive, to continue them on another machine.

``reproduce ... --export-checkpoints FILE`` writes a gzip-compressed tar holding

* ``manifest.json`` -- ``{"format": "cslnb-checkpoints", "version": 1, "runs": [...]}``, one entry
  per run: ``run_id``, ``profile``, ``epochs_done``, ``epochs_total``, ``member`` (its file in the
  archive), ``bytes`` and ``sha256`` of that file;
* ``<profile>/<run_id>/last.pt`` -- the run's checkpoint, byte for byte.

``--import-checkpoints FILE`` checks the whole archive before writing anything: only regular
files, exactly the manifest and the members it names, member names rebuilt from validated run ids
(nothing is ever extracted by the archive's own paths, so no path can escape the checkpoint
root), sizes and SHA-256 digests as listed, and each checkpoint (loaded with
``weights_only=True``) belonging to the run and epoch the manifest names. A local checkpoint at
the same or a later epoch, or a finished run's record, is kept unless ``force`` is set. Each
checkpoint is written atomically while holding the run's lock, so a run training right now is
never overwritten.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from cslnb.atomic import write_atomic
from cslnb.profiles import PROFILES, get_profile
from cslnb.train.batch import has_record
from cslnb.train.checkpoint import (
    UnreadableCheckpointError,
    exclusive_run_lock,
    load_checkpoint,
    lock_file_for,
)
from cslnb.train.config import RunConfig, TrainOptions
from cslnb.train.trainer import checkpoint_path, run_epochs

FORMAT = "cslnb-checkpoints"
VERSION = 1
MANIFEST = "manifest.json"
SAFE_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")


class ArchiveError(ValueError):
    """An archive that is not a valid checkpoint archive of this project."""


@dataclass(frozen=True)
class ArchivedRun:
    """One run's entry in the manifest."""

    run_id: str
    profile: str
    epochs_done: int
    epochs_total: int
    bytes: int
    sha256: str

    @property
    def member(self) -> str:
        """The checkpoint's name inside the archive."""
        return f"{self.profile}/{self.run_id}/last.pt"


@dataclass(frozen=True)
class ImportResult:
    """What importing one archived run did: ``restored`` or why it was kept as it was."""

    run_id: str
    action: str


def export_checkpoints(
    configs: Sequence[RunConfig], options: TrainOptions, path: Path
) -> list[ArchivedRun]:
    """Pack the checkpoints of the unfinished runs among ``configs`` into ``path``.

    Unfinished: a checkpoint exists and no record does. Raises :class:`ArchiveError` when there
    is none (an empty archive would only hide a wrong selection).
    """
    runs, blobs = [], []
    for config in configs:
        ckpt = checkpoint_path(config, options)
        if has_record(config, options) or not ckpt.exists():
            continue
        data = ckpt.read_bytes()
        saved = load_checkpoint(io.BytesIO(data))
        runs.append(
            ArchivedRun(
                run_id=config.run_id,
                profile=config.profile,
                epochs_done=int(saved["epoch"]),
                epochs_total=run_epochs(config, get_profile(config.profile)),
                bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
        blobs.append(data)
    if not runs:
        raise ArchiveError("no unfinished run of this selection has a checkpoint to export")
    manifest = {"format": FORMAT, "version": VERSION, "runs": [asdict(run) for run in runs]}

    def write(handle: BinaryIO) -> None:
        with tarfile.open(fileobj=handle, mode="w:gz") as tar:
            _add_member(tar, MANIFEST, json.dumps(manifest, indent=1).encode())
            for run, data in zip(runs, blobs, strict=True):
                _add_member(tar, run.member, data)

    write_atomic(path, write)
    return runs


def import_checkpoints(
    path: Path, configs: Sequence[RunConfig], options: TrainOptions, force: bool = False
) -> list[ImportResult]:
    """Restore the archived checkpoints of the runs among ``configs``; see the module doc."""
    selection = {(config.profile, config.run_id): config for config in configs}
    results, accepted = [], []
    for run, data in _read_archive(path):
        config = selection.get((run.profile, run.run_id))
        if config is None:
            results.append(ImportResult(run.run_id, f"not in this selection ({run.profile})"))
            continue
        try:
            saved = load_checkpoint(io.BytesIO(data))
        except UnreadableCheckpointError as error:
            raise ArchiveError(f"{path}: {run.member}: {error}") from error
        if saved["config"] != config.to_dict() or saved["epoch"] != run.epochs_done:
            raise ArchiveError(f"{run.member} does not hold run {run.run_id} at the listed epoch")
        accepted.append((config, run, data))
    for config, run, data in accepted:
        results.append(_restore(config, run, data, options, force))
    return results


def _restore(
    config: RunConfig, run: ArchivedRun, data: bytes, options: TrainOptions, force: bool
) -> ImportResult:
    if has_record(config, options) and not force:
        return ImportResult(run.run_id, "kept: the run already has a record")
    target = checkpoint_path(config, options)
    with exclusive_run_lock(lock_file_for(target)):
        if target.exists() and not force:
            local = int(load_checkpoint(target)["epoch"])
            if local >= run.epochs_done:
                return ImportResult(
                    run.run_id, f"kept: local checkpoint at epoch {local} >= {run.epochs_done}"
                )
        write_atomic(target, lambda handle: handle.write(data))
    return ImportResult(run.run_id, f"restored at epoch {run.epochs_done}/{run.epochs_total}")


def _read_archive(path: Path) -> list[tuple[ArchivedRun, bytes]]:
    """Every run of a valid archive with its checkpoint bytes; :class:`ArchiveError` otherwise."""
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            members = tar.getmembers()
            names = [member.name for member in members]
            if len(set(names)) != len(names) or not all(m.isfile() for m in members):
                raise ArchiveError(f"{path}: members must be distinct regular files")
            files = {member.name: member for member in members}
            if MANIFEST not in files:
                raise ArchiveError(f"{path}: no {MANIFEST}; not a checkpoint archive")
            runs = _parse_manifest(_read_member(tar, files[MANIFEST]), path)
            unexpected = set(files) - {MANIFEST} - {run.member for run in runs}
            if unexpected:
                raise ArchiveError(f"{path}: members not in the manifest: {sorted(unexpected)}")
            contents = []
            for run in runs:
                if run.member not in files:
                    raise ArchiveError(f"{path}: {run.member} is listed but missing")
                data = _read_member(tar, files[run.member])
                if len(data) != run.bytes or hashlib.sha256(data).hexdigest() != run.sha256:
                    raise ArchiveError(f"{path}: {run.member} does not match its SHA-256")
                contents.append((run, data))
            return contents
    except (tarfile.TarError, EOFError, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ArchiveError(f"{path}: not a readable .tar.gz archive ({error})") from error


def _parse_manifest(raw: bytes, path: Path) -> list[ArchivedRun]:
    try:
        manifest = json.loads(raw)
        if manifest["format"] != FORMAT or manifest["version"] != VERSION:
            raise ArchiveError(
                f"{path}: unsupported archive format {manifest['format']!r} "
                f"version {manifest['version']!r}"
            )
        runs = [ArchivedRun(**entry) for entry in manifest["runs"]]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ArchiveError(f"{path}: malformed {MANIFEST} ({error})") from error
    for run in runs:
        if not _is_valid(run):
            raise ArchiveError(f"{path}: invalid entry in {MANIFEST}: {run}")
    if len({run.member for run in runs}) != len(runs):
        raise ArchiveError(f"{path}: a run is listed twice")
    return runs


def _is_valid(run: ArchivedRun) -> bool:
    """A safe run id (no path separators, not starting with a dot), a known profile, counts."""
    counts = (run.epochs_done, run.epochs_total, run.bytes)
    return (
        isinstance(run.run_id, str)
        and SAFE_RUN_ID.match(run.run_id) is not None
        and isinstance(run.profile, str)
        and run.profile in PROFILES
        and isinstance(run.sha256, str)
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts)
    )


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    if handle is None:
        raise ArchiveError(f"{member.name} is not a regular file")
    return handle.read()


def _add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
