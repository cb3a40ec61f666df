"""The Containerfiles (linted by hadolint), the image's entry point (the role chosen by the first
argument, settings read from secret files) and its health check (against a real local HTTP server)."""

from __future__ import annotations

import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from pathspec import PathSpec

from tests.deploy.tools import DEPLOY, ROOT, tool

IMAGES = DEPLOY / "images"
CONTAINERFILES = sorted(IMAGES.glob("*.Containerfile"))
ENTRYPOINT = IMAGES / "entrypoint.sh"
HEALTHCHECK = IMAGES / "healthcheck.py"


def test_there_is_an_image_for_the_python_services_and_one_for_the_web_application() -> None:
    assert [path.name for path in CONTAINERFILES] == ["orchestra.Containerfile", "web.Containerfile"]


@pytest.mark.parametrize("containerfile", CONTAINERFILES, ids=lambda path: path.name)
def test_containerfile_passes_hadolint(containerfile: Path) -> None:
    result = subprocess.run(
        [tool("hadolint"), "--no-color", "--failure-threshold", "info", str(containerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("containerfile", CONTAINERFILES, ids=lambda path: path.name)
def test_image_runs_as_a_non_root_user_from_pinned_bases_with_a_health_check(containerfile: Path) -> None:
    text = containerfile.read_text()
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users, "no USER: the image would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK\s", text, re.MULTILINE)
    bases = re.findall(r"^ARG \w+_IMAGE=(\S+)$", text, re.MULTILINE)
    assert bases
    for base in bases:  # an exact version, never a moving tag
        tag = base.rsplit(":", 1)[1]
        assert re.match(r"\d+\.\d+\.\d+", tag), base


def _build_context() -> PathSpec:
    """What a build may see: .dockerignore's patterns, the last that matches deciding (as the builders do)."""
    return PathSpec.from_lines("gitignore", (ROOT / ".dockerignore").read_text().splitlines())


@pytest.mark.parametrize("containerfile", CONTAINERFILES, ids=lambda path: path.name)
def test_every_file_an_image_copies_is_in_its_build_context(containerfile: Path) -> None:
    ignored = _build_context()
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    copies = re.findall(r"^COPY (?!--from)((?:\S+ )+)\S+$", containerfile.read_text(), re.MULTILINE)
    sources = [source.rstrip("/") for line in copies for source in line.split()]
    assert sources
    for source in sources:
        inside = [path for path in tracked if path == source or path.startswith(f"{source}/")]
        assert inside, f"{source} is not in the tree"
        assert any(not ignored.match_file(path) for path in inside), f"{source}: left out by .dockerignore"


@pytest.mark.parametrize(
    "path",
    [
        "web/node_modules/react/index.js",
        "src/orchestra/web_dist/index.html",
        "src/orchestra/steps/scripts/vendor/chai.js",  # fetched by the image itself
        ".venv/bin/python",
        "tests/conftest.py",
        "web/artifacts/screenshots/01.png",
        "src/orchestra/__pycache__/cli.cpython-311.pyc",
    ],
)
def test_what_no_image_needs_stays_out_of_the_build_context(path: str) -> None:
    assert _build_context().match_file(path)


@pytest.fixture
def fake_orchestra(tmp_path: Path) -> Path:
    """A directory holding an ``orchestra`` that prints its arguments and the settings it was given, put
    first on the PATH in place of the real command, so the entry point's choices can be seen."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "orchestra"
    script.write_text("#!/bin/sh\necho \"args: $*\"\nenv | grep '^ORCHESTRA_' | sort\n")
    script.chmod(0o755)
    return bin_dir


def run_entrypoint(
    bin_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", **(env or {})}
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("role", "command"),
    [
        # the services log at ORCHESTRA_LOG_LEVEL (--verbose), the one-shot commands as on a terminal
        ("api", "api --verbose --port 8000"),
        ("executor", "executor --verbose --port 8000"),
        ("ai", "ai --verbose --port 8000"),
        ("migrate", "migrate --port 8000"),
        ("admin-token", "admin-token --port 8000"),
    ],
)
def test_the_first_argument_chooses_the_orchestra_command(
    fake_orchestra: Path, role: str, command: str
) -> None:
    result = run_entrypoint(fake_orchestra, role, "--port", "8000")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"args: {command}"


def test_without_arguments_the_image_runs_the_api(fake_orchestra: Path) -> None:
    result = run_entrypoint(fake_orchestra)
    assert result.stdout.splitlines()[0] == "args: api --verbose"


def test_any_other_command_runs_as_given(fake_orchestra: Path) -> None:
    result = run_entrypoint(fake_orchestra, "echo", "a shell for debugging")
    assert result.stdout == "a shell for debugging\n"


def test_a_setting_is_read_from_the_file_its_file_variable_names(
    fake_orchestra: Path, tmp_path: Path
) -> None:
    url_file = tmp_path / "database_url"
    url_file.write_text("postgresql://svc:s3cr%24t@db:5432/orchestra\n")
    key_file = tmp_path / "secret_key"
    key_file.write_text("a-key")
    result = run_entrypoint(
        fake_orchestra,
        "api",
        env={"ORCHESTRA_DATABASE_URL_FILE": str(url_file), "ORCHESTRA_SECRET_KEY_FILE": str(key_file)},
    )
    assert result.returncode == 0, result.stderr
    settings = result.stdout.splitlines()[1:]
    assert "ORCHESTRA_DATABASE_URL=postgresql://svc:s3cr%24t@db:5432/orchestra" in settings
    assert not any(line.startswith("ORCHESTRA_DATABASE_URL_FILE=") for line in settings)
    # the secret key too (a mounted secret's mode is the runtime's: Orchestra would refuse a 0644 file)
    assert "ORCHESTRA_SECRET_KEY=a-key" in settings
    assert not any(line.startswith("ORCHESTRA_SECRET_KEY_FILE=") for line in settings)


def test_an_unreadable_secret_file_stops_the_container_with_exit_2(
    fake_orchestra: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere"
    result = run_entrypoint(fake_orchestra, "api", env={"ORCHESTRA_BROKER_URL_FILE": str(missing)})
    assert result.returncode == 2
    assert f"ORCHESTRA_BROKER_URL_FILE names {missing}" in result.stderr
    assert "args:" not in result.stdout


class _Answer(http.server.BaseHTTPRequestHandler):
    statuses: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        self.send_response(self.statuses.get(self.path, 404))
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def service() -> Iterator[tuple[int, dict[str, int]]]:
    """A real HTTP server on a free loopback port; the test sets what each path answers."""
    statuses: dict[str, int] = {}
    handler = type("Handler", (_Answer,), {"statuses": statuses})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], statuses
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def run_healthcheck(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("role", "setting", "path"),
    [
        ("api", "ORCHESTRA_PORT", "/api/v1/health/ready"),
        ("executor", "ORCHESTRA_EXECUTOR_HEALTH_PORT", "/health/ready"),
        ("ai", "ORCHESTRA_AI_PORT", "/health"),
    ],
)
def test_healthcheck_passes_only_while_the_service_is_ready(
    service: tuple[int, dict[str, int]], role: str, setting: str, path: str
) -> None:
    port, statuses = service
    statuses[path] = 200
    assert run_healthcheck(role, env={setting: str(port)}).returncode == 0
    statuses[path] = 503
    failed = run_healthcheck(role, env={setting: str(port)})
    assert failed.returncode == 1
    assert f"{path} answered 503" in failed.stderr


def test_healthcheck_fails_when_nothing_listens() -> None:
    result = run_healthcheck("api", env={"ORCHESTRA_PORT": "1"})  # a privileged port nothing serves here
    assert result.returncode == 1
    assert "did not answer" in result.stderr


def test_healthcheck_refuses_an_unknown_role() -> None:
    result = run_healthcheck("scheduler", env={})
    assert result.returncode == 2
    assert "unknown role 'scheduler'" in result.stderr


def test_healthcheck_reads_the_role_from_the_main_process(tmp_path: Path) -> None:
    sys.path.insert(0, str(IMAGES))
    try:
        import healthcheck
    finally:
        sys.path.remove(str(IMAGES))
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes(b"/opt/orchestra/bin/python\0/opt/orchestra/bin/orchestra\0executor\0--health-port\0")
    assert healthcheck.role_of_main_process(str(cmdline)) == "executor"
    cmdline.write_bytes(b"/opt/orchestra/bin/orchestra\0migrate\0")
    assert healthcheck.role_of_main_process(str(cmdline)) is None
    assert healthcheck.role_of_main_process(str(tmp_path / "absent")) is None


def test_the_commands_the_image_copies_are_on_its_path_whatever_the_base() -> None:
    text = (IMAGES / "orchestra.Containerfile").read_text()
    copied = re.findall(r"^COPY deploy/images/\S+ (/usr/local/bin)/(\S+)$", text, re.MULTILINE)
    assert {name for _, name in copied} == {"orchestra-entrypoint", "orchestra-healthcheck"}
    path = re.search(r"^ENV PATH=(\S+)", text, re.MULTILINE)
    assert path is not None
    assert "$" not in path.group(1)  # a base without PATH (an imported root file system) must still work
    assert "/usr/local/bin" in path.group(1).split(":")
