"""What grading writes: the instructor's CSV, a gradebook (LMS) CSV, feedback and marking sheets.

* ``grades.csv``: ``student_id``, ``submission``, the points of each exercise and the mark of
  each written part (empty while unmarked), ``total`` (the points and marks so far), ``possible``,
  ``unmarked`` (how many written parts still wait for a mark), one ``<exercise>_status`` column
  each (``ok``, ``wrong``, ``unanswered``, ``shortcut``, ``error``, ``timeout``, ``died``), one
  ``<part>_status`` each (``marked``, ``unmarked``, ``unanswered``), ``errors`` (the first reason
  per exercise short of its points) and ``flags`` (what the instructor should look at; it changes
  no score).
* ``gradebook.csv``: ``Student``, ``SIS User ID`` and one assignment column, the total, left
  empty while a written part is unmarked (Canvas matches rows by SIS User ID; Moodle's CSV import
  maps any identifier column and a grade column).
* ``feedback/<student_id>.md`` (``<student_id>.<submission>.md`` for a student id that two
  submissions claim): per exercise the points and, for each failure, what was
  expected; per written part the mark and the instructor's comment.
* ``written/<student_id>.md``: the marking sheets (:func:`cslnb.teaching.written.marking_sheet`),
  written once: grading again keeps a sheet that exists, with its marks.
* ``grades.json``: every :class:`~cslnb.teaching.grading.Grade`, from which ``python -m
  cslnb.teaching marks`` rebuilds the files above with the sheets' marks, without grading again.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from cslnb.atomic import write_atomic
from cslnb.teaching.answers import EXERCISES
from cslnb.teaching.grading import Grade
from cslnb.teaching.written import WRITTEN, MarkError, marking_sheet, read_marks

ASSIGNMENT = "cslnb exercises"
"""The assignment column of the gradebook CSV."""

GRADES_JSON = "grades.json"
WRITTEN_DIR = "written"


def grade_rows(grades: Sequence[Grade]) -> list[dict[str, object]]:
    """One ``grades.csv`` row per grade (see the module docstring for the columns)."""
    names = [spec.name for spec in EXERCISES]
    parts = [part.name for part in WRITTEN]
    rows = []
    for grade in grades:
        row: dict[str, object] = {"student_id": grade.student_id, "submission": grade.submission}
        row.update({name: grade.points[name] for name in names})
        for part in parts:
            status = grade.written_status(part)
            row[part] = "" if status == "unmarked" else grade.marks.get(part, 0.0)
        row["total"], row["possible"] = grade.total, grade.possible
        row["unmarked"] = len(grade.unmarked)
        row.update({f"{name}_status": grade.status[name] for name in names})
        row.update({f"{part}_status": grade.written_status(part) for part in parts})
        row["errors"] = "; ".join(
            f"{name}: {grade.feedback[name][0]}"
            for name in names
            if grade.status[name] != "ok" and grade.feedback[name]
        )
        row["flags"] = "; ".join(grade.flags)
        rows.append(row)
    return rows


def _write_text(path: Path, text: str) -> None:
    write_atomic(path, lambda handle: handle.write(text.encode("utf-8")))


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    text = io.StringIO()
    if rows:
        writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    _write_text(path, text.getvalue())


def feedback_text(grade: Grade) -> str:
    """The Markdown feedback of one student."""
    waiting = len(grade.unmarked)
    lines = [
        f"# Feedback: {grade.student_id}",
        "",
        f"Submission: `{grade.submission}`",
        "",
        f"Total: {grade.total:g} of {grade.possible:g} points"
        + (f" ({waiting} written answer{'s' * (waiting > 1)} not marked yet)." if waiting else "."),
        "",
    ]
    for spec in EXERCISES:
        status = grade.status[spec.name]
        lines.append(f"## {spec.name}: {grade.points[spec.name]:g} of {spec.points:g} ({status})")
        lines += [f"- {note}" for note in grade.feedback[spec.name]] or ["- all checks passed"]
        lines.append("")
    for part in WRITTEN:
        status = grade.written_status(part.name)
        if status == "unmarked":
            lines.append(f"## {part.name} (written): not marked yet, {part.points:g} possible")
        else:
            mark = grade.marks.get(part.name, 0.0)
            lines.append(f"## {part.name} (written): {mark:g} of {part.points:g} ({status})")
        if part.name in grade.comments:
            lines.append(f"- {grade.comments[part.name]}")
        lines.append("")
    return "\n".join(lines)


def _file_name(student_id: str) -> str:
    return (re.sub(r"[^\w.-]", "_", student_id) or "unnamed") + ".md"


def report_file_names(grades: Sequence[Grade]) -> list[str]:
    """The file name of each grade's feedback and marking sheet: ``<student_id>.md``, or
    ``<student_id>.<submission stem>.md`` when two submissions claim the same student id, so
    that neither overwrites the other's file."""
    ids = [g.student_id for g in grades]
    return [
        _file_name(
            f"{g.student_id}.{Path(g.submission).stem}"
            if ids.count(g.student_id) > 1
            else g.student_id
        )
        for g in grades
    ]


def write_reports(grades: Sequence[Grade], out: Path) -> dict[str, Path]:
    """Write ``grades.csv``, ``gradebook.csv`` and ``feedback/`` under ``out``; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"grades": out / "grades.csv", "gradebook": out / "gradebook.csv"}
    _write_csv(paths["grades"], grade_rows(grades))
    book = [
        {
            "Student": g.student_id,
            "SIS User ID": g.student_id,
            ASSIGNMENT: "" if g.unmarked else g.total,
        }
        for g in grades
    ]
    _write_csv(paths["gradebook"], book)
    feedback = out / "feedback"
    feedback.mkdir(exist_ok=True)
    for grade, name in zip(grades, report_file_names(grades), strict=True):
        _write_text(feedback / name, feedback_text(grade))
    paths["feedback"] = feedback
    return paths


def save_grades(grades: Sequence[Grade], out: Path) -> Path:
    """Write every grade (written answers included) to ``out/grades.json``; its path."""
    path = out / GRADES_JSON
    _write_text(path, json.dumps([asdict(g) for g in grades], indent=1) + "\n")
    return path


def load_grades(out: Path) -> list[Grade]:
    """The grades :func:`save_grades` wrote under ``out``."""
    return [Grade(**entry) for entry in json.loads((out / GRADES_JSON).read_text())]


def write_sheets(
    grades: Sequence[Grade], questions: dict[str, str], models: dict[str, str], out: Path
) -> list[Path]:
    """Write ``out/written/<student_id>.md`` for every grade without one; the sheets written.

    A sheet that exists is kept as it is, marks included. Sheets are named by
    :func:`report_file_names`.
    """
    folder = out / WRITTEN_DIR
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for grade, name in zip(grades, report_file_names(grades), strict=True):
        path = folder / name
        if path.exists():
            continue
        text = marking_sheet(grade.student_id, grade.submission, grade.written, questions, models)
        _write_text(path, text)
        made.append(path)
    return made


def apply_marks(grades: Sequence[Grade], out: Path) -> None:
    """Set each grade's ``marks`` and ``comments`` from the sheets under ``out/written/``.

    Raises :class:`~cslnb.teaching.written.MarkError` for a sheet that :func:`read_marks`
    rejects, names no graded submission, or repeats another sheet's submission.
    """
    by_submission = {g.submission: g for g in grades}
    seen: dict[str, Path] = {}
    for path in sorted((out / WRITTEN_DIR).glob("*.md")):
        sheet = read_marks(path.read_text(encoding="utf-8"), str(path))
        grade = by_submission.get(sheet.submission)
        if grade is None:
            raise MarkError(f"{path}: no graded submission is named {sheet.submission!r}")
        if sheet.submission in seen:
            raise MarkError(f"{path} and {seen[sheet.submission]} mark the same submission")
        seen[sheet.submission] = path
        grade.marks, grade.comments = sheet.marks, sheet.comments
