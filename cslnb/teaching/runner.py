"""Run one notebook cell by cell in an isolated kernel and export each exercise's answers.

A cell that raises costs nothing by itself (its error is kept for the feedback); a cell that
runs past its limit or kills the kernel costs the exercise it belongs to: the kernel is replaced,
the student edition's shared setup cells run so far are replayed, and grading goes on with the
next cell. Each exercise's answers are exported where its ``grader.check`` cell stands (Otter's
init and check cells are not run; the checks run elsewhere), or at the end when that cell is gone.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cslnb.teaching.answers import ExerciseSpec
from cslnb.teaching.export import export_code, parse_export
from cslnb.teaching.kernel import Kernel

CHECK_CALL = re.compile(r"""grader\.check\(\s*["'](\w+)["']\s*\)""")
INIT_CALL = re.compile(r"""otter\.Notebook\(""")


@dataclass
class ExerciseRun:
    """What running one exercise produced: a status, the first error, the export."""

    status: str = "ok"
    error: str = ""
    export: dict | None = None


@dataclass
class NotebookRun:
    """Every exercise's :class:`ExerciseRun`, and how long the notebook took."""

    exercises: dict[str, ExerciseRun] = field(default_factory=dict)
    seconds: float = 0.0


def cell_owners(nb: nbformat.NotebookNode) -> list[str | None]:
    """The exercise each cell belongs to: the one checked by the next ``grader.check`` cell."""
    owners: list[str | None] = [None] * len(nb.cells)
    current: str | None = None
    for index in reversed(range(len(nb.cells))):
        cell = nb.cells[index]
        if cell.cell_type == "code" and (match := CHECK_CALL.search(cell.source)):
            current = match.group(1)
        owners[index] = current
    return owners


def setup_sources(student: nbformat.NotebookNode) -> set[str]:
    """The student edition's shared code cells: neither answer, Otter init nor check cells."""
    return {
        cell.source
        for cell in student.cells
        if cell.cell_type == "code"
        and "otter_answer_cell" not in cell.metadata.get("tags", [])
        and not CHECK_CALL.search(cell.source)
        and not INIT_CALL.search(cell.source)
    }


def run_notebook(
    nb: nbformat.NotebookNode,
    specs: Iterable[ExerciseSpec],
    *,
    setup: set[str],
    cwd: Path,
    env: dict[str, str],
    seed: int,
    marker: str,
    cell_timeout: float,
    timeout: float,
) -> NotebookRun:
    """Run ``nb`` in a fresh kernel and export every exercise of ``specs`` (see module doc)."""
    specs = {spec.name: spec for spec in specs}
    result = NotebookRun({name: ExerciseRun() for name in specs})
    start = time.monotonic()
    deadline = start + timeout
    replay: list[str] = []
    exported: set[str] = set()
    owners = cell_owners(nb)
    kernel = Kernel(cwd, env)

    def recover() -> None:
        kernel.restart()
        for source in replay:
            kernel.execute(source, cell_timeout)

    def export(name: str) -> None:
        exported.add(name)
        run = result.exercises[name]
        if run.status != "ok":
            return
        answers = [(a.name, a.expression) for a in specs[name].answers]
        limit = min(cell_timeout, max(deadline - time.monotonic(), 1.0))
        outcome = kernel.execute(export_code(answers, seed, marker), limit)
        run.export = parse_export(outcome.stdout, marker)
        if outcome.status in ("timeout", "died"):
            run.status, run.error = outcome.status, f"exporting the answers: {outcome.error}"
            recover()

    try:
        for cell, owner in zip(nb.cells, owners, strict=True):
            if cell.cell_type != "code":
                continue
            if time.monotonic() > deadline:
                break
            check = CHECK_CALL.search(cell.source)
            if check is not None:
                if check.group(1) in specs and check.group(1) not in exported:
                    export(check.group(1))
                continue
            if INIT_CALL.search(cell.source):
                continue
            run = result.exercises.get(owner) if owner not in exported else None
            limit = min(cell_timeout, max(deadline - time.monotonic(), 1.0))
            outcome = kernel.execute(cell.source, limit)
            if outcome.status == "ok":
                if cell.source in setup:
                    replay.append(cell.source)
                continue
            if run is not None and run.status == "ok" and not run.error:
                run.error = outcome.error
            if outcome.status in ("timeout", "died"):
                if run is not None:
                    run.status = outcome.status
                recover()
        for name in specs:
            if name not in exported and time.monotonic() <= deadline:
                export(name)
    finally:
        kernel.close()
    for name in specs:
        if name not in exported:
            run = result.exercises[name]
            run.status, run.error = "timeout", f"the submission ran past its {timeout:g} s"
    result.seconds = time.monotonic() - start
    return result
