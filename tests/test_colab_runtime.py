"""The book's Colab install cell, run in a simulated fresh Colab runtime.

A fresh Colab runtime has a Python with torch, torchvision, pandas, matplotlib, seaborn, scipy
and ipywidgets preinstalled, ``git`` and ``pip`` on the PATH, ``/content`` as working folder, the
``google.colab`` module imported, and no ``cslnb``. The simulation builds exactly that:

* a new virtual environment that sees this environment's packages through a ``.pth`` file --
  which does not carry this checkout's editable-install hook, so ``cslnb`` is not importable;
* a Jupyter kernel running in it, whose first cell puts a stand-in ``google.colab`` module in
  ``sys.modules``;
* a temporary folder in place of ``/content`` and this repository's committed ``HEAD``, served
  over ``file://``, in place of ``REPO_URL``.

It then executes chapter 8 top to bottom under the ``quick`` profile, install cell included, and
checks that the chapter imported the freshly installed ``cslnb``, found the committed run
records in the clone (so nothing was retrained) and printed exactly what the committed chapter
shows, and that the command line started from another folder (as from Google Drive) keeps its
data in that folder. It cannot check that GitHub serves ``REPO_URL`` (no network here) nor
Colab's own package versions; the install needs the package registry for the build backend
(setuptools).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sysconfig
import venv
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from cslnb.book import COLAB_CLONE_DIR, COLAB_INSTALL_CELL, REPO_URL

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "08_tables.ipynb"
KERNEL_NAME = "cslnb-colab-simulation"
VOLATILE = re.compile(r"0x[0-9a-f]+|T_[0-9a-f]{5}")

FAKE_COLAB = 'import sys, types\nsys.modules["google.colab"] = types.ModuleType("google.colab")'
WHERE_FROM = """\
import subprocess, tempfile
import cslnb, cslnb.paths
elsewhere = tempfile.mkdtemp()  # a folder such as one on Google Drive
cli_root = subprocess.run(
    [sys.executable, "-c", "import cslnb.paths; print(cslnb.paths.project_root())"],
    cwd=elsewhere, capture_output=True, text=True, check=True,
).stdout.strip()
print(cslnb.__file__, cslnb.paths.project_root(), os.environ.get("CSLNB_DOWNLOAD"))
print(cli_root == os.path.realpath(elsewhere))"""


def _is_git_checkout() -> bool:
    if shutil.which("git") is None:
        return False
    probe = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--show-toplevel"], capture_output=True, text=True
    )
    return probe.returncode == 0 and Path(probe.stdout.strip()) == ROOT


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not _is_git_checkout(), reason="needs git and a git checkout of cslnb"),
]


def _colab_like_python(where: Path) -> Path:
    """A fresh venv seeing this environment's packages (not its .pth hooks); its bin folder."""
    venv.create(where, with_pip=True)
    inner = subprocess.run(
        [
            str(where / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    outer = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (Path(inner) / "preinstalled.pth").write_text("\n".join(sorted(outer)) + "\n")
    return where / "bin"


def _register_kernel(jupyter_dir: Path, bin_dir: Path) -> None:
    spec_dir = jupyter_dir / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [str(bin_dir / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab simulation",
        "language": "python",
        "env": {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "CSLNB_PROFILE": "quick"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))


def _shown(cell: dict) -> list[str]:
    """What a reader sees of a cell: printed streams, and results as HTML (else plain text).

    Object addresses and pandas Styler table ids differ from run to run, so they are masked.
    """
    texts: list[str] = []
    previous = None
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            # A kernel may split one printed text over several stream messages.
            if previous == "stream":
                texts[-1] += output["text"]
            else:
                texts.append(output["text"])
        elif "data" in output:
            texts.append(output["data"].get("text/html", output["data"].get("text/plain", "")))
        previous = output["output_type"]
    return [VOLATILE.sub("#", text) for text in texts]


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No cslnb setting of the caller's leaks into the simulated runtime."""
    for var in ("CSLNB_DATA_DIR", "CSLNB_CACHE_DIR", "CSLNB_RESULTS_DIR", "PYTHONPATH"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    return tmp_path


def test_install_cell_sets_up_a_fresh_colab_runtime(clean_environment: Path) -> None:
    tmp = clean_environment
    content = tmp / "content"
    content.mkdir()
    clone = content / "cslnb"
    _register_kernel(tmp / "jupyter", _colab_like_python(tmp / "venv"))

    committed = nbformat.read(CHAPTER, as_version=4)
    run = nbformat.read(CHAPTER, as_version=4)
    install = next(cell for cell in run.cells if cell.cell_type == "code")
    assert install.source == COLAB_INSTALL_CELL
    install.source = COLAB_INSTALL_CELL.replace(REPO_URL, f"file://{ROOT}").replace(
        COLAB_CLONE_DIR, str(clone)
    )
    run.cells.insert(0, nbformat.v4.new_code_cell(FAKE_COLAB))
    run.cells.append(nbformat.v4.new_code_cell(WHERE_FROM))

    NotebookClient(
        run, kernel_name=KERNEL_NAME, timeout=900, resources={"metadata": {"path": str(content)}}
    ).execute()

    module_file, project_root, download, cli_uses_its_folder = (
        run.cells[-1].outputs[0]["text"].split()
    )
    assert Path(module_file).is_relative_to(tmp), f"imported {module_file}, not the fresh install"
    assert Path(project_root) == clone
    assert download == "1"
    assert cli_uses_its_folder == "True", "the command line run elsewhere must keep data there"
    assert (clone / "data" / "results" / "quick").is_dir()
    installed = list((tmp / "venv").rglob("cslnb-*.dist-info"))
    assert installed, f"pip did not install the clone: {run.cells[1].outputs}"

    ran = [cell for cell in run.cells[1:-1] if cell.cell_type == "code"]
    shown = [cell for cell in committed.cells if cell.cell_type == "code"]
    assert len(ran) == len(shown)
    for i, (fresh, published) in enumerate(zip(ran[1:], shown[1:], strict=True), start=2):
        assert _shown(fresh) == _shown(published), f"code cell {i} differs"
