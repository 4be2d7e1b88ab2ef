"""Executing chapters to refresh their committed outputs: clean metadata, valid, in order."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from cslnb.book_execution import clean_notebook, execute_chapter, main

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nb


def test_clean_notebook_keeps_only_allowed_metadata() -> None:
    nb = _notebook("1 + 1")
    nb.metadata.update(kernelspec=KERNELSPEC, widgets={"state": {}}, colab={"id": 1})
    nb.cells[0].metadata.update(tags=["hide-input"], execution={"iopub.status.busy": "now"})
    nb.cells[0].outputs = [
        nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1)
    ]
    clean_notebook(nb)
    assert dict(nb.metadata) == {"kernelspec": KERNELSPEC}
    assert dict(nb.cells[0].metadata) == {"tags": ["hide-input"]}
    assert nb.cells[0].outputs[0].metadata == {}, "outputs keep the metadata nbformat requires"
    nbformat.validate(nb)


def test_execute_chapter_writes_clean_outputs_under_the_profile(tmp_path: Path) -> None:
    path = tmp_path / "chapter.ipynb"
    nb = _notebook(
        "import os\nprint(os.environ['CSLNB_PROFILE'], os.getcwd())",
        "6 * 7",
    )
    nb.metadata["widgets"] = {"state": {}}
    nbformat.write(nb, path)

    before = os.environ.get("CSLNB_PROFILE")
    execute_chapter(path, "ci", timeout=120)
    assert os.environ.get("CSLNB_PROFILE") == before, "only the kernel gets the profile"

    done = nbformat.read(path, as_version=4)
    assert set(done.metadata) <= {"kernelspec", "language_info"}
    assert [cell.execution_count for cell in done.cells] == [1, 2]
    assert done.cells[0].outputs[0]["text"] == f"ci {tmp_path}\n"
    assert done.cells[1].outputs[0]["data"]["text/plain"] == "42"
    assert all(cell.metadata == {} for cell in done.cells)


def test_a_failing_cell_leaves_the_chapter_untouched(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    nbformat.write(_notebook("raise ValueError('boom')"), path)
    before = path.read_text()
    with pytest.raises(Exception, match="boom"):
        main(["--profile", "ci", str(path)])
    assert path.read_text() == before
