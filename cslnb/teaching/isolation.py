"""Where a submission runs: its own copy of the library and the run records, and a checkout check.

:func:`workspace` lays out, in a fresh temporary folder, a copy of the ``cslnb`` package (with a
``pyproject.toml`` beside it, so that :func:`cslnb.paths.project_root` resolves to the copy), the
run records, an empty data cache, a home and a temporary folder, unpacked from a zip the grader
holds in memory (:func:`pack`). The kernel imports the library
from the copy and gets an environment naming only these folders (:func:`kernel_environment`):
deleting "the results folder" or "the project" from a submission deletes its own copies.
:func:`fingerprint` hashes the checkout so that the grader can check, after every submission,
that it is byte-identical.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

from cslnb.profiles import PROFILE_ENV_VAR

SKIPPED_DIRS = frozenset(
    {
        ".git",
        "__pycache__",
        ".pytest_cache",
        ".ruff_cache",
        ".venv",
        ".ipynb_checkpoints",
        "_build",
        "_vendor",
        ".node",
        "node_modules",
        "coursework",
        "cache",
    }
)
"""Folders the checkout check ignores: VCS data, caches, build outputs and the grader's output."""

PASSED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""The grader's environment variables a kernel inherits (nothing naming the checkout)."""


def fingerprint(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` outside :data:`SKIPPED_DIRS`, by relative path."""
    digests = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in files:
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            digests[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def fingerprint_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The paths added, removed or changed between two fingerprints, sorted."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def pack(files: dict[str, Path]) -> bytes:
    """A zip, in memory, of every file under each folder (or the file) of ``files``.

    Keys are the paths inside the zip. The grader keeps the library and the records this way,
    so that no submission can reach (or delete) the copies the next submissions start from.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for inside, source in files.items():
            if source.is_file():
                archive.write(source, inside)
                continue
            for path in sorted(source.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, f"{inside}/{path.relative_to(source).as_posix()}")
    return buffer.getvalue()


def library_files(checkout: Path) -> dict[str, Path]:
    """The ``cslnb`` package and a marker ``pyproject.toml``: what :func:`workspace` needs."""
    return {"cslnb": checkout / "cslnb", "pyproject.toml": checkout / "pyproject.toml"}


def workspace(root: Path, project_zip: bytes) -> dict[str, Path]:
    """Fill ``root`` (empty) with the project (library and records) and the kernel's folders.

    ``project_zip`` is :func:`pack`'s zip of the library (:func:`library_files`) and the records
    under ``data/results``. Returns the folders by role: ``project`` (also the kernel's
    ``PYTHONPATH``), ``results``, ``cache``, ``home``, ``tmp`` and ``cwd`` (where the notebook
    runs).
    """
    project = root / "project"
    with zipfile.ZipFile(io.BytesIO(project_zip)) as archive:
        archive.extractall(project)
    folders = {
        "project": project,
        "results": project / "data" / "results",
        "cache": project / "data" / "cache",
        "home": root / "home",
        "tmp": root / "tmp",
        "cwd": root / "notebook",
    }
    for role in ("results", "cache", "home", "tmp", "cwd"):
        folders[role].mkdir(parents=True, exist_ok=True)
    return folders


def kernel_environment(folders: dict[str, Path], profile: str) -> dict[str, str]:
    """The kernel's whole environment: the workspace's folders, the profile, nothing else.

    ``CSLNB_DATA_DIR`` passes through (the read-only datasets the ``quick`` profile needs).
    """
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    if "CSLNB_DATA_DIR" in os.environ:
        env["CSLNB_DATA_DIR"] = os.environ["CSLNB_DATA_DIR"]
    env.update(
        {
            PROFILE_ENV_VAR: profile,
            "PYTHONPATH": str(folders["project"]),
            "CSLNB_RESULTS_DIR": str(folders["results"]),
            "CSLNB_CACHE_DIR": str(folders["cache"] / "decoded"),
            "HOME": str(folders["home"]),
            "TMPDIR": str(folders["tmp"]),
            "IPYTHONDIR": str(folders["home"] / ".ipython"),
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env
