"""The student bundle: one zip with everything a student needs and nothing of the grader's.

``cslnb-coursework.zip`` holds one folder, ``cslnb-coursework/``:

* ``10_exercises.ipynb``: the student edition (:func:`cslnb.teaching.assign.generate`);
* ``tests/``: its public checks (what ``grader.check`` runs);
* ``data/results/quick/``: the committed run records the exercises read;
* ``cslnb-src/``: the library's source, installable with ``pip install "./cslnb-src[teach]"``
  (no package index needed for ``cslnb`` itself). Of :mod:`cslnb.teaching` it keeps only what
  the student edition calls (:mod:`cslnb.teaching.student`): none of the grader;
* ``INSTALL.md``: the students' commands.

No solution and no hidden check is in it: the solutions stay in the master notebook and the
hidden checks' inputs and expected values exist only while a grading session runs.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from cslnb.paths import project_root, results_dir
from cslnb.teaching.assign import MASTER, OUTPUT, generate

FOLDER = "cslnb-coursework"
BUNDLE_NAME = f"{FOLDER}.zip"
TEACHING_KEPT = ("__init__.py", "student.py")
"""The only files of ``cslnb/teaching/`` a student receives."""

INSTALL = """\
# cslnb coursework: exercises on long-tailed classification

This folder holds the exercise notebook (`10_exercises.ipynb`), its public checks (`tests/`),
the run records it reads (`data/results/`) and the `cslnb` library's source (`cslnb-src/`).

## On your computer (Python 3.10 or newer)

```bash
cd cslnb-coursework
python -m venv .venv
source .venv/bin/activate        # Windows: .venv\\Scripts\\activate
# Optional, CPU-only PyTorch (smaller download):
# pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu
pip install "./cslnb-src[teach]" jupyterlab
jupyter lab 10_exercises.ipynb
```

Start Jupyter from this folder: the notebook finds its checks in `tests/` and the run records in
`data/results/`. Run the first cell, then work through the exercises; `grader.check("e03")` runs
an exercise's public checks. An exercise you have not answered prints "not answered yet", so
"Run All" always runs to the end. The exercises run under the `ci` profile (synthetic images,
seconds per exercise), which is how they are graded unless your instructor says otherwise.

## On Google Colab

Open `10_exercises.ipynb` in Colab (File > Upload notebook), upload `cslnb-coursework.zip` with
the Files panel (to `/content`), then run the first cell: it unzips the folder, installs the
library from it and works from there.

## Handing in

Hand in `10_exercises.ipynb` with your answers. Fill in `student_id` in its third cell. The
grader runs your notebook from top to bottom in a fresh kernel, then checks your answers with
inputs and values you have not seen: make every answer come from your own code. Under each
**Written answer** prompt, replace the text of the cell below it with your answer, in your own
words (Markdown): your instructor reads and marks it.
"""


def _add_tree(archive: zipfile.ZipFile, source: Path, target: str) -> None:
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            archive.write(path, f"{target}/{path.relative_to(source).as_posix()}")


def bundle(out: Path | None = None, master: Path | None = None) -> Path:
    """Write ``out/cslnb-coursework.zip`` (default ``coursework/``) and return its path."""
    root = project_root()
    out = (out or root / OUTPUT).resolve()
    made = generate(master or root / MASTER, out)
    path = out / BUNDLE_NAME
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(made.student_notebook, f"{FOLDER}/{made.student_notebook.name}")
        _add_tree(archive, made.public_tests, f"{FOLDER}/tests")
        _add_tree(archive, results_dir() / "quick", f"{FOLDER}/data/results/quick")
        archive.writestr(f"{FOLDER}/INSTALL.md", INSTALL)
        source = f"{FOLDER}/cslnb-src"
        archive.write(root / "pyproject.toml", f"{source}/pyproject.toml")
        archive.write(root / "README.md", f"{source}/README.md")
        for path_in in sorted((root / "cslnb").rglob("*.py")):
            relative = path_in.relative_to(root)
            parts = relative.parts
            if parts[1] == "teaching" and parts[-1] not in TEACHING_KEPT:
                continue
            if "__pycache__" in parts:
                continue
            archive.write(path_in, f"{source}/{relative.as_posix()}")
    return path
