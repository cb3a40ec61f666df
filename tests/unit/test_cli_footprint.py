"""The command line alone (`orchestra --help`, `--version`, a mistyped command) loads no engine: module
presence in a fresh interpreter, never timing (bench/startup.py measures the start-up)."""

from __future__ import annotations

import json
import subprocess
import sys


def test_the_command_line_alone_loads_no_engine() -> None:
    """`orchestra --help`, `--version` and a mistyped command answer without the engine's libraries."""
    code = "import json, sys\nimport orchestra.cli.main\nprint(json.dumps(sorted(sys.modules)))"
    loaded = set(
        json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout)
    )
    assert "typer" in loaded
    heavy = {"sqlalchemy", "asyncpg", "httpx", "fastapi", "jinja2", "opentelemetry", "orchestra.models"}
    assert not heavy & loaded, heavy & loaded
