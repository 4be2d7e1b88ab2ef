"""Atomic file writes: a temporary file in the target's folder, then a rename over the target.

Readers see either the old file or the complete new one, never a partial write, whatever
happens to the writing process (run records, checkpoints and the decode cache all rely on it).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomic(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write`` on a temporary binary file next to ``path``, then rename it to ``path``.

    The data is flushed to disk before the rename; the file is made world-readable (0644, where
    ``mkstemp`` would leave 0600). On any error the temporary file is removed and ``path`` is
    left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
