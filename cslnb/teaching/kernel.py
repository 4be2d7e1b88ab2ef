"""One submission's kernel: run cells with a time limit each, survive deaths and stuck cells.

The grader talks to an ``ipykernel`` through ``jupyter_client``; no code of the grader runs in it
except :mod:`cslnb.teaching.export`'s statement. Limits are enforced from outside: a cell still
running after its limit, whatever it did to signals, is ended by killing the kernel's process
group, and so is a kernel that died (``os._exit``). :meth:`Kernel.restart` starts a fresh one;
the caller replays the shared setup cells so that the following exercises still run.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass
from pathlib import Path

from jupyter_client import KernelManager

STARTUP_TIMEOUT = 120.0


@dataclass(frozen=True)
class CellResult:
    """What one execution did: ``status`` is ``ok``, ``error``, ``timeout`` or ``died``."""

    status: str
    stdout: str = ""
    error: str = ""


class Kernel:
    """A Python kernel started in ``cwd`` with exactly the environment ``env``."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self._launch = {"cwd": str(cwd), "env": dict(env)}
        self._manager = KernelManager(kernel_name="python3")
        self._manager.start_kernel(**self._launch)
        self._client = None
        self._connect()

    def _connect(self) -> None:
        if self._client is not None:
            self._client.stop_channels()
        self._client = self._manager.client()
        self._client.start_channels()
        self._client.wait_for_ready(timeout=STARTUP_TIMEOUT)

    def execute(self, code: str, timeout: float) -> CellResult:
        """Run ``code``; after ``timeout`` seconds the kernel is killed (status ``timeout``)."""
        msg_id = self._client.execute(code, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + timeout
        stdout: list[str] = []
        error = ""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._kill()
                return CellResult("timeout", "".join(stdout), f"ran longer than {timeout:g} s")
            try:
                message = self._client.get_iopub_msg(timeout=min(1.0, remaining))
            except queue.Empty:
                if not self._manager.is_alive():
                    return CellResult("died", "".join(stdout), "the kernel died")
                continue
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream" and content.get("name") == "stdout":
                stdout.append(content["text"])
            elif kind == "error":
                error = f"{content['ename']}: {content['evalue']}"
            elif kind == "status" and content["execution_state"] == "idle":
                return CellResult("error" if error else "ok", "".join(stdout), error)

    def _kill(self) -> None:
        if self._manager.has_kernel:
            self._manager.shutdown_kernel(now=True)

    def restart(self) -> None:
        """A fresh kernel in the same folder and environment (the old one is killed)."""
        self._kill()
        self._manager = KernelManager(kernel_name="python3")
        self._manager.start_kernel(**self._launch)
        self._connect()

    def close(self) -> None:
        """Stop the channels and kill the kernel with its process group."""
        if self._client is not None:
            self._client.stop_channels()
        if self._manager.has_kernel:
            self._manager.shutdown_kernel(now=True)
