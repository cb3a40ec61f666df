"""`orchestra warm status` and `orchestra warm stop`: this installation's warm process (cli/warm.py), seen
and stopped from another process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from orchestra.embedded_pg import alive
from orchestra_launcher import STATUS, served, state_dir


def serving(state: Path) -> dict[str, Any] | None:
    """The status of the warm process serving ``state`` (None when none does: its lock is free)."""
    if not served(state):
        return None
    with contextlib.suppress(OSError, ValueError):
        status: dict[str, Any] = json.loads((state / STATUS).read_text())
        return status
    return {}


def describe() -> str:
    state = state_dir()
    status = serving(state) if state is not None else None
    if status is None:
        return "no warm process serves this installation"
    return (
        f"warm process {status.get('pid', '?')}: {status.get('served', 0)} command(s) run, "
        f"{status.get('modules', 0)} modules loaded, "
        f"leaves after {status.get('idle_s', 0):.0f} s without work"
    )


def stop(timeout_s: float = 120.0) -> str:
    """Ask the warm process to leave and wait until it has (its commands ended, its servers let go of)."""
    state = state_dir()
    status = serving(state) if state is not None else None
    if state is None or not status or not isinstance(status.get("pid"), int):
        return "no warm process serves this installation"
    pid = status["pid"]
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while (state / STATUS).exists() and alive(pid):
        if time.monotonic() > deadline:
            return f"warm process {pid} is still ending its commands"
        time.sleep(0.02)
    return f"warm process {pid} stopped"
