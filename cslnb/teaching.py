"""Coursework from chapter 10: a student edition and local grading, built on Otter-Grader.

The book's exercise chapter (``book/10_exercises.ipynb``) is an Otter Assign "master" notebook:
raw cells mark each exercise (``# BEGIN QUESTION``), its solution (``# BEGIN SOLUTION``, and
``# SOLUTION`` / ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` inside code) and its checks
(``# BEGIN TESTS``; a check starting with ``# HIDDEN`` is hidden). Two commands::

    python -m cslnb.teaching generate   # student edition + autograder, under coursework/
    python -m cslnb.teaching grade SUBMISSIONS_DIR   # coursework/grades.csv

``generate`` runs ``otter assign`` (solutions replaced by ``...``, hidden checks left out of the
student copy, every check stored in the autograder zip). ``grade`` runs ``otter run`` (Otter's
grading without Docker) on each submitted notebook in a fresh process and a fresh kernel, and
adds what Otter lacks for local grading: a wall-clock limit per submission (the process tree is
killed, every exercise scores 0), a time limit per cell (the cell raises ``TimeoutError`` and the
rest of the notebook still runs), each failing exercise's error, and one CSV row per submission.
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from cslnb.atomic import write_atomic
from cslnb.paths import project_root
from cslnb.profiles import PROFILE_ENV_VAR

MASTER = Path("book") / "10_exercises.ipynb"
"""The exercise chapter, relative to the checkout: the single source of both editions."""

OUTPUT = Path("coursework")
"""Default folder (git-ignored, relative to the checkout) for everything generated."""

AUTOGRADER_ZIP = "autograder.zip"
CHECK_CALL = re.compile(r"""grader\.check\(\s*["'](\w+)["']\s*\)""")
INIT_CALL = re.compile(r"""otter\.Notebook\(\s*["']([\w.-]+\.ipynb)["']\s*\)""")
EXCEPTION_LINE = re.compile(r"^\s*(\w*(?:Error|Exception|Interrupt)\b.*)$")

GUARD_CELL = """\
# Added by cslnb.teaching before grading: a time limit per cell and a log of cell errors.
import json as _cslnb_json
import signal as _cslnb_signal


def _cslnb_on_alarm(signum, frame):
    raise TimeoutError("cell ran longer than {limit} s")


def _cslnb_before_cell(info):
    _cslnb_signal.alarm({limit})


def _cslnb_after_cell(result):
    _cslnb_signal.alarm(0)
    error = result.error_before_exec or result.error_in_exec
    if error is not None:
        entry = {{"cell": result.info.raw_cell, "error": f"{{type(error).__name__}}: {{error}}"}}
        with open({log!r}, "a", encoding="utf-8") as log:
            log.write(_cslnb_json.dumps(entry) + "\\n")


_cslnb_signal.signal(_cslnb_signal.SIGALRM, _cslnb_on_alarm)
get_ipython().events.register("pre_run_cell", _cslnb_before_cell)
get_ipython().events.register("post_run_cell", _cslnb_after_cell)"""
"""First cell of every graded copy: per-cell ``SIGALRM`` and a JSON-lines log of cell errors."""


@dataclass(frozen=True)
class Coursework:
    """What :func:`generate` writes: the notebook to hand out, and the grader's inputs."""

    student_notebook: Path
    solutions_notebook: Path
    autograder: Path


@dataclass(frozen=True)
class Exercise:
    """One graded exercise: its Otter question name and its points."""

    name: str
    points: float


def generate(master: Path | None = None, out: Path | None = None) -> Coursework:
    """Run ``otter assign`` on ``master`` and lay its output out under ``out``.

    ``out/student/<master name>`` is the student edition, ``out/autograder/autograder.zip`` holds
    every check (public and hidden) for :func:`grade`, and ``out/autograder/<master name>`` is the
    solutions notebook. ``out/student`` and ``out/autograder`` are replaced on every call.
    """
    master = (master or project_root() / MASTER).resolve()
    out = (out or project_root() / OUTPUT).resolve()
    dist = out / "dist"
    for folder in (dist, out / "student", out / "autograder"):
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
    (dist / "autograder").rename(out / "autograder")
    shutil.rmtree(dist)
    zips = sorted((out / "autograder").glob("*.zip"))
    if len(zips) != 1:
        raise RuntimeError(f"otter assign wrote {len(zips)} autograder zips, expected one")
    autograder = zips[0].rename(out / "autograder" / AUTOGRADER_ZIP)
    return Coursework(
        student_notebook=out / "student" / master.name,
        solutions_notebook=out / "autograder" / master.name,
        autograder=autograder,
    )


def exercises(autograder: Path) -> list[Exercise]:
    """The graded exercises of an autograder zip, in name order, read from its test files.

    Otter writes one ``tests/<name>.py`` per question holding ``test = {"name": ..., "points":
    ...}``; the literal is read with :func:`ast.literal_eval`, never executed.
    """
    found = []
    with zipfile.ZipFile(autograder) as archive:
        for member in sorted(archive.namelist()):
            if not re.fullmatch(r"tests/\w+\.py", member):
                continue
            tree = ast.parse(archive.read(member).decode("utf-8"))
            for node in tree.body:
                if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "test" for t in node.targets
                ):
                    spec = ast.literal_eval(node.value)
                    found.append(Exercise(spec["name"], _total_points(spec)))
    return found


def _total_points(spec: dict) -> float:
    """A question's points: Otter accepts a total or a list with one entry per test case."""
    points = spec.get("points", 1)
    return float(sum(points)) if isinstance(points, list) else float(points)


def cell_exercises(nb: nbformat.NotebookNode) -> list[str | None]:
    """The exercise each cell belongs to: the one checked by the next ``grader.check`` cell."""
    owners: list[str | None] = [None] * len(nb.cells)
    current: str | None = None
    for index in reversed(range(len(nb.cells))):
        cell = nb.cells[index]
        if cell.cell_type == "code" and (match := CHECK_CALL.search(cell.source)):
            current = match.group(1)
        owners[index] = current
    return owners


def _expected_name(nb: nbformat.NotebookNode) -> str:
    """The file name the notebook's Otter init cell reads its checks from (it must match)."""
    for cell in nb.cells:
        if cell.cell_type == "code" and (match := INIT_CALL.search(cell.source)):
            return match.group(1)
    return MASTER.name


def grade_submission(
    submission: Path,
    autograder: Path,
    *,
    profile: str = "ci",
    timeout: float = 900,
    cell_timeout: int = 300,
) -> dict[str, object]:
    """Grade one notebook with ``otter run`` in a fresh process; one row of scores and errors.

    The row maps ``submission``, each exercise name (its score), ``total``, ``possible`` and
    ``errors`` (``"; "``-joined: ``<exercise>: <exception>`` for every exercise scoring less than
    its points, and the reason when the submission could not be graded at all). The notebook runs
    under ``$CSLNB_PROFILE=profile``; a cell running longer than ``cell_timeout`` seconds raises
    ``TimeoutError`` in the kernel; after ``timeout`` seconds the whole process tree is killed and
    every exercise scores 0.
    """
    questions = exercises(autograder)
    row: dict[str, object] = {"submission": submission.name}
    row.update({q.name: 0.0 for q in questions})
    with tempfile.TemporaryDirectory(prefix="cslnb-grade-") as tmp:
        work = Path(tmp)
        error_log = work / "cell_errors.jsonl"
        try:
            nb = nbformat.read(submission, as_version=4)
        except Exception as error:  # any unreadable file is a graded failure, not a crash
            return _finish(row, questions, [f"not a readable notebook: {error}"])
        owners = cell_exercises(nb)
        nb.cells.insert(
            0, nbformat.v4.new_code_cell(GUARD_CELL.format(limit=cell_timeout, log=str(error_log)))
        )
        (work / "submission").mkdir()
        graded_copy = work / "submission" / _expected_name(nb)
        nbformat.write(nb, graded_copy)
        (work / "results").mkdir()
        command = [sys.executable, "-m", "otter", "run", "--no-logo", "-a", autograder]
        command += ["-o", work / "results", graded_copy]
        # TMPDIR inside the work folder: what Otter leaves behind when killed is removed with it.
        env = {**os.environ, PROFILE_ENV_VAR: profile, "TMPDIR": str(work)}
        try:
            finished = _run_killing_tree(command, cwd=work, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            return _finish(row, questions, [f"timed out after {timeout:g} s: every exercise 0"])
        results_path = work / "results" / "results.json"
        if not results_path.is_file():
            reason = (finished.stderr.strip().splitlines() or ["no output"])[-1]
            return _finish(row, questions, [f"otter run failed: {reason}"])
        results = json.loads(results_path.read_text())
        outputs, names = {}, {q.name for q in questions}
        for test in results.get("tests", []):
            if test.get("name") in names and "score" in test:
                row[test["name"]] = float(test["score"])
                outputs[test["name"]] = test.get("output", "")
        cell_errors = _cell_errors(error_log, nb.cells[1:], owners)
    errors = []
    for question in questions:
        if row[question.name] < question.points:
            reason = cell_errors.get(question.name) or _last_exception(outputs.get(question.name))
            errors.append(f"{question.name}: {reason}")
    return _finish(row, questions, errors)


def _finish(row: dict[str, object], questions: list[Exercise], errors: list[str]) -> dict:
    row["total"] = sum(float(row[q.name]) for q in questions)
    row["possible"] = sum(q.points for q in questions)
    row["errors"] = "; ".join(errors)
    return row


def _run_killing_tree(
    command: list, *, cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess:
    """``subprocess.run`` that, on timeout, kills the process and all its descendants.

    The kernel Otter starts is a child in its own session, so killing the process group would
    leave it running; the tree is found with ``psutil`` (a dependency of ``ipykernel``).
    """
    import psutil

    process = subprocess.Popen(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        tree = psutil.Process(process.pid).children(recursive=True)
        for child in tree:
            child.kill()
        process.kill()
        process.communicate()
        psutil.wait_procs(tree, timeout=10)
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _cell_errors(log: Path, cells: list, owners: list[str | None]) -> dict[str, str]:
    """The first cell error of each exercise, from the guard cell's log."""
    if not log.is_file():
        return {}
    by_source = {}
    for cell, owner in zip(cells, owners, strict=True):
        if cell.cell_type == "code" and owner is not None:
            by_source.setdefault(cell.source, owner)
    errors: dict[str, str] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        owner = by_source.get(entry["cell"])
        if owner is not None:
            errors.setdefault(owner, entry["error"])
    return errors


def _last_exception(output: str | None) -> str:
    """The last exception line of Otter's test output, e.g. ``NameError: name 'x' ...``."""
    lines = [m.group(1) for m in map(EXCEPTION_LINE.match, (output or "").splitlines()) if m]
    return lines[-1] if lines else "check failed"


def grade(
    submissions: Path,
    autograder: Path,
    out_csv: Path,
    *,
    profile: str = "ci",
    timeout: float = 900,
    cell_timeout: int = 300,
) -> list[dict[str, object]]:
    """Grade every ``*.ipynb`` in ``submissions`` (name order) and write one CSV row each.

    A submission that fails in any way is a row of zeros with its error; it never stops the
    others. The CSV is written atomically once all submissions are graded.
    """
    questions = exercises(autograder)
    rows = []
    for path in sorted(submissions.glob("*.ipynb")):
        print(f"grading {path.name} ...", flush=True)
        rows.append(
            grade_submission(
                path, autograder, profile=profile, timeout=timeout, cell_timeout=cell_timeout
            )
        )
    columns = ["submission", *(q.name for q in questions), "total", "possible", "errors"]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(out_csv, lambda handle: handle.write(text.getvalue().encode("utf-8")))
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m cslnb.teaching",
        description="Student edition of the exercises and local grading (Otter-Grader).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write the student edition and the autograder")
    gen.add_argument("--master", type=Path, default=None, help=f"default: {MASTER}")
    gen.add_argument("--out", type=Path, default=None, help=f"default: {OUTPUT}/")
    grd = commands.add_parser("grade", help="grade a folder of submitted notebooks into a CSV")
    grd.add_argument("submissions", type=Path, help="folder of submitted .ipynb files")
    grd.add_argument("--autograder", type=Path, default=None)
    grd.add_argument("--csv", type=Path, default=None, help=f"default: {OUTPUT}/grades.csv")
    grd.add_argument("--profile", default="ci", help="CSLNB_PROFILE for the submissions")
    grd.add_argument("--timeout", type=float, default=900, help="seconds per submission")
    grd.add_argument("--cell-timeout", type=int, default=300, help="seconds per cell")
    args = parser.parse_args(argv)
    if args.command == "generate":
        made = generate(args.master, args.out)
        print(f"student edition: {made.student_notebook}")
        print(f"autograder:      {made.autograder}")
        return
    default_out = project_root() / OUTPUT
    autograder = args.autograder or default_out / "autograder" / AUTOGRADER_ZIP
    out_csv = args.csv or default_out / "grades.csv"
    rows = grade(
        args.submissions,
        autograder,
        out_csv,
        profile=args.profile,
        timeout=args.timeout,
        cell_timeout=args.cell_timeout,
    )
    for row in rows:
        print(f"{row['submission']}: {row['total']:g} / {row['possible']:g}  {row['errors']}")
    print(f"scores: {out_csv}")


if __name__ == "__main__":
    main()
