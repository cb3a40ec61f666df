"""Every shell script the project ships or runs (deploy/, tools/, CI) passes shellcheck, style included."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.deploy.tools import ROOT, tool

SHIPPED = (path for folder in ("deploy", "tools") for path in (ROOT / folder).rglob("*.sh"))
SCRIPTS = [*sorted(path for path in SHIPPED if "node_modules" not in path.parts), ROOT / ".ci" / "run"]


def test_the_scripts_are_found() -> None:
    names = {path.name for path in SCRIPTS}
    assert {"entrypoint.sh", "make-bases.sh", "make-secrets.sh", "fetch.sh", "run"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_script_passes_shellcheck(script: Path) -> None:
    result = subprocess.run(
        [tool("shellcheck"), "--severity", "style", "--format", "gcc", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
