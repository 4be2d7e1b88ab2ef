"""Helpers the student edition's first cell calls: unanswered exercises, and the public tests.

:func:`enable_not_answered` registers an IPython AST transformer. In a cell holding the student
edition's ``...`` placeholders (``name = ...``, or a bare ``...`` statement, also as a function
body), each placeholder raises :class:`NotAnswered` and the cell's code is wrapped so that this
one exception prints "not answered yet" instead of failing the cell: "Run All" on an unanswered
notebook runs to the end. The grader never runs this cell: there an unanswered exercise scores 0.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path


class NotAnswered(Exception):
    """Raised by a ``...`` placeholder the student has not replaced yet."""


_HANDLER_NAME = "_cslnb_NotAnswered"


def _is_placeholder(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def _raise(what: str, like: ast.AST) -> ast.stmt:
    call = ast.Call(ast.Name(_HANDLER_NAME, ast.Load()), [ast.Constant(what)], [])
    return ast.copy_location(ast.Raise(exc=call, cause=None), like)


class PlaceholderGuard(ast.NodeTransformer):
    """The AST transformer described in the module docstring."""

    def visit_Module(self, node: ast.Module) -> ast.Module:
        self.found = False
        self.generic_visit(node)
        if not self.found:
            return node
        message = ast.parse(
            f"print(f'not answered yet: {{{_HANDLER_NAME}_error}} (this exercise scores 0 until"
            " you replace its ...)')"
        ).body
        handler = ast.ExceptHandler(
            type=ast.Name(_HANDLER_NAME, ast.Load()), name=f"{_HANDLER_NAME}_error", body=message
        )
        wrapped = ast.Try(body=node.body, handlers=[handler], orelse=[], finalbody=[])
        node.body = [wrapped]
        return ast.fix_missing_locations(node)

    def visit_Expr(self, node: ast.Expr) -> ast.stmt:
        if _is_placeholder(node.value):
            self.found = True
            return _raise("a ... placeholder", node)
        return self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> ast.stmt:
        if _is_placeholder(node.value):
            self.found = True
            names = ", ".join(ast.unparse(target) for target in node.targets)
            return _raise(names, node)
        return self.generic_visit(node)


def enable_not_answered() -> None:
    """Install :class:`PlaceholderGuard` in the running IPython shell."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("enable_not_answered() runs inside a notebook (IPython) only")
    shell.user_ns[_HANDLER_NAME] = NotAnswered
    if not any(isinstance(t, PlaceholderGuard) for t in shell.ast_transformers):
        shell.ast_transformers.append(PlaceholderGuard())


def public_tests() -> Path:
    """The folder of public checks: ``./tests``, else ``$CSLNB_COURSEWORK/tests``."""
    candidates = [Path.cwd() / "tests"]
    if "CSLNB_COURSEWORK" in os.environ:
        candidates.insert(0, Path(os.environ["CSLNB_COURSEWORK"]) / "tests")
    for folder in candidates:
        if (folder / "e01.py").is_file():
            return folder
    raise FileNotFoundError(
        "the public checks (tests/e01.py ...) are not in the notebook's folder: run the notebook "
        "from the unzipped coursework folder, or set CSLNB_COURSEWORK to that folder"
    )
