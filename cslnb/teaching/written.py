"""Written answers: the explain / predict / judge parts of chapter 10, marked by the instructor.

In the master notebook each part is a prompt, a Markdown cell of the exercise that starts with
``**Written answer `<part>`**`` (locked in the student edition), followed by its model answer in a
solution block (folded in the web book, absent from the student edition, where
:func:`add_answer_cells` puts an empty answer cell after each prompt). A part's answer is the
text of the Markdown cells after its prompt, up to the next code cell or prompt
(:func:`answers_after_prompts`): nothing is executed, so Markdown is all a student writes.

The grader writes one marking sheet per submission (:func:`marking_sheet`): each part's
question, model answer and the student's text, quoted line by line, then two lines the
instructor completes, ``mark <part>: <points>`` and, optionally, ``comment <part>: <text>``.
Since every quoted line starts with ``>``, nothing a student writes can be read as a mark.
:func:`read_marks` reads a sheet back and rejects a mark that is not a number, is negative,
exceeds the part's points, or names an unknown part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nbformat

PROMPT = re.compile(r"^\*\*Written answer `([\w-]+)`\*\* \((\d+) points?, marked by hand\)\.\s*")
"""A prompt cell's first line: the part and its points, then the question."""

PLACEHOLDER = "_Type your answer here, replacing this text._"
"""The student edition's empty answer cell (as Otter words its own)."""

TOGGLE = re.compile(r"^```\{toggle\}\n(.*)\n```\s*$", re.DOTALL)
SUBMISSION = re.compile(r"^Submission: `([^`\n]+)`$", re.MULTILINE)
MARK_LINE = re.compile(r"^(mark|comment) ([^\s:]+):[ \t]*(.*?)[ \t]*$", re.MULTILINE)


class MarkError(ValueError):
    """A marking sheet that cannot be merged: the message names the sheet and the part."""


@dataclass(frozen=True)
class WrittenPart:
    """One hand-marked part: its id (``e05-explain``), its exercise and its points."""

    name: str
    exercise: str
    points: float = 1.0


WRITTEN: tuple[WrittenPart, ...] = (
    WrittenPart("e01-shrink", "e01"),
    WrittenPart("e02-derive", "e02"),
    WrittenPart("e03-agree", "e03"),
    WrittenPart("e04-limits", "e04"),
    WrittenPart("e05-explain", "e05"),
    WrittenPart("e06-explain", "e06"),
    WrittenPart("e07-compare", "e07"),
    WrittenPart("e09-direction", "e09"),
    WrittenPart("e12-judge", "e12"),
    WrittenPart("e13-predict", "e13"),
    WrittenPart("e13-compare", "e13"),
)
"""The written parts of chapter 10, in the notebook's order (1 point each)."""


def written_specs() -> dict[str, WrittenPart]:
    """:data:`WRITTEN` by part id."""
    return {part.name: part for part in WRITTEN}


def _prompt(cell: nbformat.NotebookNode) -> re.Match[str] | None:
    """The :data:`PROMPT` match of a Markdown prompt cell, else None."""
    return PROMPT.match(cell.source) if cell.cell_type == "markdown" else None


def prompts(nb: nbformat.NotebookNode) -> dict[str, str]:
    """The question of each part, by part id, from the prompt cells of ``nb``."""
    found = {}
    for cell in nb.cells:
        match = _prompt(cell)
        if match:
            found[match.group(1)] = cell.source[match.end() :].strip()
    return found


def answers_after_prompts(nb: nbformat.NotebookNode) -> dict[str, str]:
    """The text after each prompt of ``nb``, by part id (``""``: nothing but the placeholder).

    It joins the Markdown cells that follow the prompt, up to the next code cell or prompt (raw
    cells, such as the master's solution markers, are skipped); the placeholder and a
    ``{toggle}`` fence (the web book's folding of a model answer) are dropped.
    """
    found: dict[str, list[str]] = {}
    current = None
    for cell in nb.cells:
        match = _prompt(cell)
        if match:
            current = match.group(1)
            found[current] = []
        elif cell.cell_type == "code":
            current = None
        elif current is not None and cell.cell_type == "markdown":
            text = cell.source.replace(PLACEHOLDER, "").strip()
            fenced = TOGGLE.match(text)
            found[current].append(fenced.group(1).strip() if fenced else text)
    return {part: "\n\n".join(t for t in texts if t) for part, texts in found.items()}


def add_answer_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Put an answer cell holding :data:`PLACEHOLDER` after every prompt of ``nb`` (in place)."""
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if _prompt(cell):
            cells.append(nbformat.v4.new_markdown_cell(PLACEHOLDER))
    nb.cells = cells
    return nb


def _quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines()) or "> (no answer)"


def marking_sheet(
    student_id: str,
    submission: str,
    answers: dict[str, str],
    questions: dict[str, str],
    models: dict[str, str],
) -> str:
    """The Markdown sheet of one submission: per part the question, model and student answers."""
    lines = [
        f"# Written answers: {student_id}",
        "",
        f"Submission: `{submission}`",
        "",
        "Mark each part by writing its points after `mark <part>:` (at most the part's",
        "points; empty: not marked yet) and, if you like, a note for the student after",
        "`comment <part>:`. Then run `python -m cslnb.teaching marks`. An unanswered part",
        "scores 0 unless you mark it.",
        "",
    ]
    for part in WRITTEN:
        answer = answers.get(part.name, "")
        lines += [
            f"## {part.name} (exercise {int(part.exercise[1:])}, {part.points:g} point"
            f"{'' if part.points == 1 else 's'}{'' if answer else ', unanswered'})",
            "",
            "**Question**",
            "",
            _quote(questions.get(part.name, "")),
            "",
            "**Model answer**",
            "",
            _quote(models.get(part.name, "")),
            "",
            "**Student's answer**",
            "",
            _quote(answer),
            "",
            f"mark {part.name}:",
            f"comment {part.name}:",
            "",
        ]
    return "\n".join(lines)


@dataclass(frozen=True)
class SheetMarks:
    """What one marking sheet holds: its submission, the marks given and the comments."""

    submission: str
    marks: dict[str, float]
    comments: dict[str, str]


def read_marks(text: str, source: str = "marking sheet") -> SheetMarks:
    """The marks and comments of a sheet written by :func:`marking_sheet` and filled in.

    Raises :class:`MarkError` (naming ``source``) for a missing submission line, an unknown
    part, a part marked twice, or a mark that is not a number between 0 and the part's points.
    """
    specs = written_specs()
    submission = SUBMISSION.search(text)
    if submission is None:
        raise MarkError(f"{source}: no 'Submission: `...`' line")
    marks: dict[str, float] = {}
    comments: dict[str, str] = {}
    for kind, part, value in MARK_LINE.findall(text):
        if part not in specs:
            raise MarkError(f"{source}: unknown part {part!r} (parts: {', '.join(specs)})")
        if kind == "comment":
            if value:
                comments[part] = value
            continue
        if not value:
            continue
        if part in marks:
            raise MarkError(f"{source}: {part} is marked twice")
        try:
            mark = float(value)
        except ValueError:
            raise MarkError(f"{source}: the mark of {part}, {value!r}, is not a number") from None
        if not 0 <= mark <= specs[part].points:
            raise MarkError(
                f"{source}: the mark of {part}, {value}, is outside 0 to {specs[part].points:g}"
            )
        marks[part] = mark
    return SheetMarks(submission.group(1), marks, comments)
