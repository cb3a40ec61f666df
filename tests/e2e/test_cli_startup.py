"""A one-shot `orchestra run` of YAML tests loads only what it uses, and a warm data directory starts its
embedded PostgreSQL without pgserver, shares it between processes and leaves it stopped at the end.

Module presence, never timing (bench/startup.py measures the time): the real command in a fresh process,
the modules it had loaded read when it exits.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, cli_env

pytestmark = pytest.mark.e2e

ONE_STEP = """\
name: one step
steps:
  - request: { method: POST, url: "{{ env.base_url }}/chain", json: { value: 41 } }
    expect: { status: 200, json: { $.value: 41 } }
"""

# Loaded only by what a run of YAML tests without data does not do.
NOT_LOADED = {
    "fastapi": "the API's framework (the ai-service starts only for a test that declares data)",
    "uvicorn": "the API's server",
    "alembic": "migrations (the database is at head: nothing to migrate)",
    "opentelemetry": "traces (off unless ORCHESTRA_OTLP_ENDPOINT is set)",
    "croniter": "schedules (a one-shot run does not fire them)",
    "orchestra.schedules.firing": "schedule firing",
    "orchestra.app": "the API's app",
    "orchestra.testdata.provider": "the plan provider (for tests that declare data)",
    "orchestra.importers.postman": "the Postman converter (the paths hold no collection)",
    "orchestra.importers.openapi_suite": "the OpenAPI importer",
    "py_mini_racer": "V8 for Postman scripts",
    "pgserver": "pgserver itself (a warm data directory's server is started without it)",
    "pydantic_settings": "settings are read from the environment by orchestra.config itself",
    "xml.etree.ElementTree": "JUnit reports (none asked for)",
    "orchestra.runs.html_report": "the HTML report (none asked for)",
    "orchestra.openapi.load": "OpenAPI descriptions (no --openapi)",
    "orchestra.environments.openapi_service": "importing an OpenAPI description (no --openapi)",
    "orchestra.testdata.resolver": "resolving a DataPlan (for tests that declare data)",
    "orchestra.testdata.sweep": "undoing created test data (nothing was created)",
    "jsonschema": "JSON Schema (no test checks a schema)",
    "rich.traceback": "Rich's exception formatter (structlog's; the logs write plain tracebacks)",
    "rich.pretty": "Rich's reprs of locals (structlog's tracebacks)",
    "rich.syntax": "Rich's syntax highlighting (httpx's command-line client)",
    "pygments": "syntax highlighting (Rich's, for structlog and httpx's command-line client)",
    "rich.progress": "the live progress line (shown on a terminal only; the run's output is a pipe here)",
}

# Runs the command as the executable does, and writes the modules loaded when the process exits.
PROBE = """\
import atexit, json, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
from orchestra.cli.entry import main
sys.argv[0] = "orchestra"
main()
"""


def run_probed(tests: Path, demo_sut: str, data_dir: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, str(out), "run", str(tests), "--base-url", demo_sut],
        cwd=REPO,
        env=cli_env(data_dir),
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_a_warm_run_loads_only_what_it_uses_and_stops_its_server(tmp_path: Path, demo_sut: str) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "one.yaml").write_text(ONE_STEP)
    data_dir = tmp_path / "data"
    pgdata = data_dir / "pg"

    first = run_probed(tests, demo_sut, data_dir, tmp_path / "first.json")  # initialises and migrates
    assert first.returncode == 0, first.stdout + first.stderr
    assert "pgserver" in json.loads((tmp_path / "first.json").read_text())  # the first start initialises
    assert not (pgdata / "postmaster.pid").exists()  # stopped at the end

    warm = run_probed(tests, demo_sut, data_dir, tmp_path / "warm.json")
    assert warm.returncode == 0, warm.stdout + warm.stderr
    assert "1 passed" in warm.stdout
    loaded = set(json.loads((tmp_path / "warm.json").read_text()))
    assert "orchestra.executor.worker" in loaded
    assert "sqlalchemy.orm" in loaded
    unexpected = {module: why for module, why in NOT_LOADED.items() if module in loaded}
    assert not unexpected, unexpected
    assert not (pgdata / "postmaster.pid").exists()  # the server stopped: nobody shares it any more
    assert json.loads((pgdata / ".handle_pids.json").read_text()) == []
