"""Static checks of the committed book chapters: clean metadata, in-order outputs, no errors.

Executing the chapters is a separate step (``pytest --nbval-lax book/*.ipynb``); these checks only
read the ``.ipynb`` files, so they run in well under a second.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

from cslnb.book import BANNER_START, COLAB_INSTALL_CELL, REPO_URL, profile_banner
from cslnb.book_execution import CELL_METADATA, NOTEBOOK_METADATA
from cslnb.records_migrate import find_absolute_paths

BOOK = Path(__file__).resolve().parents[1] / "book"
NOTEBOOKS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
LOCAL_BADGE = "_static/colab-badge.svg"


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _code_cells(nb: dict) -> list[dict]:
    return [cell for cell in nb["cells"] if cell["cell_type"] == "code"]


def _source(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def test_notebooks_found() -> None:
    assert NOTEBOOKS, f"no chapter notebooks found in {BOOK}"


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request: pytest.FixtureRequest) -> tuple[str, dict]:
    return request.param.name, _load(request.param)


def test_valid_nbformat(notebook: tuple[str, dict]) -> None:
    name, nb = notebook
    try:
        nbformat.validate(nbformat.from_dict(nb))
    except nbformat.ValidationError as error:
        pytest.fail(f"{name}: not a valid notebook: {error.message}")


def test_no_error_outputs(notebook: tuple[str, dict]) -> None:
    name, nb = notebook
    for i, cell in enumerate(_code_cells(nb), start=1):
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"{name}: code cell {i} has an error output"
            if output["output_type"] == "stream":
                assert output["name"] != "stderr" or "Traceback" not in "".join(output["text"]), (
                    f"{name}: code cell {i} printed a traceback"
                )


def test_clean_metadata(notebook: tuple[str, dict]) -> None:
    name, nb = notebook
    extra = set(nb["metadata"]) - set(NOTEBOOK_METADATA)
    assert not extra, f"{name}: stray notebook metadata {sorted(extra)}"
    for i, cell in enumerate(nb["cells"]):
        extra = set(cell.get("metadata", {})) - set(CELL_METADATA)
        assert not extra, f"{name}: cell {i} has stray metadata {sorted(extra)}"


def test_no_widget_outputs(notebook: tuple[str, dict]) -> None:
    name, nb = notebook
    for i, cell in enumerate(_code_cells(nb), start=1):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            assert "application/vnd.jupyter.widget-view+json" not in data, (
                f"{name}: code cell {i} has a widget output (use progress=False)"
            )


def test_executed_in_order(notebook: tuple[str, dict]) -> None:
    name, nb = notebook
    counts = [cell.get("execution_count") for cell in _code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{name}: execution counts {counts} are not 1..{len(counts)} (run top to bottom)"
    )


def test_has_outputs(notebook: tuple[str, dict]) -> None:
    name, nb = notebook
    assert any(cell.get("outputs") for cell in _code_cells(nb)), f"{name}: no outputs committed"


def test_colab_install_cell_first(notebook: tuple[str, dict]) -> None:
    name, nb = notebook
    assert _source(_code_cells(nb)[0]) == COLAB_INSTALL_CELL, (
        f"{name}: the first code cell must be cslnb.book.COLAB_INSTALL_CELL, verbatim"
    )
    first_markdown = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    repo_path = REPO_URL.removeprefix("https://github.com/")
    badge = f"colab.research.google.com/github/{repo_path}/blob/main/book/{name}"
    assert badge in _source(first_markdown), (
        f"{name}: the first markdown cell needs an 'Open in Colab' badge linking {badge}"
    )
    assert f"[![Open In Colab]({LOCAL_BADGE})](https://{badge})" in _source(first_markdown), (
        f"{name}: the badge image must be the book's own {LOCAL_BADGE} (loads offline)"
    )


def test_install_cell_acts_on_colab_only() -> None:
    lines = COLAB_INSTALL_CELL.splitlines()
    guard = lines.index('if "google.colab" in sys.modules:')
    assert f'REPO_URL = "{REPO_URL}"' in lines[:guard]
    assert all(line.startswith("    ") for line in lines[guard + 1 :]), "steps outside the guard"
    assert any("pip install" in line for line in lines[guard + 1 :])


def test_book_config_names_the_same_repository() -> None:
    config = (BOOK / "_config.yml").read_text()
    assert f"url: {REPO_URL}\n" in config


def test_profile_cell(notebook: tuple[str, dict]) -> None:
    name, nb = notebook
    sources = [_source(cell) for cell in _code_cells(nb)]
    assert any("show_profile(" in s or "CSLNB_PROFILE" in s for s in sources[:3]), (
        f"{name}: one of the first code cells must show the profile (cslnb.book.show_profile)"
    )


# --- the book as a web page: plumbing hidden, images local, no machine paths ----------------


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def test_install_cell_removed_and_profile_code_collapsed(notebook: tuple[str, dict]) -> None:
    """The HTML drops the Colab install cell (the notebook keeps it: it runs on Colab and under
    nbval) and collapses the profile cell's code, so a chapter opens with prose and results."""
    name, nb = notebook
    cells = _code_cells(nb)
    assert "remove-cell" in _tags(cells[0]), f"{name}: install cell needs the tag remove-cell"
    profile_cell = next(c for c in cells if "show_profile(" in _source(c))
    assert "hide-input" in _tags(profile_cell), f"{name}: profile cell needs the tag hide-input"


def test_images_are_local(notebook: tuple[str, dict]) -> None:
    name, nb = notebook
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            remote = re.findall(r"!\[[^\]]*\]\((https?://[^)]+)\)", _source(cell))
            assert not remote, f"{name}: cell {i} shows remote image(s) {remote}"


def test_colab_badge_image_is_an_svg_in_the_book() -> None:
    svg = ET.fromstring((BOOK / LOCAL_BADGE).read_text())
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert float(svg.get("width")) > 0 and float(svg.get("height")) > 0


def test_outputs_hold_no_absolute_path(notebook: tuple[str, dict]) -> None:
    name, nb = notebook
    for i, cell in enumerate(_code_cells(nb), start=1):
        leaks = list(find_absolute_paths(cell.get("outputs", [])))
        assert not leaks, f"{name}: code cell {i} output shows a machine path: {leaks[:3]}"


def test_committed_profile_banners_match_the_current_profiles(notebook: tuple[str, dict]) -> None:
    """Every profile banner in a chapter's outputs describes its profile as defined now: a
    chapter executed under an older definition (other epochs, model, summary) must be re-run."""
    name, nb = notebook
    for i, cell in enumerate(_code_cells(nb), start=1):
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            text = text if isinstance(text, str) else "".join(text)
            if not text.startswith(BANNER_START):
                continue
            profile = text[len(BANNER_START) :].split(" ", 1)[0]
            expected = profile_banner(profile)
            assert text[: len(expected)] == expected, (
                f"{name}: code cell {i} describes profile {profile!r} as it was defined when the "
                f"chapter was executed, not as it is now; re-execute the chapter.\n"
                f"committed:\n{text}\ncurrent:\n{expected}"
            )
