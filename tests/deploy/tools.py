"""Where the deploy tests find the files they check and the pinned tools that check them (installed into
the virtual environment by `make install`: hadolint, kubectl with its built-in Kustomize)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """The tool of this virtual environment (the pinned one), never another on the PATH."""
    found = shutil.which(name, path=str(VENV_BIN))
    assert found is not None, f"{name} is missing from {VENV_BIN}: run `make install`"
    return found
