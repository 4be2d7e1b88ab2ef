"""``python -m cslnb.teaching generate | bundle | grade``: see :mod:`cslnb.teaching`."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cslnb.paths import project_root
from cslnb.teaching.assign import MASTER, OUTPUT, generate


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
    return parser


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
    else:
        from cslnb.teaching.grading import Limits, Session
        from cslnb.teaching.report import write_reports

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
        paths = write_reports(grades, args.out or project_root() / OUTPUT)
        print(f"{len(grades)} submissions in {time.monotonic() - start:.0f} s")
        for name, path in paths.items():
            print(f"{name}: {path}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
