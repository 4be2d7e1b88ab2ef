"""Static reading of a submission: which lines the student wrote, shortcuts and red flags.

A line is the student's when it does not occur in the student edition's code (so the template's
own ``from cslnb.losses import class_balanced_weights`` never counts against anyone). Identifiers
and string contents are read with :mod:`tokenize`, so comments do not count and
``getattr(losses, "ldam_margins")`` does.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable

FLAG_PATTERNS = {
    "grader internals": re.compile(r"\botter\b|\bcslnb\.teaching\b|_cslnb|\bgrader\b\s*="),
    "signal": re.compile(r"\bsignal\b|\bsetitimer\b|\balarm\b"),
    "process exit": re.compile(r"\bos\._exit\b|\bsys\.exit\b|\bos\.kill\b|\bexit\(|\bquit\("),
    "file deletion": re.compile(r"\brmtree\b|\bunlink\b|\bos\.remove\b|\brmdir\b|\brm -"),
    "tests folder": re.compile(r"\btests?/|autograder|hidden"),
    "builtins": re.compile(r"\bbuiltins\b|__builtins__|__eq__|__class__"),
    "subprocess": re.compile(r"\bsubprocess\b|\bos\.system\b|^\s*!"),
}
"""What the ``flags`` column reports for the instructor to look at (it changes no score)."""


def template_lines(sources: Iterable[str]) -> set[str]:
    """The stripped, non-empty lines of the student edition's code cells."""
    return {line.strip() for source in sources for line in source.splitlines() if line.strip()}


def student_lines(source: str, template: set[str]) -> list[str]:
    """The lines of ``source`` the student wrote (absent from the template)."""
    return [line for line in source.splitlines() if line.strip() and line.strip() not in template]


def _words(code: str) -> set[str]:
    """Identifiers and the words inside string literals of ``code`` (comments dropped)."""
    words: set[str] = set()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return set(re.findall(r"[A-Za-z_]\w*", re.sub(r"#.*", "", code)))
    for token in tokens:
        if token.type == tokenize.NAME:
            words.add(token.string)
        elif token.type == tokenize.STRING:
            words.update(re.findall(r"[A-Za-z_]\w*", token.string))
    return words


def shortcuts(lines: list[str], forbidden: Iterable[str]) -> list[str]:
    """The forbidden identifiers the student's ``lines`` use, sorted."""
    words = set()
    for line in lines:
        words |= _words(line.strip())
    return sorted(set(forbidden) & words)


def flags(lines: list[str]) -> list[str]:
    """The :data:`FLAG_PATTERNS` names matched by the student's ``lines`` (code, not comments)."""
    found = []
    code = [re.sub(r"(^|\s)#.*$", "", line) for line in lines]
    for name, pattern in FLAG_PATTERNS.items():
        if any(pattern.search(line) for line in code):
            found.append(name)
    return found
