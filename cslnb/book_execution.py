"""Execute the book's chapters under a profile and store their outputs, clean, in place.

The committed outputs of every chapter come from this command, run from the checkout with the
best profile whose run records exist::

    CSLNB_DATA_DIR=/path/to/data python -m cslnb.book_execution --profile quick book/0*.ipynb

Each chapter runs top to bottom in a fresh kernel of the current Python, from the ``book/``
folder, with ``$CSLNB_PROFILE`` set; a failing cell stops with the error and leaves the file as it
was. Before writing, :func:`clean_notebook` keeps only the metadata the book's tests allow
(``kernelspec`` and ``language_info`` for the notebook, ``tags`` for cells), so that a re-run
changes nothing but outputs.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import nbformat

from cslnb.profiles import PROFILE_ENV_VAR, PROFILES

NOTEBOOK_METADATA = ("kernelspec", "language_info")
CELL_METADATA = ("tags",)


def clean_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop notebook and cell metadata other than the allowed keys (in place; returns ``nb``).

    Output metadata stays: nbformat requires it on results and displays.
    """
    nb.metadata = nbformat.from_dict(
        {k: v for k, v in nb.metadata.items() if k in NOTEBOOK_METADATA}
    )
    for cell in nb.cells:
        cell.metadata = nbformat.from_dict(
            {k: v for k, v in cell.metadata.items() if k in CELL_METADATA}
        )
    return nb


def execute_chapter(path: Path, profile: str, timeout: int = 3600) -> None:
    """Run the notebook at ``path`` under ``profile`` and overwrite it with its clean outputs."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute(env={**os.environ, PROFILE_ENV_VAR: profile})
    nbformat.validate(clean_notebook(nb))
    nbformat.write(nb, path)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cslnb.book_execution", description=__doc__)
    parser.add_argument("chapters", nargs="+", type=Path, help="the .ipynb files to execute")
    parser.add_argument("--profile", choices=sorted(PROFILES), required=True)
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    args = parser.parse_args(argv)
    for path in args.chapters:
        print(f"executing {path} under {args.profile} ...", flush=True)
        execute_chapter(path, args.profile, args.timeout)


if __name__ == "__main__":
    main()
