"""Open the built book in headless Chromium and check what a reader would see.

Runs only after ``jupyter-book build book`` and only where a ``chromium`` binary exists. What it
can check offline: the page renders its title, the equations are present as math markup (the
TeX source inside Sphinx's ``math`` elements), and the chapter's figures are PNG files that the
browser actually decoded (``naturalWidth > 0``). What it cannot check offline: that MathJax
typesets the equations, because the MathJax script is loaded from a CDN.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

HTML = Path(__file__).resolve().parents[1] / "book" / "_build" / "html"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Appended to a copy of the page: after load, record how many PNGs the browser decoded.
PROBE = (
    "<script>window.addEventListener('load', () => {document.body.setAttribute("
    "'data-decoded-png', [...document.images].filter("
    "i => i.src.endsWith('.png') && i.complete && i.naturalWidth > 0).length);});</script>"
)

pytestmark = pytest.mark.slow


def _browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no chromium binary found")


@pytest.fixture(scope="module")
def browser() -> str:
    if not (HTML / "index.html").exists():
        pytest.skip("book not built (run jupyter-book build book)")
    return _browser()


def _dump_dom(browser: str, page: Path, tmp_path: Path) -> str:
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
        "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _front_page() -> Path:
    """The root document: index.html redirects to it with a meta refresh."""
    index = (HTML / "index.html").read_text()
    match = re.search(r'url=([^"\'>]+\.html)', index)
    return HTML / match.group(1) if match else HTML / "index.html"


def test_front_page_title(browser: str, tmp_path: Path) -> None:
    dom = _dump_dom(browser, _front_page(), tmp_path)
    assert "Cost-sensitive losses for the long tail" in dom
    assert "<h1" in dom


def test_chapter_equations_and_figures(browser: str, tmp_path: Path) -> None:
    page = HTML / "02_long_tail.html"
    if not page.exists():
        pytest.skip(f"{page.name} not built")
    probed = page.with_name(f".probe-{page.name}")
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    try:
        dom = _dump_dom(browser, probed, tmp_path)
    finally:
        probed.unlink(missing_ok=True)
    assert "The long tail" in dom
    # Math markup is present (typesetting needs MathJax from its CDN: not checkable offline).
    maths = re.findall(r'class="math[^"]*"[^>]*>(.*?)</', dom, flags=re.S)
    assert any("\\mu" in m for m in maths), "no equation with \\mu in the chapter's math markup"
    # Every figure is a real PNG file on disk, and the browser decoded at least one.
    sources = re.findall(r'<img[^>]+src="([^"]+\.png)"', dom)
    assert sources, "no PNG figure in the chapter"
    for src in sources:
        data = (page.parent / src).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 1000, src
    decoded = re.search(r'data-decoded-png="(\d+)"', dom)
    assert decoded and int(decoded.group(1)) >= 1, "the browser decoded no PNG figure"
