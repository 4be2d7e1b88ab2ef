"""Grade a folder of submitted notebooks: isolated runs, checks in a fresh process, one CSV.

A grading session (:class:`Session`) first builds the student edition and the solutions notebook
from the master, copies the library and the run records, draws a seed for the held-out probe
inputs and runs the solutions notebook exactly as a submission: its export is the key, kept in
this process's memory only. Each submission then runs in its own workspace
(:mod:`cslnb.teaching.isolation`) and kernel (:mod:`cslnb.teaching.runner`); its exported answers
and the key go to ``python -m cslnb.teaching.checker`` on stdin. Its written answers are read from
the notebook, never run (:mod:`cslnb.teaching.written`), for the instructor to mark against the
solutions' model answers. After every submission the checkout's fingerprint is compared with the
one taken at the start: any change stops grading with :class:`CheckoutChanged`.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cslnb.paths import project_root, results_dir
from cslnb.teaching.answers import EXERCISES, ExerciseSpec
from cslnb.teaching.assign import MASTER, generate
from cslnb.teaching.isolation import (
    fingerprint,
    fingerprint_changes,
    kernel_environment,
    library_files,
    pack,
    workspace,
)
from cslnb.teaching.runner import NotebookRun, cell_owners, run_notebook, setup_sources
from cslnb.teaching.scan import flags, shortcuts, student_lines, template_lines
from cslnb.teaching.written import WRITTEN, answers_after_prompts, prompts

STUDENT_ID = re.compile(r"""^\s*student_id\s*=\s*["']([^"'\n]*)["']""", re.MULTILINE)


class CheckoutChanged(RuntimeError):
    """A submission changed files of the checkout: grades after it cannot be trusted."""


@dataclass(frozen=True)
class Limits:
    """Seconds a cell and a whole submission may run before they are stopped."""

    cell: float = 300.0
    submission: float = 900.0


@dataclass
class Grade:
    """One submission's result: points, status and feedback per exercise, and flags.

    ``written`` holds the student's text of each written part (``""``: unanswered); ``marks``
    and ``comments`` what the instructor gave them (:mod:`cslnb.teaching.written`), filled in
    after grading.
    """

    submission: str
    student_id: str
    points: dict[str, float]
    status: dict[str, str]
    feedback: dict[str, list[str]]
    flags: list[str] = field(default_factory=list)
    written: dict[str, str] = field(default_factory=dict)
    marks: dict[str, float] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)

    def written_status(self, part: str) -> str:
        """``marked``, ``unanswered`` (no text and no mark: 0 points) or ``unmarked``."""
        if part in self.marks:
            return "marked"
        return "unmarked" if self.written.get(part, "").strip() else "unanswered"

    @property
    def unmarked(self) -> list[str]:
        """The written parts with an answer the instructor has not marked yet."""
        return [p.name for p in WRITTEN if self.written_status(p.name) == "unmarked"]

    @property
    def total(self) -> float:
        """The exercises' points and the marks given so far (an unmarked part adds nothing)."""
        return sum(self.points.values()) + sum(self.marks.values())

    @property
    def possible(self) -> float:
        return sum(spec.points for spec in EXERCISES) + sum(part.points for part in WRITTEN)


class Session:
    """Everything shared by the submissions of one grading run (see the module docstring).

    The library and the records (with those the reference run trained) are held as a zip in
    memory and unpacked into each submission's own temporary folder, removed after it; the key
    exists only in memory. ``seed`` fixes the probe inputs (default: drawn at random, never
    written down).
    """

    def __init__(
        self,
        *,
        profile: str = "ci",
        limits: Limits | None = None,
        seed: int | None = None,
        checkout: Path | None = None,
    ) -> None:
        self.profile = profile
        self.limits = limits or Limits()
        self.seed = secrets.randbits(31) if seed is None else seed
        self.marker = f"CSLNB-EXPORT-{secrets.token_hex(8)}:"
        self.checkout = (checkout or project_root()).resolve()
        self.fingerprint = fingerprint(self.checkout)
        with tempfile.TemporaryDirectory(prefix="cslnb-assign-") as tmp:
            made = generate(self.checkout / MASTER, Path(tmp))
            self.student = nbformat.read(made.student_notebook, as_version=4)
            self.solutions = nbformat.read(made.solutions_notebook, as_version=4)
        self.setup = setup_sources(self.student)
        self.questions = prompts(self.student)
        self.models = answers_after_prompts(self.solutions)
        parts = [part.name for part in WRITTEN]
        if list(self.questions) != parts or not all(self.models.get(p) for p in parts):
            raise RuntimeError(f"the master must have a prompt and a model answer for {parts}")
        self.template = template_lines(
            c.source for c in self.student.cells if c.cell_type == "code"
        )
        files = library_files(self.checkout)
        if results_dir().is_dir():
            files["data/results"] = results_dir()
        self._project = pack(files)
        self.key = self._run_key()
        self.verify_checkout()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self._project = b""

    def _run(
        self, nb: nbformat.NotebookNode, limits: Limits
    ) -> tuple[NotebookRun, dict[str, Path]]:
        root = Path(tempfile.mkdtemp(prefix="cslnb-run-"))
        folders = workspace(root, self._project)
        run = run_notebook(
            nb,
            EXERCISES,
            setup=self.setup,
            cwd=folders["cwd"],
            env=kernel_environment(folders, self.profile),
            seed=self.seed,
            marker=self.marker,
            cell_timeout=limits.cell,
            timeout=limits.submission,
        )
        return run, folders

    def _run_key(self) -> dict[str, dict]:
        """Run the solutions; their export is the key. Records it trained are kept for all."""
        run, folders = self._run(self.solutions, self.limits)
        broken = {
            name: r.error or r.status
            for name, r in run.exercises.items()
            if r.status != "ok" or r.export is None or not all(v["ok"] for v in r.export.values())
        }
        if broken:
            raise RuntimeError(f"the reference solutions do not run under {self.profile}: {broken}")
        files = library_files(self.checkout)
        files["data/results"] = folders["results"]
        self._project = pack(files)
        shutil.rmtree(folders["cwd"].parent, ignore_errors=True)
        return {name: r.export for name, r in run.exercises.items()}

    def verify_checkout(self) -> None:
        """Raise :class:`CheckoutChanged` unless the checkout is byte-identical to the start."""
        changed = fingerprint_changes(self.fingerprint, fingerprint(self.checkout))
        if changed:
            shown = ", ".join(changed[:10]) + (" ..." if len(changed) > 10 else "")
            raise CheckoutChanged(f"{len(changed)} files of {self.checkout} changed: {shown}")

    def grade(self, path: Path, limits: Limits | None = None) -> Grade:
        """Grade one submitted notebook (any failure is a graded failure, never an exception).

        ``limits`` overrides the session's for this submission.
        """
        specs = {spec.name: spec for spec in EXERCISES}
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as error:  # an unreadable file is a row of zeros with its reason
            return _zero(path, specs, f"not a readable notebook: {error}")
        run, folders = self._run(nb, limits or self.limits)
        shutil.rmtree(folders["cwd"].parent, ignore_errors=True)
        written = _student_lines_by_exercise(nb, self.template)
        checked = self._check({n: r.export for n, r in run.exercises.items()})
        grade = Grade(path.name, _student_id(nb, path), {}, {}, {})
        answered = answers_after_prompts(nb)
        grade.written = {part.name: answered.get(part.name, "") for part in WRITTEN}
        for name, spec in specs.items():
            ran, result = run.exercises[name], checked[name]
            used = shortcuts(written.get(name, []), spec.forbidden)
            if ran.status in ("timeout", "died"):
                status, notes = ran.status, [ran.error]
            elif used:
                status = "shortcut"
                notes = [f"uses {', '.join(used)}: the exercise asks you to write this yourself"]
            elif result["passed"]:
                status, notes = "ok", []
            else:
                status = "unanswered" if result["unanswered"] else "wrong"
                raised = [f"your code raised {ran.error}"] if ran.error else []
                notes = result["feedback"] + raised
            grade.points[name] = spec.points if status == "ok" else 0.0
            grade.status[name] = status
            grade.feedback[name] = notes
        every_line = [line for lines in written.values() for line in lines]
        grade.flags = [f for f in flags(every_line)]
        return grade

    def _check(self, answers: dict[str, dict | None]) -> dict[str, dict]:
        """Run the checker in a fresh process on the exported answers and the key."""
        request = json.dumps({"answers": answers, "key": self.key})
        checked = subprocess.run(
            [sys.executable, "-m", "cslnb.teaching.checker"],
            input=request,
            capture_output=True,
            text=True,
            cwd=tempfile.gettempdir(),
            timeout=300,
        )
        if checked.returncode != 0:
            raise RuntimeError(f"the checker failed: {checked.stderr.strip()[-2000:]}")
        return json.loads(checked.stdout)


def _student_lines_by_exercise(
    nb: nbformat.NotebookNode, template: set[str]
) -> dict[str | None, list[str]]:
    """The lines the student wrote, by the exercise whose cells hold them (``None``: none)."""
    written: dict[str | None, list[str]] = {}
    for cell, owner in zip(nb.cells, cell_owners(nb), strict=True):
        if cell.cell_type == "code":
            written.setdefault(owner, []).extend(student_lines(cell.source, template))
    return written


def _student_id(nb: nbformat.NotebookNode, path: Path) -> str:
    """The ``student_id = "..."`` of the notebook when filled in, else the file name's stem."""
    for cell in nb.cells:
        match = STUDENT_ID.search(cell.source) if cell.cell_type == "code" else None
        if match and match.group(1).strip():
            return match.group(1).strip()
    return path.stem


def _zero(path: Path, specs: dict[str, ExerciseSpec], reason: str) -> Grade:
    return Grade(
        path.name,
        path.stem,
        {name: 0.0 for name in specs},
        {name: "error" for name in specs},
        {name: [reason] for name in specs},
        written={part.name: "" for part in WRITTEN},
    )
