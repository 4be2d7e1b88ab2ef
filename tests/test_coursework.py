"""Coursework: chapter 10's student edition, its bundle, and grading that cannot be gamed.

One grading session (the reference solutions run once) grades a fixed set of submissions: all
right; one right; one exercise raising; ``os._exit`` in one exercise; Otter's checker
monkeypatched; a float subclass equal to everything; library shortcuts; hand-nudged "training";
a destructive cell; a loop that disables the alarm signal (with a short cell limit). Each score
is asserted; after them an honest submission still scores full marks and the checkout is
byte-identical. The written answers of the graded submissions are collected into marking sheets,
marked and merged into the reports.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import psutil
import pytest

from cslnb.teaching.answers import EXERCISES
from cslnb.teaching.assign import Coursework, generate
from cslnb.teaching.grading import Grade, Limits, Session
from cslnb.teaching.isolation import fingerprint
from cslnb.teaching.report import (
    apply_marks,
    report_file_names,
    save_grades,
    write_reports,
    write_sheets,
)
from cslnb.teaching.runner import cell_owners
from cslnb.teaching.written import (
    PLACEHOLDER,
    PROMPT,
    WRITTEN,
    MarkError,
    answers_after_prompts,
    prompts,
    read_marks,
)
from cslnb.train import RunConfig, TrainOptions, train

ROOT = Path(__file__).resolve().parents[1]
MASTER = ROOT / "book" / "10_exercises.ipynb"
NAMES = [f"e{n:02d}" for n in range(1, 14)]
POINTS = {"e01": 1, "e02": 2, "e03": 2, "e04": 1, "e05": 1, "e06": 2, "e07": 3, "e08": 2,
          "e09": 3, "e10": 2, "e11": 2, "e12": 2, "e13": 2}  # fmt: skip
FULL = 25.0
PARTS = ["e01-shrink", "e02-derive", "e03-agree", "e04-limits", "e05-explain", "e06-explain",
         "e07-compare", "e09-direction", "e12-judge", "e13-predict", "e13-compare"]  # fmt: skip
POSSIBLE = FULL + len(PARTS)  # one point per written part


@pytest.fixture(scope="module")
def coursework(tmp_path_factory: pytest.TempPathFactory) -> Coursework:
    pytest.importorskip("otter", reason="needs the teach extra: pip install -e '.[teach]'")
    # The runs exercises 11-12 read, trained once before grading (train() returns existing
    # records; they are shared with the ci chapters), so that no graded cell trains.
    for loss in ["ce", "csl"]:
        for seed in range(3):
            config = RunConfig(dataset="cifar10", loss=loss, ratio=100, seed=seed, profile="ci")
            train(config, TrainOptions(progress=False))
    return generate(MASTER, tmp_path_factory.mktemp("coursework"))


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _solutions(coursework: Coursework) -> dict[str, str]:
    nb = _read(coursework.solutions_notebook)
    return {
        owner: cell.source
        for cell, owner in zip(nb.cells, cell_owners(nb), strict=True)
        if cell.cell_type == "code"
        and "otter_assign_solution_cell" in cell.metadata.get("tags", [])
    }


def _submission(coursework: Coursework, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The student edition with the answer cells of ``answers``' exercises replaced."""
    nb = _read(coursework.student_notebook)
    for cell, owner in zip(nb.cells, cell_owners(nb), strict=True):
        if owner in answers and "otter_answer_cell" in cell.metadata.get("tags", []):
            cell.source = answers[owner]
    return nb


def _points(grade: Grade) -> dict[str, float]:
    return {name: grade.points[name] for name in NAMES}


def _only(**scores: float) -> dict[str, float]:
    return {name: float(scores.get(name, 0.0)) for name in NAMES}


def test_points_follow_difficulty() -> None:
    """★ 1 point, ★★ 2, ★★★ 3: the stars in each exercise's title give its points."""
    titles = [
        c.source
        for c in _read(MASTER).cells
        if c.cell_type == "markdown" and c.source.startswith("## Exercise ")
    ]
    stars = [t.split("**Difficulty:** ")[1].split(".")[0].count("★") for t in titles]
    assert dict(zip(NAMES, stars, strict=True)) == POINTS
    assert {spec.name: spec.points for spec in EXERCISES} == POINTS
    assert sum(POINTS.values()) == FULL


def test_written_parts_have_a_prompt_and_a_model_answer_in_the_master() -> None:
    """One prompt per part, in order, stating its points, each followed by a folded model answer."""
    master = _read(MASTER)
    assert [part.name for part in WRITTEN] == PARTS == list(prompts(master))
    stated = [
        float(m.group(2))
        for c in master.cells
        if c.cell_type == "markdown" and (m := PROMPT.match(c.source))
    ]
    assert stated == [part.points for part in WRITTEN] == [1.0] * len(PARTS)
    models = answers_after_prompts(master)
    assert all(len(models[part]) > 100 and "{toggle}" not in models[part] for part in PARTS)
    assert models["e05-explain"].startswith("The ratio of margins is $(n_{\\max}/n_{\\min})^{1/4}")
    exercise_of, question = {}, None
    for cell in master.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            question = cell.source.split("name: ")[1].split()[0]
        elif cell.cell_type == "markdown" and (match := PROMPT.match(cell.source)):
            exercise_of[match.group(1)] = question
    assert exercise_of == {part.name: part.exercise for part in WRITTEN}


def test_each_exercise_states_goal_difficulty_and_time() -> None:
    titles = [
        c.source
        for c in _read(MASTER).cells
        if c.cell_type == "markdown" and c.source.startswith("## Exercise ")
    ]
    assert [t.split(":")[0] for t in titles] == [f"## Exercise {n}" for n in range(1, 14)]
    for title in titles:
        assert all(f"**{key}:**" in title for key in ("Goal", "Difficulty", "Time")), title


def test_web_book_hides_solutions_and_checks() -> None:
    """Solution cells are folded (code and output), checks and Otter's markers removed."""
    inside = False
    for cell in _read(MASTER).cells:
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
    assert not any(c.source.startswith("# HIDDEN") for c in _read(MASTER).cells)


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
    return {line.strip() for line in solution - elsewhere if len(line.strip()) > 3}


def test_bundle_holds_no_solution_and_no_hidden_check(tmp_path: Path) -> None:
    pytest.importorskip("otter", reason="needs the teach extra: pip install -e '.[teach]'")
    from cslnb.teaching.bundle import FOLDER, bundle

    path = bundle(tmp_path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        texts = {n: archive.read(n).decode("utf-8") for n in names if not n.endswith(".png")}
    expected = {f"{FOLDER}/10_exercises.ipynb", f"{FOLDER}/INSTALL.md"}
    expected |= {f"{FOLDER}/tests/{name}.py" for name in NAMES}
    expected |= {f"{FOLDER}/cslnb-src/pyproject.toml", f"{FOLDER}/cslnb-src/cslnb/__init__.py"}
    expected |= {f"{FOLDER}/cslnb-src/cslnb/teaching/student.py"}
    assert expected <= set(names)
    assert any(n.startswith(f"{FOLDER}/data/results/quick/cifar10/") for n in names)
    # None of the grader: its checks, exports, probes and the solutions notebook.
    teaching = {n.rsplit("/", 1)[1] for n in names if "/cslnb/teaching/" in n}
    assert teaching == {"__init__.py", "student.py"}
    assert not any("solutions" in n or "autograder" in n for n in names)
    solution_lines = _solution_only_lines(_read(MASTER))
    assert len(solution_lines) > 60  # every exercise's solution, not an empty parse
    notebook = f"{FOLDER}/10_exercises.ipynb"
    student = nbformat.reads(texts[notebook], as_version=4)
    received = [c.source for c in student.cells]
    received += [t for n, t in texts.items() if n != notebook and "/cslnb-src/cslnb/" not in n]
    lines = {line.strip().removeprefix(">>> ") for text in received for line in text.splitlines()}
    leaked = solution_lines & lines
    assert not leaked, f"solution lines in the bundle: {sorted(leaked)[:5]}"
    # The library's source shares only short generic lines ("else:", "seed=seed,") with them.
    library = [t for n, t in texts.items() if "/cslnb-src/cslnb/" in n]
    lines = {line.strip() for text in library for line in text.splitlines()}
    assert not {line for line in solution_lines if len(line) >= 15} & lines
    hidden = ["# HIDDEN", "'hidden': True", '"hidden": true', "_training_evidence", "CSLNB-EXPORT"]
    assert not [(n, h) for n, t in texts.items() for h in hidden if h in t]
    stubs = [c for c in student.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    assert len(stubs) == len(NAMES) and all("..." in c.source for c in stubs)
    # Each written part: its prompt, then an empty answer cell; no model answer anywhere.
    assert list(prompts(student)) == PARTS
    assert answers_after_prompts(student) == {part: "" for part in PARTS}
    after = [
        student.cells[i + 1].source for i, c in enumerate(student.cells) if PROMPT.match(c.source)
    ]
    assert after == [PLACEHOLDER] * len(PARTS)
    models = answers_after_prompts(_read(MASTER))
    model_lines = {line.strip() for text in models.values() for line in text.splitlines()}
    assert len(model_lines) > 40 and model_lines <= solution_lines
    everything = "\n".join(texts.values())
    assert not [part for part, text in models.items() if text[:60] in everything]
    assert not any(c.get("outputs") for c in student.cells if c.cell_type == "code")


def test_unanswered_student_edition_runs_to_the_end(coursework: Coursework, tmp_path: Path) -> None:
    """ "Run All" without CSLNB_PROFILE: every answer cell prints "not answered yet"."""
    from nbclient import NotebookClient

    folder = tmp_path / "unzipped"
    folder.mkdir()
    nb = _read(coursework.student_notebook)
    (folder / "tests").symlink_to(coursework.public_tests, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k != "CSLNB_PROFILE"}
    env["PYTHONPATH"] = str(ROOT)
    saved = os.environ.copy()
    os.environ.clear()
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(folder)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    printed = "".join(
        out.get("text", "")
        for cell in nb.cells
        if "otter_answer_cell" in cell.metadata.get("tags", [])
        for out in cell.get("outputs", [])
    )
    assert printed.count("not answered yet") == len(NAMES)
    assert "profile: ci" in "".join(
        o.get("text", "") for c in nb.cells for o in c.get("outputs", [])
    )


ALWAYS_EQUAL = """\
class Anything(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__
"""

NUDGED_E03 = """\
loader_e03 = GPULoader(data_lt.train, batch_size=128, train=True, device=device, seed=0)
torch.manual_seed(0)
model_e03 = build_model("resnet8", data_lt.num_classes).to(device)
losses_e03 = [2.5 - 0.1 * i for i in range(len(loader_e03) * epochs_small)]
with torch.no_grad():
    model_e03.fc.weight.mul_(torch.linspace(2, 0.5, 10)[:, None])
norms_e03 = model_e03.fc.weight.detach().norm(dim=1).cpu()
rho_e03 = spearmanr(data_lt.class_counts, norms_e03).statistic
"""

NUDGED_E08 = """\
from cslnb.losses import class_balanced_weights


def drw_weights(epoch, counts, drw_epoch, beta=0.9999):
    if epoch < drw_epoch:
        return torch.ones(len(counts))
    return class_balanced_weights(counts, beta)


loader_e08 = GPULoader(data_lt.train, batch_size=128, train=True, device=device, seed=0)
torch.manual_seed(0)
model_e08 = build_model("resnet8", data_lt.num_classes).to(device)
drw_epoch_e08 = epochs_small - 1
weights_used_e08 = [drw_weights(e, data_lt.class_counts, drw_epoch_e08) for e in range(2)]
losses_e08 = [2.0 - 0.1 * i for i in range(len(loader_e08) * epochs_small)]
with torch.no_grad():
    model_e08.fc.bias.add_(torch.linspace(1, -1, 10))
"""

SUBMISSIONS = {
    # name: (answers: exercise -> source or "solution", expected points, statuses to assert)
    "a_all_right": ({n: "solution" for n in NAMES}, _only(**POINTS), {}),
    "b_one_right": ({"e04": "solution"}, _only(e04=1), {"e01": "unanswered"}),
    "c_crashing": (
        {"e04": "solution", "e05": 'raise RuntimeError("student bug")', "e06": "solution"},
        _only(e04=1, e06=2),
        {"e05": "unanswered"},
    ),
    "d_os_exit": (
        {
            **{n: "solution" for n in ("e01", "e02", "e04", "e05", "e06", "e09", "e13")},
            "e07": "import os\nos._exit(1)",
        },
        _only(e01=1, e02=2, e04=1, e05=1, e06=2, e09=3, e13=2),
        {"e07": "died"},
    ),
    "e_otter_patch": (
        {
            "e01": "import otter.test_files.ok_test\n"
            "otter.test_files.ok_test.run_doctest = lambda *a: (True, '')\n"
            "grader.check = lambda *a, **k: True"
        },
        _only(),
        {"e01": "unanswered"},
    ),
    "f_float_subclass": (
        {
            "e01": ALWAYS_EQUAL + "mu_200 = counts_200 = groups_200 = Anything(0.0)",
            "e11": ALWAYS_EQUAL + "seed_accs = seed_mean = seed_std = seed_range = Anything(0.0)",
            "e12": ALWAYS_EQUAL + "csl_accs = ce_accs = diff_means = verdict_e12 = Anything(0.0)",
        },
        _only(),
        {"e01": "wrong", "e11": "wrong", "e12": "wrong"},
    ),
    "g_library_shortcuts": (
        {
            "e01": "from collections import Counter\n"
            "from cslnb.data import cifar_lt_counts, shot_groups\n"
            "mu_200 = (1 / 200) ** (1 / 99)\n"
            "counts_200 = cifar_lt_counts('cifar100', 200)\n"
            "groups_200 = dict(Counter(shot_groups(counts_200)))",
            "e02": "def ce_grad(logits, labels):\n"
            "    z = logits.clone().requires_grad_()\n"
            "    F.cross_entropy(z, labels).backward()\n"
            "    return z.grad\n"
            "init_grad = ce_grad(zeros_e02, labels_e02).sum(dim=0)",
            "e04": "from cslnb.losses import class_balanced_weights as cb\n"
            "def cb_weights(counts, beta):\n"
            "    return cb(counts, beta).double()",
            "e05": "from cslnb.losses import ldam_margins\n"
            "def margins_by_hand(counts, max_margin=0.5):\n"
            "    return ldam_margins(torch.as_tensor(counts), max_margin)\n"
            "margin_ratio = 100**0.25",
            "e06": "from cslnb.losses import build_loss\n"
            "def balanced_softmax_loss(logits, labels, counts):\n"
            "    return build_loss('balanced-softmax', counts)(logits, labels)",
            "e12": "from cslnb.report.summary import verdict\n"
            "csl_accs = [r['final']['accuracy'] for r in cell_runs('csl')]\n"
            "ce_accs = [r['final']['accuracy'] for r in cell_runs('ce')]\n"
            "diff_means = float(np.mean(csl_accs) - np.mean(ce_accs))\n"
            "verdict_e12 = verdict(np.array(csl_accs), np.array(ce_accs))",
        },
        _only(),
        {n: "shortcut" for n in ("e01", "e02", "e04", "e05", "e06", "e12")},
    ),
    "h_hand_nudged": (
        {
            "e03": NUDGED_E03,
            "e08": NUDGED_E08,
        },
        _only(),
        {"e03": "wrong", "e08": "wrong"},
    ),
    "i_destructive": (
        {
            **{n: "solution" for n in ("e04", "e05")},
            "e13": "import shutil\nfrom cslnb.paths import project_root, results_dir\n"
            "shutil.rmtree(results_dir())\nshutil.rmtree(project_root() / 'data', True)\n"
            "shutil.rmtree(project_root() / 'cslnb', True)\n"
            "shutil.rmtree('.', True)",
        },
        _only(e04=1, e05=1),
        {"e13": "unanswered"},
    ),
}


def _all_right(coursework: Coursework) -> nbformat.NotebookNode:
    """The student edition with every answer cell filled in with its solution."""
    return _submission(coursework, _solutions(coursework))


WRITTEN_A = {
    "e05-explain": [
        "The ratio is $(5000/50)^{1/4} = 100^{1/4} \\approx 3.16$,\nwhatever the scale."
    ],
    # A second cell the student added, with a line that must not count as a mark.
    "e13-predict": ["Tail classes gain, head classes lose.", "mark e13-predict: 1"],
}
"""The written answers of ``a_all_right``: cells after each part's prompt (others left empty)."""


def _write_answers(nb: nbformat.NotebookNode, answers: dict[str, list[str]]) -> None:
    """Replace the empty answer cell after each part's prompt with ``answers``' cells."""
    cells = []
    for cell in nb.cells:
        if cells and (match := PROMPT.match(cells[-1].source)) and match.group(1) in answers:
            cell.source, *more = answers[match.group(1)]
            cells += [cell, *(nbformat.v4.new_markdown_cell(text) for text in more)]
        else:
            cells.append(cell)
    nb.cells = cells


def _write_submissions(coursework: Coursework, folder: Path) -> None:
    solutions = _solutions(coursework)
    for name, (answers, _, _) in SUBMISSIONS.items():
        filled = {n: solutions[n] if s == "solution" else s for n, s in answers.items()}
        nb = _submission(coursework, filled)
        if name == "a_all_right":
            _write_answers(nb, WRITTEN_A)
        nbformat.write(nb, folder / f"{name}.ipynb")


def test_grading_a_class_of_honest_broken_and_adversarial_submissions(
    coursework: Coursework, tmp_path: Path
) -> None:
    folder = tmp_path / "submitted"
    folder.mkdir()
    _write_submissions(coursework, folder)
    solutions = _solutions(coursework)
    stuck = _submission(
        coursework,
        {
            "e04": solutions["e04"],
            "e06": "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
            "signal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
        },
    )
    nbformat.write(stuck, folder / "j_alarm_disabled.ipynb")
    before = fingerprint(ROOT)

    with Session(profile="ci", limits=Limits(cell=300, submission=900), seed=7) as session:
        grades = {}
        for path in sorted(folder.glob("*.ipynb")):
            start = time.monotonic()
            limits = Limits(cell=45, submission=300) if path.stem.startswith("j_") else None
            grades[path.stem] = session.grade(path, limits)
            session.verify_checkout()
            seconds = time.monotonic() - start
            print(f"{path.stem}: {grades[path.stem].total} in {seconds:.0f} s")
        nbformat.write(_all_right(coursework), folder / "k_honest.ipynb")
        honest = session.grade(folder / "k_honest.ipynb")
        session.verify_checkout()

    for name, (_, expected, statuses) in SUBMISSIONS.items():
        grade = grades[name]
        assert _points(grade) == expected, (name, grade.status, grade.feedback)
        assert {n: grade.status[n] for n in statuses} == statuses, (name, grade.feedback)
    stuck_grade = grades["j_alarm_disabled"]
    assert _points(stuck_grade) == _only(e04=1)
    assert stuck_grade.status["e06"] == "timeout"
    assert "signal" in stuck_grade.flags

    assert grades["a_all_right"].total == FULL and grades["a_all_right"].possible == POSSIBLE
    assert all(not notes for notes in grades["a_all_right"].feedback.values())
    assert grades["a_all_right"].flags == []
    assert grades["d_os_exit"].feedback["e07"] == ["the kernel died"]
    assert "process exit" in grades["d_os_exit"].flags
    assert "grader internals" in grades["e_otter_patch"].flags
    assert "file deletion" in grades["i_destructive"].flags
    assert any("plain float" in n for n in grades["f_float_subclass"].feedback["e01"])
    for name in ("e03", "e08"):
        assert any("initialisation" in n for n in grades["h_hand_nudged"].feedback[name])
    assert honest.total == FULL and all(s == "ok" for s in honest.status.values())
    assert fingerprint(ROOT) == before
    assert psutil.Process().children(recursive=True) == []  # every kernel was ended

    paths = write_reports([*grades.values(), honest], tmp_path / "out")
    with paths["grades"].open() as handle:
        table = {row["submission"]: row for row in csv.DictReader(handle)}
    row = table["d_os_exit.ipynb"]
    assert row["e07_status"] == "died" and float(row["e06"]) == 2.0
    assert float(row["total"]) == 12.0 and float(row["possible"]) == POSSIBLE
    assert "e07: the kernel died" in row["errors"] and "process exit" in row["flags"]
    assert table["j_alarm_disabled.ipynb"]["e06_status"] == "timeout"
    with paths["gradebook"].open() as handle:
        book = list(csv.DictReader(handle))
    assert list(book[0]) == ["Student", "SIS User ID", "cslnb exercises"]
    feedback = (paths["feedback"] / "c_crashing.md").read_text()
    assert "## e05: 0 of 1 (unanswered)" in feedback and "RuntimeError: student bug" in feedback

    # Written answers: collected exactly, unmarked until the instructor marks them.
    written = grades["a_all_right"].written
    assert written == {part: "" for part in PARTS} | {
        "e05-explain": WRITTEN_A["e05-explain"][0],
        "e13-predict": "Tail classes gain, head classes lose.\n\nmark e13-predict: 1",
    }
    assert grades["d_os_exit"].written == {part: "" for part in PARTS} == honest.written
    assert grades["a_all_right"].unmarked == ["e05-explain", "e13-predict"]
    row = table["a_all_right.ipynb"]
    assert (row["e05-explain"], row["e05-explain_status"], row["unmarked"]) == ("", "unmarked", "2")
    assert (row["e01-shrink"], row["e01-shrink_status"]) == ("0.0", "unanswered")
    assert {r["Student"]: r["cslnb exercises"] for r in book}["a_all_right"] == ""
    assert {r["Student"]: r["cslnb exercises"] for r in book}["d_os_exit"] == "12.0"

    out = tmp_path / "out"
    every = [*grades.values(), honest]
    sheets = write_sheets(every, session.questions, session.models, out)
    assert len(sheets) == len(every)
    sheet = out / "written" / "a_all_right.md"
    text = sheet.read_text()
    assert (
        "> The ratio is $(5000/50)^{1/4} = 100^{1/4} \\approx 3.16$,\n> whatever the scale." in text
    )
    assert "> The ratio of margins is $(n_{\\max}/n_{\\min})^{1/4}" in text  # the model answer
    assert "> By how much does the training set shrink" in text  # the question
    assert read_marks(text).marks == {}  # the student's "mark e13-predict: 1" is quoted
    text = text.replace("mark e05-explain:", "mark e05-explain: 1")
    text = text.replace("mark e13-predict:", "mark e13-predict: 0.5")
    sheet.write_text(text.replace("comment e13-predict:", "comment e13-predict: say why"))
    apply_marks(every, out)
    paths = write_reports(every, out)
    with paths["grades"].open() as handle:
        row = {r["submission"]: r for r in csv.DictReader(handle)}["a_all_right.ipynb"]
    assert (row["e13-predict"], row["e13-predict_status"]) == ("0.5", "marked")
    assert float(row["total"]) == FULL + 1.5 and row["unmarked"] == "0"
    with paths["gradebook"].open() as handle:
        book = {r["Student"]: r["cslnb exercises"] for r in csv.DictReader(handle)}
    assert book["a_all_right"] == "26.5"
    feedback = (paths["feedback"] / "a_all_right.md").read_text()
    assert "## e13-predict (written): 0.5 of 1 (marked)\n- say why" in feedback


def test_student_id_comes_from_its_cell(coursework: Coursework, tmp_path: Path) -> None:
    from cslnb.teaching.grading import _student_id

    nb = _read(coursework.student_notebook)
    assert _student_id(nb, tmp_path / "anna.ipynb") == "anna"
    cell = next(c for c in nb.cells if c.source.startswith("# Your student id"))
    cell.source = cell.source.replace('student_id = ""', 'student_id = "s1234567"')
    assert _student_id(nb, tmp_path / "anna.ipynb") == "s1234567"


def test_checker_rejects_impostors_in_a_fresh_process() -> None:
    """The checker reads only plain data: an unknown type is wrong whatever it claims."""
    key = {"e01": {"mu_200": {"ok": True, "value": {"type": "float", "value": 0.948}}}}
    request = {
        "answers": {
            "e01": {"mu_200": {"ok": True, "value": {"type": "x.Anything", "value": None}}}
        },
        "key": key,
    }
    from cslnb.teaching import checker

    spec = checker.exercise_specs()["e01"]
    with pytest.raises(checker.Mismatch, match="plain float"):
        checker.check_answer(
            spec.answers[0], request["answers"]["e01"]["mu_200"], key["e01"]["mu_200"]
        )
    out = subprocess.run(
        [sys.executable, "-c", "import json,sys;from cslnb.teaching.checker import conform;"
         "print(json.dumps(conform({'type': 'float', 'value': 0.5}, 'float')))"],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert json.loads(out.stdout) == 0.5


def _graded(name: str, written: dict[str, str]) -> Grade:
    """A submission with every exercise right and the written answers ``written``."""
    return Grade(
        f"{name}.ipynb",
        name,
        {n: float(POINTS[n]) for n in NAMES},
        {n: "ok" for n in NAMES},
        {n: [] for n in NAMES},
        written={part: written.get(part, "") for part in PARTS},
    )


def test_marks_merge_into_the_reports_and_bad_marks_stop(tmp_path: Path) -> None:
    """``python -m cslnb.teaching marks``: totals with the marks, unmarked parts shown as such."""
    from cslnb.teaching.__main__ import main
    from cslnb.teaching.report import load_grades

    grades = [_graded("s1", {"e05-explain": "100^(1/4)", "e12-judge": "no"}), _graded("s2", {})]
    save_grades(grades, tmp_path)
    questions, models = {p: f"question {p}" for p in PARTS}, {p: f"model {p}" for p in PARTS}
    sheets = write_sheets(grades, questions, models, tmp_path)
    assert [path.name for path in sheets] == ["s1.md", "s2.md"]
    sheet = sheets[0]
    marked = sheet.read_text().replace("mark e05-explain:", "mark e05-explain: 1")
    sheet.write_text(marked)
    main(["marks", "--out", str(tmp_path)])

    with (tmp_path / "grades.csv").open() as handle:
        rows = {r["student_id"]: r for r in csv.DictReader(handle)}
    s1 = rows["s1"]
    assert (float(s1["total"]), float(s1["possible"]), s1["unmarked"]) == (26.0, POSSIBLE, "1")
    assert (s1["e05-explain"], s1["e05-explain_status"]) == ("1.0", "marked")
    assert (s1["e12-judge"], s1["e12-judge_status"]) == ("", "unmarked")
    assert (s1["e01-shrink"], s1["e01-shrink_status"]) == ("0.0", "unanswered")
    assert (float(rows["s2"]["total"]), rows["s2"]["unmarked"]) == (FULL, "0")
    with (tmp_path / "gradebook.csv").open() as handle:
        book = {r["Student"]: r["cslnb exercises"] for r in csv.DictReader(handle)}
    assert book == {"s1": "", "s2": "25.0"}  # s1 waits for one mark
    feedback = (tmp_path / "feedback" / "s1.md").read_text()
    assert "Total: 26 of 36 points (1 written answer not marked yet)." in feedback
    assert "## e12-judge (written): not marked yet, 1 possible" in feedback

    # Grading again keeps a sheet that exists, marks included.
    assert write_sheets(load_grades(tmp_path), questions, models, tmp_path) == []
    assert sheet.read_text() == marked

    bad = {
        "mark e05-explain: 2": "the mark of e05-explain, 2, is outside 0 to 1",
        "mark e05-explain: -1": "outside 0 to 1",
        "mark e05-explain: good": "the mark of e05-explain, 'good', is not a number",
        "mark e99-guess: 1": "unknown part 'e99-guess'",
        "mark e05-explain: 1\nmark e05-explain: 1": "e05-explain is marked twice",
    }
    for line, message in bad.items():
        with pytest.raises(MarkError, match=re.escape(message)):
            read_marks(marked.replace("mark e05-explain: 1", line), "s1.md")
    before = (tmp_path / "grades.csv").read_text()
    sheet.write_text(marked.replace("mark e05-explain: 1", "mark e05-explain: 2"))
    with pytest.raises(SystemExit) as stopped:
        main(["marks", "--out", str(tmp_path)])
    assert stopped.value.code == 2 and (tmp_path / "grades.csv").read_text() == before
    sheet.write_text(marked.replace("Submission: `s1.ipynb`", "Submission: `s9.ipynb`"))
    with pytest.raises(MarkError, match=re.escape("no graded submission is named 's9.ipynb'")):
        apply_marks(grades, tmp_path)


def test_two_submissions_with_one_student_id_keep_separate_files(tmp_path: Path) -> None:
    first, second = _graded("s1", {"e12-judge": "first"}), _graded("s1", {"e12-judge": "second"})
    second.submission = "s1-late.ipynb"
    grades = [first, second, _graded("s2", {})]
    assert report_file_names(grades) == ["s1.s1.md", "s1.s1-late.md", "s2.md"]
    write_reports(grades, tmp_path)
    feedback = sorted(path.name for path in (tmp_path / "feedback").iterdir())
    assert feedback == ["s1.s1-late.md", "s1.s1.md", "s2.md"]
    assert "Submission: `s1-late.ipynb`" in (tmp_path / "feedback" / "s1.s1-late.md").read_text()
    assert "Submission: `s1.ipynb`" in (tmp_path / "feedback" / "s1.s1.md").read_text()
    questions, models = {p: f"question {p}" for p in PARTS}, {p: f"model {p}" for p in PARTS}
    sheets = write_sheets(grades, questions, models, tmp_path)
    assert [path.name for path in sheets] == ["s1.s1.md", "s1.s1-late.md", "s2.md"]
    assert "second" in sheets[1].read_text() and "second" not in sheets[0].read_text()
