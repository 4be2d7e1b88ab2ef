"""Open the offline build of the book in headless Chromium and check what a reader sees.

Runs after ``bash book/setup_static.sh && jupyter-book build book`` and only where a
``chromium`` binary exists. For the front page and chapters 5, 7 and 8 it checks that

* the equations are typeset: MathJax (served from the book's own files) produced at least
  one ``mjx-container`` per equation, a display one per display equation, and no ``\\[``,
  ``\\frac`` or ``$$`` is left in the visible text;
* every ``<img>`` loaded (``naturalWidth > 0``), the Colab badge included;
* the Colab install cell's code is not on the page;
* the page refers to no script, style sheet or image on another host (nothing is fetched when
  it is read);

and saves a PNG screenshot of each page under ``book/_build/screenshots/``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

BUILD = Path(__file__).resolve().parents[1] / "book" / "_build"
HTML = BUILD / "html"
SCREENSHOTS = BUILD / "screenshots"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PAGES = ("front", "05_csl_term_by_term.html", "07_figures.html", "08_tables.html")
INSTALL_CELL_LINE = 'if "google.colab" in sys.modules:'
RAW_TEX = ("\\[", "\\frac", "$$")
# Appended to a copy of the page: once MathJax has typeset it, record what a reader would see.
PROBE = """<script>
window.addEventListener('load', async () => {
  if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
  const containers = [...document.querySelectorAll('mjx-container')];
  const result = {
    mathjax: Boolean(window.MathJax && MathJax.version),
    typeset: containers.length,
    display: containers.filter(c => c.getAttribute('display') === 'true').length,
    text: document.body.innerText,
    images: [...document.images].map(i => [i.getAttribute('src'), i.complete && i.naturalWidth]),
  };
  document.body.setAttribute('data-probe', JSON.stringify(result));
});
</script>"""
SCREEN = ("--window-size=1280,3600", "--hide-scrollbars")

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
        pytest.skip("book not built (run bash book/setup_static.sh && jupyter-book build book)")
    return _browser()


def _run_browser(browser: str, profile_dir: Path, *arguments: str) -> str:
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={profile_dir}", "--virtual-time-budget=20000", *arguments,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _page(name: str) -> Path:
    """The page file; ``front`` is the root document that index.html redirects to."""
    if name != "front":
        return HTML / name
    match = re.search(r'url=([^"\'>]+\.html)', (HTML / "index.html").read_text())
    return HTML / match.group(1) if match else HTML / "index.html"


def _probe(browser: str, page: Path, tmp_path: Path) -> dict:
    probed = page.with_name(f".probe-{page.name}")
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    try:
        dom = _run_browser(browser, tmp_path / "profile", "--dump-dom", probed.as_uri())
    finally:
        probed.unlink(missing_ok=True)
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, f"{page.name}: the page never finished loading"
    unescaped = found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    return json.loads(unescaped.replace("&amp;", "&"))


def _equations(html: str) -> tuple[int, int]:
    """(all, display) equations in the built page's source, before typesetting."""
    display = len(re.findall(r'<div class="math notranslate nohighlight"', html))
    inline = len(re.findall(r'<span class="math notranslate nohighlight"', html))
    return display + inline, display


@pytest.mark.parametrize("name", PAGES)
def test_page_as_a_reader_sees_it(browser: str, name: str, tmp_path: Path) -> None:
    page = _page(name)
    if not page.exists():
        pytest.skip(f"{page.name} not built")
    html = page.read_text()
    seen = _probe(browser, page, tmp_path)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / page.with_suffix(".png").name
    _run_browser(browser, tmp_path / "shot", *SCREEN, f"--screenshot={shot}", page.as_uri())
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), f"no screenshot of {page.name}"

    equations, displays = _equations(html)
    if equations:
        assert seen["mathjax"], f"{page.name}: MathJax did not load from the book's own files"
    assert seen["typeset"] >= equations, f"{page.name}: {seen['typeset']} of {equations} typeset"
    assert seen["display"] >= displays, f"{page.name}: {seen['display']} of {displays} displays"
    left = [tex for tex in RAW_TEX if tex in seen["text"]]
    assert not left, f"{page.name}: raw TeX {left} in the visible text"
    broken = [src for src, width in seen["images"] if not width]
    assert seen["images"] and not broken, f"{page.name}: images not loaded: {broken}"
    assert INSTALL_CELL_LINE not in html, f"{page.name}: the Colab install cell is on the page"
    remote = re.findall(r'<(?:script|img)[^>]+src="(https?://[^"]+)"', html)
    remote += re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="(https?://[^"]+)"', html)
    assert not remote, f"{page.name}: fetches {remote} when read"


def test_chapters_have_equations_to_check() -> None:
    """The pages above are worth checking: chapter 5 derives CSL in equations."""
    page = HTML / "05_csl_term_by_term.html"
    if not page.exists():
        pytest.skip("book not built")
    equations, displays = _equations(page.read_text())
    assert displays >= 1 and equations >= 30
