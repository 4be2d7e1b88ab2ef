"""The student edition of chapter 10, written with Otter Assign, and made to run as handed out.

The book's exercise chapter (``book/10_exercises.ipynb``) is an Otter Assign "master" notebook:
raw cells mark each exercise (``# BEGIN QUESTION``), its solution (``# BEGIN SOLUTION``, and
``# SOLUTION`` / ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` inside code) and its public checks
(``# BEGIN TESTS``). :func:`generate` runs ``otter assign`` (solutions replaced by ``...``, the
public checks written as files under ``student/tests/``) and then edits the student edition:

* the Colab cell comes first and installs the bundled library (see :mod:`cslnb.teaching.bundle`);
* Otter's init cell also installs the "not answered yet" guard
  (:func:`cslnb.teaching.student.enable_not_answered`), defaults the profile to ``ci`` and finds
  the public tests wherever the kernel runs;
* a ``student_id`` cell is added, which the grader reads without running anything;
* an empty Markdown answer cell follows each written part's prompt
  (:func:`cslnb.teaching.written.add_answer_cells`; Otter drops the model answers).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from cslnb.paths import project_root
from cslnb.teaching.written import add_answer_cells

MASTER = Path("book") / "10_exercises.ipynb"
"""The exercise chapter, relative to the checkout: the single source of both editions."""

OUTPUT = Path("coursework")
"""Default folder (git-ignored, relative to the checkout) for everything generated."""

INIT_CELL = """\
# Run this cell before the exercises: it sets up the public checks (grader.check) and makes an
# unanswered exercise print "not answered yet" instead of stopping "Run All".
import os

os.environ.setdefault("CSLNB_PROFILE", "ci")  # seconds per exercise; "quick" needs CIFAR-10
import otter

from cslnb.teaching.student import enable_not_answered, public_tests

enable_not_answered()
grader = otter.Notebook(tests_dir=str(public_tests()))"""
"""Replaces Otter's init cell in the student edition."""

COLAB_CELL = """\
# On Colab only (a no-op elsewhere): upload the coursework zip your instructor gave you
# (cslnb-coursework.zip) with the Files panel, then run this cell.
import os
import sys

if "google.colab" in sys.modules:
    if not os.path.isdir("/content/cslnb-coursework"):
        !unzip -q -o /content/cslnb-coursework.zip -d /content
    !pip install -q "/content/cslnb-coursework/cslnb-src[teach]"
    os.chdir("/content/cslnb-coursework")"""
"""Replaces the book's Colab cell (which clones the repository) in the student edition."""

STUDENT_ID_CELL = """\
# Your student id, exactly as your course's gradebook knows it.
student_id = \"\""""


@dataclass(frozen=True)
class Coursework:
    """What :func:`generate` writes: the notebook to hand out, its public tests, the solutions."""

    student_notebook: Path
    public_tests: Path
    solutions_notebook: Path


def generate(master: Path | None = None, out: Path | None = None) -> Coursework:
    """Run ``otter assign`` on ``master``; lay out ``out/student`` and ``out/solutions``.

    ``out/student/<master name>`` is the student edition and ``out/student/tests/`` its public
    checks; ``out/solutions/<master name>`` is the solutions notebook (the grader's reference).
    Both folders are replaced on every call; no hidden check is written anywhere.
    """
    master = (master or project_root() / MASTER).resolve()
    out = (out or project_root() / OUTPUT).resolve()
    dist = out / "dist"
    for folder in (dist, out / "student", out / "solutions", out / "autograder"):
        shutil.rmtree(folder, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    assign = subprocess.run(
        [sys.executable, "-m", "otter", "assign", "--no-run-tests", "--no-pdfs", master, dist],
        cwd=master.parent,
        capture_output=True,
        text=True,
    )
    if assign.returncode != 0:
        raise RuntimeError(f"otter assign failed on {master}:\n{assign.stderr.strip()}")
    (dist / "student").rename(out / "student")
    solutions = out / "solutions"
    solutions.mkdir()
    (dist / "autograder" / master.name).rename(solutions / master.name)
    shutil.rmtree(dist)
    student = out / "student" / master.name
    nbformat.write(student_edition(nbformat.read(student, as_version=4)), student)
    return Coursework(student, out / "student" / "tests", solutions / master.name)


def student_edition(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Otter's student notebook with the Colab, init, student-id and answer cells (see above)."""
    colab = [c for c in nb.cells if c.cell_type == "code" and "google.colab" in c.source]
    init = [c for c in nb.cells if c.cell_type == "code" and "otter.Notebook(" in c.source]
    if len(colab) != 1 or len(init) != 1:
        raise RuntimeError("expected one Colab cell and one Otter init cell in the student edition")
    rest = [c for c in nb.cells if c is not colab[0] and c is not init[0]]
    colab[0].source = COLAB_CELL
    init[0].source = INIT_CELL
    nb.cells = [
        colab[0],
        init[0],
        nbformat.v4.new_code_cell(STUDENT_ID_CELL),
        *rest,
    ]
    return add_answer_cells(nb)
