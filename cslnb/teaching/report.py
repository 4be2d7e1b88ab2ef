"""What grading writes: the instructor's CSV, a gradebook (LMS) CSV and one feedback file each.

* ``grades.csv``: ``student_id``, ``submission``, the points of each exercise, ``total``,
  ``possible``, one ``<exercise>_status`` column each (``ok``, ``wrong``, ``unanswered``,
  ``shortcut``, ``error``, ``timeout``, ``died``), ``errors`` (the first reason per exercise short
  of its points) and ``flags`` (what the instructor should look at; it changes no score).
* ``gradebook.csv``: ``Student``, ``SIS User ID`` and one assignment column, the total (Canvas
  matches rows by SIS User ID; Moodle's CSV import maps any identifier column and a grade column).
* ``feedback/<student_id>.md``: per exercise the points and, for each failure, what was expected.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

from cslnb.atomic import write_atomic
from cslnb.teaching.answers import EXERCISES
from cslnb.teaching.grading import Grade

ASSIGNMENT = "cslnb exercises"
"""The assignment column of the gradebook CSV."""


def grade_rows(grades: Sequence[Grade]) -> list[dict[str, object]]:
    """One ``grades.csv`` row per grade (see the module docstring for the columns)."""
    names = [spec.name for spec in EXERCISES]
    rows = []
    for grade in grades:
        row: dict[str, object] = {"student_id": grade.student_id, "submission": grade.submission}
        row.update({name: grade.points[name] for name in names})
        row["total"], row["possible"] = grade.total, grade.possible
        row.update({f"{name}_status": grade.status[name] for name in names})
        row["errors"] = "; ".join(
            f"{name}: {grade.feedback[name][0]}"
            for name in names
            if grade.status[name] != "ok" and grade.feedback[name]
        )
        row["flags"] = "; ".join(grade.flags)
        rows.append(row)
    return rows


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    text = io.StringIO()
    if rows:
        writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    write_atomic(path, lambda handle: handle.write(text.getvalue().encode("utf-8")))


def feedback_text(grade: Grade) -> str:
    """The Markdown feedback of one student."""
    lines = [
        f"# Feedback: {grade.student_id}",
        "",
        f"Total: {grade.total:g} of {grade.possible:g} points.",
        "",
    ]
    for spec in EXERCISES:
        status = grade.status[spec.name]
        lines.append(f"## {spec.name}: {grade.points[spec.name]:g} of {spec.points:g} ({status})")
        lines += [f"- {note}" for note in grade.feedback[spec.name]] or ["- all checks passed"]
        lines.append("")
    return "\n".join(lines)


def write_reports(grades: Sequence[Grade], out: Path) -> dict[str, Path]:
    """Write ``grades.csv``, ``gradebook.csv`` and ``feedback/`` under ``out``; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"grades": out / "grades.csv", "gradebook": out / "gradebook.csv"}
    _write_csv(paths["grades"], grade_rows(grades))
    book = [
        {"Student": g.student_id, "SIS User ID": g.student_id, ASSIGNMENT: g.total} for g in grades
    ]
    _write_csv(paths["gradebook"], book)
    feedback = out / "feedback"
    feedback.mkdir(exist_ok=True)
    for grade in grades:
        name = re.sub(r"[^\w.-]", "_", grade.student_id) or "unnamed"
        (feedback / f"{name}.md").write_text(feedback_text(grade), encoding="utf-8")
    paths["feedback"] = feedback
    return paths
