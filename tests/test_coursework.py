"""Coursework: chapter 10's student edition and local grading (``cslnb.teaching``, Otter-Grader).

One student edition is generated per module; four synthetic submissions are graded in one call
(all right, exactly one right, all stubs, broken: one exercise raises, one loops forever), and a
submission that defeats the per-cell limit is killed at the per-submission limit.
"""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path

import nbformat
import pytest

from cslnb.teaching import (
    Coursework,
    cell_exercises,
    exercises,
    generate,
    grade,
    grade_submission,
)
from cslnb.train import RunConfig, TrainOptions, train

MASTER = Path(__file__).resolve().parents[1] / "book" / "10_exercises.ipynb"
EXERCISES = [f"e{n:02d}" for n in range(1, 14)]
ONE_RIGHT = "e04"
RAISES, LOOPS = "e05", "e06"
CELL_LIMIT = 30


@pytest.fixture(scope="module")
def coursework(tmp_path_factory: pytest.TempPathFactory) -> Coursework:
    pytest.importorskip("otter", reason="needs the teach extra: pip install -e '.[teach]'")
    # The runs that exercises 11-12 read, trained once so that no graded cell trains under the
    # per-cell limit (train() returns existing records; they are shared with the ci chapters).
    for loss in ["ce", "csl"]:
        for seed in range(3):
            config = RunConfig(dataset="cifar10", loss=loss, ratio=100, seed=seed, profile="ci")
            train(config, TrainOptions(progress=False))
    return generate(MASTER, tmp_path_factory.mktemp("coursework"))


def _master() -> nbformat.NotebookNode:
    return nbformat.read(MASTER, as_version=4)


def test_each_exercise_states_goal_difficulty_and_time() -> None:
    titles = [
        cell.source
        for cell in _master().cells
        if cell.cell_type == "markdown" and cell.source.startswith("## Exercise ")
    ]
    assert [t.split(":")[0] for t in titles] == [f"## Exercise {n}" for n in range(1, 14)]
    for title in titles:
        assert all(f"**{key}:**" in title for key in ("Goal", "Difficulty", "Time")), title
    training = [t for t in titles if "under `ci`" in t and "under `quick`" in t]
    assert len(training) >= 3  # the exercises that train say how long they take


def test_web_book_hides_solutions_and_checks() -> None:
    """Solution cells are folded (code and output), checks and Otter's markers removed."""
    inside = False
    for cell in _master().cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "raw":
            assert tags == ["remove-cell"], cell.source
            if cell.source.strip() in {"# BEGIN SOLUTION", "# END SOLUTION"}:
                inside = cell.source.strip() == "# BEGIN SOLUTION"
        elif inside and cell.cell_type == "code":
            assert "hide-cell" in tags, cell.source[:80]
        elif inside:
            assert cell.source.startswith("```{toggle}"), cell.source[:80]
        elif cell.cell_type == "code" and ("# SOLUTION" in cell.source or "assert " in cell.source):
            assert "remove-cell" in tags or "hide-cell" in tags, cell.source[:80]


def _solution_only_lines(master: nbformat.NotebookNode) -> set[str]:
    """Lines that occur only in the master's solution regions (code and discussion)."""
    inside, solution, elsewhere = False, set(), set()
    for cell in master.cells:
        if cell.cell_type == "raw" and cell.source.strip() in {
            "# BEGIN SOLUTION",
            "# END SOLUTION",
        }:
            inside = cell.source.strip() == "# BEGIN SOLUTION"
            continue
        block = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped in {"# BEGIN SOLUTION", "# END SOLUTION"}:
                block = stripped == "# BEGIN SOLUTION"
                continue
            is_solution = inside and (cell.cell_type == "markdown" or block)
            is_solution = is_solution or stripped.endswith("# SOLUTION")
            (solution if is_solution else elsewhere).add(stripped.removesuffix("# SOLUTION"))
    return {line.strip() for line in solution - elsewhere if line.strip()}


def _check_lines(master: nbformat.NotebookNode, hidden: bool) -> list[set[str]]:
    """The stripped lines of each public or hidden check cell of the master."""
    return [
        {line.strip() for line in cell.source.splitlines()} - {"# HIDDEN"}
        for cell in master.cells
        if cell.cell_type == "code"
        and "remove-cell" in cell.metadata.get("tags", [])
        and cell.source.startswith("# HIDDEN") == hidden
        and "REPO_URL" not in cell.source
    ]


def _student_lines(student: nbformat.NotebookNode) -> set[str]:
    """Every line a student receives: cell sources and the checks stored in the metadata."""
    texts = [cell.source for cell in student.cells]
    for spec in student.metadata["otter"]["tests"].values():
        texts += [case["code"] for suite in spec["suites"] for case in suite["cases"]]
    return {
        line.strip().removeprefix(">>> ").removeprefix("... ")
        for t in texts
        for line in t.splitlines()
    }


def test_student_edition_has_no_solution_code(coursework: Coursework) -> None:
    master = _master()
    student = nbformat.read(coursework.student_notebook, as_version=4)
    received = _student_lines(student)
    solution_lines = _solution_only_lines(master)
    assert len(solution_lines) > 60  # every exercise's solution, not an empty parse
    leaked = solution_lines & received
    assert not leaked, f"solution lines in the student edition: {sorted(leaked)[:5]}"
    hidden = _check_lines(master, hidden=True)
    assert len(hidden) >= len(EXERCISES)
    public = set().union(*_check_lines(master, hidden=False))
    hidden_only = {line for lines in hidden for line in lines if line.startswith("assert")} - public
    assert len(hidden_only) >= len(EXERCISES)
    assert not hidden_only & received, f"hidden checks leaked: {sorted(hidden_only & received)}"
    stubs = [c for c in student.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    assert len(stubs) == len(EXERCISES) and all("..." in c.source for c in stubs)
    assert not any(c.get("outputs") for c in student.cells if c.cell_type == "code")


def test_public_checks_stay_with_the_student(coursework: Coursework) -> None:
    student = nbformat.read(coursework.student_notebook, as_version=4)
    tests = student.metadata["otter"]["tests"]
    assert sorted(tests) == EXERCISES
    for name, spec in tests.items():
        cases = [case for suite in spec["suites"] for case in suite["cases"]]
        assert cases and not any(case["hidden"] for case in cases), name
    checks = [n for n in cell_exercises(student) if n is not None]
    assert sorted(set(checks)) == EXERCISES


def test_autograder_holds_every_exercise(coursework: Coursework) -> None:
    found = exercises(coursework.autograder)
    assert [e.name for e in found] == EXERCISES
    assert all(e.points == 1.0 for e in found)


def _submission(coursework: Coursework, replace: dict[str, str]) -> nbformat.NotebookNode:
    """The student edition with the answer cells of ``replace``'s exercises set to its sources."""
    nb = nbformat.read(coursework.student_notebook, as_version=4)
    for cell, owner in zip(nb.cells, cell_exercises(nb), strict=True):
        if owner in replace and "otter_answer_cell" in cell.metadata.get("tags", []):
            cell.source = replace[owner]
    return nb


def _solutions(coursework: Coursework) -> dict[str, str]:
    nb = nbformat.read(coursework.solutions_notebook, as_version=4)
    return {
        owner: cell.source
        for cell, owner in zip(nb.cells, cell_exercises(nb), strict=True)
        if cell.cell_type == "code"
        and "otter_assign_solution_cell" in cell.metadata.get("tags", [])
    }


def test_grading_scores_each_exercise(coursework: Coursework, tmp_path: Path) -> None:
    solutions = _solutions(coursework)
    assert sorted(solutions) == EXERCISES
    folder = tmp_path / "submitted"
    folder.mkdir()
    submissions = {
        "all_right": nbformat.read(coursework.solutions_notebook, as_version=4),
        "one_right": _submission(coursework, {ONE_RIGHT: solutions[ONE_RIGHT]}),
        "all_stubs": _submission(coursework, {}),
        "broken": _submission(
            coursework,
            {
                ONE_RIGHT: solutions[ONE_RIGHT],
                RAISES: 'raise RuntimeError("student bug")',
                LOOPS: "while True:\n    pass",
            },
        ),
    }
    for name, nb in submissions.items():
        nbformat.write(nb, folder / f"{name}.ipynb")
    out_csv = tmp_path / "grades.csv"

    start = time.monotonic()
    rows = {
        row["submission"]: row
        for row in grade(
            folder, coursework.autograder, out_csv, timeout=600, cell_timeout=CELL_LIMIT
        )
    }
    assert time.monotonic() - start < 600

    right = rows["all_right.ipynb"]
    assert [right[e] for e in EXERCISES] == [1.0] * 13 and right["total"] == 13.0
    assert right["errors"] == ""
    stubs = rows["all_stubs.ipynb"]
    assert [stubs[e] for e in EXERCISES] == [0.0] * 13 and stubs["total"] == 0.0
    assert all(f"{e}: " in stubs["errors"] for e in EXERCISES)
    one = rows["one_right.ipynb"]
    assert {e: one[e] for e in EXERCISES} == {e: float(e == ONE_RIGHT) for e in EXERCISES}
    assert one["total"] == 1.0 and one["possible"] == 13.0
    broken = rows["broken.ipynb"]
    assert {e: broken[e] for e in EXERCISES} == {e: float(e == ONE_RIGHT) for e in EXERCISES}
    assert f"{RAISES}: RuntimeError: student bug" in broken["errors"]
    assert f"{LOOPS}: TimeoutError: cell ran longer than {CELL_LIMIT} s" in broken["errors"]

    with out_csv.open() as handle:
        table = list(csv.DictReader(handle))
    assert [r["submission"] for r in table] == sorted(rows)
    assert list(table[0]) == ["submission", *EXERCISES, "total", "possible", "errors"]
    by_name = {r["submission"]: r for r in table}
    assert float(by_name["one_right.ipynb"][ONE_RIGHT]) == 1.0
    assert by_name["broken.ipynb"]["errors"] == broken["errors"]


def test_submission_defeating_the_cell_limit_is_killed(
    coursework: Coursework, tmp_path: Path
) -> None:
    import psutil

    stubborn = (
        "import signal\n\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass"
    )
    path = tmp_path / "stubborn.ipynb"
    nbformat.write(_submission(coursework, {"e01": stubborn}), path)
    start = time.monotonic()
    row = grade_submission(path, coursework.autograder, timeout=20, cell_timeout=5)
    assert time.monotonic() - start < 20 + 15
    assert [row[e] for e in EXERCISES] == [0.0] * 13
    assert re.fullmatch(r"timed out after 20 s: every exercise 0", row["errors"])
    assert psutil.Process().children(recursive=True) == []  # the kernel was killed too


def test_unreadable_submission_is_a_row_of_zeros(coursework: Coursework, tmp_path: Path) -> None:
    path = tmp_path / "not_json.ipynb"
    path.write_text("this is not a notebook")
    row = grade_submission(path, coursework.autograder, timeout=60)
    assert row["total"] == 0.0 and row["possible"] == 13.0
    assert row["errors"].startswith("not a readable notebook")
