#!/usr/bin/env bash
# Put MathJax into the book's sources so that the built HTML typesets equations offline.
#
# MathJax 3 comes from the npm registry (package `mathjax`, pinned below) and is installed into
# .node/ at the repository root; its single-file component `tex-svg-full.js` (every TeX
# extension, SVG output: no font files to fetch) is copied to book/_vendor/mathjax/. Sphinx copies
# book/_vendor/ into the root of the build (`html_extra_path` in book/_config.yml), where
# `mathjax_path` points. Not in book/_static/: Jupyter Book adds every .js file found there to
# every page, which would load MathJax twice. Both folders are git-ignored. .ci/run and the
# Pages workflow (.github/workflows/book.yml) call this script before `jupyter-book build`; run
# it once yourself before building the book.
set -euo pipefail
cd "$(dirname "$0")"

MATHJAX_VERSION=3.2.2
COMPONENT=tex-svg-full.js
TARGET=_vendor/mathjax/$COMPONENT
PREFIX=../.node
PACKAGE=$PREFIX/node_modules/mathjax

installed_version() {
    node -p "require('$(pwd)/$PACKAGE/package.json').version" 2>/dev/null || true
}

if [ "$(installed_version)" != "$MATHJAX_VERSION" ]; then
    npm install --prefix "$PREFIX" --no-save --no-audit --no-fund --loglevel=error \
        "mathjax@$MATHJAX_VERSION"
fi
mkdir -p "$(dirname "$TARGET")"
cp "$PACKAGE/es5/$COMPONENT" "$TARGET"
cp "$PACKAGE/LICENSE" "$(dirname "$TARGET")/LICENSE"
echo "MathJax $MATHJAX_VERSION: book/$TARGET"
