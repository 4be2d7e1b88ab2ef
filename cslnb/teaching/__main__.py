"""``python -m cslnb.teaching generate | bundle | grade | marks``: see :mod:`cslnb.teaching`."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cslnb.paths import project_root
from cslnb.teaching.assign import MASTER, OUTPUT, generate
from cslnb.teaching.written import MarkError

if TYPE_CHECKING:
    from cslnb.teaching.grading import Grade


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cslnb.teaching",
        description="Student edition and bundle of chapter 10's exercises, and their grading.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write the student edition and the solutions")
    gen.add_argument("--master", type=Path, default=None, help=f"default: {MASTER}")
    gen.add_argument("--out", type=Path, default=None, help=f"default: {OUTPUT}/")
    bnd = commands.add_parser("bundle", help="write the zip to hand out to students")
    bnd.add_argument("--out", type=Path, default=None, help=f"default: {OUTPUT}/")
    grd = commands.add_parser("grade", help="grade a folder of submitted notebooks")
    grd.add_argument("submissions", type=Path, help="folder of submitted .ipynb files")
    grd.add_argument("--out", type=Path, default=None, help=f"default: {OUTPUT}/")
    grd.add_argument("--profile", default="ci", help="CSLNB_PROFILE for the submissions")
    grd.add_argument("--timeout", type=float, default=900, help="seconds per submission")
    grd.add_argument("--cell-timeout", type=float, default=300, help="seconds per cell")
    grd.add_argument("--seed", type=int, default=None, help="probe inputs (default: random)")
    mrk = commands.add_parser(
        "marks", help="merge the marks of written/*.md into grades.csv, gradebook.csv, feedback/"
    )
    mrk.add_argument("--out", type=Path, default=None, help=f"default: {OUTPUT}/")
    return parser


def _merge_marks(grades: list[Grade], out: Path) -> None:
    """Apply the marking sheets' marks, write the reports and say what is left to mark.

    A sheet that cannot be merged stops with its reason (exit status 2), before any file is
    written; ``grades.json`` and the sheets stay, so ``marks`` can run again once it is fixed.
    """
    from cslnb.teaching.report import apply_marks, write_reports

    try:
        apply_marks(grades, out)
    except MarkError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    for name, path in write_reports(grades, out).items():
        print(f"{name}: {path}")
    waiting = [g for g in grades if g.unmarked]
    if waiting:
        parts = sum(len(g.unmarked) for g in waiting)
        print(
            f"{parts} written answers of {len(waiting)} students are not marked yet (their "
            f"gradebook total is empty): mark them in {out / 'written'}/, then run "
            "python -m cslnb.teaching marks"
        )


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "generate":
        made = generate(args.master, args.out)
        print(f"student edition: {made.student_notebook}")
        print(f"public checks:   {made.public_tests}")
        print(f"solutions:       {made.solutions_notebook}")
    elif args.command == "bundle":
        from cslnb.teaching.bundle import bundle

        print(f"student bundle: {bundle(args.out)}")
    elif args.command == "grade":
        from cslnb.teaching.grading import Limits, Session
        from cslnb.teaching.report import save_grades, write_sheets

        out = (args.out or project_root() / OUTPUT).resolve()
        submissions = sorted(args.submissions.glob("*.ipynb"))
        limits = Limits(cell=args.cell_timeout, submission=args.timeout)
        start = time.monotonic()
        grades = []
        with Session(profile=args.profile, limits=limits, seed=args.seed) as session:
            print(f"reference solutions run in {time.monotonic() - start:.0f} s", flush=True)
            for path in submissions:
                grade = session.grade(path)
                session.verify_checkout()
                grades.append(grade)
                print(f"{path.name}: {grade.total:g} / {grade.possible:g}", flush=True)
        print(f"{len(grades)} submissions in {time.monotonic() - start:.0f} s")
        print(f"grades: {save_grades(grades, out)}")
        made = write_sheets(grades, session.questions, session.models, out)
        print(f"marking sheets: {len(made)} written, {len(grades) - len(made)} kept")
        _merge_marks(grades, out)
    else:
        from cslnb.teaching.report import GRADES_JSON, load_grades

        out = (args.out or project_root() / OUTPUT).resolve()
        if not (out / GRADES_JSON).is_file():
            print(f"error: no {out / GRADES_JSON}: run grade first", file=sys.stderr)
            sys.exit(2)
        _merge_marks(load_grades(out), out)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
